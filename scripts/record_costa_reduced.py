"""Chapters 10-11 at the largest size that fits a session here (the paper's 150,000 x 1,200 epochs does not).

Writes results/paper/density-functionals.json and results/paper/functional-descent.json, each with a note
saying exactly what was run. Resumable: the training checkpoints live in mlphys.speckle.cache_dir().
    python scripts/record_costa_reduced.py [--jobs N]
"""
import argparse
import sys
import time

from mlphys import registry
from mlphys.claims import costa

SIZES = dict(n_data=12_000, epochs=40, lr=1e-3, batch_size=100, n_descent=100, eta=1e-2, steps=1000)

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--jobs", type=int, default=1)
args = parser.parse_args()
start = time.perf_counter()
rows = costa.claims("paper", progress=True, jobs=args.jobs, **SIZES)
minutes = (time.perf_counter() - start) / 60
note = (f"reduced size, not the paper's: {costa.size_note('paper', **SIZES)}; {minutes:.0f} min wall "
        f"with {args.jobs} job(s)")
command = f"python scripts/record_costa_reduced.py --jobs {args.jobs}"
for chapter_id in costa.CHAPTERS:
    path = registry.record_path(chapter_id, "paper") if chapter_id in registry.CHAPTERS else None
    mine = [r for r in rows if r.chapter == chapter_id]
    out = path or registry.results_dir() / "paper" / f"{chapter_id}.json"
    registry.write_record(mine, out, chapter=chapter_id, scale="paper", command=command)
    import json
    rec = json.load(open(out)); rec["note"] = note; json.dump(rec, open(out, "w"), indent=1)
print(registry.format_table(rows), file=sys.stderr)
print(note, file=sys.stderr)
