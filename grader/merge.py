"""The merge rule: what of a student's notebook is graded, and which test checks which function.

One rule for every way of grading (``course autograde``, ``course check``, with or without
hidden tests): ``merge_with_source`` keeps the student's answer cells and own cells and takes every
test and locked cell from the reference notebook (the instructor's source, or the released copy),
restoring edited, retyped, duplicated, moved or deleted test cells once, in their place, with the
source's points; each change becomes a note in the feedback.

Test cells are tied to the function they test by their ``grade_id``, which starts with the
function's name (the contract: ``conv_forward_naive_matches_tf`` tests ``conv_forward_naive``):
``tested_function`` finds it.
"""

import ast

import nbformat


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata (an empty dict when it has none, or a broken one)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def foreign_notebook_problem(student_nb, source_nb, assignment: str) -> str:
    """Says why a notebook is not one of this assignment's (none of its answer cells), else ''."""
    # the graded functions' cells: every assignment has inline_question_1, so those say nothing
    answers = set(answer_ids(source_nb))
    present = {nbgrader_meta(c).get("grade_id") for c in student_nb.cells if nbgrader_meta(c).get("grade_id")}
    present -= {nbgrader_meta(c).get("grade_id") for c in manual_cells(source_nb)}
    if answers & present:
        return ""
    others = sorted(present - answers)[:4]
    what = f"its graded cells ({', '.join(others)}) belong to another notebook" if others else \
        "it has no graded cells (their nbgrader metadata was removed, or it is another notebook)"
    return f"this is not the notebook of {assignment}: none of its answer cells was found; {what}"


def hidden_calls(source: str) -> list:
    """``(assignment, function)`` of each ``run_hidden_check("<id>", "<fn>", ...)`` in a cell's code."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            fname = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if fname == "run_hidden_check" and len(node.args) >= 2 and all(
                    isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args[:2]):
                calls.append((node.args[0].value, node.args[1].value))
    return calls


def is_hidden_test(source: str) -> bool:
    return "BEGIN HIDDEN TESTS" in source or bool(hidden_calls(source))


def merge_with_source(student_nb, source_nb, release_nb=None) -> tuple:
    """Builds the notebook to grade: the student's answers and own cells, the source's test cells.

    Returns:
        ``(cells, notes)``: nbformat cells, each with ``metadata.course_role`` in ``answer``,
        ``test``, ``locked`` or ``student``; notes say what was restored or ignored.
    """
    notes = []
    source_cells = list(source_nb.cells)
    source_ids = [(nbgrader_meta(c).get("grade_id"), c) for c in source_cells if nbgrader_meta(c).get("grade_id")]
    position = {gid: i for i, (gid, _) in enumerate(source_ids)}
    by_id = dict(source_ids)
    answers = {gid for gid, c in source_ids if nbgrader_meta(c).get("solution")}
    released = {nbgrader_meta(c).get("grade_id"): c.source for c in (release_nb.cells if release_nb else [])
                if nbgrader_meta(c).get("grade_id")}

    seen, student_answer, order = set(), {}, []
    items = []  # (kind, grade_id or None, cell)
    for cell in student_nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in by_id and gid not in seen:
            seen.add(gid)
            src = by_id[gid]
            if gid in answers:
                cell = nbformat.from_dict(dict(cell))
                cell.cell_type = src.cell_type
                if cell.cell_type != "code":
                    cell.pop("outputs", None)
                    cell.pop("execution_count", None)
                student_answer[gid] = cell
            else:
                if cell.cell_type != src.cell_type:
                    notes.append(f"cell {gid} was turned into a {cell.cell_type} cell: restored as it was")
                elif cell.source.strip() != released.get(gid, src.source).strip():
                    notes.append(f"cell {gid} was edited: the original was graded")
                points_changed = nbgrader_meta(cell).get("points") != nbgrader_meta(src).get("points")
                if points_changed and nbgrader_meta(src).get("grade"):
                    notes.append(f"cell {gid}: its points were changed; the original points count")
            items.append(("labeled", gid, cell))
            order.append(position[gid])
            continue
        if gid in by_id:
            if gid in answers:
                notes.append(f"a second answer cell {gid} was kept as your own code")
            else:
                notes.append(f"duplicate of cell {gid} ignored")
                continue
        elif gid:
            notes.append(f"cell with unknown grade_id {gid!r} kept as your own code (its grading metadata removed)")
        cell = nbformat.from_dict(dict(cell))
        cell.metadata = nbformat.from_dict({k: v for k, v in cell.get("metadata", {}).items() if k != "nbgrader"})
        items.append(("student", None, cell))

    reordered = any(b < a for a, b in zip(order, order[1:]))
    if reordered:
        notes.append("graded cells were moved: every test cell ran in its original place")
    anchored = {None: []}
    anchor = None
    for kind, gid, cell in items:
        if kind == "labeled":
            if not reordered or gid in answers:
                anchor = gid
            continue
        anchored.setdefault(anchor, []).append(cell)

    cells = []

    def tag(cell, role, gid=None):
        cell = nbformat.from_dict(dict(cell))
        cell.metadata = nbformat.from_dict(dict(cell.get("metadata", {})))
        cell.metadata["course_role"] = role
        if gid:
            cell.metadata["nbgrader"] = nbformat.from_dict(dict(nbgrader_meta(by_id[gid])))
        if cell.cell_type == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
        return cell

    cells += [tag(c, "student") for c in anchored[None]]
    for gid, src in source_ids:
        if gid in answers:
            if gid in student_answer:
                cells.append(tag(student_answer[gid], "answer", gid))
            else:
                notes.append(f"answer cell {gid} is missing (its code, if elsewhere in the notebook, still ran)")
        else:
            if gid not in seen:
                notes.append(f"cell {gid} was missing: restored and graded")
            role = "test" if nbgrader_meta(src).get("grade") else "locked"
            cells.append(tag(src, role, gid))
        cells += [tag(c, "student") for c in anchored.get(gid, [])]
    return cells, notes


def is_released_hidden_test(source: str) -> bool:
    """True for a test cell whose code is only a docstring: a hidden test as the student copy shows it."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in body)


def answer_ids(nb) -> list:
    """The ``grade_id`` of every code answer cell (a graded function's name), in order."""
    return [nbgrader_meta(c)["grade_id"] for c in nb.cells
            if c.cell_type == "code" and nbgrader_meta(c).get("solution") and nbgrader_meta(c).get("grade_id")
            and not nbgrader_meta(c).get("grade")]


def manual_cells(nb) -> list:
    """The manually graded answer cells (nbgrader ``solution`` and ``grade``: the inline questions), in order."""
    return [c for c in nb.cells
            if nbgrader_meta(c).get("solution") and nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("grade_id")]


#: what nbgrader leaves in a manually graded answer cell of the student copy
ANSWER_STUB = "YOUR ANSWER HERE"


def is_answered(source: str) -> bool:
    """Whether a manual answer cell holds an answer (more than the prompt and nbgrader's stub)."""
    return bool(source.replace(ANSWER_STUB, "").replace("*Your answer:*", "").strip())


def tested_function(grade_id: str, functions) -> str | None:
    """The graded function a test cell tests: the longest function name ``grade_id`` starts with."""
    found = [f for f in functions if grade_id == f or grade_id.startswith(f + "_")]
    return max(found, key=len) if found else None


def is_test_cell(cell) -> bool:
    """A graded test cell: nbgrader ``grade`` without ``solution``, a code cell."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def docstring(source: str, default: str = "") -> str:
    """The docstring of a cell's code (what a test checks), or ``default``."""
    try:
        doc = ast.get_docstring(ast.parse(source))
    except SyntaxError:
        doc = None
    return doc.strip() if doc and doc.strip() else default
