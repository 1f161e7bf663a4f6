"""What ``course autograde`` writes and prints: the CSVs, the feedback pages, the summary."""

import csv
import json
import shutil
from pathlib import Path

#: what a manually graded cell says until the instructor grades it
MANUAL = "needs manual grading"
MANUAL_EMPTY = "needs manual grading (no answer written)"

#: what nbgrader's release_feedback reads beside each feedback page (nbgrader submit writes both)
NBGRADER_FEEDBACK_FILES = ("timestamp.txt", "submission_secret.txt")


def feedback_html(nb, student: str, assignment: str, graded: list, notes: list, manual: list = ()) -> str:
    """The feedback page of one notebook: a score table, the grader's notes, the executed notebook.

    Args:
        nb: the executed notebook as ``grader.engine`` left it (hidden tests show only their verdict).
        graded: ``(notebook, grade_id, score, max_score, message)`` per test cell.
        notes: what the merge restored or ignored.
        manual: ``grader.engine.ManualAnswer`` per manually graded cell (their points come from the instructor).
    """
    import nbformat
    from nbconvert import HTMLExporter

    score = sum(g[2] for g in graded)
    total = sum(g[3] for g in graded)
    by_hand = sum(m.points for m in manual)
    lines = [f"# Feedback: {assignment}, {student}", "", f"**Score: {score:g} / {total:g}**"
             + (f" (autograded; {by_hand:g} more points are graded by hand)" if manual else ""), "",
             "| test | points | result |", "|---|---|---|"]
    for _, gid, s, m, message in graded:
        result = "passed" if s == m else ("failed: " + message.replace("|", "\\|").replace("\n", " ")[:300])
        lines.append(f"| `{gid}` | {s:g} / {m:g} | {result} |")
    for m in manual:
        lines.append(f"| `{m.grade_id}` | – / {m.points:g} | {MANUAL if m.answered else MANUAL_EMPTY} |")
    if notes:
        lines += ["", "Notes from the grader:", ""] + [f"- {n}" for n in notes]
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        cell.metadata.pop("course_role", None)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("\n".join(lines)))
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return html


def write_reports(subs: list, out_dir: Path, feedback_dir: Path) -> None:
    """Writes ``grades.csv``, ``cells.csv`` and copies the feedback into ``out_dir``."""
    with open(out_dir / "grades.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "score", "max_score", "status", "message", "seconds",
                         "submitted_at", "days_late", "late_penalty", "final_score", "late_note", "manual_max_score"])
        for s in subs:
            penalty = s.score - s.final_score
            writer.writerow([s.student, s.assignment, f"{s.score:g}", f"{s.max_score:g}", s.status, s.message,
                             f"{s.seconds:.1f}", s.late.submitted_at, s.late.days_late, f"{penalty:g}",
                             f"{s.final_score:g}", s.late.note, f"{s.manual_points:g}"])
    with open(out_dir / "cells.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "notebook", "grade_id", "score", "max_score", "message"])
        for s in subs:
            for nb, grade_id, score, max_score, message in s.cells:
                writer.writerow([s.student, s.assignment, nb, grade_id, f"{score:g}", f"{max_score:g}", message])
            for nb, grade_id, points, answered in s.manual:
                writer.writerow([s.student, s.assignment, nb, grade_id, "", f"{points:g}",
                                 MANUAL if answered else MANUAL_EMPTY])
    target = out_dir / "feedback"
    if target.exists():
        shutil.rmtree(target)
    if feedback_dir.is_dir():
        shutil.copytree(feedback_dir, target)
    # nbgrader release_feedback takes each page with the submission's timestamp and secret beside it:
    # with them, `nbgrader release_feedback ID --CourseDirectory.feedback_directory=OUT/feedback` releases these
    for s in subs:
        folder = target / s.student / s.assignment
        if s.status != "graded" or not folder.is_dir():
            continue
        for name in NBGRADER_FEEDBACK_FILES:
            if (s.folder / name).is_file():
                shutil.copyfile(s.folder / name, folder / name)


def summary_table(subs: list) -> str:
    """Returns a plain-text table of the results, one line per submission."""
    lines = [f"{'student':20s} {'assignment':22s} {'score':>20s}  status"]
    for s in subs:
        score = f"{s.score:g} / {s.max_score:g}" if s.status == "graded" else "-"
        if s.status == "graded" and s.manual:
            score += f" +{s.manual_points:g} by hand"
        status = s.status + (" (unchanged, not regraded)" if s.reused else "") + (f": {s.message}" if s.message else "")
        if s.status == "graded" and s.late.fraction:
            status += f"; {s.late.note}: {s.final_score:g} after the penalty"
        lines.append(f"{s.student:20s} {s.assignment:22s} {score:>20s}  {status}")
    graded = sum(s.status == "graded" for s in subs)
    lines.append(f"{graded} graded, {len(subs) - graded} could not be graded")
    return "\n".join(lines)


def summary_footer(subs: list, seconds: float, limits: dict | None = None) -> str:
    """The last lines of a run: counts, time, the time limits used, and every failure with its reason.

    Args:
        limits: assignment -> a sentence saying its time limits (``grader.timeouts.TimeLimits.describe``).
    """
    graded = [s for s in subs if s.status == "graded"]
    failed = [s for s in subs if s.status != "graded"]
    lines = [f"summary: {len(graded)} graded ({sum(s.reused for s in subs)} unchanged since the last run), "
             f"{len(failed)} failed, {seconds:.1f} s in all"]
    lines += [f"  time limits of {aid}: {text}" for aid, text in sorted((limits or {}).items())]
    lines += [f"  failed: {s.student}/{s.assignment}: {s.message}" for s in failed]
    return "\n".join(lines)
