"""Number each chapter by the plan, not by its position in the table of contents.

The book's numbering plan (DEVELOPERS.md) fixes every chapter's number, and the
notebook's file name carries it: ``notebooks/chapterNN_<slug>``. Sphinx numbers
the chapters of a numbered toctree by position, so a chapter not yet written
would shift every later one. After Sphinx has assigned section and figure
numbers, this extension replaces the leading number of every chapter document
whose name matches ``chapterNN_`` with NN - in the headings, the sidebar, the
figure, equation and exercise numbers, and references to them.
"""
import re

from docutils import nodes

PATTERN = re.compile(r"(?:^|/)chapter(\d\d)_[^/]+$")


def planned_number(docname):
    m = PATTERN.search(docname)
    return int(m.group(1)) if m else None


def _renumber(number, planned):
    return (planned, *number[1:]) if number else number


def apply_plan(app, env):
    changed = []
    for docname, secnums in env.toc_secnumbers.items():
        planned = planned_number(docname)
        if planned is None or not secnums:
            continue
        first = next((n[0] for n in secnums.values() if n), None)
        if first == planned:
            continue
        env.toc_secnumbers[docname] = {a: _renumber(n, planned) for a, n in secnums.items()}
        for ref in env.tocs[docname].findall(nodes.reference):
            if ref.get("secnumber"):
                ref["secnumber"] = list(_renumber(tuple(ref["secnumber"]), planned))
        title = env.titles.get(docname)
        if title is not None and title.get("secnumber"):
            title["secnumber"] = list(_renumber(tuple(title["secnumber"]), planned))
        for figtype, numbers in env.toc_fignumbers.get(docname, {}).items():
            env.toc_fignumbers[docname][figtype] = {i: _renumber(n, planned) for i, n in numbers.items()}
        changed.append(docname)
    # every page shows the sidebar, so all pages are rewritten when a number changed
    return list(env.found_docs) if changed else []


def setup(app):
    app.connect("env-get-updated", apply_plan, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
