import numpy as np
import pytest

from course.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, grad_check_sparse, rel_error


def test_rel_error_is_zero_for_equal_and_one_for_opposite():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error(np.array([1.0]), np.array([-1.0])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="equal shapes"):
        rel_error(np.ones(2), np.ones(3))


def test_numeric_gradient_of_quadratic_matches_analytic():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    x = rng.normal(size=(4,))
    before = x.copy()
    grad = eval_numerical_gradient(lambda v: v @ A @ v, x, verbose=False)
    assert rel_error(grad, (A + A.T) @ x) < 1e-8
    assert np.array_equal(x, before), "x must be restored"


def test_numeric_gradient_array_matches_upstream_product():
    rng = np.random.default_rng(1)
    x, W, dout = rng.normal(size=(3, 5)), rng.normal(size=(5, 2)), rng.normal(size=(3, 2))
    dx = eval_numerical_gradient_array(lambda v: v @ W, x, dout)
    assert rel_error(dx, dout @ W.T) < 1e-8


def test_sparse_check_reports_small_errors():
    x = np.random.default_rng(2).normal(size=(6, 3))
    errors = grad_check_sparse(lambda v: np.sum(v ** 3), x, 3 * x ** 2, num_checks=5, verbose=False)
    assert len(errors) == 5 and max(errors) < 1e-7
