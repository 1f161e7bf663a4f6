"""The reference builder's bookkeeping: failed cells, the quiet rule, waiting for the load to fade, GPU runs."""

import nbformat
import pytest

from autograder import build_references


def _executed(*cells):
    nb = nbformat.v4.new_notebook()
    for source, outputs in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.outputs = [nbformat.v4.new_output(**o) for o in outputs]
        nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_markdown_cell("text"))
    return nb


def test_failed_cells_are_those_with_an_error_output():
    error = dict(output_type="error", ename="CheckFailure", evalue="no", traceback=[])
    nb = _executed(("x = 1", [dict(output_type="stream", name="stdout", text="ok")]),
                   ('### BEGIN HIDDEN TESTS\nrun_hidden_check("08_transfer_learning", "run_transfer_experiment", f)\n'
                    "### END HIDDEN TESTS", [error]),
                   ("y = 1 / 0", [error]))
    failed = build_references.failed_cells(nb)
    assert len(failed) == 2 and failed[1] == "y = 1 / 0"


def test_wait_until_quiet_waits_for_the_load_to_fall(monkeypatch):
    loads = iter([1.9, 1.4, 0.6])
    monkeypatch.setattr(build_references, "load_average", lambda: next(loads))
    monkeypatch.setattr(build_references.time, "sleep", lambda s: None)
    assert build_references.wait_until_quiet(60, below=1.0) == 0.6


def test_wait_until_quiet_gives_up_at_its_limit(monkeypatch):
    monkeypatch.setattr(build_references, "load_average", lambda: 5.0)
    monkeypatch.setattr(build_references.time, "sleep", lambda s: None)
    assert build_references.wait_until_quiet(0, below=1.0) == 5.0


def test_cpu_seconds_of_children_grow_with_a_child_process():
    import subprocess
    import sys

    before = build_references._children_cpu_seconds()
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    assert build_references._children_cpu_seconds() > before


def test_git_commit_says_when_solutions_are_not_committed(tmp_path):
    """A changed solution, or a new one not yet committed, marks the commit with +changes."""
    import subprocess

    from autograder.provenance import git_commit

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "solutions" / "01_a").mkdir(parents=True)
    (tmp_path / "solutions" / "01_a" / "01_a.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("not a dependency")
    git("add", "solutions")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    assert not git_commit(tmp_path).endswith("+changes")  # an untracked file elsewhere does not count
    (tmp_path / "solutions" / "02_b").mkdir()
    (tmp_path / "solutions" / "02_b" / "02_b.ipynb").write_text("{}")
    assert git_commit(tmp_path).endswith("+changes")
    git("add", "solutions")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "two")
    assert not git_commit(tmp_path).endswith("+changes")
    (tmp_path / "solutions" / "01_a" / "01_a.ipynb").write_text('{"cells": []}')
    assert git_commit(tmp_path).endswith("+changes")


def _run(seconds: float, device: str) -> dict:
    return {"results": {"test_accuracy": 0.9}, "provenance": {"run_seconds": seconds, "device": device}}


def test_a_gpu_run_goes_beside_the_cpu_reference_and_survives_a_cpu_rebuild():
    refs = {"assignment": "07_keras_convnets", "profiles": {}}
    build_references.store(refs, "full", _run(250.0, "CPU: x86_64"), on_gpu=False)
    build_references.store(refs, "full", _run(31.0, "GPU: NVIDIA H200"), on_gpu=True)
    assert refs["profiles"]["full"]["provenance"]["run_seconds"] == 250.0  # the graded reference: still the CPU run
    assert refs["profiles"]["full"]["gpu"]["provenance"]["device"] == "GPU: NVIDIA H200"
    build_references.store(refs, "full", _run(240.0, "CPU: x86_64"), on_gpu=False)
    assert refs["profiles"]["full"]["provenance"]["run_seconds"] == 240.0
    assert refs["profiles"]["full"]["gpu"]["provenance"]["run_seconds"] == 31.0


def test_a_gpu_run_needs_the_cpu_reference_first():
    refs = {"assignment": "07_keras_convnets", "profiles": {}}
    with pytest.raises(RuntimeError, match="CPU reference first"):
        build_references.store(refs, "full", _run(31.0, "GPU: NVIDIA H200"), on_gpu=True)


def test_device_gpu_without_a_gpu_runs_nothing(monkeypatch, capsys):
    monkeypatch.setattr(build_references, "tensorflow_gpus", lambda: [])
    monkeypatch.setattr(build_references, "build", lambda *a: pytest.fail("a notebook was run"))
    with pytest.raises(SystemExit):
        build_references.main(["--profile", "full", "--device", "gpu", "07_keras_convnets"])
    assert "TensorFlow sees no GPU" in capsys.readouterr().err
