"""The inline questions' model answers, for self-study: ``answers/<id>.md``, generated from the sources.

Every inline question is an nbgrader manually graded answer cell. Its model answer and rubric sit
between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in the instructor's notebook only; the
student copy has nbgrader's ``YOUR ANSWER HERE``. A self-study learner, who has no instructor, reads
them here, after answering: ``course release`` writes one Markdown file per assignment, outside
``notebooks/``, and ``course release --check`` fails when one is stale.
"""

import re

from course.paths import Layout
from grader.claims import strip_claims
from grader.merge import manual_cells, nbgrader_meta
from grader.notebooks import read_notebook

SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)\n?### END SOLUTION", re.S)


def model_answer(source: str) -> str:
    """The text between the solution markers of a manually graded cell ("" when it has none)."""
    found = SOLUTION.search(source)
    return found.group(1).strip() if found else ""


def answers_markdown(layout: Layout, assignment: str) -> str:
    """The Markdown of ``answers/<assignment>.md``: each question, then its model answer and rubric."""
    lines = [f"# {assignment}: model answers to the inline questions", "",
             "For self-study: write your own answer in the notebook first, then compare. Your instructor grades",
             "these questions by hand, with the rubric under each answer.", ""]
    for path in layout.source_notebooks(assignment):
        nb = strip_claims(read_notebook(path))
        manual_ids = {nbgrader_meta(c)["grade_id"] for c in manual_cells(nb)}
        cells = nb.cells
        for i, cell in enumerate(cells):
            gid = nbgrader_meta(cell).get("grade_id")
            if gid not in manual_ids:
                continue
            question = cells[i - 1].source.strip() if i > 0 and cells[i - 1].cell_type == "markdown" else ""
            points = nbgrader_meta(cell).get("points", 0)
            lines += [f"## `{gid}` ({points:g} points)", "", question, "", model_answer(cell.source), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def has_questions(layout: Layout, assignment: str) -> bool:
    """Whether an assignment's sources have manually graded cells (inline questions)."""
    return any(manual_cells(read_notebook(p)) for p in layout.source_notebooks(assignment))


def write_answers(layout: Layout, ids: list[str]) -> list:
    """Writes ``answers/<id>.md`` for the assignments that have inline questions; returns the paths."""
    written = []
    for aid in ids:
        if not has_questions(layout, aid):
            continue
        path = layout.answers_file(aid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(answers_markdown(layout, aid), encoding="utf-8")
        written.append(path)
    return written


def answers_differences(layout: Layout, ids: list[str]) -> list[str]:
    """How ``answers/`` differs from what ``write_answers`` would write (empty when in sync)."""
    problems = []
    for aid in ids:
        if not has_questions(layout, aid):
            continue
        path = layout.answers_file(aid)
        if not path.is_file():
            problems.append(f"{path}: missing (release generates it)")
        elif path.read_text(encoding="utf-8") != answers_markdown(layout, aid):
            problems.append(f"{path}: differs from what release generates")
    return problems
