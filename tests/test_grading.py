import numpy as np
import pytest

from course.asserts import CheckFailure, assert_close, assert_equal, assert_shape
from course.grading import run_hidden_check
from course.protocol import Case
from grader.spec import FunctionCheck, load_checks
from grader.verify import run_check


def test_assert_close_message_says_what_error_target_and_hint():
    with pytest.raises(CheckFailure) as info:
        assert_close([1.0, 2.0], [1.0, 2.5], what="dW", compared_with="tf.GradientTape", tol=1e-8, hint="look at reg")
    message = str(info.value)
    for part in ("dW", "tf.GradientTape", "relative error 1.11e-01", "target < 1e-08", "index (1,)",
                 "Hint: look at reg"):
        assert part in message


def test_assert_close_reports_shape_nan_and_none():
    with pytest.raises(CheckFailure, match=r"expected shape \(2, 3\), got \(3, 2\)"):
        assert_close(np.zeros((3, 2)), np.zeros((2, 3)), what="x", compared_with="y", tol=1e-8)
    with pytest.raises(CheckFailure, match="1 of 2 values are NaN"):
        assert_close([np.nan, 1.0], [1.0, 1.0], what="x", compared_with="y", tol=1e-8)
    with pytest.raises(CheckFailure, match="got None. Did you forget to return"):
        assert_close(None, [1.0], what="x", compared_with="y", tol=1e-8)


def test_assert_close_atol_forgives_round_off_near_zero():
    assert_close([1e-9, 1.0], [0.0, 1.0], what="d", compared_with="ref", tol=1e-8, atol=1e-6)
    with pytest.raises(CheckFailure):
        assert_close([1e-9, 1.0], [0.0, 1.0], what="d", compared_with="ref", tol=1e-8)


def test_assert_close_compares_scalars():
    assert assert_close(4.375, 4.375, what="loss", compared_with="by hand", tol=1e-12) == 0.0
    with pytest.raises(CheckFailure, match="loss: compared with by hand, relative error"):
        assert_close(4.0, 4.375, what="loss", compared_with="by hand", tol=1e-12)


def test_assert_equal_and_shape():
    assert_equal([1, 2, 3], np.array([1, 2, 3]), what="labels", compared_with="ref")
    with pytest.raises(CheckFailure, match=r"1 of 3 entries differ .* \[2\] got 4 expected 3"):
        assert_equal([1, 2, 4], [1, 2, 3], what="labels", compared_with="ref")
    with pytest.raises(CheckFailure, match="expected shape"):
        assert_shape(np.zeros(3), (1, 3), "x")


def _double_check():
    return FunctionCheck(
        cases=lambda: [Case("two numbers", (np.array([1.0, 2.0]),)), Case("empty", (np.array([]),))],
        verify=lambda case, out: assert_close(out, 2 * case.args[0], what="out", compared_with="2x", tol=1e-12))


def test_run_check_passes_correct_and_names_the_failing_case():
    assert run_check(_double_check(), lambda x: 2 * x, "double") == 2
    with pytest.raises(CheckFailure, match="double on two numbers: out: compared with 2x"):
        run_check(_double_check(), lambda x: 3 * x, "double")


def test_run_check_turns_student_errors_into_verdicts():
    def not_done(x):
        raise NotImplementedError()

    def crashes(x):
        return x[10]

    with pytest.raises(CheckFailure, match="double is not implemented yet"):
        run_check(_double_check(), not_done, "double")
    with pytest.raises(CheckFailure, match="double raised IndexError.* on two numbers"):
        run_check(_double_check(), crashes, "double")
    with pytest.raises(CheckFailure, match="double is not a function"):
        run_check(_double_check(), 42, "double")


def test_student_cannot_change_the_grader_inputs():
    seen = []

    def mutating(x):
        x[:] = 0.0
        return 2 * x

    check = FunctionCheck(cases=lambda: [Case("one", (np.array([1.0]),))],
                          verify=lambda case, out: seen.append(case.args[0].copy()))
    run_check(check, mutating, "f")
    assert seen[0][0] == 1.0


def test_source_rules_see_the_function_source():
    def rule(source):
        if "for " in source:
            raise CheckFailure("no loops please")

    check = FunctionCheck(cases=lambda: [], verify=lambda c, o: None, source_rules=rule)

    def looping(x):
        for _ in range(2):
            pass

    with pytest.raises(CheckFailure, match="no loops please"):
        run_check(check, looping, "f")


def test_hidden_checks_are_not_available_without_the_autograder(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CHECKS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="run when your instructor autogrades"):
        load_checks("01_knn")


def test_hidden_failure_hides_the_check_code():
    with pytest.raises(CheckFailure) as info:
        run_hidden_check("01_knn", "compute_distances_two_loops", lambda X_train, X: np.zeros((1, 1)))
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "cdist(" not in str(info.value) or "scipy.spatial.distance.cdist(metric" in str(info.value)
