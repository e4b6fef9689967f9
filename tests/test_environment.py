"""environment.yml (conda route) and pyproject.toml (pip route) must list the same dependencies."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONDA_ONLY = {"python", "pip"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _conda_names():
    names, in_deps = set(), False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.split("#")[0].rstrip()
        if not stripped:
            continue
        if re.match(r"^dependencies:", stripped):
            in_deps = True
            continue
        if in_deps and re.match(r"^\s+-\s+pip:\s*$", stripped):
            continue
        if in_deps and re.match(r"^\s+-\s+", stripped):
            names.add(_name(re.sub(r"^\s+-\s+", "", stripped)))
    return names - CONDA_ONLY


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(d) for d in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        pip_names |= {_name(d) for d in extra}
    conda = _conda_names()
    assert conda == pip_names, f"only in environment.yml: {conda - pip_names}; only in pyproject.toml: {pip_names - conda}"


def test_jupyter_book_pinned_to_version_1():
    text = (ROOT / "pyproject.toml").read_text()
    assert "jupyter-book>=1.0.4.post1,<2" in text
