"""Similarity of the students' answers to one assignment: which pairs share code, and where.

Input: ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb`` (what ``nbgrader collect`` produces,
as for ``course autograde``). Submissions are read, never modified; a broken one (invalid JSON, the
wrong notebook, ...) is listed with the reason and the others are compared.

What is compared: for each student, one document made of their answer cells (the nbgrader
``solution`` code cells of the instructor's source, found by ``grade_id``, in the source's order).
The starter code of those cells, as the student version in ``notebooks/<id>/`` has it (signatures,
docstrings, ``raise NotImplementedError()``), is never counted as shared, in two steps:

- the starter's lines are left out of each cell (a line diff, ``own_code``): a comment says where
  they were, so no fingerprint spans the student's code and the starter's (a docstring is one token
  to copydetect: matches across it would join every two students who end a line alike);
- the starter document is copydetect's boilerplate: its fingerprints are dropped from every
  document, which catches the starter code a student moved or partly retyped.

How: copydetect (https://pypi.org/project/copydetect/) tokenizes each document with Pygments,
replaces names by ``V``/``F`` and strings by ``S``, drops comments and whitespace (renaming
variables or rewriting comments changes nothing), and fingerprints every ``noise``-character
k-gram of what is left. A pair's ``similarity`` is the share of the two students' code (their
fingerprinted tokens, starter excluded) that the other one has too.

Output: an HTML report (self-contained: no script, no external style sheet) with the ranked pairs
and, for the most similar ones, both students' answers side by side with the shared code highlighted.
"""

import difflib
import html
import io
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect import __version__ as copydetect_version
from pygments import lexers, token

from course.paths import Layout, course_layout
from grader.autograde import discover, precheck
from grader.merge import nbgrader_meta
from grader.notebooks import NotebookError, read_notebook

#: the shortest match counted, in characters of tokenized code (copydetect's noise threshold, its default)
NOISE_THRESHOLD = 25
#: how many pairs the report shows by default
DEFAULT_TOP = 20
#: a solution region of a source's answer cell, its marker lines included (nbgrader's student version drops it)
SOLUTION_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION[ \t]*(?:\n|\Z)",
                             re.MULTILINE | re.DOTALL)
#: what nbgrader's generate_assignment puts in place of a solution region (its default code stub)
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


@dataclass
class Pair:
    """Two students and how much answer code they share (starter code excluded)."""

    student_a: str
    student_b: str
    similarity: float  # shared tokens of both / all tokens of both, in [0, 1]: the rank
    share_a: float  # the share of a's code that is also in b's
    share_b: float  # the share of b's code that is also in a's
    shared_tokens: int  # tokens of a's code that are also in b's


@dataclass
class Report:
    """The result of ``similarity_report``."""

    assignment: str
    html: Path
    students: list = field(default_factory=list)  # the students whose answers were compared, sorted
    pairs: list = field(default_factory=list)  # every pair of them, most similar first
    problems: list = field(default_factory=list)  # (student, why their submission was not compared)
    notes: list = field(default_factory=list)  # (student, something worth knowing, e.g. a missing cell)

    def top(self, n: int = DEFAULT_TOP) -> list:
        """The ``n`` most similar pairs."""
        return self.pairs[:n]


# --------------------------------------------------------------------------- the documents compared


def answer_cell_ids(source_nb) -> list[str]:
    """The ``grade_id`` of each answer (nbgrader solution) code cell of a source notebook, in order."""
    return [nbgrader_meta(c)["grade_id"] for c in source_nb.cells
            if c.cell_type == "code" and nbgrader_meta(c).get("solution") and nbgrader_meta(c).get("grade_id")]


def cell_sources(nb) -> dict:
    """``grade_id -> source`` of a notebook's nbgrader cells (the first cell of each id, as the grader keeps)."""
    sources = {}
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid and gid not in sources:
            sources[gid] = cell.source
    return sources


def starter_from_source(solution_source: str) -> str:
    """An answer cell's starter code made from the source's cell, as nbgrader's student version has it.

    Each solution region becomes nbgrader's code stub, indented as the region's first marker.
    """
    return SOLUTION_REGION.sub(lambda m: "".join(f"{m[1]}{line}\n" for line in CODE_STUB.splitlines()),
                               solution_source)


def own_code(answer: str, starter: str) -> str:
    """The lines of an answer cell that the student wrote: those of its starter code become one comment per run.

    Lines are matched by their text without indentation (``difflib``), so a re-indented starter line
    is still the starter's. A comment is what copydetect ignores: no fingerprint spans the student's
    code and the starter's, and the report still shows where the starter code was.

    Args:
        answer: the student's cell.
        starter: the same cell in the student version.
    """
    lines, given = answer.splitlines(), starter.splitlines()
    matcher = difflib.SequenceMatcher(None, [s.strip() for s in given], [s.strip() for s in lines], autojunk=False)
    out = []
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        run = [s for s in lines[j1:j2] if s.strip()]
        if tag != "equal":
            out += lines[j1:j2]
        elif run:
            indent = run[0][:len(run[0]) - len(run[0].lstrip())]
            out.append(f"{indent}# ... {len(run)} line{'s' if len(run) > 1 else ''} of starter code")
    return "\n".join(out)


def build_document(answers: dict, cell_ids: list, starter: dict | None = None) -> tuple[str, list]:
    """Joins the answer cells of one student into one document.

    Args:
        answers: ``grade_id -> source`` of the student's cells.
        cell_ids: ``(notebook name, grade_id)`` of the answer cells, in order.
        starter: ``grade_id -> starter code``; with it, each cell is reduced to its ``own_code``.

    Returns:
        ``(document, missing)``: the cells, each after a comment that names it (comments are not
        compared), and the ``(notebook name, grade_id)`` of the cells that ``answers`` lacks.
    """
    parts, missing = [], []
    for notebook, gid in cell_ids:
        if gid not in answers:
            missing.append((notebook, gid))
            continue
        code = own_code(answers[gid], starter.get(gid, "")) if starter is not None else answers[gid]
        parts.append(f"# ---- {notebook}: {gid}\n{code.rstrip()}\n")
    return "\n".join(parts), missing


def assignment_cells(assignment: str, layout: Layout) -> tuple[list, dict]:
    """The answer cells of an assignment and their starter code.

    Args:
        assignment: the assignment id (``01_knn``).
        layout: the course repository.

    Returns:
        ``(cell_ids, starter)``: the ``(notebook name, grade_id)`` of every answer cell, in order, and
        ``grade_id -> starter code``: the student version's text of the cell (for a notebook that
        ``notebooks/`` lacks, the source's with nbgrader's stub in place of each solution region).

    Raises:
        ValueError: for an assignment that has no source notebook.
    """
    sources = layout.source_notebooks(assignment)
    if not sources:
        known = ", ".join(layout.assignment_ids()) or "none"
        raise ValueError(f"unknown assignment {assignment!r} (known: {known})")
    cell_ids, starter = [], {}
    for source_path in sources:
        source_nb = read_notebook(source_path)
        ids = answer_cell_ids(source_nb)
        cell_ids += [(source_path.name, gid) for gid in ids]
        release_path = layout.release_notebook(assignment, source_path.name)
        if release_path.is_file():
            given = cell_sources(read_notebook(release_path))
        else:
            given = {gid: starter_from_source(src) for gid, src in cell_sources(source_nb).items()}
        starter.update({gid: given[gid] for gid in ids if gid in given})
    return cell_ids, starter


def student_documents(submissions: Path, assignment: str, cell_ids: list, starter: dict, layout: Layout) -> tuple:
    """Reads every submission of an assignment into the document of its own answer code.

    Args:
        submissions: the folder of ``<student>/<assignment>/<notebook>.ipynb``.
        assignment: the assignment id.
        cell_ids, starter: what ``assignment_cells`` returns.
        layout: the course repository.

    Returns:
        ``(documents, problems, notes)``: ``student -> document`` of the readable submissions,
        ``(student, message)`` for each one that could not be read (it is left out), and
        ``(student, message)`` for each answer cell a readable one lacks.
    """
    documents, problems, notes = {}, [], []
    for sub in discover(Path(submissions), [assignment]):
        precheck(sub, layout)
        if sub.status == "error":
            problems.append((sub.student, sub.message))
            continue
        answers = {}
        try:
            for name in sorted({notebook for notebook, _ in cell_ids}):
                answers.update(cell_sources(read_notebook(sub.folder / name)))
        except NotebookError as exc:  # precheck read it; only a file changed meanwhile gets here
            problems.append((sub.student, str(exc)))
            continue
        documents[sub.student], missing = build_document(answers, cell_ids, starter)
        notes += [(sub.student, f"answer cell {gid!r} of {notebook} is missing (not compared)")
                  for notebook, gid in missing]
    return documents, problems, notes


# --------------------------------------------------------------------------- copydetect


def fingerprint(name: str, document: str, noise: int, boilerplate=None) -> CodeFingerprint:
    """copydetect's fingerprints of a Python document, without those in ``boilerplate``.

    Args:
        name: what the document is called (copydetect keeps it; nothing is read from disk).
        document: Python code.
        noise: the k-gram length, in characters of tokenized code.
        boilerplate: fingerprint hashes to drop (``starter_hashes``), or ``None``.
    """
    return CodeFingerprint(name, noise, 1, boilerplate=boilerplate, language="python", fp=io.StringIO(document))


def starter_hashes(starter: str, noise: int) -> np.ndarray:
    """Every fingerprint of the starter code, as copydetect computes its ``boilerplate_dirs``' (window 1)."""
    return np.unique(np.array(sorted(fingerprint("starter.py", starter, noise).hashes), dtype=np.int64))


def compare(a: CodeFingerprint, b: CodeFingerprint, names: tuple) -> Pair:
    """How much code two fingerprinted documents share."""
    tokens_a, (share_a, share_b), _ = compare_files(a, b)
    coverage = a.token_coverage + b.token_coverage
    shared = share_a * a.token_coverage + share_b * b.token_coverage
    return Pair(names[0], names[1], similarity=float(min(1.0, shared / coverage)) if coverage else 0.0,
                share_a=float(min(1.0, share_a)), share_b=float(min(1.0, share_b)), shared_tokens=int(tokens_a))


def rank_pairs(documents: dict, starter: str = "", noise: int = NOISE_THRESHOLD) -> list[Pair]:
    """Compares every pair of documents, the starter code excluded.

    Args:
        documents: ``student -> answer document``.
        starter: the code every student was given (its fingerprints are copydetect's boilerplate).
        noise: the shortest match counted, in characters of tokenized code.

    Returns:
        every pair of students (in sorted order within a pair), most similar first; ties by shared
        tokens, then by name.
    """
    boilerplate = starter_hashes(starter, noise)
    prints = {s: fingerprint(f"{s}.py", documents[s], noise, boilerplate) for s in sorted(documents)}
    pairs = [compare(prints[a], prints[b], (a, b)) for a, b in itertools.combinations(sorted(prints), 2)]
    return sorted(pairs, key=lambda p: (-p.similarity, -p.shared_tokens, p.student_a, p.student_b))


def highlighted(documents: dict, pair: Pair, boilerplate: np.ndarray, noise: int) -> tuple[str, str]:
    """Both students' documents as escaped HTML, the code they share in ``<mark class='shared'>``.

    Args:
        documents: ``student -> answer document``.
        pair: the two students.
        boilerplate: the starter code's fingerprints (``starter_hashes``).
        noise: the shortest match counted, as for ``rank_pairs``.
    """
    a = fingerprint(pair.student_a, documents[pair.student_a], noise, boilerplate)
    b = fingerprint(pair.student_b, documents[pair.student_b], noise, boilerplate)
    _, _, (slices_a, slices_b) = compare_files(a, b)
    return mark_shared(a.raw_code, slices_a), mark_shared(b.raw_code, slices_b)


def mark_shared(code: str, slices) -> str:
    """``code`` as escaped HTML, the characters in copydetect's ``slices`` in ``<mark class='shared'>``.

    Comments, line breaks and the spaces around a mark are never marked: copydetect does not compare
    them (its filter drops the same Pygments tokens), but its slices run across them.

    Args:
        code: a Python document.
        slices: copydetect's 2 x N array of the start and end of each shared span (empty: none).
    """
    shared = np.zeros(len(code), dtype=bool)
    for start, end in zip(*slices) if np.size(slices) else ():
        shared[int(start):int(end)] = True
    for index, kind, text in lexers.get_lexer_by_name("python").get_tokens_unprocessed(code):
        if kind in token.Comment or "\n" in text:
            shared[index:index + len(text)] = False
    parts, pos = [], 0
    for marked, run in itertools.groupby(shared.tolist()):
        text = code[pos:pos + len(list(run))]
        pos += len(text)
        body = text.strip()
        if marked and body:
            lead = len(text) - len(text.lstrip())
            text = f"{html.escape(text[:lead])}<mark class='shared'>{html.escape(body)}</mark>" \
                   f"{html.escape(text[lead + len(body):])}"
        else:
            text = html.escape(text)
        parts.append(text)
    return "".join(parts)


# --------------------------------------------------------------------------- the report


def similarity_report(submissions: Path, assignment: str, out_html: Path, *, layout: Layout | None = None,
                      top: int = DEFAULT_TOP, noise: int = NOISE_THRESHOLD) -> Report:
    """Compares the answer cells of every submission of an assignment and writes an HTML report.

    Args:
        submissions: the folder of ``<student>/<assignment>/<notebook>.ipynb``.
        assignment: the assignment id (``01_knn``).
        out_html: the report to write (its folder is created).
        layout: the course repository (default: ``course_layout()``).
        top: how many of the most similar pairs the report shows.
        noise: the shortest match counted, in characters of tokenized code.

    Returns:
        the ``Report``: every pair ranked, and the submissions that could not be compared.

    Raises:
        ValueError: for an unknown assignment or a ``top`` or ``noise`` below 1.
        FileNotFoundError: when ``submissions`` is not a folder or holds no submission of the assignment.
    """
    if top < 1 or noise < 1:
        raise ValueError(f"top and noise must be at least 1 (got top={top!r}, noise={noise!r})")
    layout = layout or course_layout()
    cell_ids, starter_cells = assignment_cells(assignment, layout)
    starter = build_document(starter_cells, cell_ids)[0]
    documents, problems, notes = student_documents(submissions, assignment, cell_ids, starter_cells, layout)
    report = Report(assignment=assignment, html=Path(out_html), students=sorted(documents),
                    pairs=rank_pairs(documents, starter, noise), problems=problems, notes=notes)
    boilerplate = starter_hashes(starter, noise)
    sections = [highlighted(documents, p, boilerplate, noise) for p in report.top(top) if p.shared_tokens]
    report.html.parent.mkdir(parents=True, exist_ok=True)
    report.html.write_text(render_html(report, sections, top, noise), encoding="utf-8")
    return report


def _percent(x: float) -> str:
    return f"{x:.0%}"


def render_html(report: Report, sections: list, top: int, noise: int) -> str:
    """The report's HTML: the ranked pairs, the submissions left out, and the shared code of the top pairs.

    Args:
        report: the ranked pairs and problems.
        sections: ``(html of a, html of b)`` of each of the top pairs that share code, in rank order.
        top: how many pairs the table shows.
        noise: the shortest match counted (said in the report).
    """
    e = html.escape
    shown = report.top(top)
    rows = "\n".join(
        f"<tr><td>{i}</td><td>{_pair_link(i, p)}</td><td class='num'>{_percent(p.similarity)}</td>"
        f"<td class='num'>{_percent(p.share_a)}</td><td class='num'>{_percent(p.share_b)}</td>"
        f"<td class='num'>{p.shared_tokens}</td></tr>" for i, p in enumerate(shown, 1))
    ranked = [(i, p) for i, p in enumerate(shown, 1) if p.shared_tokens]
    details = "\n".join(_pair_section(i, p, code) for (i, p), code in zip(ranked, sections)) or \
        "<p>No two submissions share code beyond the starter code.</p>"
    left_out = "".join(f"<li><b>{e(s)}</b>: {e(m)}</li>" for s, m in report.problems)
    notes = "".join(f"<li><b>{e(s)}</b>: {e(m)}</li>" for s, m in report.notes)
    aid = e(report.assignment)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Similarity of the answers to {aid}</title>
<style>{_CSS}</style></head><body>
<h1>Similarity of the answers to {aid}</h1>
<p>{len(report.students)} submissions compared ({len(report.pairs)} pairs), {len(report.problems)} left out.
Compared: the answer cells of each submission, the starter code of the student notebook excluded, with
copydetect {e(copydetect_version)} (names, strings, comments and layout normalized; matches of at least
{noise} characters of normalized code). <i>Similarity</i>: the share of the two students' code that the
other has too; <i>A in B</i>: the share of A's code found in B's. A high score is a reason to look, not a proof.</p>
<h2>Most similar pairs</h2>
<table><tr><th>#</th><th>A and B</th><th>similarity</th><th>A in B</th><th>B in A</th><th>shared tokens</th></tr>
{rows}
</table>
{f"<h2>Left out</h2><ul>{left_out}</ul>" if left_out else ""}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
{details}
</body></html>
"""


def _pair_link(rank: int, pair: Pair) -> str:
    names = f"{html.escape(pair.student_a)} and {html.escape(pair.student_b)}"
    return f"<a href='#pair-{rank}'>{names}</a>" if pair.shared_tokens else names


def _pair_section(rank: int, pair: Pair, code: tuple) -> str:
    e = html.escape
    return (f"<section id='pair-{rank}'><h2>{rank}. {e(pair.student_a)} and {e(pair.student_b)}: "
            f"{_percent(pair.similarity)} similar</h2><div class='sides'>"
            f"<div><h3>{e(pair.student_a)} ({_percent(pair.share_a)} of it shared)</h3><pre>{code[0]}</pre></div>"
            f"<div><h3>{e(pair.student_b)} ({_percent(pair.share_b)} of it shared)</h3><pre>{code[1]}</pre></div>"
            f"</div></section>")


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.sides { display: flex; gap: 1em; } .sides > div { flex: 1; min-width: 0; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
mark.shared { background: #ffb3b3; }
"""


def format_pairs(report: Report, top: int = DEFAULT_TOP) -> str:
    """A plain-text table of the most similar pairs, and the submissions left out."""
    lines = [f"{'#':>3s}  {'student A':20s} {'student B':20s} {'similarity':>10s} {'A in B':>7s} {'B in A':>7s}"]
    for i, p in enumerate(report.top(top), 1):
        lines.append(f"{i:3d}  {p.student_a:20s} {p.student_b:20s} {_percent(p.similarity):>10s} "
                     f"{_percent(p.share_a):>7s} {_percent(p.share_b):>7s}")
    lines.append(f"{len(report.students)} submissions compared, {len(report.problems)} left out")
    lines += [f"  left out: {s}/{report.assignment}: {m}" for s, m in report.problems]
    return "\n".join(lines)
