"""The chapters' headline claims: :class:`Claim` (one number, ours vs paper vs reference), and one module per
paper or lecture part computing them (registered in :mod:`mlphys.registry`).

Each chapter's entry point has one signature, ``claims(scale=None, progress=True, runner=None) -> list[Claim]``
(chapters 10-11 also take size overrides, checked by their ``settings``); ``runner``
(:class:`mlphys.cases.Runner`) runs a chapter's independent cases, and is ignored by a chapter that runs as one piece.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

COMPARISONS = ("close", "at_most", "at_least")


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

    def __post_init__(self):
        if self.seeds:
            object.__setattr__(self, "seeds", tuple(float(v) for v in self.seeds))
            if len(self.seeds) < 2 or not math.isclose(float(self.ours), sum(self.seeds) / len(self.seeds),
                                                       rel_tol=1e-9, abs_tol=1e-12):
                raise ValueError(f"claim {self.quantity!r}: seeds must hold 2 or more runs whose mean is ours")
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
