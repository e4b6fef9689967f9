"""Fuzzer fixtures for mlphys.registry. Valid calls that run chapters run the cheapest one (regression, about a
second at class scale); records and rows go to a temporary folder."""
from __future__ import annotations

import tempfile
from pathlib import Path

from mlphys import registry
from mlphys.claims import Claim, regression

_FOLDER = Path(tempfile.mkdtemp(prefix="fx_registry_"))
(_FOLDER / "rows.json").write_text("[]\n")


def _claims(rng):
    ours = float(rng.uniform(0.5, 1.5))
    return [Claim("regression", "q", ours, 1.0, 0.1), Claim("regression", "max |a - b|", ours, None, 0.1, paper=1.0)]


INSTANCES = {
    registry.Chapter: lambda rng: registry.CHAPTERS["regression"],
}
CALLS = {
    "registry.Chapter": lambda rng: {"run": regression.claims},
    "registry.Chapter.claims": lambda rng: {"scale": "class", "progress": False},
    "registry.reproduce": lambda rng: {"chapters": "regression", "scale": "class", "progress": False},
    "registry.format_table": lambda rng: {"claims": _claims(rng)},
    "registry.write_json": lambda rng: {"claims": _claims(rng), "path": _FOLDER / "out.json"},
    "registry.write_record": lambda rng: {"claims": _claims(rng), "path": _FOLDER / "record" / "regression.json",
                                          "chapter": "regression", "command": "python -m mlphys reproduce 1"},
    "registry.load_rows": lambda rng: {"path": _FOLDER / "rows.json"},
    "registry.notebook_results": lambda rng: {"claims": _claims(rng)},
}
EXAMPLES = {"registry.reproduce": 1, "registry.Chapter.claims": 1}
