"""``course gradescope build``: the autograder zip, and ``run_autograder`` in an ``/autograder``-shaped folder.

The zip is built from this repository, unzipped into ``tmp/autograder/source`` and run as
Gradescope runs it (``run_autograder``, with ``GRADESCOPE_ROOT`` moving ``/autograder``), with this
environment's Python instead of the one ``setup.sh`` would make.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import gradescope
from grader.merge import docstring, is_hidden_test, is_test_cell
from grader.notebooks import read_notebook
from helpers import LAYOUT

AID = "01_knn"
SAMPLES = LAYOUT.samples_dir(AID)
EXPECTED = {"correct": 21.0, "visible_only": 13.0, "untouched": 0.0}  # autograder/sample_specs/01_knn.py
TEST_KEYS = {"name", "score", "max_score", "status", "output", "output_format", "visibility"}


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    return gradescope.build_autograder(AID, tmp_path_factory.mktemp("zip") / f"{AID}.zip", profile="quick",
                                       layout=LAYOUT)


def unpack(zip_path: Path, root: Path) -> Path:
    """Unzips as Gradescope does (into ``root/source``, modes kept); returns ``root``."""
    source = root / "source"
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            zf.extract(info, source)
            (source / info.filename).chmod((info.external_attr >> 16) & 0o777)
    (root / "submission").mkdir()
    return root


def submit(root: Path, *notebooks: tuple) -> None:
    """Puts ``(path, name)`` notebooks into ``root/submission``."""
    for path, name in notebooks:
        shutil.copyfile(path, root / "submission" / name)


def probing_copy(notebook: Path, root: Path, out: Path) -> Path:
    """``notebook`` with a first cell of the student's own that kills the kernel when it can read a hidden file."""
    import nbformat

    secrets = [root / "source" / "autograder" / "checks" / f"{AID}.py",
               root / "source" / "autograder" / "references" / f"{AID}.json",
               root / "source" / "solutions" / AID / f"{AID}.ipynb", LAYOUT.checks_file(AID)]
    nb = nbformat.read(str(notebook), as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "import os\n"
        f"for _path in {[str(p) for p in secrets]!r}:\n"
        "    try:\n"
        "        open(_path).read(1)\n"
        "    except OSError:\n"
        "        continue\n"
        "    os._exit(3)  # a hidden file is readable: every later cell is lost\n"))
    nbformat.write(nb, str(out))
    return out


def run_autograder(root: Path, python: str = sys.executable, path_prefix: Path | None = None) -> dict:
    """Runs ``source/run_autograder`` as Gradescope does (cwd ``root``); returns ``results.json``."""
    env = {**os.environ, gradescope.ROOT_ENV: str(root), gradescope.PYTHON_ENV: python, "COURSE_PROFILE": "quick"}
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env['PATH']}"
    run = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True,
                         text=True, timeout=900)
    print(run.stdout[-4000:], run.stderr[-3000:])
    assert run.returncode == 0
    return json.loads((root / "results" / "results.json").read_text())


def hidden_strings() -> list[str]:
    """What must never reach results.json: hidden test code, check code and seeds, reference values."""
    found = ["BEGIN HIDDEN TESTS", "run_hidden_check"]
    for cell in read_notebook(LAYOUT.source_notebook(AID, f"{AID}.ipynb")).cells:
        if is_test_cell(cell) and is_hidden_test(cell.source):
            doc = docstring(cell.source)
            found += [ln.strip() for ln in cell.source.splitlines() if ln.strip() and ln.strip().strip('"') != doc]
    checks = LAYOUT.checks_file(AID).read_text()
    found += [ln.strip() for ln in checks.splitlines() if len(ln.strip()) >= 20 and ln.strip()[0] not in "\"'#"
              and (ln.strip().startswith(("def ", "return ", "import ", "from ")) or " = " in ln)]
    found += re.findall(r"\b\d{5,}\b", checks)  # seeds and sizes of the grader-chosen inputs

    def numbers(value):
        if isinstance(value, dict):
            return [n for v in value.values() for n in numbers(v)]
        if isinstance(value, list):
            return [n for v in value for n in numbers(v)]
        return [value] if isinstance(value, float) else []

    for entry in json.loads(LAYOUT.references_file(AID).read_text())["profiles"].values():
        for value in numbers(entry["results"]):
            found += [s for s in (repr(value), f"{value:.6g}") if len(s.replace(".", "").lstrip("0")) >= 5]
    return sorted(set(found))


def assert_schema(results: dict) -> None:
    assert isinstance(results["score"], float) and isinstance(results["execution_time"], int)
    assert isinstance(results["output"], str) and results["output"]
    for test in results["tests"]:
        assert set(test) == TEST_KEYS, test
        assert 0 <= test["score"] <= test["max_score"] and test["visibility"] in ("visible", "after_published")
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
    assert results["score"] == sum(t["score"] for t in results["tests"])


def assert_no_hidden_strings(results: dict) -> None:
    text = json.dumps(results, ensure_ascii=False)
    leaked = [s for s in hidden_strings() if s in text or json.dumps(s)[1:-1] in text]
    assert not leaked, f"results.json quotes hidden code or references: {leaked[:5]}"


# --------------------------------------------------------------------------- the zip


def test_zip_holds_the_scripts_and_only_this_assignments_hidden_files(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        settings = json.loads(zf.read(gradescope.CONFIG_NAME))
    names = set(infos)
    for script in ("setup.sh", "run_autograder"):
        assert (infos[script].external_attr >> 16) & 0o111, f"{script} is not executable"
    assert {f"autograder/checks/{AID}.py", f"autograder/references/{AID}.json", f"solutions/{AID}/{AID}.ipynb",
            f"notebooks/{AID}/{AID}.ipynb", "course/__init__.py", "grader/engine.py", "grader/gradescope.py",
            "pyproject.toml", "nbgrader_config.py"} <= names
    assert settings == {"assignment": AID, "notebooks": [f"{AID}.ipynb"], "profile": "quick", "limits": {},
                        "require_sandbox": False}
    others = [n for n in names if n.startswith(("autograder/", "solutions/", "notebooks/")) and AID not in n]
    assert not others, f"other assignments' files in the zip: {others[:5]}"
    assert not [n for n in names if "samples" in n or "sample_specs" in n or "alternatives" in n]
    assert not [n for n in names if n.startswith("data/") or "__pycache__" in n or n.endswith(".pyc")]


def test_the_models_go_only_with_assignments_that_load_them():
    assert "data/models/random_A.keras" in gradescope.zip_members("08_transfer_learning", LAYOUT)
    assert not [n for n in gradescope.zip_members(AID, LAYOUT) if n.startswith("data/")]


def test_setup_installs_what_grading_needs_and_both_scripts_parse(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        setup, run = zf.read("setup.sh").decode(), zf.read("run_autograder").decode()
    for text in (setup, run):
        assert text.startswith("#!/usr/bin/env bash\n")
        assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0
    for package in ("bubblewrap", "util-linux", "dataset-fashion-mnist", "python3-venv", "python3-pip"):
        assert re.search(rf"apt-get install .*\b{package}\b", setup), package
    assert 'pip install -e "$SOURCE"' in setup and "SOURCE=/autograder/source" in setup
    assert "course.cli data fetch" in setup
    assert f"{gradescope.VENV}/bin/python" in run and "-m grader.gradescope run" in run


def test_unknown_assignments_and_limits_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown assignment '99_nope'"):
        gradescope.build_autograder("99_nope", tmp_path / "x.zip", layout=LAYOUT)
    with pytest.raises(ValueError, match="unknown limit 'cell_secs'"):
        gradescope.build_autograder(AID, tmp_path / "x.zip", limits={"cell_secs": 5}, layout=LAYOUT)
    with pytest.raises(ValueError, match="'fast' is not a profile"):
        gradescope.build_autograder(AID, tmp_path / "x.zip", profile="fast", layout=LAYOUT)
    assert not list(tmp_path.iterdir())


def test_the_same_repository_builds_the_same_zip(autograder_zip, tmp_path):
    again = gradescope.build_autograder(AID, tmp_path / "again.zip", profile="quick", layout=LAYOUT)
    assert again.read_bytes() == autograder_zip.read_bytes()


# --------------------------------------------------------------------------- choosing the notebook


def test_the_notebook_named_as_the_assignments_is_chosen_else_the_only_one(tmp_path):
    sub = tmp_path / "submission"
    (sub / "work" / ".ipynb_checkpoints").mkdir(parents=True)
    (sub / "work" / ".ipynb_checkpoints" / f"{AID}-checkpoint.ipynb").write_text("{}")
    (sub / "mine.ipynb").write_text("{}")
    chosen, notes, problem = gradescope.choose_notebooks(sub, [f"{AID}.ipynb"])
    assert chosen == {f"{AID}.ipynb": sub / "mine.ipynb"} and "graded mine.ipynb as 01_knn.ipynb" in notes[0]
    (sub / "work" / f"{AID}.ipynb").write_text("{}")
    chosen, notes, problem = gradescope.choose_notebooks(sub, [f"{AID}.ipynb"])
    assert chosen == {f"{AID}.ipynb": sub / "work" / f"{AID}.ipynb"} and "ignored: mine.ipynb" in notes[0]
    (sub / "work" / f"{AID}.ipynb").unlink()
    (sub / "other.ipynb").write_text("{}")
    chosen, _, problem = gradescope.choose_notebooks(sub, [f"{AID}.ipynb"])
    assert not chosen and "2 notebooks (mine.ipynb, other.ipynb) and none is named 01_knn.ipynb" in problem


# --------------------------------------------------------------------------- submissions that cannot be graded


@pytest.mark.parametrize("upload, reason", [
    ([], "has no notebook"),
    ([(SAMPLES / "invalid_json" / AID / f"{AID}.ipynb", f"{AID}.ipynb")], "not valid JSON"),
    ([(LAYOUT.release_notebook("02_linear_classifiers", "02_linear_classifiers.ipynb"), f"{AID}.ipynb")],
     "this is not the notebook of 01_knn"),
    ([(SAMPLES / "correct" / AID / f"{AID}.ipynb", "a.ipynb"), (SAMPLES / "correct" / AID / f"{AID}.ipynb", "b.ipynb")],
     "none is named 01_knn.ipynb"),
])
def test_an_ungradable_submission_gets_zero_and_the_reason(autograder_zip, tmp_path, upload, reason):
    root = unpack(autograder_zip, tmp_path / "autograder")
    submit(root, *upload)
    results = gradescope.grade_gradescope(root, profile="quick", log=lambda line: None)
    assert results["score"] == 0.0 and results["tests"] == [] and reason in results["output"]
    assert results["output"].startswith("Not graded: ")


def test_run_autograder_writes_results_when_python_cannot_start(autograder_zip, tmp_path):
    root = unpack(autograder_zip, tmp_path / "autograder")
    (root / "results").mkdir()
    (root / "results" / "results.json").write_text('{"score": 100}')  # what a kernel might have left there
    results = run_autograder(root, python="/bin/false")
    assert results["score"] == 0.0 and "failed before it could grade (exit status 1)" in results["output"]


def test_a_zip_that_requires_the_sandbox_refuses_without_it(tmp_path, monkeypatch):
    built = gradescope.build_autograder(AID, tmp_path / "z.zip", profile="quick", require_sandbox=True, layout=LAYOUT)
    root = unpack(built, tmp_path / "autograder")
    submit(root, (SAMPLES / "correct" / AID / f"{AID}.ipynb", f"{AID}.ipynb"))
    monkeypatch.setattr(gradescope, "sandbox_status", lambda: (False, "bubblewrap is not installed"))
    results = gradescope.grade_gradescope(root, log=lambda line: None)
    assert results["score"] == 0.0 and "requires the bubblewrap sandbox, and bubblewrap is not installed" in \
        results["output"]


# --------------------------------------------------------------------------- grading, as on Gradescope


def check_graded(results: dict, sample: str) -> None:
    labels = gradescope.graded_cell_labels(AID, LAYOUT)
    assert_schema(results)
    assert results["score"] == EXPECTED[sample]
    assert len(results["tests"]) == len(labels)
    for test, ((_, gid), (hidden, _)) in zip(results["tests"], labels.items()):
        assert test["name"].startswith(gid + ": ")
        assert test["visibility"] == ("after_published" if hidden else "visible")
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}
    hidden_points = sum(t["max_score"] for t in results["tests"] if t["visibility"] == "after_published")
    assert f"worth {hidden_points:g} points; their results appear when your instructor publishes" in results["output"]
    assert_no_hidden_strings(results)


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")  # it grades in a sandbox: with the other grading tests (see test_sandbox)
@pytest.mark.parametrize("sample", ["correct", "visible_only"])
def test_run_autograder_grades_a_sample_in_the_sandbox(autograder_zip, tmp_path, sample):
    if not gradescope.sandbox_status()[0]:
        pytest.skip("bubblewrap does not work here")
    root = unpack(autograder_zip, tmp_path / "autograder")
    notebook = SAMPLES / sample / AID / f"{AID}.ipynb"
    if sample == "correct":  # full marks also show that the kernel could read no hidden file
        notebook = probing_copy(notebook, root, tmp_path / f"{AID}.ipynb")
    submit(root, (notebook, f"{AID}.ipynb"))
    results = run_autograder(root)
    check_graded(results, sample)
    assert "in the bubblewrap sandbox" in results["output"]
    if sample == "visible_only":
        failed = {t["name"].split(":")[0] for t in results["tests"] if t["status"] == "failed"}
        assert failed == {"compute_distances_no_loops_agrees_with_two_loops",
                          "compute_distances_no_loops_matches_scipy", "cross_validate_k_structure",
                          "cross_validate_k_matches_reference"}
        assert all(t["output"] != "passed" for t in results["tests"] if t["status"] == "failed")


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_without_a_working_bwrap_it_grades_unsandboxed_and_says_so(autograder_zip, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    root = unpack(autograder_zip, tmp_path / "autograder")
    submit(root, (SAMPLES / "untouched" / AID / f"{AID}.ipynb", "my attempt.ipynb"))
    results = run_autograder(root, path_prefix=fake)
    check_graded(results, "untouched")
    assert "WITHOUT the bubblewrap sandbox (bubblewrap cannot create its namespaces" in results["output"]
    assert "graded my attempt.ipynb as 01_knn.ipynb" in results["output"]
