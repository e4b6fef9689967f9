"""Command line: ``python -m mlphys reproduce [CHAPTER ...] [--scale class|paper] [--size KEY=VALUE ...]
[--jobs N] [--backend NAME [--scheduler ADDRESS]] [--checkpoint DIR] [--fresh] [--estimate] [--json FILE]
[--record DIR] [--list]``.

CHAPTER is a book chapter number (``7``) or a registry id (``derivatives``); ``--list`` shows both.
Exit status: 0 all claims within tolerance; 1 some claim outside it (and nothing else: every other failure has
its own code); 2 usage error, found before any work (an unknown chapter, a bad ``$MLPHYS_SCALE``, a ``--size``
of the wrong type or out of its declared range, a ``--json``/``--record``/``--checkpoint`` destination that a
probe write fails on); 3 a chapter crashed (or ``--estimate``'s probes did); 4 the chapters ran but their results
could not be written (``--json``, ``--record`` or the table; the rows computed so far are printed if possible); 130
stopped by Ctrl-C (nothing of the interrupted chapter is recorded; finished cases resume on the next run).
``--size`` replaces one of a chapter's sizes at the chosen scale (chapters 10-11, whose paper scale takes days
here), e.g. ``--scale paper --size n_data=20000 --size epochs=50``; each is checked against its declaration (type,
finite, range; :data:`mlphys.registry.COSTA_SIZES`) before any work, and a record then says so in its note.

Chapters made of independent cases (5, 6, 8, 9, 13; and the networks of 10-11) run them on ``--jobs``
processes through joblib (``--backend dask --scheduler tcp://host:8786`` runs them on a Dask cluster), write
each finished case to ``--checkpoint DIR/<scale>/<id>/`` (default under ``$MLPHYS_CACHE``) and skip finished
cases when the same command runs again (``--fresh`` reruns them). ``--estimate`` times a short probe of each
case and prints the expected time per case and in total, without running anything else.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from . import cases, registry
from .nn import interrupts_propagate
from .config import SCALES, cache_dir, get_scale

#: Exit codes: 0 every claim within tolerance, 1 a claim outside it (only that), 3 a crash, 4 results not written
#: after the work (2, a usage error before any work, is argparse's). 130 = 128 + SIGINT, the shell's code for a
#: command stopped by Ctrl-C.
EXIT_OUTSIDE_TOLERANCE, EXIT_USAGE, EXIT_CRASH, EXIT_NOT_WRITTEN, EXIT_INTERRUPTED = 1, 2, 3, 4, 130


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
                          "batch_size, n_descent, eta, steps, protocol=paper|reduced); repeatable")
    rep.add_argument("--jobs", type=int, default=None,
                     help="parallel joblib processes for chapters with independent cases (default 1; chapters "
                          "10-11: 2)")
    rep.add_argument("--backend", choices=cases.BACKENDS, default=None,
                     help="joblib backend for the cases (default loky: processes on this machine)")
    rep.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address for --backend dask")
    rep.add_argument("--checkpoint", metavar="DIR", default=None,
                     help="folder for finished cases (default $MLPHYS_CACHE/reproduce, ~/.cache/mlphys/reproduce)")
    rep.add_argument("--fresh", action="store_true", help="rerun cases even if a checkpoint holds them")
    rep.add_argument("--estimate", action="store_true",
                     help="print the expected time per case and in total at --scale (short timed probes); run nothing")
    rep.add_argument("--list", action="store_true", help="list the registered chapters (number, id, title, notebook)")
    rep.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    try:
        return _reproduce(parser, args)
    except Exception:                     # a bug outside the chapters' own run: never exit 1, the code of a claim
        import traceback

        traceback.print_exc()
        print("python -m mlphys crashed", file=sys.stderr)
        return EXIT_CRASH


def _reproduce(parser, args) -> int:
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
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs must be a positive number of processes, got {args.jobs}")
    fixed = [c.id for c in selected if not c.sizes_adjustable]
    if args.size and fixed:
        parser.error(f"--size applies to chapters 10-11 only; {', '.join(fixed)} run(s) at fixed sizes")
    if (args.backend == "dask") != bool(args.scheduler):
        parser.error("--backend dask needs --scheduler ADDRESS (and --scheduler needs --backend dask)")
    for c in selected if sizes else []:
        try:
            c.check_sizes(scale, **sizes)
        except ValueError as exc:
            parser.error(str(exc))
    folder = Path(args.checkpoint) if args.checkpoint else cache_dir() / "reproduce"
    try:                                  # before any work: an unwritable destination must not cost an hour
        _probe_directory(folder, "--checkpoint")
        for c in selected if args.record else []:
            _probe_file(Path(args.record) / f"{c.id}.json", "--record")
        if args.json:
            _probe_file(Path(args.json), "--json")
    except ValueError as exc:
        parser.error(str(exc))
    runner = lambda c: cases.Runner(jobs=args.jobs or 1, folder=folder / scale / c.id,  # noqa: E731
                                    progress=not args.no_progress, fresh=args.fresh)
    if args.estimate:
        try:
            return _estimate(selected, scale, runner)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        except Exception:                 # a probe crashed: a chapter's crash, not a claim
            import traceback

            traceback.print_exc()
            print("an --estimate probe crashed", file=sys.stderr)
            return EXIT_CRASH
    try:
        backend = _backend(args.backend, args.scheduler)
    except ValueError as exc:
        parser.error(str(exc))
    note = ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in sizes.items())
    note = f"not the paper's full size: {note}" if note else ""
    options = "".join(f" --size {text}" for text in args.size) + (f" --jobs {args.jobs}" if args.jobs else "")
    claims = []
    for c in selected:
        run, start = runner(c), time.perf_counter()
        try:
            with backend(), interrupts_propagate():   # an interrupted case is never stored as finished
                own = {"jobs": args.jobs} if args.jobs and c.sizes_adjustable else {}   # chapters 10-11's own jobs
                rows = c.claims(scale=scale, progress=not args.no_progress, runner=run, **sizes, **own)
        except KeyboardInterrupt:         # Ctrl-C: finished cases stay in their checkpoints; nothing is recorded
            print(f"\ninterrupted in chapter {c.number} ({c.id}): its finished cases are kept in {run.folder}, and "
                  f"the same command resumes them (a case in progress from its last saved state)", file=sys.stderr)
            return EXIT_INTERRUPTED
        except Exception:                 # a crash: say which chapter, keep what finished, exit 3
            import traceback

            traceback.print_exc()
            print(f"chapter {c.number} ({c.id}) crashed; rows of the chapters before it follow", file=sys.stderr)
            print(registry.format_table(claims))
            return EXIT_CRASH
        claims.extend(rows)
        if args.record:
            path = Path(args.record) / f"{c.id}.json"
            try:
                jobs = own.get("jobs") or (c.check_sizes(scale)["jobs"] if c.sizes_adjustable else run.jobs)
                timing = dict(jobs=jobs, wall_seconds=round(time.perf_counter() - start, 1),
                              cases={k: round(v, 1) for k, v in run.seconds.items()}, resumed=run.resumed)
                registry.write_record(rows, path, chapter=c.id, scale=scale, note=note, timing=timing,
                                      command=f"python -m mlphys reproduce {c.id} --scale {scale}{options}")
            except Exception as exc:      # after the work: never the code of a failed claim
                return _not_written(f"--record {path}", exc, claims, scale)
    try:
        print(f"scale: {scale}")
        print(registry.format_table(claims))
        if args.json:
            registry.write_json(claims, args.json)
    except Exception as exc:
        return _not_written(f"--json {args.json}" if args.json else "the table", exc, claims, scale)
    bad = [c for c in claims if not c.within_tolerance]
    if bad:
        print(f"{len(bad)} claim(s) outside tolerance", file=sys.stderr)
        return EXIT_OUTSIDE_TOLERANCE
    return 0


def _backend(name, scheduler):
    """A function returning a fresh joblib backend context for a chapter's cases (nothing if ``name`` is None).

    Checks first that the backend's packages are there (ValueError), and connects to the Dask scheduler.
    """
    if name is None:
        return contextlib.nullcontext
    from joblib import parallel_config

    try:
        if name == "dask":
            from dask.distributed import Client

            Client(scheduler)
        elif name == "ray":
            from ray.util.joblib import register_ray

            register_ray()
    except ImportError as exc:
        raise ValueError(f"--backend {name} needs {exc.name}: pip install "
                         f"{'dask distributed' if name == 'dask' else 'ray'}") from None
    except OSError as exc:          # includes timeouts: no scheduler at that address
        raise ValueError(f"cannot reach the {name} cluster ({exc}); check --scheduler") from None
    return lambda: parallel_config(backend=name)   # joblib sets the backend when the context is made


def _estimate(selected, scale, runner) -> int:
    """``--estimate``: each chapter's cases, their probes timed here, scaled to the full case."""
    total, unknown = 0.0, []
    for c in selected:
        estimates = runner(c).estimate(c.case_list(scale))
        if not estimates:
            unknown.append(c.id)
            print(f"{c.number:>3} {c.id}: runs as one piece; no probe (see its record's date and timing)")
            continue
        for key, seconds in estimates:
            text = "no probe" if seconds is None else ("done (checkpoint)" if seconds == 0 else _duration(seconds))
            print(f"{c.number:>3} {c.id} / {key}: {text}")
            total += seconds or 0.0
            if seconds is None:
                unknown.append(f"{c.id}/{key}")
    jobs = runner(selected[0]).jobs
    print(f"total at scale {scale}: {_duration(total)} of work, about {_duration(total / jobs)} on {jobs} job(s)"
          + (f"; not estimated: {', '.join(unknown)}" if unknown else ""))
    return 0


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 else \
        f"{seconds / 3600:.1f} h"


def _not_written(what: str, exc: Exception, claims, scale) -> int:
    """After the work, a result could not be written: say so (and print the rows, if stdout still works); exit 4."""
    print(f"the chapters ran, but {what} could not be written: {type(exc).__name__}: {exc}", file=sys.stderr)
    with contextlib.suppress(Exception):
        print(f"scale: {scale}")
        print(registry.format_table(claims))
        bad = sum(not c.within_tolerance for c in claims)
        print(f"{bad} of {len(claims)} claim(s) outside tolerance", file=sys.stderr)
    return EXIT_NOT_WRITTEN


def _mkdir(folder: Path, option: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create {folder} for {option}: {exc.strerror or exc}") from None


def _probe_file(path: Path, option: str) -> None:
    """Write to ``path`` as the results will be, before any work (ValueError naming ``option`` and ``path`` if that
    fails): a missing file is created, written and removed; an existing one has a probe appended and is cut back to
    its size; a device or pipe (``/dev/null``, ``/dev/full``, ``/dev/stdout``) gets one newline."""
    _mkdir(path.parent, option)
    if path.is_dir():
        raise ValueError(f"cannot write {option} destination {path}: it is a directory; give a file name")
    existed = path.exists()
    regular = not existed or path.is_file()
    size = path.stat().st_size if existed and regular else 0
    created = False
    try:
        if regular:
            with open(path, "ab") as fh:
                created = not existed
                fh.write(b"probe\n")
                fh.flush()
                os.fsync(fh.fileno())         # a full disk shows here at the latest
        else:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)   # a pipe without a reader fails rather than blocks
            try:
                os.write(fd, b"\n")
            finally:
                os.close(fd)
    except OSError as exc:
        raise ValueError(f"cannot write {option} destination {path}: {exc.strerror or exc}; choose another "
                         f"path") from None
    finally:
        with contextlib.suppress(OSError):
            if created:
                path.unlink()
            elif existed and regular:
                os.truncate(path, size)


def _probe_directory(folder: Path, option: str) -> None:
    """Create ``folder`` if missing and write (then remove) a probe file in it, before any work."""
    _mkdir(folder, option)
    _probe_file(folder / f".mlphys-probe-{os.getpid()}", option)


def _size(text: str):
    """``"epochs=50"`` -> ("epochs", 50.0), ``"protocol=paper"`` -> ("protocol", "paper"); the chapter's settings
    check the value and convert it to its type."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ValueError(f"--size takes KEY=VALUE (e.g. epochs=50), got {text!r}")
    try:
        return key.strip(), float(value)
    except ValueError:
        return key.strip(), value.strip()


if __name__ == "__main__":
    sys.exit(main())
