"""What the fuzzer (``test_fuzz.py``) cannot build from the declarations alone, one file per module
(``fx_<module>.py``), merged here. Each file may define:

* ``INSTANCES``: a small instance of each class whose methods are fuzzed or that a parameter declares
  (``validate.Instance``), built from a generator so that every example is fresh.
* ``CALLS``: valid arguments for calls whose parameters are related beyond shapes (a callable with a given
  signature, a state and the data it was fitted on, ...); the other parameters still come from their constraints.
* ``KEEP_DEFAULT``: parameters the fuzzer leaves at their default in valid calls (e.g. a path to write).
* ``NOT_FUZZED``: callables not called with valid values, each with the reason (the bad values are still tried).
* ``EXAMPLES``: how many valid examples a slow function gets (3 by default).
"""
from __future__ import annotations

import importlib
import pkgutil

from mlphys import validate

NOT_API_MODULES = {"validate"}   # the declarations themselves

INSTANCES: dict = {}
CALLS: dict = {}
KEEP_DEFAULT: dict = {}
NOT_FUZZED: dict = {}
EXAMPLES: dict = {}

for _info in pkgutil.iter_modules(__path__):
    _part = importlib.import_module(f"{__name__}.{_info.name}")
    for _table in ("INSTANCES", "CALLS", "KEEP_DEFAULT", "NOT_FUZZED", "EXAMPLES"):
        _mine, _theirs = globals()[_table], getattr(_part, _table, {})
        _clash = set(_mine) & set(_theirs)
        assert not _clash, f"{_info.name} redefines {_clash}"
        _mine.update(_theirs)


def instance(cls, rng):
    """A fresh small instance of ``cls`` (or of a subclass the fixtures know)."""
    for known, factory in INSTANCES.items():
        if cls is known:
            return factory(rng)
    raise LookupError(f"no fixture builds a {cls.__name__}; add one to INSTANCES in tests/fuzz_fixtures.py")


def example_for(constraint, rng):
    """A valid value for a constraint the fuzzer cannot fill by itself (an Instance), or NO_EXAMPLE."""
    inner = constraint.inner if isinstance(constraint, validate.Optional) else constraint
    if isinstance(inner, validate.Instance):
        for cls in inner.classes:
            if cls in INSTANCES:
                return INSTANCES[cls](rng)
    if isinstance(inner, validate.AnyOf):
        for option in inner.options:
            value = example_for(option, rng)
            if value is not validate.NO_EXAMPLE:
                return value
    return validate.NO_EXAMPLE
