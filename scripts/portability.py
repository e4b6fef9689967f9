"""Which notebook cells print something that depends on the CPU? nbval under several "CPU personalities".

    python scripts/portability.py                          # every notebook, every personality this CPU can play
    python scripts/portability.py -p avx512 -p no-numba notebooks/chapter09_learning_potentials.ipynb
    python scripts/portability.py --unit -p avx512         # the unit tests instead of the notebooks

The committed outputs are computed under the Makefile's pinned personality (OpenBLAS Haswell kernels, NumPy
without AVX-512 loops, numba compiled for Haswell). Each personality here changes one of those choices, re-executes
the notebooks with nbval against the committed outputs and lists every cell whose output differs. A cell listed
under "pinned" is stale (re-execute it); a cell listed under another personality prints a number that moves with
the last bits of the arithmetic, and should print a spread over seeds at the precision the spread justifies, or
round to digits that do not move. Timing cells are ignored by nbval (``nbval-ignore-output``) and never listed.

With ``--unit`` the unit tests run instead, and every test that fails under a personality is listed: a test must
not assert the digits of one chaotic run (assert over seeds, with tolerances from the spread).

Exit status: 0 when no cell (or test) moves under any personality run, 1 otherwise. Takes one nbval run (~10 min on two
cores) per personality.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each personality: the environment it sets on top of the Makefile's pins ("pinned" changes nothing; None unsets).
# "requires": a CPU flag from /proc/cpuinfo without which the personality would equal "pinned".
PERSONALITIES = {
    "pinned": dict(env={}, what="the Makefile's choices (OpenBLAS Haswell, NumPy AVX2, numba Haswell)"),
    "avx512": dict(env={"NPY_DISABLE_CPU_FEATURES": None, "OPENBLAS_CORETYPE": "SkylakeX", "NUMBA_CPU_NAME": None,
                        "NUMBA_CPU_FEATURES": None},
                   requires="avx512f", what="every library's own choice on an AVX-512 CPU"),
    "sandybridge": dict(env={"OPENBLAS_CORETYPE": "Sandybridge"}, what="OpenBLAS's AVX (Sandy Bridge) kernels"),
    "zen": dict(env={"OPENBLAS_CORETYPE": "Zen"}, what="OpenBLAS's AMD Zen kernels"),
    "no-numba": dict(env={}, hide_numba=True, what="without numba: the NumPy network step of chapters 7-8"),
    "one-thread": dict(env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"},
                       what="one thread everywhere (a laptop with another core count)"),
}
DEFAULT = ("pinned", "avx512", "sandybridge", "no-numba")


def cpu_flags():
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((l for l in text.splitlines() if l.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def environment(name, scratch):
    """The environment of one personality's run: the Makefile's pins, then the personality's changes."""
    spec = PERSONALITIES[name]
    env = dict(os.environ)
    # a cache of its own: trained networks and data computed under another personality would hide a difference
    env["MLPHYS_CACHE"] = str(Path(scratch) / name / "cache")
    for key, value in spec["env"].items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    if spec.get("hide_numba"):
        # importlib.util.find_spec("numba") returns None when sys.modules["numba"] is None: mlphys then sees no numba
        site = Path(scratch) / "hide_numba"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text("import sys\nsys.modules['numba'] = None\n")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH", "")]))
    return env


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def moved_cells(junit_xml, details=None):
    """The ids of the nbval cells (or tests) that failed, from pytest's JUnit XML report; ``details``, a dict,
    receives the lines of each failure's report that show what differs."""
    failed = []
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        problem = case.find("failure")
        problem = case.find("error") if problem is None else problem
        if problem is not None:
            name = f"{Path(case.get('file') or case.get('classname', '')).name}::{case.get('name')}"
            failed.append(name)
            if details is not None:
                text = ANSI.sub("", (problem.text or "") + (problem.get("message") or ""))
                details[name] = [line for line in text.splitlines() if line.startswith(("  - ", "  + ", "E  "))][:6]
    return failed


def run(name, notebooks, python, scratch, unit=False, details=None):
    report = Path(scratch) / f"{name}.xml"
    target = ["tests", "-m", "not browser"] if unit else \
        ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
         *notebooks]
    command = [python, "-m", "pytest", *target, "-p", "no:cacheprovider", "-q", f"--junitxml={report}"]
    log = Path(scratch) / f"{name}.log"
    with open(log, "w") as fh:
        subprocess.run(command, cwd=ROOT, env=environment(name, scratch), stdout=fh, stderr=subprocess.STDOUT)
    if not report.is_file():
        raise RuntimeError(f"nbval produced no report under personality {name!r}; see {log}")
    return moved_cells(report, details)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to check (default: notebooks/*.ipynb)")
    parser.add_argument("-p", "--personality", action="append", choices=sorted(PERSONALITIES),
                        help=f"repeatable (default: {', '.join(DEFAULT)})")
    parser.add_argument("--unit", action="store_true", help="run the unit tests instead of the notebooks")
    parser.add_argument("--python", default=sys.executable, help="the interpreter with mlphys and nbval installed")
    args = parser.parse_args(argv)
    missing = [k for k in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "NUMBA_CPU_NAME") if k not in os.environ]
    if missing:
        parser.error(f"run it through make (`make portability`), which sets the pinned personality; missing {missing}")
    notebooks = args.notebooks or [str(p.relative_to(ROOT)) for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    flags = cpu_flags()
    moved = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.personality or DEFAULT:
            need = PERSONALITIES[name].get("requires")
            if need and need not in flags:
                print(f"{name:12s} skipped: this CPU has no {need}", flush=True)
                continue
            details = {}
            moved[name] = run(name, notebooks, args.python, scratch, args.unit, details)
            what = "test(s) fail" if args.unit else "cell(s) differ from the committed outputs"
            print(f"{name:12s} {len(moved[name]):3d} {what}  "
                  f"({PERSONALITIES[name]['what']})", flush=True)
            for cell in moved[name]:
                print(f"{'':15s}{cell}", flush=True)
                for line in details.get(cell, []):
                    print(f"{'':19s}{line.strip()}", flush=True)
    return 1 if any(moved.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
