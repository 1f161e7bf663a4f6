import json

import nbformat
import pytest

from grader.notebooks import NotebookError, clean_notebook, cleanliness_problems, dumps, read_notebook
from helpers import LAYOUT, ROOT


def test_read_notebook_explains_each_kind_of_broken_file(tmp_path):
    cases = {
        "empty.ipynb": ("", "the file is empty"),
        "cut.ipynb": ('{"cells": [', "not valid JSON \\(line 1"),
        "list.ipynb": ("[1, 2]", "not a notebook"),
        "old.ipynb": (json.dumps({"nbformat": 3, "worksheets": []}), "nbformat 3 is not supported"),
    }
    for name, (text, pattern) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(NotebookError, match=pattern):
            read_notebook(tmp_path / name)
    with pytest.raises(NotebookError, match="no such file"):
        read_notebook(tmp_path / "missing.ipynb")


def test_clean_removes_outputs_and_machine_metadata():
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"state": 1}
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=3, outputs=[nbformat.v4.new_output("stream", text="2")])
    cell.metadata["collapsed"] = True
    cell.metadata["nbgrader"] = {"grade_id": "x"}
    nb.cells.append(cell)
    cleaned = clean_notebook(nb)
    assert cleaned.cells[0].outputs == [] and cleaned.cells[0].execution_count is None
    assert dict(cleaned.cells[0].metadata) == {"nbgrader": {"grade_id": "x"}}
    assert cleaned.cells[0].id == "x"
    assert set(cleaned.metadata) == {"kernelspec", "language_info"}


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
def test_committed_notebooks_are_clean(folder):
    paths = sorted((ROOT / folder).glob("*/*.ipynb"))
    assert paths, f"no notebooks in {folder}/"
    problems = [p for path in paths for p in cleanliness_problems(path)]
    assert not problems, "\n".join(problems)


def test_dumps_is_stable():
    path = next((LAYOUT.solutions).glob("*/*.ipynb"))
    assert dumps(read_notebook(path)) == path.read_text()


@pytest.mark.parametrize("aid", LAYOUT.assignment_ids())
def test_every_notebook_ends_with_further_reading(aid):
    for path in LAYOUT.source_notebooks(aid):
        last = read_notebook(path).cells[-1]
        assert last.cell_type == "markdown" and last.source.startswith("## Further reading"), path
        assert last.source.count("](http") >= 3, f"{path}: fewer than three links to read"
