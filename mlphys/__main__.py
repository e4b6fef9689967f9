"""Command line: ``python -m mlphys reproduce [CHAPTER ...] [--scale class|paper] [--json FILE] [--record DIR] [--list]``.

CHAPTER is a book chapter number (``7``) or a registry id (``derivatives``); ``--list`` shows both.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import registry
from .config import SCALES, get_scale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlphys", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run chapters' headline computations and compare with the papers")
    rep.add_argument("chapters", nargs="*", metavar="CHAPTER",
                     help="book chapter numbers or registry ids (default: all registered)")
    rep.add_argument("--scale", choices=SCALES, default=None,
                     help="class (fast, default) or paper (the papers' sizes); default from $MLPHYS_SCALE")
    rep.add_argument("--json", metavar="FILE", help="write the rows as a JSON list to FILE")
    rep.add_argument("--record", metavar="DIR",
                     help="write DIR/ID.json per chapter with the command, commit and date (for the scorecard)")
    rep.add_argument("--list", action="store_true", help="list the registered chapters (number, id, title, notebook)")
    rep.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)

    try:
        selected = [registry.chapter(c) for c in (args.chapters or registry.CHAPTERS)]
    except ValueError as exc:
        parser.error(f"unknown chapter: {exc}")
    selected = list(dict.fromkeys(selected))
    if args.list:
        print(f"{'no.':>3}  {'id':<15} {'title':<72} notebook")
        for c in selected:
            print(f"{c.number:>3}  {c.id:<15} {c.title:<72} notebooks/{c.notebook}.ipynb")
        return 0
    try:
        scale = get_scale(args.scale)
    except ValueError as exc:
        parser.error(str(exc))
    claims = []
    for c in selected:
        rows = c.claims(scale=scale, progress=not args.no_progress)
        claims.extend(rows)
        if args.record:
            registry.write_record(rows, Path(args.record) / f"{c.id}.json", chapter=c.id, scale=scale,
                                  command=f"python -m mlphys reproduce {c.id} --scale {scale}")
    print(f"scale: {scale}")
    print(registry.format_table(claims))
    if args.json:
        registry.write_json(claims, args.json)
    bad = [c for c in claims if not c.within_tolerance]
    if bad:
        print(f"{len(bad)} claim(s) outside tolerance", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
