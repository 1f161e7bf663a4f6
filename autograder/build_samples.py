"""Builds the sample submissions from the student notebooks and the solutions.

    $ python -m autograder.build_samples            # writes autograder/samples/<id>/<student>/<id>/<nb>.ipynb
    $ python -m autograder.build_samples --check    # exit 1 when the committed samples are out of date

Each ``autograder/sample_specs/<id>.py`` defines ``SAMPLES``: for each sample (used as the student
id) how the answer cells are filled (``answers``: ``"solution"`` or ``None``), answers to
``replace`` by grade_id, test cells to ``delete`` by grade_id, whether to ``truncate`` the file,
and the ``score`` the autograder must give (``None``: it must report an error).
"""

import argparse
import filecmp
import importlib.util
import sys
import tempfile
from pathlib import Path

from course.paths import course_layout
from grader.notebooks import dumps, grade_cells, read_notebook, student_answer

LAYOUT = course_layout()


def load_spec(assignment: str) -> dict:
    """Returns ``SAMPLES`` of ``autograder/sample_specs/<assignment>.py``."""
    path = LAYOUT.sample_specs_file(assignment)
    spec = importlib.util.spec_from_file_location(f"samples_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SAMPLES


def build_sample(assignment: str, notebook: str, sample: dict) -> str:
    """Returns the text of one sample submission's notebook."""
    release = read_notebook(LAYOUT.release_notebook(assignment, notebook))
    solution_cells = grade_cells(read_notebook(LAYOUT.source_notebook(assignment, notebook)))
    replace = sample.get("replace", {})
    delete = set(sample.get("delete", []))
    cells = []
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if grade_id in delete:
            continue
        if meta.get("solution") and cell.cell_type == "code":
            if grade_id in replace:
                cell.source = replace[grade_id].rstrip("\n")
            elif sample.get("answers") == "solution":
                cell.source = student_answer(solution_cells[grade_id].source)
        cells.append(cell)
    missing = (delete | set(replace)) - {c.metadata.get("nbgrader", {}).get("grade_id") for c in release.cells}
    if missing:
        raise KeyError(f"{assignment}: sample names unknown grade_ids {sorted(missing)}")
    release.cells = cells
    text = dumps(release)
    if sample.get("truncate"):
        text = text[: len(text) // 2]
    return text


def build(out_root: Path, assignments: list[str]) -> list[Path]:
    """Writes every sample of the given assignments under ``out_root``; returns the paths."""
    written = []
    for aid in assignments:
        for student, sample in load_spec(aid).items():
            for nb_path in sorted(LAYOUT.release_dir(aid).glob("*.ipynb")):
                target = out_root / aid / student / aid / nb_path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(build_sample(aid, nb_path.name, sample), encoding="utf-8")
                written.append(target)
    return written


def spec_ids() -> list[str]:
    return sorted(p.stem for p in LAYOUT.sample_specs_dir.glob("*.py"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: all with a spec)")
    parser.add_argument("--check", action="store_true", help="compare with the committed samples, write nothing")
    args = parser.parse_args(argv)
    ids = args.assignments or spec_ids()
    committed = LAYOUT.samples_dir()
    if not args.check:
        for path in build(committed, ids):
            print(f"wrote {path.relative_to(LAYOUT.root)}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = build(Path(tmp), ids)
        stale = [p for p in fresh if not (committed / p.relative_to(tmp)).is_file()
                 or not filecmp.cmp(p, committed / p.relative_to(tmp), shallow=False)]
    for p in stale:
        print(f"out of date: autograder/samples/{p.relative_to(tmp)}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
