"""A property-based fuzzer over the whole public API, driven by the parameter declarations (``mlphys.validate``).

For every public function, class and method of every module:

* **declared**: each parameter has a constraint (a function whose parameters are all undeclared fails here);
* **outside**: each parameter in turn gets the values its constraint lists as outside it (NaN, inf, a string for
  a number, a float for an integer, "no" for a flag, an unknown name, a wrong shape, an out-of-range entry, ...)
  while the others stay valid - the call must raise ValueError/TypeError naming that parameter, at once;
* **inside**: Hypothesis draws small valid arguments (derandomized, a few examples per function) - the call must
  return finite numbers (or refuse with a message naming one of its parameters), leave the caller's arrays
  untouched, and return within the time limit.

Values the constraints cannot build (instances of the package's classes, and calls whose parameters are related
beyond shapes) come from ``fuzz_fixtures``. ``python tests/test_fuzz.py`` prints the coverage: functions,
parameters, calls and failures.
"""
from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pkgutil
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_fixtures as fx
from test_robustness import time_limit
import mlphys
from mlphys import validate

SECONDS = 20
STATS = {"functions": 0, "parameters": 0, "calls": 0, "refused": 0, "failures": 0}


def _modules():
    """Every module of the package, the chapters' claims modules included (mlphys.claims.costa, ...)."""
    for info in sorted(pkgutil.walk_packages(mlphys.__path__, "mlphys."), key=lambda m: m.name):
        short = info.name[len("mlphys."):]
        if not any(part.startswith("_") for part in short.split(".")) and short not in fx.NOT_API_MODULES:
            yield importlib.import_module(info.name)


def public_api():
    """(qualified name, callable, class it is a method of or None) for every public function, class and method."""
    out = []
    for module in _modules():
        for name, obj in sorted(vars(module).items()):
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                out.append((f"{module.__name__[7:]}.{name}", obj, None))
            elif inspect.isclass(obj):
                if issubclass(obj, BaseException):
                    continue
                out.append((f"{module.__name__[7:]}.{name}", obj, None))
                for attr, member in sorted(vars(obj).items()):
                    if attr.startswith("_") or isinstance(member, property):
                        continue
                    if isinstance(member, (staticmethod, classmethod)):
                        out.append((f"{module.__name__[7:]}.{name}.{attr}", getattr(obj, attr), None))
                    elif inspect.isfunction(member):
                        out.append((f"{module.__name__[7:]}.{name}.{attr}", member, obj))
    return out


API = public_api()


def _parameters(function):
    target = function.__init__ if isinstance(function, type) else function
    if isinstance(function, type) and target is object.__init__:
        return []
    sig = inspect.signature(target)
    return [p for p in sig.parameters.values()
            if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _valid_call(qualname, function, owner, rng):
    """(self or None, keyword arguments) of a valid call: fixtures first, then each constraint's own example."""
    constraints = validate.declared(function) or {}
    arguments = dict(fx.CALLS[qualname](rng)) if qualname in fx.CALLS else {}
    instance = fx.instance(owner, rng) if owner is not None else None
    context = {"__arguments__": {"self": instance, **arguments}}
    order = validate.checking_order(constraints)
    for name in order:
        if name in arguments:
            continue
        c = constraints[name]
        default = next(p.default for p in _parameters(function) if p.name == name)
        value = c.example(context, rng)
        if value is validate.NO_EXAMPLE:
            value = fx.example_for(c, rng)
        if value is validate.NO_EXAMPLE:
            if default is inspect.Parameter.empty:
                raise LookupError(f"{qualname}: no example for {name} ({c.what}); add one to fuzz_fixtures")
            continue
        if default is not inspect.Parameter.empty and name in fx.KEEP_DEFAULT.get(qualname, ()):
            continue
        arguments[name] = value
        context["__arguments__"][name] = value
    return instance, arguments


def _bindings(constraints, arguments, instance, skip):
    """The shape symbols bound by every argument but ``skip`` (whose bad values then break a relation)."""
    context = {"__arguments__": {"self": instance, **arguments}}
    for name in validate.checking_order(constraints):
        if name != skip and name in arguments:
            try:
                constraints[name].check(arguments[name], name, context)
            except (TypeError, ValueError):
                pass
    return context


def _call(function, instance, arguments):
    if instance is not None:
        return function(instance, **arguments)
    return function(**arguments)


def _names(function):
    return [p.name for p in _parameters(function)]


def _finite(value, depth=0) -> bool:
    if depth > 4:
        return True
    if isinstance(value, (bool, np.bool_, str, type(None))):
        return True
    if isinstance(value, (int, float, complex, np.number)):
        return bool(np.isfinite(value))
    if isinstance(value, np.ndarray):
        return value.dtype.kind not in "fc" or bool(np.all(np.isfinite(value)))
    if isinstance(value, (list, tuple)):
        return all(_finite(v, depth + 1) for v in value[:50])
    if isinstance(value, dict):
        return all(_finite(v, depth + 1) for v in list(value.values())[:50])
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return all(_finite(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    return True


def _arrays(arguments):
    return {k: v.copy() for k, v in arguments.items() if isinstance(v, np.ndarray)}


@pytest.mark.parametrize("qualname, function, owner", API, ids=[a[0] for a in API])
def test_every_parameter_is_declared(qualname, function, owner):
    if not _parameters(function):
        return
    constraints = validate.declared(function)
    assert constraints is not None, f"{qualname} declares none of its parameters {_names(function)}"
    assert set(constraints) == set(_names(function))


@pytest.mark.parametrize("qualname, function, owner", API, ids=[a[0] for a in API])
def test_values_outside_the_declaration_are_refused_naming_the_parameter(qualname, function, owner):
    constraints = validate.declared(function)
    if not constraints:
        pytest.skip("no parameters")
    STATS["functions"] += 1
    STATS["parameters"] += len(constraints)
    rng = np.random.default_rng(0)
    instance, base = _valid_call(qualname, function, owner, rng)
    failures = []
    for name, c in constraints.items():
        for bad in c.bad(_bindings(constraints, base, instance, name)):
            arguments = {**base, name: bad}
            STATS["calls"] += 1
            try:
                with time_limit(SECONDS), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    _call(function, instance, arguments)
            except (TypeError, ValueError) as exc:
                if name not in str(exc):
                    failures.append(f"{name}={validate._show(bad)}: {type(exc).__name__} not naming it: {exc}")
                continue
            except Exception as exc:                                       # noqa: BLE001 - reported
                failures.append(f"{name}={validate._show(bad)}: {type(exc).__name__}: {exc}")
                continue
            failures.append(f"{name}={validate._show(bad)}: accepted")
    STATS["failures"] += len(failures)
    assert not failures, f"{qualname}:\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("qualname, function, owner", API, ids=[a[0] for a in API])
def test_small_values_inside_the_declaration_give_finite_results(qualname, function, owner):
    constraints = validate.declared(function)
    if constraints is None and _parameters(function):
        pytest.skip("undeclared (see test_every_parameter_is_declared)")
    if qualname in fx.NOT_FUZZED:
        pytest.skip(fx.NOT_FUZZED[qualname])

    @settings(max_examples=fx.EXAMPLES.get(qualname, 3), derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(seed=st.integers(0, 2**32 - 1))
    def inside(seed):
        rng = np.random.default_rng(seed)
        instance, arguments = _valid_call(qualname, function, owner, rng)
        before = _arrays(arguments)
        STATS["calls"] += 1
        try:
            with time_limit(SECONDS), warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)        # an overflow on valid input is a bug
                result = _call(function, instance, copy.copy(arguments))
        except (ValueError, FloatingPointError) as exc:
            # a clear refusal of a valid-looking combination names what to change
            STATS["refused"] += 1
            assert any(n in str(exc) for n in _names(function)), f"{qualname}: refused without naming: {exc}"
            return
        assert _finite(result), f"{qualname} returned non-finite values for {arguments}"
        for k, v in before.items():
            np.testing.assert_array_equal(arguments[k], v, err_msg=f"{qualname} modified the caller's {k}")

    inside()


def test_zz_coverage(capsys):
    """Prints what the fuzzer covered (run last in this file)."""
    declared = sum(1 for q, f, o in API if validate.declared(f) is not None or not _parameters(f))
    with capsys.disabled():
        print(f"\nfuzzer: {declared}/{len(API)} public callables declared; this run: {STATS['functions']} "
              f"functions, {STATS['parameters']} parameters, {STATS['calls']} calls, {STATS['refused']} clear "
              f"refusals of valid-looking input, {STATS['failures']} failures")


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
