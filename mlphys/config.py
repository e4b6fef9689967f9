"""The two switches every chapter shares: the run scale and the notebook set-up.

The scale is read in exactly one place, :func:`get_scale`:

* ``class`` (default) - sizes chosen so that each chapter's notebook executes in
  under two minutes on a two-core laptop;
* ``paper`` - the sizes used in the paper a chapter reproduces (may take hours).

Set it with the environment variable ``MLPHYS_SCALE`` or pass ``scale=`` to a
function; an explicit argument wins over the environment.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .validate import Anything, Choice, Flag, Instance, Integer, Optional, PathLike, Seed, Text, params

SCALES = ("class", "paper")
SCALE_ENV = "MLPHYS_SCALE"

#: ``scale=``: a known scale, or None for ``$MLPHYS_SCALE`` (default "class").
SCALE = Optional(Choice(*SCALES))


class RandomSource(Seed):
    """The ``rng=`` of every public function, as :func:`make_rng` receives it (its messages say "rng")."""

    what = "an rng: None, an int seed >= 0 or a numpy.random.Generator"


@params(scale=SCALE)
def get_scale(scale: str | None = None) -> str:
    """Return the run scale: ``scale`` if given, else ``$MLPHYS_SCALE``, else ``"class"``."""
    if scale is None:
        scale = os.environ.get(SCALE_ENV, "").strip() or "class"
        if scale not in SCALES:
            raise ValueError(f"scale={scale!r} (environment variable {SCALE_ENV}) is not a known scale; use one of "
                             f"{SCALES}")
    return scale


@params(scale=SCALE, class_value=Anything("returned as given at class scale"),
        paper_value=Anything("returned as given at paper scale"))
def by_scale(scale: str | None, *, class_value, paper_value):
    """Pick ``class_value`` or ``paper_value`` according to :func:`get_scale`."""
    return paper_value if get_scale(scale) == "paper" else class_value


@params(seed=RandomSource())
def make_rng(seed=None) -> np.random.Generator:
    """Return a ``numpy.random.Generator``: ``seed`` may be an int >= 0, None or a Generator (returned as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def cache_dir() -> Path:
    """Where generated data, trained weights and finished cases are cached: ``$MLPHYS_CACHE`` or ``~/.cache/mlphys``.

    Outside the repository, so that running a notebook never changes a tracked file.
    """
    return Path(os.environ.get("MLPHYS_CACHE") or Path.home() / ".cache" / "mlphys")


def cache_key(*parts) -> str:
    """A short hash of JSON-serialisable ``parts`` (e.g. a generator's state and the sizes)."""
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


PLOT_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 11,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


@dataclass(frozen=True)
class NotebookContext:
    """What :func:`setup_notebook` hands a chapter: its generator and scale."""

    rng: np.random.Generator
    scale: str
    seed: int


NotebookContext.__init__ = params(rng=Instance(np.random.Generator), scale=Choice(*SCALES),
                                  seed=Integer(ge=0))(NotebookContext.__init__)


@params(seed=Integer(ge=0, hint="the chapter's seed: a non-negative int"), scale=SCALE)
def setup_notebook(seed: int = 2024, scale: str | None = None) -> NotebookContext:
    """Start a chapter the same way every time.

    Sets the book's matplotlib style (small PNGs, so notebooks stay light), and
    returns a seeded ``numpy.random.Generator`` together with the run scale.
    Nothing global is seeded: pass ``ctx.rng`` (or a fresh seed) to every
    function that draws random numbers.
    """
    import matplotlib

    matplotlib.rcParams.update(PLOT_STYLE)
    return NotebookContext(rng=make_rng(seed), scale=get_scale(scale), seed=seed)


@params(iterable=Anything("any iterable, wrapped by tqdm"), enabled=Flag(), desc=Text(allow_empty=True))
def progress_bar(iterable, enabled: bool, desc: str):
    """Wrap ``iterable`` in a tqdm progress bar if ``enabled`` (long runs show progress), else return it."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc)


@params(path=PathLike(), why=Text())
def reject_checkpoint(path, why: str) -> None:
    """Move a checkpoint that cannot be used aside (``<name>.rejected``) and warn, naming it and why."""
    aside = path.with_name(path.name + ".rejected")
    try:
        os.replace(path, aside)
        where = f"moved to {aside}"
    except OSError:
        where = "left in place"
    warnings.warn(f"checkpoint {path} not used ({why}); {where}, and the run starts afresh", RuntimeWarning,
                  stacklevel=4)                                  # the caller's caller (through the declaration)
    return None
