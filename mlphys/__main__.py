"""Command line: ``python -m mlphys reproduce [CHAPTER ...] [--scale class|paper] [--json FILE]``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import registry
from .config import SCALES


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlphys", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run chapters' headline computations and compare with the papers")
    rep.add_argument("chapters", nargs="*", metavar="CHAPTER", help="chapter ids (default: all registered)")
    rep.add_argument("--scale", choices=SCALES, default=None,
                     help="class (fast, default) or paper (the papers' sizes); default from $MLPHYS_SCALE")
    rep.add_argument("--json", metavar="FILE", help="write the rows as a JSON list to FILE")
    rep.add_argument("--record", metavar="DIR",
                     help="write DIR/CHAPTER.json per chapter with the command, commit and date (for the scorecard)")
    rep.add_argument("--list", action="store_true", help="list the registered chapters and exit")
    rep.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)

    if args.list:
        for chapter in registry.CHAPTERS:
            print(f"{chapter}  {registry.chapter_module(chapter).TITLE}")
        return 0
    unknown = [c for c in args.chapters if c not in registry.CHAPTERS]
    if unknown:
        parser.error(f"unknown chapter(s) {', '.join(unknown)}; registered: {', '.join(registry.CHAPTERS)}")
    chapters = args.chapters or list(registry.CHAPTERS)
    from .config import get_scale

    scale = get_scale(args.scale)
    claims = []
    for chapter in chapters:
        rows = registry.reproduce([chapter], scale=scale, progress=not args.no_progress)
        claims.extend(rows)
        if args.record:
            registry.write_record(rows, Path(args.record) / f"{chapter}.json", chapter=chapter, scale=scale,
                                  command=f"python -m mlphys reproduce {chapter} --scale {scale}")
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
