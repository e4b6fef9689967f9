import re
from pathlib import Path
import json
import os
import subprocess
import sys

import pytest

import mlphys
from mlphys import registry
from mlphys.claims import costa
from mlphys.registry import Claim


def test_claim_tolerance_logic():
    assert Claim("c", "q", ours=1.05, reference=1.0, tolerance=0.1).within_tolerance
    assert not Claim("c", "q", ours=1.2, reference=1.0, tolerance=0.1).within_tolerance
    assert Claim("c", "q", ours=3.0, reference=None, tolerance=0.5, paper=3.2).within_tolerance
    assert not Claim("c", "q", ours=float("nan"), reference=1.0, tolerance=1.0).within_tolerance
    with pytest.raises(ValueError, match="reference or a paper"):
        Claim("c", "q", ours=1.0, reference=None, tolerance=0.1)


def test_seed_spreads_print_at_the_precision_their_sd_justifies_and_nbval_masks_only_their_digits():
    """mean ± sd (n seeds): the sd to one significant figure (two when it starts with 1), the mean to match; the
    notebooks' sanitiser replaces exactly that form, so a chaotic run's digits are not compared but its text is."""
    import re
    from pathlib import Path

    from mlphys.stats import SeedSpread

    assert str(SeedSpread([4.3, 4.5, 4.1])) == "4.3 ± 0.2 (3 seeds)"
    assert str(SeedSpread([-0.5002, -0.4998, -0.5011])) == "-0.5004 ± 0.0007 (3 seeds)"
    assert str(SeedSpread([1.0, 1.15])) == "1.07 ± 0.11 (2 seeds)"
    assert SeedSpread([0.971, 0.975, 0.969]).format(scale=100, unit="%") == "97.2% ± 0.3% (3 seeds)"
    assert str(SeedSpread([-4.8411253194781, -4.8411253194782])) == "-4.841 ± 0.000 (2 seeds)"
    with pytest.raises(ValueError, match="values"):
        SeedSpread([1.0])
    text = Path(__file__).with_name("nbval_sanitize.cfg").read_text()
    patterns = re.findall("^regex: (.*)$\n^replace: (.*)$", text, re.M)
    sanitise = lambda s: [s := re.sub(rx, rep, s) for rx, rep in patterns][-1]  # noqa: E731
    for spread in (SeedSpread([4.3, 4.5, 4.1]), SeedSpread([-2e-3, 5e-3, 1e-3])):
        assert sanitise(f"E = {spread} at lambda = 1") == "E = SPREAD (3 seeds) at lambda = 1"
    assert sanitise("<r> = 1.518 +- 0.015 (exact 1.5)") == "<r> = 1.518 +- 0.015 (exact 1.5)"
    row = Claim("x", "E", 4.3, 4.0, 0.5, seeds=(4.3, 4.5, 4.1))
    assert "4.3 ± 0.2 (3 seeds)" in registry.format_table([row]) and row.within_tolerance
    with pytest.raises(ValueError, match="seeds"):
        Claim("x", "E", 4.0, 4.0, 0.5, seeds=(4.3, 4.5, 4.1))


def test_unknown_chapter_is_refused():
    with pytest.raises(ValueError, match="not registered"):
        registry.reproduce(["chapter99"])
    with pytest.raises(ValueError, match="not registered"):
        registry.reproduce([15])


def test_markdown_table_escapes_pipes():
    table = registry.format_table([Claim("c", "max |a - b|", ours=0.0, reference=0.0, tolerance=1e-9)], markdown=True)
    assert r"max \|a - b\|" in table
    assert table.splitlines()[2].count(" | ") == 6


def test_cli_reproduce_chapter1_writes_json(tmp_path):
    out = tmp_path / "rows.json"
    proc = subprocess.run([sys.executable, "-m", "mlphys", "reproduce", "1", "regression", "--scale", "class",
                           "--json", str(out), "--no-progress"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "within tolerance?" in proc.stdout
    rows = json.loads(out.read_text())
    assert rows and {"chapter", "quantity", "paper", "ours", "reference", "tolerance", "within_tolerance"} <= set(rows[0])
    assert all(r["within_tolerance"] is True for r in rows)
    assert len(rows) == len({r["quantity"] for r in rows}), "chapter 1 given twice (number and id) must run once"
    assert {r["chapter"] for r in rows} == {"regression"}
    assert registry.load_rows(out)[0].quantity == rows[0]["quantity"]


@pytest.mark.parametrize("args, message", [
    (["10", "--size", "epochs=x"], "size epochs must be an integer >= 1"),
    (["10", "--size", "epochs="], "KEY=VALUE"),
    (["10", "--size", "protocol=fast"], "protocol must be one of"),
    (["10", "--size", "epoch=5"], "unknown size 'epoch'"),
    (["10", "--size", "epochs=1.5"], "size epochs must be an integer >= 1"),
    (["11", "--size", "eta=0"], "size eta must be a finite real number > 0"),
    (["1", "--size", "epochs=2"], "chapters 10-11 only"),
    (["10", "--jobs", "0"], "--jobs must be a positive"),
])
def test_cli_sizes_are_checked_before_any_work(args, message):
    proc = subprocess.run([sys.executable, "-m", "mlphys", "reproduce", *args], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_sizes_replace_settings():
    chapter = registry.chapter("density-functionals")
    assert chapter.sizes_adjustable and not registry.chapter(1).sizes_adjustable
    s = chapter.check_sizes("paper", epochs=50, n_data=20_000.0)
    assert s["epochs"] == 50 and isinstance(s["n_data"], int) and s["lr"] == costa.settings("paper")["lr"]
    with pytest.raises(ValueError, match="fixed sizes"):
        registry.chapter(1).claims("class", epochs=3)


def test_cli_list_and_bad_chapter():
    proc = subprocess.run([sys.executable, "-m", "mlphys", "reproduce", "--list"], capture_output=True, text=True)
    assert proc.returncode == 0
    for c in registry.CHAPTERS.values():   # number, id, title and notebook of each chapter
        assert any(line.split()[:2] == [str(c.number), c.id] and c.title in line and c.notebook in line
                   for line in proc.stdout.splitlines()), c
    proc = subprocess.run([sys.executable, "-m", "mlphys", "reproduce", "chapter42"], capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown chapter" in proc.stderr


#: Chapter 11's average-channel stability rows (the paper's central claim), failing at class and at reduced paper scale.
AVERAGE_CHANNEL_STABILITY = {f"avg-channel CNN, N_c = {n}, after descent: {q}" for n in (60, 140, 260)
                             for q in ("<de/e> (negative = below e_gs)", "<|de|/e> against twice its error on n_gs")} \
    | {"avg-channel CNN, N_c = 260, after descent: <|de|/e>"}
#: Paper-scale rows that honestly fail, each discussed in its chapter; any other failing row is a regression.
KNOWN_PAPER_FAILURES = {
    # Chapter 13: at the thesis' budget the depth-50 ResNet falls below the classifier alone by more than its seeds explain.
    "pde-networks": {"resnet depth 50: test accuracy (digits, mean of 5 seeds)"},
    # Chapter 8: with 12,000 Adam steps on the paper's domains, the two states that have not decayed at a wall end
    # below the whole-line E0 (the boundary term of the phi phi'' form), and the linear case misses the norm target.
    "ground-states": {"x^2/2 - x/2: E", "x^2/2 - x/2: |<phi|phi> - 1|", "e^-2x - 2e^-x + 1: E"},
    # Chapter 9: QPNN+MS on hydrogen (its loss is made by the few samples at the nucleus; see the chapter).
    "potentials": {"hydrogen 1s, QPNN+MS: E (one run)", "hydrogen 1s, QPNN+MS: epsilon, Eq. 9 (one run)"},
    # Chapter 11, the reduced run (20,000 densities, 50 epochs): the average-channel CNNs still end below e_gs and
    # outside their own error, though nearer than at class scale (<de/e> -0.08 / -0.04 / -0.06).
    "functional-descent": AVERAGE_CHANNEL_STABILITY,
}
KNOWN_CLASS_FAILURES = {
    # Chapter 9: QPNN+MS on hydrogen. Its loss, |grad T + grad U|^2 with |grad T| = 1/r^2, is dominated by the few
    # samples nearest the nucleus, and the energy scatters by +-0.8 over the seeds (the paper's own worst row too).
    "potentials": {"hydrogen 1s, QPNN+MS: E (mean of 3 seeds)", "hydrogen 1s, QPNN+MS: epsilon, Eq. 9 (mean of 3 seeds)"},
    # Chapter 11: the paper's central claim, the average-channel CNNs' stable descent, needs its training budget
    # (1,200 epochs on 121,500 densities, ~100 core-hours here); at class scale they break the variational principle
    # too, and every learned functional's descent ends farther from n_gs than the uniform start.
    "functional-descent": AVERAGE_CHANNEL_STABILITY
                          | {f"{label}, after descent: <|dn|/|n|> (reference: the uniform start)"
                             for name, label in costa.LABELS.items() if name != "exact"}
                          | {"avg-channel CNNs, after descent: <|de|/e> at N_c = 260 minus at N_c = 60",
                             # the Euler-Lagrange loss lowers the error but does not reach the paper's stability here
                             f"{costa.LABELS[costa.INFORMED]} with the Euler-Lagrange loss, after descent: <de/e> "
                             "(negative = below e_gs)"},
}


def test_cli_exit_codes_and_destinations_checked_first(tmp_path, monkeypatch):
    from mlphys.__main__ import EXIT_CRASH, main

    blocker = tmp_path / "a_file"
    blocker.write_text("")
    for args in (["1", "--record", str(blocker / "sub")], ["1", "--json", str(tmp_path)]):
        proc = subprocess.run([sys.executable, "-m", "mlphys", "reproduce", *args], capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 2 and ("--record" in proc.stderr or "--json" in proc.stderr), proc.stderr
    proc = subprocess.run([sys.executable, "-m", "mlphys", "reproduce", "1"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "MLPHYS_SCALE": "huge"})
    assert proc.returncode == 2 and "MLPHYS_SCALE" in proc.stderr

    def crash(self, *args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(registry.Chapter, "claims", crash)
    assert main(["reproduce", "1", "--no-progress"]) == EXIT_CRASH


def test_recorded_runs_are_well_formed():
    from pathlib import Path

    results = Path(__file__).parent.parent / "results"
    for path in sorted((results / "paper").glob("*.json")):
        record = json.loads(path.read_text())
        assert record["scale"] == "paper" and record["chapter"] == path.stem
        assert record["command"].startswith("python -m mlphys reproduce") and len(record["commit"]) == 40
        failing = {c.quantity for c in registry.load_rows(path) if not c.within_tolerance}
        assert failing == KNOWN_PAPER_FAILURES.get(path.stem, set()), f"{path.name}: unexpected failing rows {failing}"
    for path in sorted((results / "class").glob("*.json")):
        record = json.loads(path.read_text())
        assert record["scale"] == "class" and record["command"] == f"notebooks/{path.stem}.ipynb"
        assert (results.parent / record["command"]).exists(), f"{path.name}: no such notebook"
        rows = registry.load_rows(path)
        failing = {c.quantity for c in rows if not c.within_tolerance}
        known = set().union(*(KNOWN_CLASS_FAILURES.get(c.chapter, set()) for c in rows))
        assert failing == known, f"{path.name}: unexpected failing rows {failing ^ known}"


def test_one_sided_comparisons():
    assert Claim("c", "error", ours=1e-7, reference=1e-6, tolerance=0.0, comparison="at_most").within_tolerance
    assert not Claim("c", "error", ours=1e-5, reference=1e-6, tolerance=0.0, comparison="at_most").within_tolerance
    assert Claim("c", "accuracy", ours=0.97, reference=0.95, tolerance=0.0, comparison="at_least").within_tolerance
    assert not Claim("c", "accuracy", ours=0.9, reference=0.95, tolerance=0.0, comparison="at_least").within_tolerance
    with pytest.raises(ValueError, match="comparison"):
        Claim("c", "q", ours=1.0, reference=1.0, tolerance=0.0, comparison="roughly")
    table = registry.format_table([Claim("c", "q", ours=1.0, reference=2.0, tolerance=0.0, comparison="at_most")])
    assert "<= 2" in table
    # a one-sided claim with a tolerance shows the bound it is tested against, so the row reads correctly
    loose = Claim("c", "accuracy", ours=0.907, reference=0.912, tolerance=0.025, comparison="at_least")
    assert loose.within_tolerance and ">= 0.912 - 0.025" in registry.format_table([loose])


def test_numbering_plan_is_used_everywhere():
    """Every notebook is one chapter named by its planned number; registry, toc and README agree."""
    import re
    from pathlib import Path

    root = Path(__file__).parent.parent
    toc = (root / "_toc.yml").read_text()
    readme = (root / "README.md").read_text()
    assert "sections:" not in toc, "no nested notebook sections: every notebook is one numbered chapter"
    notebooks = sorted(p.stem for p in (root / "notebooks").glob("chapter*.ipynb"))
    for stem in notebooks:
        assert re.fullmatch(r"chapter\d\d_[a-z0-9_]+", stem), f"{stem}: expected chapterNN_<slug>"
        assert f"notebooks/{stem}" in toc, f"{stem} is not in _toc.yml"
    numbers = [int(s[7:9]) for s in notebooks]
    assert len(set(numbers)) == len(numbers) and all(1 <= n <= 14 for n in numbers)
    part2 = toc.index("Part II")
    for stem, n in zip(notebooks, numbers):   # Part I = chapters 1-6, Part II = 7-14
        assert (toc.index(f"notebooks/{stem}") < part2) == (n <= 6), f"{stem} is in the wrong part"
    for c in registry.CHAPTERS.values():
        assert c.notebook in notebooks and int(c.notebook[7:9]) == c.number, c
        assert not re.search(r"\d", c.id), f"registry id {c.id!r} must not encode a position"
        assert f"| {c.number}. " in readme and f"`{c.id}`" in readme and c.notebook in readme, f"README lacks {c}"
    assert registry.chapter("7") is registry.chapter(7) is registry.CHAPTERS["derivatives"]
    assert not re.search(r"\b\d\.\d (?:[A-Z])", readme), "README still numbers a chapter as a section (e.g. 5.1)"




def _modules_used_by_chapter():
    """Chapter number -> the mlphys modules its notebook uses, directly or through the modules they import."""
    import ast
    import json
    import re
    from pathlib import Path

    root = Path(__file__).parent.parent
    imports = {}
    for path in list((root / "mlphys").glob("*.py")) + list((root / "mlphys" / "claims").glob("*.py")):
        tree = ast.parse(path.read_text())
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                names |= {node.module.split(".")[-1]} if node.module else {a.name for a in node.names}
        imports[path.stem] = names
    used = {}
    for c in registry.CHAPTERS.values():
        cells = json.loads((root / "notebooks" / f"{c.notebook}.ipynb").read_text())["cells"]
        code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
        todo = {c.run.__module__.split(".")[-1]} | set(re.findall(r"mlphys\.(\w+)", code))
        for names in re.findall(r"from mlphys(?:\.claims)? import ([\w, ]+)", code):
            todo |= {n.strip().split(" ")[0] for n in names.split(",")}
        seen = set()
        while todo:
            module = todo.pop()
            if module in imports and module not in seen:
                seen.add(module)
                todo |= imports[module]
        used[c.number] = seen
    return used


def test_module_headers_name_the_chapters_that_use_them():
    """A module's docstring header "(Chapter N)" or "Chapters N-M" names chapters (registry numbers) whose
    notebooks use the module - not the numbers of an older plan (the DFNN engine once said "Chapter 6")."""
    import importlib
    import re

    used = _modules_used_by_chapter()
    modules = sorted(set().union(*used.values()))
    checked = 0
    for name in modules:
        module = importlib.import_module(f"mlphys.{name}" if importlib.util.find_spec(f"mlphys.{name}")
                                         else f"mlphys.claims.{name}")
        header = (module.__doc__ or "").split("\n\n")[0]
        for first, last in re.findall(r"Chapters? (\d+)(?:-(\d+))?", header):
            for n in range(int(first), int(last or first) + 1):
                assert name in used[n], f"mlphys {name}: its docstring names chapter {n}, whose notebook does not use it"
                checked += 1
    assert checked >= 20


def test_equation_labels_carry_their_chapter_number():
    """An equation defined in chapter N is labelled eq-chN-... (the label shows in the web book's anchors)."""
    import re
    from pathlib import Path

    for path in sorted((Path(__file__).parent.parent / "notebooks").glob("chapter*.ipynb")):
        number = int(path.stem[7:9])
        for label, k in re.findall(r"\$\$ \((eq-ch(\d+)-[\w-]+)\)", path.read_text()):
            assert int(k) == number, f"{path.name} defines {label}: label it eq-ch{number}-..."


def test_notebook_results_writes_only_when_asked(monkeypatch, tmp_path):
    """Running a chapter notebook must not modify tracked files: results/class is written only by `make notebooks`."""
    monkeypatch.setattr(registry, "results_dir", lambda: tmp_path)
    (tmp_path / "class").mkdir()
    rows = [Claim("regression", "q", ours=1.0, reference=1.0, tolerance=0.1)]
    monkeypatch.delenv(registry.RECORD_ENV, raising=False)
    table = registry.notebook_results(rows, notebook="chapter01_x", scale="class")
    assert not list(tmp_path.rglob("*.json"))
    assert "| q |" in table.data and "chapter" not in table.data.splitlines()[0]
    monkeypatch.setenv(registry.RECORD_ENV, "1")
    registry.notebook_results(rows, notebook="chapter01_x", scale="class")
    assert (tmp_path / "class" / "chapter01_x.json").is_file()


def test_scorecard_says_not_recorded(monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "results_dir", lambda: tmp_path)
    text, ok, total = registry.scorecard("paper")
    assert (ok, total) == (0, 0) and text.count("paper scale: not recorded") == len(registry.CHAPTERS)
    overview = registry.scorecard_overview()
    assert overview.count("not recorded") == 2 * len(registry.CHAPTERS)   # neither scale recorded in tmp_path


def test_scorecard_overview_counts_the_records():
    overview = registry.scorecard_overview().splitlines()
    assert len(overview) == 2 + len(registry.CHAPTERS)
    row = next(line for line in overview if "(`pde-networks`)" in line)
    assert "11 of 12" in row and "UTC" in row            # the recorded paper run: one honest failure


def test_physics_modules_do_not_read_the_scale_or_the_environment():
    """One call computes one thing: only the chapter layer (claims/), the CLI, the registry and config read
    ``$MLPHYS_SCALE`` or other environment variables; physics functions take explicit sizes."""
    import re
    root = Path(mlphys.__file__).parent
    allowed = {"config.py", "registry.py", "__main__.py", "__init__.py"}
    offenders = [f"{path.name}:{n}" for path in sorted(root.glob("*.py")) if path.name not in allowed
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"\bby_scale\b|\bget_scale\b|os\.environ|getenv", line)]
    assert not offenders, offenders


def test_chapters_are_objects_with_one_interface():
    """The registry holds the objects that compute each chapter (no "module:function" strings, no signature
    sniffing): every entry point takes (scale, progress, runner), cases are declared, sizes only where settings are."""
    import inspect
    source = (Path(registry.__file__)).read_text()
    assert not re.search(r'"\w+:\w+"', source), "a 'module:function' string in the registry"
    assert "inspect" not in source and "importlib" not in source
    for c in registry.CHAPTERS.values():
        assert callable(c.run) and list(inspect.signature(c.run).parameters)[:3] == ["scale", "progress", "runner"]
        assert c.cases is None or callable(c.cases)
        assert c.sizes_adjustable == (c.id in ("density-functionals", "functional-descent"))


def test_reproduce_reads_a_string_as_one_chapter_and_refuses_unknown_ones(monkeypatch):
    """Issue #30: ``reproduce("12")`` ran chapters 1 and 2 (the string iterated character by character). Chapters are
    one registered key (id, book number, or its string) or a list of them; an unknown one is refused, listing them."""
    ran = []
    monkeypatch.setattr(registry.Chapter, "claims", lambda self, **kw: ran.append(self.number) or [])
    registry.reproduce("12", scale="class", progress=False)
    assert ran == [12]
    ran.clear()
    registry.reproduce(["7", 8, "derivatives", " 9 "], scale="class", progress=False)
    assert ran == [7, 8, 9]                                  # each chapter once, in the order given
    for bad in ("1x", ["regression", "chapter99"], [], 0, 2.5, True, {"regression": 1}):
        with pytest.raises(ValueError, match=r"chapters.*1 \(regression\)|chapters is empty"):
            registry.reproduce(bad, scale="class", progress=False)
    assert ran == [7, 8, 9]                                  # refused before any chapter ran
    with pytest.raises(ValueError, match="scale"):
        registry.reproduce("1", scale="huge")
    with pytest.raises(ValueError, match="progress"):
        registry.reproduce("1", progress="no")


def test_sizes_are_declared_with_their_ranges_and_relations():
    """Chapters 10-11's sizes are checked against their declarations (type, finite, range) and relations before any
    work: n_data = 1 used to crash after the data were generated."""
    c = registry.chapter("density-functionals")
    assert set(c.size_constraints) == set(costa.settings("class"))
    for sizes, name in [(dict(n_data=1), "size n_data must be an integer >= 20"),
                        (dict(epochs=float("inf")), "size epochs"), (dict(lr=float("nan")), "size lr"),
                        (dict(batch_size=0), "size batch_size"), (dict(protocol="fast"), "size protocol"),
                        (dict(eta="x"), "size eta"), (dict(n_data=100), "size n_descent"),
                        (dict(n_curvature=21), "size n_curvature"), (dict(n_data=float("1e400")), "size n_data")]:
        with pytest.raises(ValueError, match=name):
            c.check_sizes("class", **sizes)
    s = c.check_sizes("class", n_data=200.0, n_descent=20, n_curvature=20)      # the least the relations allow
    assert s["n_data"] == 200 and isinstance(s["n_data"], int)
    assert registry.chapter(1).check_sizes("class") == {}
    with pytest.raises(ValueError, match="fixed sizes"):
        registry.chapter(1).check_sizes("class", epochs=3)


def test_registry_functions_refuse_bad_arguments_naming_them(tmp_path):
    with pytest.raises(ValueError, match="chapter_id"):
        registry.record_path("chapter99", "paper")
    with pytest.raises(ValueError, match="scale"):
        registry.record_path("vmc", "huge")
    with pytest.raises(ValueError, match="markdown"):
        registry.format_table([], markdown="yes")
    with pytest.raises(ValueError, match="claims"):
        registry.format_table(["not a claim"])
    with pytest.raises(ValueError, match="path"):
        registry.write_json([], None)
    with pytest.raises(ValueError, match="id"):
        registry.Chapter(1, "chapter1", "t", "nb", run=lambda scale=None, progress=True, runner=None: [])
    registry.write_json([Claim("c", "q", 1.0, 1.0, 0.1)], tmp_path / "rows.json")
    assert registry.load_rows(str(tmp_path / "rows.json"))[0].quantity == "q"


def test_load_rows_bad_file_names_path(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        registry.load_rows(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('[{"x": 1}]')
    with pytest.raises(ValueError, match="wrong.json"):
        registry.load_rows(wrong)
