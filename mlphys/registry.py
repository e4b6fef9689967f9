"""The reproduction registry: each chapter's headline claims, ours vs paper vs reference.

Every numbered chapter of the book that computes headline numbers has an entry in
:data:`CHAPTERS`: its book number, a short stable id that does not encode a position
(``"vmc"``, ``"ground-states"``, ...), its title, its notebook and the objects of :mod:`mlphys.claims` that
compute its claims (``claims(scale=None, progress=True, runner=None) -> list[Claim]``), list its cases and check
its sizes.
The notebooks call the same functions the command line does::

    python -m mlphys reproduce vmc --scale class --json rows.json
    python -m mlphys reproduce 7 8          # by book chapter number
"""
from __future__ import annotations

import datetime
import json
import numbers
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .cases import Runner
from .claims import COMPARISONS, Claim  # noqa: F401  (Claim and COMPARISONS are part of the registry's interface)
from .claims import backprop, costa, hong, hopfield, imchitr, perceptron, quantum_dots, regression, rodini
from .config import SCALE, SCALES, get_scale
from .stats import SeedSpread
from .validate import (Choice, Constraint, Flag, Function, Instance, Integer, Optional, PathLike, Real,
                       Rule, Sequence, Text, WrongType, params)


class _ChapterKey(Constraint):
    """A registered chapter: its id (``"vmc"``), its book number (``5`` or ``"5"``) or the :class:`Chapter`; returned
    as the Chapter. ``many=True``: also a list of them, returned as a tuple of Chapters (a string is one key, never
    read character by character: ``"12"`` is chapter 12, not chapters 1 and 2)."""

    def __init__(self, *, many: bool = False):
        self.many = many
        self.what = "a registered chapter's book number or id" + (" or a list of them" if many else "")

    @staticmethod
    def known() -> str:
        return ", ".join(f"{c.number} ({c.id})" for c in CHAPTERS.values())

    def _one(self, value, name):
        if isinstance(value, Chapter):
            return value
        if isinstance(value, str):
            key = value.strip()
            for c in CHAPTERS.values():
                if key in (c.id, str(c.number)):
                    return c
        elif isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
            for c in CHAPTERS.values():
                if value == c.number:
                    return c
        else:
            raise WrongType(f"{name} must be {self.what} ({self.known()}), got {value!r}")
        raise ValueError(f"{name}={value!r} is not registered; use a book chapter number or id: {self.known()}")

    def check(self, value, name, context):
        if not self.many:
            return self._one(value, name)
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"{name} is empty; name at least one chapter (None: all of them)")
            return tuple(self._one(v, f"{name}[{i}]") for i, v in enumerate(value))
        return (self._one(value, name),)

    def bad(self, context):
        return ["chapter99", 15, True, 2.5, None] + ([[], ["chapter99"], "12x"] if self.many else [])

    def example(self, context, rng):
        return "regression"            # the cheapest chapter: the fuzzer runs what it is given


@dataclass(frozen=True)
class Chapter:
    """A numbered chapter of the book with registered claims, and the objects that compute them.

    ``run(scale=None, progress=True, runner=None[, **sizes]) -> list[Claim]`` computes its claims; ``cases(scale)``
    lists its independent cases (:class:`mlphys.cases.Case`; None: it runs as one piece); ``settings(scale,
    **sizes)`` (None: fixed sizes) returns its sizes with ``reproduce --size`` overrides applied. Each size is
    declared in ``size_constraints`` (name -> :mod:`mlphys.validate` constraint: type and range) and the relations
    between them in ``size_rules`` (:class:`mlphys.validate.Rule` s over the settings), so that :meth:`check_sizes`
    refuses a bad size before any work.
    """

    number: int
    id: str
    title: str
    notebook: str
    run: Callable
    cases: Callable | None = None
    settings: Callable | None = None
    size_constraints: dict | None = field(default=None, compare=False)      # a dict: not part of the hash
    size_rules: tuple = ()

    @params(scale=SCALE)
    def case_list(self, scale=None) -> list:
        """The chapter's independent cases at ``scale`` (``reproduce --estimate``); [] if it runs as one piece."""
        return self.cases(scale) if self.cases is not None else []

    @property
    def sizes_adjustable(self) -> bool:
        """Whether :meth:`claims` takes size overrides (``reproduce --size``): chapters 10-11."""
        return self.settings is not None

    @params(scale=SCALE)
    def check_sizes(self, scale=None, **sizes) -> dict:
        """The settings at ``scale`` with ``sizes`` replaced, each checked against its declaration (a whole float
        is accepted for an integer size: the command line reads numbers) and the relations between them, before any
        work: ValueError naming the size. A chapter at fixed sizes has no settings ({}) and refuses any size."""
        if not self.sizes_adjustable:
            if sizes:
                raise ValueError(f"chapter {self.number} ({self.id}) runs at fixed sizes; drop --size "
                                 f"{', '.join(sizes)} for it")
            return {}
        defaults = self.settings(scale)
        declared = self.size_constraints or {}
        checked = {}
        for key, value in sizes.items():
            if key not in defaults:
                raise ValueError(f"unknown size {key!r}: the sizes of chapter {self.number} ({self.id}) are "
                                 f"{', '.join(defaults)}")
            checked[key] = _size_value(key, value, declared.get(key), defaults[key])
        settings = self.settings(scale, **checked)
        for rule in self.size_rules:
            try:
                rule.check(settings)
            except ValueError as exc:
                code = rule.test.__code__
                values = ", ".join(f"{k} = {settings[k]}" for k in code.co_varnames[:code.co_argcount])
                raise ValueError(f"size {exc} (at scale {get_scale(scale)}: {values})") from None
        return settings

    @params(scale=SCALE, progress=Flag(), runner=Optional(Instance(Runner)))
    def claims(self, scale=None, progress=True, runner=None, **sizes) -> list:
        """Run the chapter; ``runner`` (:class:`mlphys.cases.Runner`): jobs and checkpoints of its cases. ``sizes``
        are checked first (:meth:`check_sizes`)."""
        if sizes:
            self.check_sizes(scale, **sizes)
        return self.run(scale=scale, progress=progress, runner=runner, **sizes)


Chapter.__init__ = params(
    Rule("id", lambda id: not any(ch.isdigit() for ch in id), "must not encode a position (no digits): the book "
         "number is the chapter's number"),
    Rule("size_constraints", lambda settings, size_constraints, size_rules: settings is not None
         or (not size_constraints and not size_rules), "declare sizes only for a chapter with settings"),
    Rule("size_constraints", lambda size_constraints: all(isinstance(c, Constraint)
                                                          for c in (size_constraints or {}).values()),
         "must map each size to a mlphys.validate constraint"),
    number=Integer(ge=1), id=Text(), title=Text(), notebook=Text(),
    run=Function("claims(scale=None, progress=True, runner=None) -> list of Claim"),
    cases=Optional(Function("cases(scale) -> list of mlphys.cases.Case")),
    settings=Optional(Function("settings(scale, **sizes) -> dict")),
    size_constraints=Optional(Instance(dict, hint="size name -> constraint")),
    size_rules=Sequence(Instance(Rule), min_length=0))(Chapter.__init__)


def _size_value(key: str, value, constraint, default):
    """A size override checked against its declaration (without one: a finite number, or a name if the default
    is one); a whole float becomes an int for an integer size."""
    if constraint is None:
        constraint = Text() if isinstance(default, str) else Real()
    if isinstance(constraint, Integer) and isinstance(value, float) and np.isfinite(value) and value.is_integer():
        value = int(value)
    return constraint.check(value, f"size {key}", {})


#: The book's numbering plan: number -> id, title, notebook, and the objects computing the claims. Only chapters
#: that exist.
CHAPTERS = {c.id: c for c in [
    Chapter(1, "regression", "Machine learning meets physics: the 2024 Nobel Prize",
            "chapter01_ml_and_the_nobel_prize", regression.claims),
    Chapter(2, "perceptron", "The perceptron and gradient descent", "chapter02_perceptron", perceptron.claims),
    Chapter(3, "backprop", "Feed-forward networks, back-propagation and automatic differentiation",
            "chapter03_backprop_autodiff", backprop.claims),
    Chapter(4, "hopfield", "Hopfield networks and Boltzmann machines", "chapter04_hopfield_boltzmann",
            hopfield.claims),
    Chapter(5, "vmc", "Variational Monte Carlo with RBM quantum states", "chapter05_vmc_rbm",
            quantum_dots.vmc_claims, quantum_dots.vmc_cases),
    Chapter(6, "quantum-dots", "Six electrons in a quantum dot", "chapter06_quantum_dots",
            quantum_dots.dot_claims, quantum_dots.dot_cases),
    Chapter(7, "derivatives", "Analytical derivatives of deep networks (Rodini)",
            "chapter07_analytical_derivatives", rodini.derivative_claims),
    Chapter(8, "ground-states", "Variational ground states with deep networks (Rodini)",
            "chapter08_variational_ground_states", rodini.ground_state_claims, rodini.ground_state_cases),
    Chapter(9, "potentials", "Learning quantum potentials from eigenstates (Hong et al.)",
            "chapter09_learning_potentials", hong.claims, hong.cases),
    Chapter(10, "density-functionals", "Learning density functionals (Costa et al.)",
            "chapter10_learning_density_functionals", costa.chapter10_claims, settings=costa.settings,
            size_constraints=costa.SIZES, size_rules=costa.SIZE_RULES),
    Chapter(11, "functional-descent", "Gradient-descent DFT with learned functionals (Costa et al.)",
            "chapter11_density_functional_descent", costa.chapter11_claims, settings=costa.settings,
            size_constraints=costa.SIZES, size_rules=costa.SIZE_RULES),
    Chapter(12, "path-integrals", "Residual networks as PDEs and path integrals (Imchitr)",
            "chapter12_resnets_as_pdes", imchitr.path_claims),
    Chapter(13, "pde-networks", "PDE networks versus ResNets (Imchitr)", "chapter13_pde_networks",
            imchitr.pde_network_claims, imchitr.network_cases),
    Chapter(14, "neural-odes", "Neural ODEs: the continuum limit (Imchitr)", "chapter14_neural_odes",
            imchitr.neural_ode_claims),
]}


@params(key=_ChapterKey())
def chapter(key) -> Chapter:
    """The registered chapter with id ``key`` (``"vmc"``) or book number ``key`` (``5`` or ``"5"``)."""
    return key


@params(chapters=Optional(_ChapterKey(many=True)), scale=SCALE, progress=Flag())
def reproduce(chapters=None, *, scale: str | None = None, progress: bool = True) -> list[Claim]:
    """Run the headline computations of ``chapters`` (one id or book number, or a list of them; default: all) and
    return their claims."""
    scale = get_scale(scale)
    selected = list(dict.fromkeys(chapters or CHAPTERS.values()))      # each chapter once, in the order given
    rows: list[Claim] = []
    for c in selected:
        rows.extend(c.claims(scale=scale, progress=progress))
    return rows


def _fmt(value) -> str:
    """A number in a results table: an integer as such, four significant figures below 1, three decimals from 1
    to 1e5, two significant figures in exponent form beyond (a small number is usually a residual or an error,
    whose third figure follows the path of the training run). More would print the last bits of a computation -
    which differ from CPU to CPU - rather than its result; a claim's verdict uses the full value."""
    if value is None:
        return "-"
    if not isinstance(value, float):
        return str(value)
    if value.is_integer() and abs(value) < 1e5:
        return str(int(value))                        # counts, accuracies of 1, exact references
    if abs(value) < 1e-3 or abs(value) >= 1e5:
        return f"{value:.2g}"
    return f"{value:.3f}" if abs(value) >= 1 else f"{value:.4g}"


_SYMBOL = {"close": "", "at_most": "<= ", "at_least": ">= "}


def _reference_cell(c: Claim) -> str:
    """The reference as the test reads: ``>= 0.912 - 0.025`` for a one-sided claim with a tolerance."""
    if c.comparison == "close" or not c.tolerance:
        return _SYMBOL[c.comparison] + _fmt(c.reference)
    sign = "-" if c.comparison == "at_least" else "+"
    return f"{_SYMBOL[c.comparison]}{_fmt(c.reference)} {sign} {_fmt(c.tolerance)}"


def _ours_cell(c: Claim) -> str:
    return str(SeedSpread(c.seeds)) if c.seeds else _fmt(float(c.ours))


@params(claims=Sequence(Instance(Claim), min_length=0), markdown=Flag(), chapter_column=Flag())
def format_table(claims, *, markdown: bool = False, chapter_column: bool = True) -> str:
    """Render claims as ``[chapter |] quantity | paper | ours | exact/reference | tolerance | within tolerance?``."""
    header = ["chapter", "quantity", "paper", "ours", "exact/reference", "tolerance", "within tolerance?"]
    body = [[c.chapter, c.quantity, _fmt(c.paper), _ours_cell(c), _reference_cell(c), _fmt(c.tolerance),
             "yes" if c.within_tolerance else "NO"] for c in claims]
    if not chapter_column:
        header, body = header[1:], [row[1:] for row in body]
    if markdown:
        cell = lambda text: text.replace("|", "\\|")  # noqa: E731
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(map(cell, r)) + " |" for r in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    fmt_row = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt_row(header), fmt_row(["-" * w for w in widths])] + [fmt_row(r) for r in body])


@params(claims=Sequence(Instance(Claim), min_length=0), path=PathLike())
def write_json(claims, path) -> None:
    """Write the claims as a JSON list of rows (keys chapter, quantity, paper, ours, reference, tolerance, within_tolerance)."""
    with open(path, "w") as fh:
        json.dump([c.as_row() for c in claims], fh, indent=1)
        fh.write("\n")


def git_commit() -> str:
    """The current commit of the repository holding this package, or "unknown"."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@params(claims=Sequence(Instance(Claim), min_length=0), path=PathLike(), chapter=Text(allow_empty=True), scale=SCALE,
        command=Text(),
        note=Text(allow_empty=True), timing=Optional(Instance(dict, hint="jobs, wall_seconds, cases, resumed")))
def write_record(claims, path, *, chapter: str, scale: str, command: str, note: str = "", timing=None) -> None:
    """Write a record ``{chapter, scale, command, [commit, date, note, timing], rows}`` for the scorecard.

    Paper-scale records carry the commit and date that produced them; class-scale
    records (rewritten whenever a chapter notebook runs) leave them out so that
    the file only changes when a number does. ``note`` says what was run when it
    was not the paper's full size (``reproduce --size``); ``timing`` (paper scale) the jobs, wall time and each
    case's time.
    """
    record = {"chapter": chapter, "scale": get_scale(scale), "command": command}
    if record["scale"] == "paper":
        record["commit"] = git_commit()
        record["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if note:
        record["note"] = note
    if timing and record["scale"] == "paper":
        record["timing"] = timing
    record["rows"] = [c.as_row() for c in claims]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        json.dump(record, fh, indent=1)
        fh.write("\n")


#: Set to 1 to let the chapter notebooks write their Results tables to results/class (``make notebooks`` does).
RECORD_ENV = "MLPHYS_RECORD_RESULTS"


def results_dir() -> Path:
    """``results/`` of the repository the package is installed from (editable install): class/ and paper/ tables."""
    return Path(__file__).resolve().parent.parent / "results"


@params(chapter_id=_ChapterKey(), scale=Choice(*SCALES))
def record_path(chapter_id, scale: str) -> Path:
    """Where a chapter's record lives: ``results/class/<notebook>.json`` or ``results/paper/<id>.json``."""
    c = chapter_id
    return results_dir() / scale / f"{c.notebook if scale == 'class' else c.id}.json"


@params(claims=Sequence(Instance(Claim), min_length=0), notebook=Text(), scale=SCALE)
def notebook_results(claims, *, notebook: str, scale: str | None = None):
    """A chapter's Results cell: the claims as a Markdown table (rendered as a table in the web book).

    Only when ``$MLPHYS_RECORD_RESULTS=1`` (``make notebooks``) does it also write
    ``results/<scale>/<notebook>.json`` for the scorecard, so that running a notebook
    never modifies tracked files.
    """
    from IPython.display import Markdown

    claims = list(claims)
    scale = get_scale(scale)
    if os.environ.get(RECORD_ENV, "").strip() == "1" and results_dir().is_dir():
        write_record(claims, results_dir() / scale / f"{notebook}.json", chapter=claims[0].chapter if claims else "",
                     scale=scale, command=f"notebooks/{notebook}.ipynb")
    return Markdown(format_table(claims, markdown=True, chapter_column=False))


@params(path=PathLike())
def load_rows(path) -> list[Claim]:
    """Read rows written by :func:`write_json` (or a provenance record's ``rows``) back as claims."""
    with open(path) as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise ValueError(f"path {str(path)!r} is not valid JSON ({exc}); pass a file written by write_json") from None
    try:
        rows = data["rows"] if isinstance(data, dict) else data
        fields = Claim.__dataclass_fields__
        return [Claim(**{k: v for k, v in row.items() if k in fields}) for row in rows]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"path {str(path)!r} does not hold claim rows ({exc}); pass a file written by write_json") from None


@params(chapter_id=_ChapterKey(), scale=Choice(*SCALES))
def load_record(chapter_id, scale: str):
    """``(record, rows)`` of a chapter's record at ``scale`` (rows as claims), or ``(None, None)`` if there is none."""
    path = record_path(chapter_id, scale)
    if not path.is_file():
        return None, None
    with open(path) as fh:
        record = json.load(fh)
    return record, load_rows(path)


@params(chapter_id=_ChapterKey(), scale=Choice(*SCALES))
def recorded_table(chapter_id: str, scale: str = "paper") -> str:
    """A chapter's recorded table at ``scale`` as Markdown, with its command, commit and date - or "not recorded"."""
    record, rows = load_record(chapter_id, scale)
    if record is None:
        return f"{scale} scale: not recorded."
    head = f"`{record['command']}`" + (f" at commit `{record['commit'][:10]}`, {record['date']}" if "commit" in record else "")
    return head + "\n\n" + format_table(rows, markdown=True, chapter_column=False)


def _timing(record: dict) -> str:
    """``", 2 jobs, 31 min"``: how a paper-scale record was run, if it says (records before its timing say nothing)."""
    t = record.get("timing")
    if not t:
        return ""
    minutes = t["wall_seconds"] / 60
    return f", {t['jobs']} job{'s' if t['jobs'] > 1 else ''}, " + (f"{minutes:.0f} min" if minutes >= 1 else
                                                                      f"{t['wall_seconds']:.0f} s")


@params(scale=SCALE)
def scorecard(scale: str) -> tuple[str, int, int]:
    """The scorecard section for ``scale``: one table per registered chapter, in book order.

    Reads the records in ``results/<scale>/`` (class: one per notebook, written by
    ``make notebooks``; paper: one per chapter id, written by ``--record``). A chapter
    without a record says so. Returns (Markdown, claims within tolerance, claims).
    """
    scale = get_scale(scale)
    parts, ok, total = [], 0, 0
    for c in sorted(CHAPTERS.values(), key=lambda c: c.number):
        record, rows = load_record(c, scale)
        parts.append(f"### {c.number}. {c.title}\n\nid `{c.id}`, notebook `notebooks/{c.notebook}.ipynb`")
        if record is None:
            parts.append(f"{scale} scale: not recorded.")
            continue
        ok += sum(r.within_tolerance for r in rows)
        total += len(rows)
        if scale == "paper":
            parts.append(f"`{record['command']}` at commit `{record['commit'][:10]}`, {record['date']}"
                         + _timing(record) + (f" ({record['note']})" if record.get("note") else ""))
        parts.append(format_table(rows, markdown=True))
    return "\n\n".join(parts), ok, total


def scorecard_overview() -> str:
    """One row per chapter, class and paper scale side by side: claims within tolerance, and the paper record's date
    and note (or "not recorded")."""
    lines = ["| chapter | class scale | paper scale | paper-scale record |", "|---|---|---|---|"]
    for c in sorted(CHAPTERS.values(), key=lambda c: c.number):
        cells = []
        for scale in ("class", "paper"):
            record, rows = load_record(c, scale)
            cells.append("not recorded" if record is None else f"{sum(r.within_tolerance for r in rows)} of {len(rows)}")
        detail = "-" if record is None else record["date"] + _timing(record) + \
            (f" ({record['note']})" if record.get("note") else "")
        lines.append(f"| {c.number}. {c.title} (`{c.id}`) | {cells[0]} | {cells[1]} | {detail} |")
    return "\n".join(lines)
