"""Parameter declarations, checked before a public function's body runs.

Every public function and class of ``mlphys`` declares its parameters once, the way scikit-learn's
``validate_params`` does::

    @params(x=Array(shape=("n",)), degree=Integer(ge=0), method=Choice(*METHODS))
    def design_matrix(x, degree, method="qr"): ...

Before the body runs, each argument is checked against its constraint and replaced by its checked form (arrays
become fresh float copies, so the body can never modify the caller's array). A wrong type raises ``TypeError``, a
wrong value ``ValueError``; both name the argument, say what it got and what to pass instead. Shapes are related
through symbols: ``X=Array(shape=("n", "p")), y=Array(shape=("n",))`` says y has one entry per row of X; a symbol
that names an integer parameter (``"n_visible"``) or an attribute (``"self.n_in"``) takes its value. Relations
that are not shapes are ``Rule``s, passed positionally.

The constraints also describe themselves to the fuzzer (``tests/test_fuzz.py``): ``bad()`` lists values outside
the constraint, ``example()`` builds a small value inside it. Results leave the hot entry points through
``finite``, which refuses NaN or infinite energies, losses and densities with what to change.
"""
from __future__ import annotations

import abc
import functools
import inspect
import numbers
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = ["Constraint", "Real", "Integer", "Flag", "Choice", "Array", "Instance", "Function", "Seed", "Optional",
           "AnyOf", "Sequence", "WrongType", "Having", "Traced", "Mapping", "fields", "Text", "PathLike", "Anything", "Rule", "params", "finite", "returned",
           "as_array", "rows", "number", "positive", "integer", "fraction"]

_NO_FUZZ = object()


def _show(value) -> str:
    """A short rendering of a value for an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class WrongType(TypeError, ValueError):
    """A wrong type: a ``TypeError`` that ``except ValueError`` also catches (every refusal is a ValueError)."""


def _fail(kind, name: str, what: str, value, hint: str = ""):
    message = f"{name} must be {what}, got {_show(value)}"
    raise (WrongType if kind is TypeError else kind)(message + (f"; {hint}" if hint else ""))


class Constraint(abc.ABC):
    """One parameter's declaration: ``check`` returns the checked value or raises naming the parameter (every
    concrete constraint defines it; ``what`` describes the accepted values in the messages)."""

    what = "valid"

    @abc.abstractmethod
    def check(self, value, name: str, context: dict):
        """The checked (converted) value, or ValueError / WrongType naming ``name``; ``context`` holds the shape
        symbols bound so far in this call."""

    def bad(self, context: dict) -> list:
        """Values outside the constraint (for the fuzzer)."""
        return []

    def example(self, context: dict, random: np.random.Generator):
        """A small value inside the constraint (for the fuzzer); ``_NO_FUZZ`` when only a fixture can make one."""
        return _NO_FUZZ

    def __repr__(self):
        return f"<{self.what}>"


def _bounds_text(ge, gt, le, lt) -> str:
    parts = []
    if gt is not None:
        parts.append(f"> {gt:g}")
    if ge is not None:
        parts.append(f">= {ge:g}")
    if lt is not None:
        parts.append(f"< {lt:g}")
    if le is not None:
        parts.append(f"<= {le:g}")
    return " and ".join(parts)


def _in_bounds(v, ge, gt, le, lt):
    return ((ge is None or np.all(v >= ge)) and (gt is None or np.all(v > gt))
            and (le is None or np.all(v <= le)) and (lt is None or np.all(v < lt)))


def _outside(ge, gt, le, lt) -> list:
    """Numbers just outside the given bounds."""
    out = []
    for bound, step in ((ge, -1), (gt, 0), (le, 1), (lt, 0)):
        if bound is not None:
            out.append(bound + step * max(1.0, abs(bound)) if step else bound)
    return out


class _Bounded(Constraint):
    """A number of kind ``noun`` within the given bounds; ``typical`` is the range the fuzzer draws from (the run time
    of a call may grow with the value)."""

    noun = "a number"

    def __init__(self, *, ge=None, gt=None, le=None, lt=None, typical=None, hint: str = ""):
        self.ge, self.gt, self.le, self.lt, self.hint, self.typical = ge, gt, le, lt, hint, typical
        bounds = _bounds_text(ge, gt, le, lt)
        self.what = self.noun + (f" {bounds}" if bounds else "")


class Real(_Bounded):
    """A finite real number (not a string, not a bool) within the given bounds; returned as float."""

    noun = "a finite real number"

    def check(self, value, name, context):
        if isinstance(value, (str, bytes, bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray)):
            _fail(TypeError, name, self.what, value, self.hint)
        if isinstance(value, np.ndarray) and value.shape != ():
            _fail(TypeError, name, self.what, value, "pass a single number, not an array")
        v = float(value)
        if not np.isfinite(v) or not _in_bounds(v, self.ge, self.gt, self.le, self.lt):
            _fail(ValueError, name, self.what, value, self.hint)
        return v

    def bad(self, context):
        return ["1.0", True, float("nan"), float("inf"), None, *_outside(self.ge, self.gt, self.le, self.lt)]

    def example(self, context, random):
        lo, hi = self.typical or (
            self.ge if self.ge is not None else (self.gt if self.gt is not None else -2.0),
            self.le if self.le is not None else (self.lt if self.lt is not None else 2.0))
        lo, hi = max(lo, -1e3), min(hi, 1e3)
        if hi <= lo:
            hi = lo + 1.0
        while True:
            v = float(random.uniform(lo, hi))
            if _in_bounds(v, self.ge, self.gt, self.le, self.lt):
                return v


class Integer(_Bounded):
    """An integer (Python or NumPy, not a bool, not a float) within the given bounds; returned as int."""

    noun = "an integer"

    def check(self, value, name, context):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
            hint = self.hint
            if isinstance(value, float) and np.isfinite(value) and value == int(value):
                hint = f"pass {int(value)} (an int, not a float)"
            _fail(TypeError, name, self.what, value, hint)
        v = int(value)
        if not _in_bounds(v, self.ge, self.gt, self.le, self.lt):
            _fail(ValueError, name, self.what, value, self.hint)
        return v

    def bad(self, context):
        return ["3", 2.5, True, None, float("nan"), *[int(b) for b in _outside(self.ge, self.gt, self.le, self.lt)]]

    def example(self, context, random):
        lo = self.ge if self.ge is not None else (self.gt + 1 if self.gt is not None else 0)
        lo, hi = self.typical or (lo, lo + 3)
        hi = min(hi, self.le if self.le is not None else hi, self.lt - 1 if self.lt is not None else hi)
        return int(random.integers(lo, hi + 1))


class Flag(Constraint):
    """``True`` or ``False``: strings, numbers and None are never read as flags (``bool("no")`` is True)."""

    what = "True or False"

    def check(self, value, name, context):
        if not isinstance(value, (bool, np.bool_)):
            _fail(TypeError, name, self.what, value)
        return bool(value)

    def bad(self, context):
        return ["no", "False", 1, None]

    def example(self, context, random):
        return bool(random.integers(2))


class Choice(Constraint):
    """One of a fixed set of values (names, usually)."""

    def __init__(self, *options):
        self.options = tuple(options)
        self.what = "one of " + ", ".join(map(repr, self.options))

    def check(self, value, name, context):
        try:
            ok = any(value == o and type(value) is type(o) for o in self.options)
        except Exception:                                     # noqa: BLE001 - e.g. an array compared to a name
            ok = False
        if not ok:
            _fail(ValueError, name, self.what, value)
        return value

    def bad(self, context):
        return ["no-such-option", 3.5, None]

    def example(self, context, random):
        return self.options[int(random.integers(len(self.options)))]


def _dims(shape) -> str:
    return "(" + ", ".join("any" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


class Array(Constraint):
    """A numeric array, returned as a fresh copy (never a view of the caller's array).

    ``shape``: a tuple of sizes - an int, ``None`` (any) or a symbol shared with other parameters (``"n"``), the
    name of an integer parameter (``"n_visible"``) or an attribute of one (``"self.n_in"``); or ``ndim`` alone.
    ``promote=True`` accepts one row of shape ``shape[1:]`` as a batch of one. ``dtype``: float (default),
    int (whole numbers, returned as int) or bool. ``values``: the allowed entries (e.g. (-1, 1) for spins).
    ``ge/gt/le/lt``: bounds on every entry. ``min_size``: the least size of every symbolic or free axis.
    """

    def __init__(self, *, shape=None, ndim=None, dtype=float, finite=True, values=None, ge=None, gt=None, le=None,
                 lt=None, promote=False, min_size=1, hint: str = ""):
        self.shape = None if shape is None else tuple(shape)
        self.ndim = ((ndim,) if isinstance(ndim, int) else tuple(ndim)) if ndim is not None else (
            None if self.shape is None else (len(self.shape),))      # with both, shape covers the leading axes
        self.dtype, self.finite, self.values = dtype, finite, None if values is None else tuple(values)
        self.ge, self.gt, self.le, self.lt = ge, gt, le, lt
        self.promote, self.min_size, self.hint = promote, min_size, hint
        kind = {float: "a numeric array", None: "a numeric array", int: "an integer array",
                bool: "a boolean array"}[dtype]
        dims = (f" of shape {_dims(self.shape)}" if self.shape is not None
                else (f" with {' or '.join(map(str, self.ndim))} dimension(s)" if self.ndim else ""))
        extra = []
        if finite and dtype in (float, None):
            extra.append("finite")
        if self.values is not None:
            extra.append("entries in " + ", ".join(map(str, self.values)))
        bounds = _bounds_text(ge, gt, le, lt)
        if bounds:
            extra.append("entries " + bounds)
        self.what = kind + dims + (f" ({', '.join(extra)})" if extra else "")

    # -- checking
    def _convert(self, value, name):
        if isinstance(value, (str, bytes)) or value is None or isinstance(value, dict):
            _fail(TypeError, name, self.what, value, self.hint)
        try:
            raw = np.array(value, copy=True)
        except (TypeError, ValueError) as exc:
            _fail(TypeError, name, self.what, value, f"{exc}")
        if raw.dtype == object or raw.dtype.kind in "USVMmc":
            _fail(TypeError, name, self.what, value, self.hint or "pass numbers")
        if self.dtype is bool:
            if raw.dtype.kind != "b" and not (raw.size and np.all(np.isin(raw, (0, 1)))):
                _fail(TypeError, name, self.what, value, self.hint)
            return raw.astype(bool)
        if self.dtype is None:         # numbers in the caller's dtype (labels stay integers), never a view
            if raw.dtype.kind not in "biuf":
                _fail(TypeError, name, self.what, value, self.hint or "pass real numbers")
            return raw
        arr = raw.astype(float)        # uint8 images and int8 spins widen here, before any arithmetic
        if self.dtype is int:
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                _fail(ValueError, name, self.what, value, "entries must be whole numbers")
            return arr.astype(np.int64)
        return arr

    def check(self, value, name, context):
        arr = self._convert(value, name)
        if self.promote and self.shape is not None and arr.ndim == len(self.shape) - 1:
            arr = arr[None, ...]
        if self.ndim is not None and arr.ndim not in self.ndim:
            rows = f"; one row of shape {_dims(self.shape[1:])} is also accepted" if self.promote else ""
            _fail(ValueError, name, self.what, value, (self.hint or "reshape it") + rows)
        if self.shape is not None:
            for axis, (want, got) in enumerate(zip(self.shape, arr.shape)):
                if want is None:
                    size = None
                elif isinstance(want, int):
                    size = want
                else:
                    size = _resolve(want, context)
                    if size is None:
                        context[want] = (got, name, axis)
                        size = got
                    elif isinstance(size, tuple):
                        size = size[0]
                if size is not None and got != size:
                    origin = context.get(want)
                    where = (f" to match {origin[1]} (axis {origin[2]} has {origin[0]})"
                             if isinstance(origin, tuple) and origin[1] != name else "")
                    raise ValueError(f"{name} has {got} entries along axis {axis} but must have {size}{where}; "
                                     f"{name} must be {self.what}")
                if not isinstance(want, int) and got < self.min_size:
                    raise ValueError(f"{name} has {got} entries along axis {axis} but needs at least "
                                     f"{self.min_size}; {name} must be {self.what}")
        elif arr.size < self.min_size:
            _fail(ValueError, name, self.what, value, f"it needs at least {self.min_size} entries")
        if self.dtype in (float, None) and self.finite and not np.all(np.isfinite(arr)):
            bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
            raise ValueError(f"{name} contains {bad} NaN or infinite value(s); remove or replace them first")
        if self.values is not None and not np.all(np.isin(arr, self.values)):
            _fail(ValueError, name, self.what, value, self.hint)
        if not _in_bounds(arr, self.ge, self.gt, self.le, self.lt):
            _fail(ValueError, name, self.what, value, self.hint)
        return arr

    # -- fuzzing
    def _sizes(self, context, bump=None):
        sizes = []
        for axis, want in enumerate(self.shape):
            if isinstance(want, int):
                size = want
            elif want is None:
                size = 3
            else:
                size = _resolve(want, context)
                size = size[0] if isinstance(size, tuple) else size
                if size is None:
                    size = 3
                    context[want] = (size, "example", axis)
            sizes.append(size + 1 if axis == bump else size)
        return tuple(sizes)

    def _fill(self, shape, random=None):
        """Entries inside the constraint: drawn from ``random``, or (without it) spread evenly over the range."""
        if self.values is not None:
            values = np.asarray(self.values)
            return (random.choice(values, size=shape) if random is not None
                    else np.resize(values, int(np.prod(shape))).reshape(shape))
        lo = self.ge if self.ge is not None else (self.gt + 0.1 if self.gt is not None else -1.0)
        hi = self.le if self.le is not None else (self.lt - 0.1 if self.lt is not None else lo + 2.0)
        x = (random.uniform(lo, max(hi, lo), size=shape) if random is not None
             else np.linspace(lo, max(hi, lo), int(np.prod(shape))).reshape(shape))
        if self.dtype is int:
            return np.round(x).astype(int)
        if self.dtype is bool:
            return x > (lo + hi) / 2
        return x

    def example(self, context, random):
        if self.shape is None:
            nd = (self.ndim or (1,))[0]
            return self._fill((3,) * nd, random)
        return self._fill(self._sizes(context), random)

    def bad(self, context):
        out = ["abc", None]
        nd = max(self.ndim or (1,))
        if self.shape is not None:
            base = self._sizes(dict(context))
            good = self._fill(base)
            if self.dtype is float and self.finite:
                with_nan = good.astype(float)
                with_nan.flat[0] = np.nan
                out.append(with_nan)
            if not self.promote:
                out.append(good[None, ...])                  # one axis too many
            for axis, want in enumerate(self.shape):
                if isinstance(want, int) or (isinstance(want, str) and _resolve(want, context) is not None):
                    out.append(self._fill(self._sizes(dict(context), bump=axis)))
            if self.values is not None and self.dtype is float:
                wrong = good.astype(float)
                wrong.flat[0] = 0.5 if 0.5 not in self.values else 7.0
                out.append(wrong)
            for bound in _outside(self.ge, self.gt, self.le, self.lt):
                wrong = good.astype(float)
                wrong.flat[0] = bound
                out.append(wrong)
        else:
            out.append(np.zeros((2,) * (nd + 1)))
        return out


def _resolve(symbol: str, context: dict):
    """The size a shape symbol stands for: bound earlier in this call, an integer argument, or an attribute."""
    if symbol in context:
        return context[symbol]
    head, _, rest = symbol.partition(".")
    args = context.get("__arguments__", {})
    if head in args:
        value = args[head]
        for attr in rest.split(".") if rest else ():
            value = getattr(value, attr, None)
        if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
            return int(value)
    return None


class Instance(Constraint):
    """An instance of one of the given classes (a fixture builds one for the fuzzer)."""

    def __init__(self, *classes, hint: str = ""):
        self.classes, self.hint = classes, hint
        self.what = "a " + " or ".join(c.__name__ for c in classes)

    def check(self, value, name, context):
        if not isinstance(value, self.classes):
            _fail(TypeError, name, self.what, value, self.hint)
        return value

    def bad(self, context):
        return [None, 3, "x"]


class Having(Constraint):
    """An object with the given attributes (duck typing: ``variational.Trap`` is a Hamiltonian, a network's adapter
    a wave function, without inheriting from the package's classes). ``what`` names what is expected."""

    def __init__(self, *attributes: str, what: str, hint: str = ""):
        self.attributes, self.what, self.hint = attributes, what, hint

    def check(self, value, name, context):
        missing = [a for a in self.attributes if not hasattr(value, a)]
        if isinstance(value, type) or missing:
            lacks = f" (it lacks {', '.join(missing)})" if missing and value is not None else ""
            raise WrongType(f"{name} must be {self.what}, got {type(value).__name__}{lacks}"
                            + (f"; {self.hint}" if self.hint else ""))
        return value

    def bad(self, context):
        return [None, 3, "x"]


class Traced(Constraint):
    """``inner``, or a value autograd is tracing (an ArrayBox, a SequenceBox of them), passed through untouched so
    that autograd can differentiate the call."""

    def __init__(self, inner: Constraint):
        self.inner = inner
        self.what = f"{inner.what}, or one autograd is tracing"

    def check(self, value, name, context):
        if type(value).__module__.split(".")[0] == "autograd":
            return value
        return self.inner.check(value, name, context)

    def bad(self, context):
        return self.inner.bad(context)

    def example(self, context, random):
        return self.inner.example(context, random)


class Mapping(Constraint):
    """A dict: with ``fields``, only those keys, each value checked by its constraint; with ``item``, string keys and
    values checked by ``item``. Returned as a fresh dict of the checked values."""

    def __init__(self, fields: dict | None = None, item: Constraint | None = None, *, min_length: int = 0):
        self.fields, self.item, self.min_length = fields, item, min_length
        self.what = (f"a dict with keys among {', '.join(fields)}" if fields is not None
                     else f"a dict of at least {min_length} name(s) -> {item.what}")

    def check(self, value, name, context):
        if not isinstance(value, dict):
            raise WrongType(f"{name} must be {self.what}, got {type(value).__name__}")
        if len(value) < self.min_length:
            raise ValueError(f"{name} must be {self.what}, got {len(value)} entries")
        out = {}
        for key, v in value.items():
            if self.fields is not None:
                if key not in self.fields:
                    raise ValueError(f"{name}: unknown key {key!r}; the keys are {', '.join(self.fields)}")
                out[key] = self.fields[key].check(v, f"{name}[{key!r}]", context)
            else:
                out[Text().check(key, f"a key of {name}", context)] = self.item.check(v, f"{name}[{key!r}]", context)
        return out

    def bad(self, context):
        out = ["abc", None, [1, 2]]
        if self.fields is not None:
            key, c = next(iter(self.fields.items()))
            out += [{"no-such-key": 1}, {key: c.bad(context)[0]}]
        elif self.min_length:
            out.append({})
        return out


class Function(Constraint):
    """A callable (its results are checked where it is called, with ``returned``)."""

    what = "a callable"

    def __init__(self, hint: str = ""):
        self.hint = hint

    def check(self, value, name, context):
        if not callable(value) or isinstance(value, type):
            _fail(TypeError, name, self.what, value, self.hint)
        return value

    def bad(self, context):
        return [None, 3, "f"]


class Seed(Constraint):
    """A random source: ``None`` (fresh entropy), a non-negative int seed, or a ``numpy.random.Generator``."""

    what = "None, an int seed >= 0 or a numpy.random.Generator"

    def check(self, value, name, context):
        if value is None or isinstance(value, np.random.Generator):
            return value
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
            _fail(TypeError, name, self.what, value, "np.random.RandomState and the global seed are not used")
        if value < 0:
            _fail(ValueError, name, self.what, value)
        return int(value)

    def bad(self, context):
        return [-1, 1.5, "seed", np.random.RandomState(0)]

    def example(self, context, random):
        return int(random.integers(1000))


class Optional(Constraint):
    """``None`` or a value satisfying ``inner``."""

    def __init__(self, inner: Constraint):
        self.inner = inner
        self.what = f"None or {inner.what}"

    def check(self, value, name, context):
        return None if value is None else self.inner.check(value, name, context)

    def bad(self, context):
        return [b for b in self.inner.bad(context) if b is not None]

    def example(self, context, random):
        return self.inner.example(context, random)


class AnyOf(Constraint):
    """A value satisfying any of the given constraints (the first that accepts it converts it)."""

    def __init__(self, *options: Constraint):
        self.options = options
        self.what = " or ".join(o.what for o in options)

    def check(self, value, name, context):
        for option in self.options:
            try:
                return option.check(value, name, dict(context))
            except (TypeError, ValueError):
                continue
        _fail(ValueError, name, self.what, value)

    def bad(self, context):
        bad = [b for b in self.options[0].bad(context)]
        out = []
        for b in bad:
            try:
                self.check(b, "x", dict(context))
            except (TypeError, ValueError):
                out.append(b)
        return out

    def example(self, context, random):
        for option in self.options:
            value = option.example(context, random)
            if value is not _NO_FUZZ:
                return value
        return _NO_FUZZ


class Sequence(Constraint):
    """A list or tuple of ``length`` (or at least ``min_length``) items, each satisfying ``item``; returned as a
    tuple."""

    def __init__(self, item: Constraint, *, length=None, min_length=1, hint: str = ""):
        self.item, self.length, self.min_length, self.hint = item, length, min_length, hint
        count = f"{length} " if length is not None else (f"at least {min_length} " if min_length else "")
        self.what = f"a list of {count}item(s), each {item.what}"

    def check(self, value, name, context):
        if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple, np.ndarray, range)):
            _fail(TypeError, name, self.what, value, self.hint)
        items = list(value)
        if (self.length is not None and len(items) != self.length) or len(items) < self.min_length:
            _fail(ValueError, name, self.what, value, self.hint)
        return tuple(self.item.check(v, f"{name}[{i}]", context) for i, v in enumerate(items))

    def bad(self, context):
        n = self.length or self.min_length
        bad_items = [b for b in self.item.bad(context) if not isinstance(b, np.ndarray)]
        out = ["abc", None] + ([[bad_items[0]] * max(n, 1)] if bad_items else [])
        if n > 0:
            out.append([])
        return out

    def example(self, context, random):
        n = self.length or self.min_length
        items = [self.item.example(context, random) for _ in range(n)]
        return _NO_FUZZ if any(i is _NO_FUZZ for i in items) else items


class Text(Constraint):
    """A string (non-empty unless ``allow_empty``)."""

    def __init__(self, *, allow_empty: bool = False):
        self.allow_empty = allow_empty
        self.what = "a string" if allow_empty else "a non-empty string"

    def check(self, value, name, context):
        if not isinstance(value, str):
            _fail(TypeError, name, self.what, value)
        if not value and not self.allow_empty:
            _fail(ValueError, name, self.what, value)
        return value

    def bad(self, context):
        return [3, None] + ([] if self.allow_empty else [""])

    def example(self, context, random):
        return "x"


class PathLike(Constraint):
    """A file-system path (``str`` or ``pathlib.Path``); returned as a ``Path``."""

    what = "a path (str or pathlib.Path)"

    def check(self, value, name, context):
        if not isinstance(value, (str, os.PathLike)) or (isinstance(value, str) and not value):
            _fail(TypeError, name, self.what, value)
        return Path(value)

    def bad(self, context):
        return [3, None, ""]


class Anything(Constraint):
    """Any value; ``why`` says why it cannot be constrained (e.g. "passed on to tqdm")."""

    def __init__(self, why: str):
        self.what = f"anything ({why})"

    def check(self, value, name, context):
        return value


class Rule:
    """A relation between parameters, checked after each has passed its own constraint.

    ``test(**arguments) -> bool``; ``name`` is the parameter the message names; ``message`` says what must hold."""

    def __init__(self, name: str, test: Callable[..., bool], message: str):
        self.name, self.test, self.message = name, test, message

    def check(self, arguments: dict):
        wanted = inspect.signature(self.test).parameters
        if not self.test(**{k: arguments[k] for k in wanted}):
            raise ValueError(f"{self.name}: {self.message}")


def checking_order(constraints: dict) -> list:
    """Scalars and instances (whose attributes may size arrays) are checked first, so that they bind the shape
    symbols; then arrays, optional or not, in the order declared."""
    return sorted(constraints, key=lambda n: isinstance(getattr(constraints[n], "inner", constraints[n]), Array))


def params(*rules: Rule, **constraints: Constraint):
    """Declare a function's parameters (see the module docstring). Every parameter but ``self``/``cls`` and
    ``*args``/``**kwargs`` must be declared, so that no argument reaches a body unchecked."""

    def decorate(function):
        signature = inspect.signature(function)
        declared = [p.name for p in signature.parameters.values()
                    if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        missing = sorted(set(declared) - set(constraints))
        extra = sorted(set(constraints) - set(declared))
        if missing or extra:
            raise TypeError(f"{function.__qualname__}: undeclared parameters {missing}, unknown declarations {extra}")
        order = checking_order(constraints)

        @functools.wraps(function)
        def checked(*args, **kwargs):
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise WrongType(f"{function.__qualname__}(): {exc}") from None
            bound.apply_defaults()
            arguments = bound.arguments
            context = {"__arguments__": arguments}
            for name in order:
                arguments[name] = constraints[name].check(arguments[name], name, context)
            for rule in rules:
                rule.check(arguments)
            return function(*bound.args, **bound.kwargs)

        checked.__constraints__ = constraints
        checked.__rules__ = rules
        return checked

    return decorate


def fields(*rules: Rule, **constraints: Constraint):
    """Declare a dataclass's fields (through its generated ``__init__``) like a function's parameters."""
    def decorate(cls):
        cls.__init__ = params(*rules, **constraints)(cls.__init__)
        return cls
    return decorate


def declared(function) -> dict | None:
    """The constraints a function (or a class, through its ``__init__``) declares, or None."""
    if isinstance(function, type):
        function = function.__init__
    return getattr(function, "__constraints__", None)


# -- results leaving the hot entry points

def finite(value, what: str, hint: str):
    """Return ``value`` if every entry is finite; otherwise raise ``FloatingPointError`` saying what came out
    non-finite (``what``: "the local energies") and what to change (``hint``: "lower lr")."""
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise FloatingPointError(f"{what}: {bad} of {arr.size} value(s) are NaN or infinite; {hint}")
    return value


def returned(value, name: str, shape: tuple) -> np.ndarray:
    """Check what a user's callable ``name`` returned: a finite float array of exactly ``shape`` (a function of
    r evaluated on n points must return n values, not (n, 1), which would broadcast silently)."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise WrongType(f"{name} must return numbers, got {_show(value)}") from None
    if arr.shape != tuple(shape):
        if arr.size == int(np.prod(shape)) and arr.ndim > len(shape):
            hint = "flatten its result"
        else:
            hint = "make it act elementwise on its array argument"
        raise ValueError(f"{name} returned shape {arr.shape} where shape {tuple(shape)} was expected; {hint}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} returned NaN or infinite values; check its domain")
    return arr


# -- the older one-line checks, now written with the constraints above

def as_array(value, name: str, *, ndim=None, finite: bool = True) -> np.ndarray:
    """A float copy of ``value`` with ``ndim`` dimensions (an int or a tuple of allowed ints), finite by default."""
    return Array(ndim=ndim, finite=finite, min_size=0).check(value, name, {})


def rows(value, name: str, n_columns: int, what: str) -> np.ndarray:
    """A finite (batch, n_columns) array, ``what`` being one row (e.g. "one density per row"); a single row
    of shape (n_columns,) becomes (1, n_columns)."""
    return Array(shape=(None, n_columns), promote=True, hint=what).check(value, name, {})


def number(value, name: str) -> float:
    """A finite real number (not a string or a bool), as float."""
    return Real().check(value, name, {})


def positive(value, name: str, *, allow_zero: bool = False) -> float:
    """A finite number > 0 (>= 0 with ``allow_zero``), as float."""
    return (Real(ge=0) if allow_zero else Real(gt=0)).check(value, name, {})


def integer(value, name: str, *, minimum: int = 0) -> int:
    """An integer >= ``minimum``."""
    return Integer(ge=minimum).check(value, name, {})


def fraction(value, name: str) -> float:
    """A number strictly between 0 and 1."""
    return Real(gt=0, lt=1).check(value, name, {})


NO_EXAMPLE: Any = _NO_FUZZ
