"""Execute notebooks in place, the way they are committed: outputs kept, no widget state.

    python scripts/run_notebooks.py [NOTEBOOK ...]     (default: notebooks/*.ipynb)

Widget state is dropped after execution on purpose: the web book has no kernel, and stored widget
state would make the book load the widget manager from a CDN (it must work offline).
Prints each notebook's execution time against the 2-minute class budget.
"""
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BUDGET_SECONDS = 120


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=1200, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return elapsed


def main(argv):
    root = Path(__file__).resolve().parent.parent
    paths = [Path(p) for p in argv] or sorted((root / "notebooks").glob("*.ipynb"))
    for path in paths:
        elapsed = run(path)
        flag = "" if elapsed < BUDGET_SECONDS else f"  OVER the {BUDGET_SECONDS} s class budget"
        print(f"{elapsed:7.1f} s  {path.name}{flag}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
