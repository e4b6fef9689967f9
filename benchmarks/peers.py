"""The tools a user would pick instead (PyTorch, JAX, NetKet), installed on demand for a benchmark.

A peer is never a dependency of mlphys: it is pip-installed into its own folder under the cache
(``$MLPHYS_CACHE/peers/<name>`` or ``~/.cache/mlphys/peers/<name>``, outside the repository and the
project's virtual environment) the first time a benchmark asks for it, and put on ``sys.path`` only
for that benchmark, so that both sides run in one process and their timings can be interleaved.

    torch = peers.require("torch", ["torch==2.13.0"])   # None when absent and not installable

The pinned version is a CPU build; another one can be asked for with ``MLPHYS_PEER_TORCH="torch==..."``.
"""
import importlib
import os
import subprocess
import sys
import time

import numpy as np

from mlphys.speckle import cache_dir


def interleaved(contenders, repeats, pause=0.0):
    """{name: median seconds} of ``repeats`` rounds, each calling every contender once (after ``pause`` seconds)."""
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            time.sleep(pause)
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def folder(name):
    return cache_dir() / "peers" / name


def require(module, specs, *, install=True):
    """Import ``module`` from its peer folder, pip-installing ``specs`` there first if needed.

    Returns the module, or None (with a message saying how to install it) when it is absent and
    ``install`` is False or the installation fails.
    """
    specs = os.environ.get(f"MLPHYS_PEER_{module.upper()}", " ".join(specs)).split()
    target = folder(module)
    if str(target) not in sys.path:
        sys.path.append(str(target))   # last: the project's own packages keep precedence
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), *specs]
    if not install:
        print(f"{module} is not installed; skipping it. Install it for this benchmark with\n    {' '.join(command)}")
        return None
    print(f"installing {' '.join(specs)} into {target} (once; not a dependency of mlphys) ...", flush=True)
    done = subprocess.run(command)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(module) if done.returncode == 0 else None
    except ImportError as error:
        print(f"{module} could not be imported after installation ({error}); skipping it.")
        return None
