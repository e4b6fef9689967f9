"""Sum pytest --durations=0 lines per notebook: each chapter's execution time vs the 2-minute budget.

    python scripts/notebook_times.py nbval.log
"""
import re
import sys
from collections import defaultdict

BUDGET_SECONDS = 120
LINE = re.compile(r"^\s*([\d.]+)s\s+(setup|call|teardown)\s+(\S+\.ipynb)::")


def main(path):
    totals = defaultdict(float)
    with open(path) as fh:
        for line in fh:
            m = LINE.match(line)
            if m:
                totals[m.group(3)] += float(m.group(1))
    print("\nnotebook execution times (class scale, budget 120 s each):")
    for name, seconds in sorted(totals.items()):
        flag = "ok" if seconds < BUDGET_SECONDS else "OVER BUDGET"
        print(f"  {seconds:7.1f} s  {flag:11s}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
