"""scripts/portability.py: the CPU personalities it plays, and how it reads nbval's report."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "portability.py"
spec = importlib.util.spec_from_file_location("portability", SCRIPT)
portability = importlib.util.module_from_spec(spec)
spec.loader.exec_module(portability)


def test_no_numba_personality_hides_numba_from_mlphys(tmp_path):
    env = portability.environment("no-numba", tmp_path)
    code = "import importlib.util, mlphys.dfnn as d; print(importlib.util.find_spec('numba'), d.compiled_kernel())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "None"]


def test_avx512_personality_unsets_the_pins(tmp_path, monkeypatch):
    monkeypatch.setenv("NPY_DISABLE_CPU_FEATURES", "X86_V4")
    monkeypatch.setenv("NUMBA_CPU_NAME", "haswell")
    env = portability.environment("avx512", tmp_path)
    assert "NPY_DISABLE_CPU_FEATURES" not in env and "NUMBA_CPU_NAME" not in env
    assert env["OPENBLAS_CORETYPE"] == "SkylakeX"
    assert portability.environment("pinned", tmp_path)["NPY_DISABLE_CPU_FEATURES"] == "X86_V4"
    caches = {portability.environment(name, tmp_path)["MLPHYS_CACHE"] for name in ("pinned", "avx512")}
    assert len(caches) == 2, "each personality computes its own trained networks and data"


def test_failed_cells_are_read_from_the_junit_report(tmp_path):
    report = tmp_path / "r.xml"
    report.write_text('<testsuites><testsuite><testcase classname="notebooks.chapter09.ipynb" name="Cell 6" '
                      'file="notebooks/chapter09.ipynb"><failure message="x"/></testcase>'
                      '<testcase classname="c" name="Cell 7" file="notebooks/chapter09.ipynb"/></testsuite>'
                      '</testsuites>')
    assert portability.moved_cells(report) == ["chapter09.ipynb::Cell 6"]


def test_the_makefile_pins_what_the_personalities_change():
    makefile = (SCRIPT.parent.parent / "Makefile").read_text()
    for name in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES"):
        assert f"export {name} ?=" in makefile
    assert os.path.isfile(SCRIPT)
