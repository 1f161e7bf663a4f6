"""The sandbox, the tamper-proof hidden checks and the merging of a submission with the source (fast)."""

import json
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course import protocol
from course.asserts import CheckFailure, assert_close, assert_true
from course.protocol import Case, decode_plain, encode_plain
from grader.merge import foreign_notebook_problem, hidden_calls, is_test_cell, merge_with_source
from grader.notebooks import read_notebook
from grader.sandbox import Limits, SandboxKernel, _runs_as
from grader.spec import FunctionCheck
from grader.verify import export_check_inputs, notebook_function_source, run_check, verify_recorded
from helpers import LAYOUT, ROOT

# Grading tests check that no sandbox process outlives a run: they share one pytest-xdist
# worker (make test runs --dist loadgroup), so no other grading runs beside them.
pytestmark = pytest.mark.xdist_group("sandbox")

def test_grading_tests_share_one_xdist_worker(request):
    """The grading tests carry the xdist group, and under --dist loadgroup xdist honours it."""
    assert request.node.get_closest_marker("xdist_group").args == ("sandbox",)
    if os.environ.get("PYTEST_XDIST_WORKER") and request.config.getoption("dist", None) in (None, "no") \
            and getattr(request.config.option, "loadgroup", False):
        assert request.node.nodeid.endswith("@sandbox"), (
            f"pytest-xdist ignored the xdist_group mark ({request.node.nodeid}): this pytest breaks --dist "
            "loadgroup (pytest-dev/pytest-xdist#1386); install the pytest version pyproject.toml allows")


needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


# --------------------------------------------------------------------------- plain data


def test_plain_data_round_trips_and_objects_are_refused():
    value = {1: [np.arange(3.0), (2, "x")], "k": {"f": 1.5, "n": None, "b": True}, 2.5: np.float32(3)}
    arrays = {}
    tree = json.loads(json.dumps(encode_plain(value, arrays)))
    back = decode_plain(tree, arrays)
    assert back["k"] == value["k"] and back[1][1] == (2, "x") and float(back[2.5]) == 3.0
    np.testing.assert_array_equal(back[1][0], value[1][0])

    class Liar:
        def __eq__(self, other):
            return True

    with pytest.raises(CheckFailure, match="cannot read"):
        encode_plain(Liar(), {})
    with pytest.raises(CheckFailure, match="numbers only"):
        encode_plain(np.array([object()]), {})
    with pytest.raises(CheckFailure, match="malformed"):
        decode_plain({"zzz": 1}, {})


def test_the_protocol_has_one_home():
    """The grader's modules take the protocol's names from course.protocol, never define their own."""
    import grader.sandbox

    assert grader.sandbox.HIDDEN_MIME is protocol.HIDDEN_MIME
    for path in (ROOT / "grader").glob("*.py"):
        text = path.read_text()
        assert "application/x-course" not in text and '"COURSE_GRADING_DIR"' not in text, path


# --------------------------------------------------------------------------- verification outside


def _check():
    return FunctionCheck(
        cases=lambda: [Case("three numbers", (np.array([1.0, 2.0, 3.0]),)), Case("one number", (np.array([5.0]),))],
        verify=lambda case, out: assert_close(out, case.args[0] * 2, what="doubled", compared_with="2x", tol=1e-12),
        source_rules=lambda src: assert_true("for " not in src, "no loops"))


def _payload(outputs, name="double"):
    arrays = {}
    records = [{"ok": True, "output": encode_plain(o, arrays)} for o in outputs]
    return {"check": name, "records": records, "npz": protocol.pack_arrays(arrays)}


def test_verify_recorded_decides_outside_and_redacts_references(tmp_path):
    check = _check()
    cases = export_check_inputs(check, "xx", "double", tmp_path)
    assert (tmp_path / "xx" / "double.pkl").is_file()
    ok, message = verify_recorded(check, cases, "double", _payload([np.array([2.0, 4.0, 6.0]), np.array([10.0])]),
                                  "def double(x):\n    return 2 * x\n")
    assert ok, message
    ok, message = verify_recorded(check, cases, "double", _payload([np.array([2.0, 4.0, 7.0]), np.array([10.0])]),
                                  "def double(x):\n    return 2 * x\n")
    assert not ok and "three numbers" in message and "got 7" in message and "expected" not in message
    ok, message = verify_recorded(check, cases, "double", None, "def double(x):\n    return 2 * x\n")
    assert not ok and "recorded no outputs" in message
    ok, message = verify_recorded(check, cases, "double", _payload([np.zeros(3)] * 5), "def double(x): pass")
    assert not ok and "expected 2" in message
    ok, message = verify_recorded(check, cases, "double", _payload([np.array([2.0, 4.0, 6.0]), np.array([10.0])]),
                                  "def double(x):\n    for v in x: pass\n")
    assert not ok and "no loops" in message
    ok, message = verify_recorded(check, cases, "double", _payload([np.array([2.0, 4.0, 6.0])] * 2), None)
    assert not ok and "no `def double" in message


def test_in_kernel_default_mode_is_unchanged(monkeypatch):
    monkeypatch.delenv("COURSE_GRADING_DIR", raising=False)
    with pytest.raises(CheckFailure, match="expected"):
        assert_close(np.array([1.0]), np.array([2.0]), what="x", compared_with="y", tol=1e-9)


def test_the_function_source_is_the_last_def_and_rebinding_is_refused():
    cells = ["%matplotlib inline\nimport numpy as np", "def f(x):\n    return x", "def f(x):\n    return 2 * x"]
    assert "2 * x" in notebook_function_source(cells, "f")
    with pytest.raises(CheckFailure, match="bound by"):
        notebook_function_source(cells + ["f = lambda x: x"], "f")
    assert notebook_function_source(["x = 1"], "f") is None


def test_hidden_calls_are_found():
    src = '"""doc"""\n### BEGIN HIDDEN TESTS\nrun_hidden_check("01_knn", "predict_labels", predict_labels)\n'
    assert hidden_calls(src) == [("01_knn", "predict_labels")]


# --------------------------------------------------------------------------- merging


def _student():
    return read_notebook(LAYOUT.release_notebook("01_knn", "01_knn.ipynb"))


def _source():
    return read_notebook(LAYOUT.source_notebook("01_knn", "01_knn.ipynb"))


def _ids(cells):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in cells]


def test_merge_restores_deleted_edited_duplicated_retyped_and_moved_test_cells():
    source = _source()
    expected = [g for g in _ids(source.cells) if g]
    nb = _student()
    tests = [c for c in nb.cells if is_test_cell(c)]
    tests[0].source = "print('passed')"
    tests[1].cell_type = "markdown"
    nb.cells.remove(tests[2])
    nb.cells.append(nbformat.from_dict(json.loads(json.dumps(tests[3]))))
    nb.cells = [tests[5]] + [c for c in nb.cells if c is not tests[5]]
    cells, notes = merge_with_source(nb, source)
    assert [g for g in _ids(cells) if g] == expected
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in cells if c.metadata.get("nbgrader")}
    for t in tests[:4]:
        gid = t.metadata["nbgrader"]["grade_id"]
        src = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
        assert by_id[gid].source == src.source and by_id[gid].cell_type == "code"
    text = " ".join(notes)
    assert "edited" in text and "markdown" in text and "missing" in text and "duplicate" in text and "moved" in text


def test_a_notebook_of_another_assignment_is_recognized():
    nb = _student()
    for cell in nb.cells:
        if cell.metadata.get("nbgrader"):
            cell.metadata["nbgrader"]["grade_id"] = "softmax_" + cell.metadata["nbgrader"]["grade_id"]
    assert "not the notebook of 01_knn" in foreign_notebook_problem(nb, _source(), "01_knn")
    assert foreign_notebook_problem(_student(), _source(), "01_knn") == ""


# --------------------------------------------------------------------------- the sandboxed kernel


@needs_bwrap
def test_the_sandboxed_kernel_is_isolated_and_limited(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.txt").write_text("hello")
    with SandboxKernel(tmp_path / "sub", None, limits=Limits(cell_seconds=4, memory_bytes=3 * 2**30)) as kernel:
        assert kernel.sandboxed
        r = kernel.execute("print(open('data.txt').read())")
        assert r.status == "ok" and "hello" in r.outputs[0]["text"]
        r = kernel.execute(f"open({str(ROOT / 'autograder' / 'checks' / '01_knn.py')!r}).read()")
        assert r.status == "error" and "FileNotFoundError" in r.error
        r = kernel.execute("import socket; socket.create_connection(('127.0.0.1', 22), timeout=2)")
        assert r.status == "error"
        r = kernel.execute("open('data.txt', 'a').write('x')\nimport os\nprint(os.getuid() != 0 or 'root')")
        assert r.status == "ok"
        r = kernel.execute("while True: pass")
        assert r.status == "timeout"
        r = kernel.execute("import numpy as np\nx = np.ones(10 * 2**30 // 8)")
        assert r.status == "error" and "MemoryError" in r.error
        r = kernel.execute("print('x' * 10_000_000)")
        assert sum(len(o.get("text", "")) for o in r.outputs) < 300_000
        r = kernel.execute("print('still alive')")
        assert r.status == "ok"
        began = time.monotonic()
        r = kernel.execute("import os; os._exit(3)", timeout=60)
        assert r.status == "died"
        # seen when the kernel dies, not when the cell's time is up (the shell waits for the kernel alone)
        assert time.monotonic() - began < 30
        assert kernel.execute("1").status == "skipped"
    assert (tmp_path / "sub" / "data.txt").read_text() == "hello", "the submission folder was modified"


def test_serialize_hook_gives_verify_plain_data_in_both_modes(tmp_path):
    class Model:  # not plain data, like a Keras model
        def __init__(self, w):
            self.w = w

        def predict(self, x):
            return x * self.w

    seen = []
    check = FunctionCheck(cases=lambda: [Case("w=3", (3.0,))],
                          verify=lambda case, out: seen.append(out) or assert_close(
                              out["predictions"], np.arange(4.0) * 3, what="predictions", compared_with="3x",
                              tol=1e-12),
                          serialize=lambda model: {"predictions": model.predict(np.arange(4.0))})
    assert run_check(check, Model, "build") == 1
    with pytest.raises(CheckFailure, match="cannot read"):
        encode_plain(Model(3.0), {})
    arrays = {}
    tree = encode_plain(check.serialize(Model(3.0)), arrays)
    payload = {"check": "build", "records": [{"ok": True, "output": tree}], "npz": protocol.pack_arrays(arrays)}
    cases = export_check_inputs(check, "xx", "build", tmp_path)
    assert verify_recorded(check, cases, "build", payload, "def build(w): pass")[0]
    assert all(isinstance(s, dict) for s in seen)


@pytest.mark.slow
def test_keras_models_and_histories_travel_as_keras_files():
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    history = model.fit(np.ones((8, 4)), np.ones((8, 2)), epochs=2, verbose=0)
    arrays = {}
    tree = json.loads(json.dumps(encode_plain([model, history], arrays)))
    back_model, back_history = decode_plain(tree, arrays)
    x = np.arange(8.0).reshape(2, 4)
    np.testing.assert_allclose(back_model(x), model(x), rtol=1e-6)
    assert back_history.history["loss"] == history.history["loss"] and back_history.model is not None
    lam = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2)])
    arrays = {}
    tree = encode_plain(lam, arrays)
    with pytest.raises(CheckFailure, match="could not be loaded"):
        decode_plain(tree, arrays)


GRADER_THAT_DIES = """
import sys, time
from grader.sandbox import SandboxKernel

SandboxKernel.die_with_parent = {die_with_parent}
kernel = SandboxKernel(None, None)
kernel.start()
r = kernel.execute("import os; print('kernel', os.getpid())")
print("ready", kernel.proc.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "State:\tZ" not in f.read()
    except OSError:
        return False


def _descendants(pid: int) -> list:
    """Every process below ``pid`` (by /proc parent links), recorded while the grader lives."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@needs_bwrap
@pytest.mark.parametrize("die_with_parent", [True, False], ids=["with_bwrap_die_with_parent", "lifeline_alone"])
def test_no_sandbox_process_outlives_a_grader_killed_with_sigkill(die_with_parent):
    """kill -9 of the grader takes its kernel with it, even where bwrap's parent-death signal is not set."""
    import signal
    import subprocess
    import sys
    import time

    code = GRADER_THAT_DIES.format(die_with_parent=die_with_parent)
    grader = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    line = grader.stdout.readline()
    assert line.startswith("ready"), f"the kernel did not start: {line!r}"
    kernel_tree = _descendants(grader.pid)
    assert kernel_tree, "no kernel process found below the grader"
    os.killpg(grader.pid, signal.SIGKILL)  # the kernel is in its own session: only the lifeline reaches it
    grader.wait()
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in kernel_tree) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = [p for p in kernel_tree if _alive(p)]
    assert not survivors, f"kernel processes outlived the killed grader by 30 s: {survivors}"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can run a program as another user")
def test_runs_as_tells_whether_another_user_can_start_the_python():
    import tempfile

    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:  # /tmp: every user may traverse it
        tmp = Path(tmp)
        tmp.chmod(0o755)
        private = tmp / "private"
        private.mkdir(mode=0o700)
        (private / "python").symlink_to(sys.executable)
        assert not _runs_as(60123, str(private / "python"))  # a private parent folder, as /root is
        shutil.copy("/bin/true", tmp / "true")
        (tmp / "true").chmod(0o755)
        assert _runs_as(60123, str(tmp / "true"))
