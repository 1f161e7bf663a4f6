"""The engine's verdicts: which function a test tests, and visible tests confirmed outside the kernel."""

import pytest

from grader import merge
from grader.engine import Verdict, _confirm_visible
from grader.merge import answer_ids, is_hidden_test, is_test_cell, nbgrader_meta
from grader.notebooks import read_notebook
from helpers import LAYOUT

FUNCTIONS = ["relu_forward", "relu_forward_fast", "conv", "conv_backward"]


@pytest.mark.parametrize("grade_id, function", [
    ("relu_forward", "relu_forward"),  # the grade_id is the function's name
    ("relu_forward_matches_tf", "relu_forward"),
    ("relu_forward_fast_matches_tf", "relu_forward_fast"),  # the longest name wins
    ("conv_backward_shapes", "conv_backward"),
    ("conv_shapes", "conv"),
    ("convolution_shapes", None),  # a prefix must end at an underscore
    ("relu_forwardx", None),
    ("", None),
])
def test_a_test_is_tied_to_the_function_its_grade_id_starts_with(grade_id, function):
    assert merge.tested_function(grade_id, FUNCTIONS) == function


def _verdicts(hidden_status: str, visible_status: str = "pass"):
    return [Verdict("nb", "conv_shapes", 1.0, visible_status, "visible"),
            Verdict("nb", "conv_matches_tf", 3.0, hidden_status, "hidden"),
            Verdict("nb", "relu_forward_by_hand", 1.0, "pass", "visible")]


def test_a_visible_test_counts_only_when_its_function_passed_its_hidden_test():
    tests = _verdicts("fail")
    _confirm_visible(tests, FUNCTIONS)
    assert [t.status for t in tests] == ["fail", "fail", "fail"]
    assert "conv failed its hidden test (conv_matches_tf)" in tests[0].message
    assert "no hidden test confirms" in tests[2].message

    tests = _verdicts("pass")
    _confirm_visible(tests, FUNCTIONS)
    assert [t.status for t in tests[:2]] == ["pass", "pass"] and tests[0].score == 1.0


def test_a_visible_test_that_failed_stays_failed_whatever_the_hidden_one_says():
    tests = _verdicts("pass", visible_status="fail")
    tests[0].message = "NameError: conv"
    _confirm_visible(tests, FUNCTIONS)
    assert tests[0].status == "fail" and tests[0].message == "NameError: conv"


@pytest.mark.parametrize("aid", LAYOUT.assignment_ids())
def test_every_visible_test_has_a_hidden_test_of_its_function_to_confirm_it(aid):
    for path in LAYOUT.source_notebooks(aid):
        nb = read_notebook(path)
        functions = answer_ids(nb)
        tests = [c for c in nb.cells if is_test_cell(c)]
        with_hidden = {merge.tested_function(nbgrader_meta(c)["grade_id"], functions)
                       for c in tests if is_hidden_test(c.source)}
        for cell in tests:
            gid = nbgrader_meta(cell)["grade_id"]
            function = merge.tested_function(gid, functions)
            assert function is not None, f"{path.name}: test {gid} names no graded function ({functions})"
            assert function in with_hidden, f"{path.name}: {function} has no hidden test to confirm {gid}"


def test_grading_kernel_records_no_results():
    """course.results.record is a no-op while grading: its file would be outside the sandbox."""
    from course import protocol
    from grader.engine import _kernel_env

    class Settings:
        profile = "quick"
        threads = None

    assert _kernel_env(Settings(), None)[protocol.RESULTS_FILE_ENV] == ""


def test_a_grading_kernel_gets_its_share_of_the_cores():
    """Two workers on 2 cores: each kernel's NumPy and TensorFlow use 1 thread; unset, the libraries choose."""
    from grader.autograde import kernel_threads
    from grader.engine import _kernel_env

    class Settings:
        profile = "quick"
        threads = kernel_threads(workers=2, cores=2)

    env = _kernel_env(Settings(), None)
    assert [env[k] for k in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")] == ["1"] * 3
    assert kernel_threads(workers=1, cores=2) == 2 and kernel_threads(workers=3, cores=2) == 1
    Settings.threads = None
    assert "TF_NUM_INTRAOP_THREADS" not in _kernel_env(Settings(), None)
