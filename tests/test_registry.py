import json
import subprocess
import sys

import pytest

from mlphys import registry
from mlphys.registry import Claim


def test_claim_tolerance_logic():
    assert Claim("c", "q", ours=1.05, reference=1.0, tolerance=0.1).within_tolerance
    assert not Claim("c", "q", ours=1.2, reference=1.0, tolerance=0.1).within_tolerance
    assert Claim("c", "q", ours=3.0, reference=None, tolerance=0.5, paper=3.2).within_tolerance
    assert not Claim("c", "q", ours=float("nan"), reference=1.0, tolerance=1.0).within_tolerance
    with pytest.raises(ValueError, match="reference or a paper"):
        Claim("c", "q", ours=1.0, reference=None, tolerance=0.1)


def test_unknown_chapter_is_refused():
    with pytest.raises(ValueError, match="not registered"):
        registry.reproduce(["chapter99"])


def test_markdown_table_escapes_pipes():
    table = registry.format_table([Claim("c", "max |a - b|", ours=0.0, reference=0.0, tolerance=1e-9)], markdown=True)
    assert r"max \|a - b\|" in table
    assert table.splitlines()[2].count(" | ") == 6


def test_cli_reproduce_chapter1_writes_json(tmp_path):
    out = tmp_path / "rows.json"
    proc = subprocess.run([sys.executable, "-m", "mlphys", "reproduce", "chapter1", "--scale", "class",
                           "--json", str(out), "--no-progress"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "within tolerance?" in proc.stdout
    rows = json.loads(out.read_text())
    assert rows and {"chapter", "quantity", "paper", "ours", "reference", "tolerance", "within_tolerance"} <= set(rows[0])
    assert all(r["within_tolerance"] is True for r in rows)
    assert registry.load_rows(out)[0].quantity == rows[0]["quantity"]


def test_cli_list_and_bad_chapter():
    proc = subprocess.run([sys.executable, "-m", "mlphys", "reproduce", "--list"], capture_output=True, text=True)
    assert proc.returncode == 0 and "chapter1" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "mlphys", "reproduce", "chapter42"], capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown chapter" in proc.stderr


def test_recorded_runs_are_well_formed():
    from pathlib import Path

    results = Path(__file__).parent.parent / "results"
    for path in sorted((results / "paper").glob("*.json")):
        record = json.loads(path.read_text())
        assert record["scale"] == "paper" and record["chapter"] == path.stem
        assert record["command"].startswith("python -m mlphys reproduce") and len(record["commit"]) == 40
        assert all(c.within_tolerance for c in registry.load_rows(path))
    for path in sorted((results / "class").glob("*.json")):
        record = json.loads(path.read_text())
        assert record["scale"] == "class" and record["command"] == f"notebooks/{path.stem}.ipynb"
        assert (results.parent / record["command"]).exists(), f"{path.name}: no such notebook"
        assert all(c.within_tolerance for c in registry.load_rows(path))


def test_one_sided_comparisons():
    assert Claim("c", "error", ours=1e-7, reference=1e-6, tolerance=0.0, comparison="at_most").within_tolerance
    assert not Claim("c", "error", ours=1e-5, reference=1e-6, tolerance=0.0, comparison="at_most").within_tolerance
    assert Claim("c", "accuracy", ours=0.97, reference=0.95, tolerance=0.0, comparison="at_least").within_tolerance
    assert not Claim("c", "accuracy", ours=0.9, reference=0.95, tolerance=0.0, comparison="at_least").within_tolerance
    with pytest.raises(ValueError, match="comparison"):
        Claim("c", "q", ours=1.0, reference=1.0, tolerance=0.0, comparison="roughly")
    table = registry.format_table([Claim("c", "q", ours=1.0, reference=2.0, tolerance=0.0, comparison="at_most")])
    assert "<= 2" in table


def test_every_registered_chapter_has_a_notebook_in_the_toc():
    from pathlib import Path

    root = Path(__file__).parent.parent
    toc = (root / "_toc.yml").read_text()
    for chapter in registry.CHAPTERS:
        number = int(chapter.removeprefix("chapter"))
        notebooks = list((root / "notebooks").glob(f"chapter{number:02d}*_*.ipynb"))
        assert notebooks, f"{chapter}: expected notebooks/chapter{number:02d}_*.ipynb (or 05a_, 05b_ parts)"
        for nb in notebooks:
            assert nb.stem in toc, f"{nb.name} is not in _toc.yml"
        assert registry.chapter_module(chapter).TITLE
