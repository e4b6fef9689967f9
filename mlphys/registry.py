"""The reproduction registry: each chapter's headline claims, ours vs paper vs reference.

A chapter module in :mod:`mlphys.claims` exposes ``TITLE`` and
``claims(scale=None, progress=True) -> list[Claim]``; :data:`CHAPTERS` maps the
book's stable chapter ids to those modules. The notebooks call the same
functions the command line does::

    python -m mlphys reproduce chapter1 --scale class --json rows.json
"""
from __future__ import annotations

import datetime
import importlib
import json
import math
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from .config import get_scale

#: Stable chapter ids (the book's plan) -> module under mlphys.claims. Only chapters that exist.
CHAPTERS = {
    "chapter1": "mlphys.claims.chapter1",
    "chapter2": "mlphys.claims.chapter2",
    "chapter3": "mlphys.claims.chapter3",
    "chapter4": "mlphys.claims.chapter4",
    "chapter5": "mlphys.claims.chapter5",
    "chapter6": "mlphys.claims.chapter6",
    "chapter9": "mlphys.claims.chapter9",
}


COMPARISONS = ("close", "at_most", "at_least")
_SYMBOL = {"close": "", "at_most": "<= ", "at_least": ">= "}


@dataclass(frozen=True)
class Claim:
    """One headline number: ours, the paper's (None where the source gives none), and an independent reference.

    ``comparison`` says what "within tolerance" means, with ``target`` the
    reference (or, if a claim has none, the paper's value):

    * ``"close"`` (default): ``|ours - target| <= tolerance``;
    * ``"at_most"``: ``ours <= target + tolerance`` (e.g. an error below a bound);
    * ``"at_least"``: ``ours >= target - tolerance`` (e.g. an accuracy above a threshold,
      or a variational energy above the exact one).
    """

    chapter: str
    quantity: str
    ours: float
    reference: float | None
    tolerance: float
    paper: float | None = None
    note: str = ""
    comparison: str = "close"

    def __post_init__(self):
        if self.comparison not in COMPARISONS:
            raise ValueError(f"claim {self.quantity!r}: comparison must be one of {COMPARISONS}")
        if self.reference is None and self.paper is None:
            raise ValueError(f"claim {self.quantity!r} needs a reference or a paper value to compare with")
        if not self.tolerance >= 0:
            raise ValueError(f"claim {self.quantity!r}: tolerance must be >= 0, got {self.tolerance}")

    @property
    def within_tolerance(self) -> bool:
        target = self.reference if self.reference is not None else self.paper
        if not math.isfinite(self.ours):
            return False
        if self.comparison == "at_most":
            return bool(self.ours <= target + self.tolerance)
        if self.comparison == "at_least":
            return bool(self.ours >= target - self.tolerance)
        return bool(abs(self.ours - target) <= self.tolerance)

    def as_row(self) -> dict:
        row = asdict(self)
        row["ours"] = float(self.ours)
        row["within_tolerance"] = self.within_tolerance
        return row


def chapter_module(chapter: str):
    """Import the claims module of ``chapter`` (e.g. ``"chapter1"``)."""
    if chapter not in CHAPTERS:
        raise ValueError(f"chapter={chapter!r} is not registered; registered: {', '.join(CHAPTERS)}")
    return importlib.import_module(CHAPTERS[chapter])


def reproduce(chapters=None, *, scale: str | None = None, progress: bool = True) -> list[Claim]:
    """Run the headline computations of ``chapters`` (default: all) and return their claims."""
    scale = get_scale(scale)
    chapters = list(CHAPTERS) if chapters is None else list(chapters)
    rows: list[Claim] = []
    for chapter in chapters:
        rows.extend(chapter_module(chapter).claims(scale=scale, progress=progress))
    return rows


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and (value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5)):
        return f"{value:.3g}"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def format_table(claims, *, markdown: bool = False) -> str:
    """Render claims as ``quantity | paper | ours | exact/reference | within tolerance?``."""
    header = ["chapter", "quantity", "paper", "ours", "exact/reference", "tolerance", "within tolerance?"]
    body = [[c.chapter, c.quantity, _fmt(c.paper), _fmt(float(c.ours)),
             _SYMBOL[c.comparison] + _fmt(c.reference), _fmt(c.tolerance),
             "yes" if c.within_tolerance else "NO"] for c in claims]
    if markdown:
        cell = lambda text: text.replace("|", "\\|")  # noqa: E731
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(map(cell, r)) + " |" for r in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    fmt_row = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt_row(header), fmt_row(["-" * w for w in widths])] + [fmt_row(r) for r in body])


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


def write_record(claims, path, *, chapter: str, scale: str, command: str) -> None:
    """Write a record ``{chapter, scale, command, [commit, date], rows}`` for the scorecard.

    Paper-scale records carry the commit and date that produced them; class-scale
    records (rewritten whenever a chapter notebook runs) leave them out so that
    the file only changes when a number does.
    """
    record = {"chapter": chapter, "scale": get_scale(scale), "command": command}
    if record["scale"] == "paper":
        record["commit"] = git_commit()
        record["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    record["rows"] = [c.as_row() for c in claims]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        json.dump(record, fh, indent=1)
        fh.write("\n")


def notebook_results(claims, *, notebook: str, scale: str | None = None):
    """A chapter's Results cell: record its claims for the scorecard and return them as a Markdown table.

    Writes ``results/<scale>/<notebook>.json`` in the repository the package is
    installed from (editable install); elsewhere it only returns the table.
    """
    from IPython.display import Markdown

    claims = list(claims)
    scale = get_scale(scale)
    results = Path(__file__).resolve().parent.parent / "results"
    if results.is_dir():
        write_record(claims, results / scale / f"{notebook}.json", chapter=claims[0].chapter if claims else "",
                     scale=scale, command=f"notebooks/{notebook}.ipynb")
    return Markdown(format_table(claims, markdown=True))


def load_rows(path) -> list[Claim]:
    """Read rows written by :func:`write_json` (or a provenance record's ``rows``) back as claims."""
    with open(path) as fh:
        data = json.load(fh)
    rows = data["rows"] if isinstance(data, dict) else data
    fields = Claim.__dataclass_fields__
    return [Claim(**{k: v for k, v in row.items() if k in fields}) for row in rows]
