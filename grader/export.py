"""Grades for a learning management system: Canvas's gradebook import, and points per question.

``course export --to canvas grading/results/grades.csv`` reads what ``course autograde`` wrote
(``grades.csv`` and, beside it, ``cells.csv``) and writes:

- ``canvas.csv``: Canvas's gradebook-import CSV. The columns ``Student, ID, SIS User ID, SIS Login ID,
  Section``, then one column per assignment; the second row, ``Points Possible``, holds each
  assignment's points. A student is a row, matched by Canvas on ``SIS Login ID`` (the nbgrader
  student id). With ``--roster`` (the CSV of Canvas's *Export Entire Gradebook*), the rows are the
  roster's students, with their names, IDs and sections, and an assignment whose roster column is
  ``01_knn (4321)`` keeps that header so that Canvas updates it rather than adding a new one. The
  score is ``final_score`` (after the late penalty).
- ``questions.csv``: one row per student, one column per test cell (``assignment:grade_id``),
  the points earned; the second row holds each test's points.
"""

import csv
from dataclasses import dataclass, field
from pathlib import Path

CANVAS_ID_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_ROW = "    Points Possible"  # Canvas's own export writes it so, indented


class ExportError(ValueError):
    """Raised when a grades CSV or a roster cannot be exported; the message names the file and the problem."""


@dataclass
class Grades:
    """What ``course autograde`` wrote, read back: scores per (student, assignment) and per test cell."""

    scores: dict = field(default_factory=dict)  # (student, assignment) -> final score
    points: dict = field(default_factory=dict)  # assignment -> max score
    cells: dict = field(default_factory=dict)  # (student, "assignment:grade_id") -> points earned
    cell_points: dict = field(default_factory=dict)  # "assignment:grade_id" -> points possible


def _read_csv(path: Path, required: list[str]) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ExportError(f"{path}: cannot be read ({exc})") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise ExportError(f"{path}: no column {', '.join(map(repr, missing))} (columns: {header})")
    return rows


def _number(value: str, path: Path, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ExportError(f"{path}: {what} is {value!r}, not a number") from None


def read_grades(grades_csv: Path) -> Grades:
    """Reads ``grades.csv`` and, when it is there, the ``cells.csv`` beside it.

    A submission that could not be graded counts 0. The score is ``final_score`` where the file has
    it (after the late penalty), else ``score``.

    Raises:
        ExportError: a file is missing, lacks a column, or holds a score that is not a number.
    """
    grades_csv = Path(grades_csv)
    if not grades_csv.is_file():
        raise ExportError(f"{grades_csv}: no such file (course autograde writes OUT/grades.csv)")
    grades = Grades()
    for row in _read_csv(grades_csv, ["student", "assignment", "score", "max_score", "status"]):
        key = (row["student"], row["assignment"])
        where = f"the score of {key[0]}/{key[1]}"
        value = row.get("final_score") or row["score"]
        grades.scores[key] = _number(value, grades_csv, where) if row["status"] == "graded" else 0.0
        if row["status"] == "graded":
            grades.points[key[1]] = max(grades.points.get(key[1], 0.0), _number(row["max_score"], grades_csv, where))
        else:
            grades.points.setdefault(key[1], 0.0)
    cells_csv = grades_csv.with_name("cells.csv")
    if cells_csv.is_file():
        for row in _read_csv(cells_csv, ["student", "assignment", "grade_id", "score", "max_score"]):
            test = f"{row['assignment']}:{row['grade_id']}"
            where = f"the score of {row['student']}'s {test}"
            grades.cell_points[test] = _number(row["max_score"], cells_csv, where)
            if row["score"] != "":  # empty: graded by hand (an inline question), not yet known here
                grades.cells[(row["student"], test)] = _number(row["score"], cells_csv, where)
    return grades


def _fmt(x: float) -> str:
    return f"{x:g}"


def _roster(path: Path) -> tuple[list[str], list[dict]]:
    rows = _read_csv(path, ["Student", "SIS Login ID"])
    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    students = [r for r in rows if r["Student"].strip() and not r["Student"].strip().startswith("Points Possible")
                and r["Student"].strip() != "Student, Test"]
    return header, students


def _assignment_column(assignment: str, header: list[str]) -> str:
    """The roster's column of an assignment (``01_knn (4321)``), else the assignment's id (a new column)."""
    for name in header:
        if name == assignment or (name.startswith(assignment + " (") and name.endswith(")")):
            return name
    return assignment


def write_canvas(grades: Grades, out: Path, roster: Path | None = None) -> list[str]:
    """Writes Canvas's gradebook-import CSV.

    Args:
        grades: from ``read_grades``.
        out: the CSV to write.
        roster: Canvas's gradebook export (for names, IDs, sections and assignment columns), or None.

    Returns:
        warnings: graded students missing from the roster (not written), roster students without a
        grade (left empty, which Canvas leaves unchanged).
    """
    assignments = sorted(grades.points)
    students = sorted({s for s, _ in grades.scores})
    warnings = []
    if roster is not None:
        header, people = _roster(Path(roster))
        columns = {a: _assignment_column(a, header) for a in assignments}
        known = {p["SIS Login ID"].strip() for p in people}
        warnings += [f"{s}: graded but not in the roster {roster} (SIS Login ID); not written"
                     for s in students if s not in known]
        base = [{c: p.get(c, "") for c in CANVAS_ID_COLUMNS} for p in people]
    else:
        columns = {a: a for a in assignments}
        base = [{"Student": s, "ID": "", "SIS User ID": "", "SIS Login ID": s, "Section": ""} for s in students]
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CANVAS_ID_COLUMNS + [columns[a] for a in assignments])
        writer.writerow([POINTS_ROW, "", "", "", ""] + [_fmt(grades.points[a]) for a in assignments])
        for person in base:
            login = person["SIS Login ID"].strip()
            cells = [_fmt(grades.scores[(login, a)]) if (login, a) in grades.scores else "" for a in assignments]
            if roster is not None and not any(cells):
                warnings.append(f"{login}: in the roster, no grade (left empty: Canvas keeps what it has)")
            writer.writerow([person[c] for c in CANVAS_ID_COLUMNS] + cells)
    return warnings


def write_questions(grades: Grades, out: Path) -> None:
    """Writes the points of every student on every test cell (``assignment:grade_id`` columns).

    A test a student has no row for (the submission could not be graded) is left empty.
    """
    tests = sorted(grades.cell_points)
    students = sorted({s for s, _ in grades.scores} | {s for s, _ in grades.cells})
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student"] + tests)
        writer.writerow(["points possible"] + [_fmt(grades.cell_points[t]) for t in tests])
        for s in students:
            writer.writerow([s] + [_fmt(grades.cells[(s, t)]) if (s, t) in grades.cells else "" for t in tests])
