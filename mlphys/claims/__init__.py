"""The chapters' headline claims: :class:`Claim` (one number, ours vs paper vs reference), and one module per
paper or lecture part computing them (registered in :mod:`mlphys.registry`).

Each chapter's entry point has one signature, ``claims(scale=None, progress=True, runner=None) -> list[Claim]``
(chapters 10-11 also take size overrides, checked by their ``settings``); ``runner``
(:class:`mlphys.cases.Runner`) runs a chapter's independent cases, and is ignored by a chapter that runs as one piece.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass

import numpy as np

from ..validate import Choice, Constraint, Optional, Real, Rule, Sequence, Text, WrongType, fields

COMPARISONS = ("close", "at_most", "at_least")
#: What a row checks: it reproduces a number or statement of the paper; it agrees with an exact (or independent)
#: answer; or it is a sanity bound (the method learned anything at all, moved the right way, ...), which says nothing
#: about the paper's number beside it.
KINDS = {"paper": "reproduces the paper", "exact": "agrees with the exact answer", "bound": "sanity bound"}


class _Measured(Constraint):
    """A measured real number (not a string, a bool or an array): NaN or infinite when the run behind it failed (a
    diverged training), which makes its row fail rather than refusing it. Returned as float."""

    what = "a real number (NaN or inf: a failed run, whose row then fails)"

    def check(self, value, name, context):
        if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iuf":
            value = value[()]
        if isinstance(value, (str, bytes, bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise WrongType(f"{name} must be {self.what}, got {value!r:.60}")
        return float(value)

    def bad(self, context):
        return ["1.0", True, None, [1.0]]

    def example(self, context, random):
        return float(random.uniform(-2.0, 2.0))


#: A number a run measured (``ours``, a reference measured in the same run): NaN/inf allowed, the row then fails.
MEASURED = _Measured()


@fields(
    Rule("reference", lambda reference, paper: reference is not None or paper is not None,
         "needs a reference or a paper value to compare with (both are None)"),
    Rule("seeds", lambda seeds: len(seeds) != 1, "must hold 2 or more runs (or none)"),
    chapter=Text(), quantity=Text(), ours=MEASURED, reference=Optional(MEASURED), tolerance=Real(ge=0),
    paper=Optional(Real()), note=Text(allow_empty=True), comparison=Choice(*COMPARISONS),
    seeds=Sequence(MEASURED, min_length=0, hint="each seed's value, their mean being ours"),
    kind=Choice("", *KINDS))
@dataclass(frozen=True)
class Claim:
    """One headline number: ours, the paper's (None where the source gives none), and an independent reference.

    ``comparison`` says what "within tolerance" means, with ``target`` the
    reference (or, if a claim has none, the paper's value):

    * ``"close"`` (default): ``|ours - target| <= tolerance``;
    * ``"at_most"``: ``ours <= target + tolerance`` (e.g. an error below a bound);
    * ``"at_least"``: ``ours >= target - tolerance`` (e.g. an accuracy above a threshold,
      or a variational energy above the exact one).

    ``seeds``: for a chaotic result (a training run), each seed's value; ``ours`` is then their mean, and the
    table prints ``mean ± sd (n seeds)`` (:class:`mlphys.stats.SeedSpread`).

    ``kind`` (:data:`KINDS`): what the row checks. By default a row compared with the paper's value alone
    reproduces the paper; a two-sided comparison with a reference agrees with the exact answer; a one-sided bound
    against a reference is a sanity bound. A one-sided statement of the paper itself ("no violation of the
    variational principle") says ``kind="paper"``.
    """

    chapter: str
    quantity: str
    ours: float
    reference: float | None
    tolerance: float
    paper: float | None = None
    note: str = ""
    comparison: str = "close"
    seeds: tuple = ()
    kind: str = ""

    def __post_init__(self):
        if not self.kind:
            same = self.reference is None or (self.paper is not None and self.reference == self.paper)
            kind = "paper" if same else ("exact" if self.comparison == "close" else "bound")
            object.__setattr__(self, "kind", kind)
        if self.seeds and not math.isclose(self.ours, sum(self.seeds) / len(self.seeds), rel_tol=1e-9, abs_tol=1e-12):
            raise ValueError(f"claim {self.quantity!r}: seeds must hold 2 or more runs whose mean is ours")

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
