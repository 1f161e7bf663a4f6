"""Stated outcomes out of the student's copy.

A solution notebook's markdown carries machine-checked claims about its reference run, as HTML comments
(``<!-- outcome[full]: results["test_accuracy"] > 0.92 -->``; ``autograder.outcomes`` checks them). They
are for the course's tests, not for the student: ``course release`` removes them from the student copy,
with the line they sit on when nothing else is on it.
"""

import re

import nbformat

CLAIM = re.compile(r"<!--\s*outcome\[(?P<profile>[^\]]*)\]\s*:(?P<expr>.*?)-->", re.DOTALL)
_CLAIM_LINE = re.compile(r"^[ \t]*" + CLAIM.pattern + r"[ \t]*(?:\n|\Z)", re.DOTALL | re.MULTILINE)


def strip_claims(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Removes every outcome claim from the markdown cells (in place); returns ``nb``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "outcome[" in cell.source:
            source = _CLAIM_LINE.sub("", cell.source)
            cell.source = CLAIM.sub("", source).rstrip("\n")
    return nb
