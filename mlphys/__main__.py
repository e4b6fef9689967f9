"""Command line: ``python -m mlphys reproduce [CHAPTER ...] [--scale class|paper] [--size KEY=VALUE ...]
[--jobs N] [--json FILE] [--record DIR] [--list]``.

CHAPTER is a book chapter number (``7``) or a registry id (``derivatives``); ``--list`` shows both.
Exit status: 0 all claims within tolerance, 1 some claim outside it, 2 usage error (also a bad ``$MLPHYS_SCALE``
or an unwritable ``--json``/``--record`` destination, checked before any work), 3 a chapter crashed.
``--size`` replaces one of a chapter's sizes at the chosen scale (chapters 10-11, whose paper scale takes days
here), e.g. ``--scale paper --size n_data=20000 --size epochs=50``; a record then says so in its note.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import registry
from .config import SCALES, get_scale

#: Exit codes: 0 every claim within tolerance, 1 a claim outside it, 3 a crash (2, a usage error, is argparse's).
EXIT_OUTSIDE_TOLERANCE, EXIT_CRASH = 1, 3


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
    rep.add_argument("--size", action="append", default=[], metavar="KEY=VALUE",
                     help="replace one size of the chosen scale (chapters 10-11: n_data, epochs, lr, lr_average, "
                          "batch_size, n_descent, eta, steps); repeatable")
    rep.add_argument("--jobs", type=int, default=None,
                     help="parallel processes for chapters with independent cases (chapters 10-11; default 2)")
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
    try:
        sizes = dict(_size(text) for text in args.size)
    except ValueError as exc:
        parser.error(str(exc))
    if args.jobs is not None:
        if args.jobs < 1:
            parser.error(f"--jobs must be a positive number of processes, got {args.jobs}")
        sizes["jobs"] = args.jobs
    fixed = [c.id for c in selected if not c.sizes_adjustable]
    if sizes and fixed:
        parser.error(f"--size and --jobs apply to chapters 10-11 only; {', '.join(fixed)} run(s) at fixed sizes")
    for c in selected if sizes else []:
        try:
            c.check_sizes(scale, **sizes)
        except ValueError as exc:
            parser.error(str(exc))
    try:                                  # before any work: an unwritable destination must not cost an hour
        if args.record:
            _check_writable(Path(args.record), directory=True)
        if args.json:
            _check_writable(Path(args.json), directory=False)
    except ValueError as exc:
        parser.error(str(exc))
    note = ", ".join(f"{k} = {v:g}" for k, v in sizes.items() if k != "jobs")
    note = f"not the paper's full size: {note}" if note else ""
    options = "".join(f" --size {text}" for text in args.size) + (f" --jobs {args.jobs}" if args.jobs else "")
    claims = []
    for c in selected:
        try:
            rows = c.claims(scale=scale, progress=not args.no_progress, **sizes)
        except Exception:                 # a crash: say which chapter, keep what finished, exit 3
            import traceback

            traceback.print_exc()
            print(f"chapter {c.number} ({c.id}) crashed; rows of the chapters before it follow", file=sys.stderr)
            print(registry.format_table(claims))
            return EXIT_CRASH
        claims.extend(rows)
        if args.record:
            registry.write_record(rows, Path(args.record) / f"{c.id}.json", chapter=c.id, scale=scale, note=note,
                                  command=f"python -m mlphys reproduce {c.id} --scale {scale}{options}")
    print(f"scale: {scale}")
    print(registry.format_table(claims))
    if args.json:
        registry.write_json(claims, args.json)
    bad = [c for c in claims if not c.within_tolerance]
    if bad:
        print(f"{len(bad)} claim(s) outside tolerance", file=sys.stderr)
        return EXIT_OUTSIDE_TOLERANCE
    return 0


def _check_writable(path: Path, *, directory: bool) -> None:
    """ValueError naming ``path`` unless we can write there (a directory is created if missing)."""
    folder = path if directory else path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create {folder} for {'--record' if directory else '--json'}: {exc.strerror}") from None
    if (not directory and path.is_dir()) or not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"cannot write {'--record' if directory else '--json'} destination {path}; choose another path")


def _size(text: str):
    """``"epochs=50"`` -> ("epochs", 50.0); the chapter's settings check the value and convert it to its type."""
    key, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = None
    if not sep or not key.strip() or number is None:
        raise ValueError(f"--size takes KEY=NUMBER (e.g. epochs=50), got {text!r}")
    return key.strip(), number


if __name__ == "__main__":
    sys.exit(main())
