"""The hidden checks of 02_linear_classifiers pass the reference solution and reject typical mistakes."""

import numpy as np
import pytest

from course.asserts import CheckFailure
from grader.spec import load_checks
from grader.verify import run_check
from helpers import solution_namespace

CHECKS = load_checks("02_linear_classifiers")
SOLUTION = solution_namespace("02_linear_classifiers")


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_solution_passes_hidden_check(name):
    assert run_check(CHECKS[name], SOLUTION[name], name) > 0


# --------------------------------------------------------------------------- loss mutants


def svm_grad_without_reg(W, X, y, reg):
    loss, dW = SOLUTION["svm_loss_vectorized"](W, X, y, reg)
    return loss, dW - 2 * reg * W


def svm_loss_without_reg(W, X, y, reg):
    loss, dW = SOLUTION["svm_loss_vectorized"](W, X, y, reg)
    return loss - reg * np.sum(W * W), dW


def svm_half_reg(W, X, y, reg):
    loss, dW = SOLUTION["svm_loss_vectorized"](W, X, y, reg)
    return loss - 0.5 * reg * np.sum(W * W), dW - reg * W


def svm_sum_not_mean(W, X, y, reg):
    loss, dW = SOLUTION["svm_loss_vectorized"](W, X, y, 0.0)
    n = X.shape[0]
    return loss * n + reg * np.sum(W * W), dW * n + 2 * reg * W


def svm_counts_correct_class(W, X, y, reg):
    """Forgets to skip j == y_i: adds a margin of 1 per example."""
    n = X.shape[0]
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[np.arange(n), y][:, None] + 1.0)
    mask = (margins > 0).astype(float)
    mask[np.arange(n), y] -= mask.sum(axis=1)
    return margins.sum() / n + reg * np.sum(W * W), X.T @ mask / n + 2 * reg * W


def svm_no_correct_class_gradient(W, X, y, reg):
    n = X.shape[0]
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[np.arange(n), y][:, None] + 1.0)
    margins[np.arange(n), y] = 0
    return margins.sum() / n + reg * np.sum(W * W), X.T @ (margins > 0) / n + 2 * reg * W


def softmax_without_max_shift(W, X, y, reg):
    n = X.shape[0]
    with np.errstate(all="ignore"):
        e = np.exp(X @ W)
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(n), y])) + reg * np.sum(W * W)
        p[np.arange(n), y] -= 1
    return loss, X.T @ p / n + 2 * reg * W


def softmax_grad_without_reg(W, X, y, reg):
    loss, dW = SOLUTION["softmax_loss_vectorized"](W, X, y, reg)
    return loss, dW - 2 * reg * W


def softmax_forgets_minus_one(W, X, y, reg):
    n = X.shape[0]
    s = X @ W
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(n), y])) + reg * np.sum(W * W), X.T @ p / n + 2 * reg * W


def softmax_loss_only_dW_transposed_bias(W, X, y, reg):
    loss, dW = SOLUTION["softmax_loss_vectorized"](W, X, y, reg)
    dW = dW.copy()
    dW[-1] = 0.0  # forgets the bias row
    return loss, dW


def softmax_returns_loss_only(W, X, y, reg):
    return SOLUTION["softmax_loss_vectorized"](W, X, y, reg)[0]


# --------------------------------------------------------------------------- training and prediction mutants


def train_ignores_learning_rate(loss_fn, X, y, learning_rate=1e-3, reg=1e-5, num_iters=1000, batch_size=200, seed=0):
    return SOLUTION["train_linear_classifier"](loss_fn, X, y, 1e-3, reg, num_iters, batch_size, seed)


def train_gradient_ascent(loss_fn, X, y, learning_rate=1e-3, reg=1e-5, num_iters=1000, batch_size=200, seed=0):
    return SOLUTION["train_linear_classifier"](loss_fn, X, y, -learning_rate * 0.01, reg, num_iters, batch_size, seed)


def train_untrained(loss_fn, X, y, learning_rate=1e-3, reg=1e-5, num_iters=1000, batch_size=200, seed=0):
    W = 0.001 * np.random.default_rng(seed).standard_normal((X.shape[1], int(y.max()) + 1))
    return W, [float(loss_fn(W, X[:batch_size], y[:batch_size], reg)[0])] * num_iters


def train_short_history(loss_fn, X, y, learning_rate=1e-3, reg=1e-5, num_iters=1000, batch_size=200, seed=0):
    W, hist = SOLUTION["train_linear_classifier"](loss_fn, X, y, learning_rate, reg, num_iters, batch_size, seed)
    return W, hist[::10]


def predict_float(W, X):
    return np.argmax(X @ W, axis=1).astype(float)


def predict_argmin(W, X):
    return np.argmin(X @ W, axis=1)


def predict_wrong_axis(W, X):
    return np.argmax(X @ W, axis=0)


MUTANTS = {
    "svm_loss_naive": [svm_grad_without_reg, svm_loss_without_reg, svm_half_reg, svm_sum_not_mean,
                       svm_counts_correct_class, svm_no_correct_class_gradient],
    "svm_loss_vectorized": [svm_grad_without_reg, svm_loss_without_reg, svm_counts_correct_class,
                            SOLUTION["svm_loss_naive"]],
    "softmax_loss_naive": [softmax_without_max_shift, softmax_grad_without_reg, softmax_forgets_minus_one,
                           softmax_loss_only_dW_transposed_bias, softmax_returns_loss_only],
    "softmax_loss_vectorized": [softmax_without_max_shift, softmax_grad_without_reg, softmax_forgets_minus_one,
                                SOLUTION["softmax_loss_naive"]],
    "train_linear_classifier": [train_ignores_learning_rate, train_gradient_ascent, train_untrained,
                                train_short_history],
    "predict_linear": [predict_float, predict_argmin, predict_wrong_axis],
}


@pytest.mark.parametrize("name,mutant", [(n, m) for n, ms in MUTANTS.items() for m in ms],
                         ids=lambda v: getattr(v, "__name__", v))
def test_hidden_check_rejects_mistake(name, mutant):
    with pytest.raises(CheckFailure):
        run_check(CHECKS[name], mutant, name)


def test_missing_regularization_gradient_gets_its_hint():
    with pytest.raises(CheckFailure, match="misses the gradient of the regularization term"):
        run_check(CHECKS["svm_loss_vectorized"], svm_grad_without_reg, "svm_loss_vectorized")


def test_overflow_gets_the_max_shift_hint():
    with pytest.raises(CheckFailure, match="maximum"):
        run_check(CHECKS["softmax_loss_vectorized"], softmax_without_max_shift, "softmax_loss_vectorized")


def test_loop_in_vectorized_version_is_named():
    with pytest.raises(CheckFailure, match="contains a loop or comprehension"):
        run_check(CHECKS["softmax_loss_vectorized"], SOLUTION["softmax_loss_naive"], "softmax_loss_vectorized")
