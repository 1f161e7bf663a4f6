"""The hidden checks of 03_backprop pass the reference solution and reject typical mistakes."""

import numpy as np
import pytest

from course.asserts import CheckFailure
from grader.spec import load_checks
from grader.verify import run_check
from helpers import solution_namespace

CHECKS = load_checks("03_backprop")
SOLUTION = solution_namespace("03_backprop")
FAST = sorted(set(CHECKS) - {"train_two_layer_net"})


@pytest.mark.parametrize("name", FAST)
def test_solution_passes_hidden_check(name):
    assert run_check(CHECKS[name], SOLUTION[name], name) > 0


@pytest.mark.slow
def test_solution_passes_training_check():
    assert run_check(CHECKS["train_two_layer_net"], SOLUTION["train_two_layer_net"], "train_two_layer_net") > 0


def with_namespace(fn, **overrides):
    """Defines fn in a copy of the solution's namespace (so backward checks find the forward pass)."""
    namespace = dict(SOLUTION, SOLUTION=SOLUTION, **overrides)
    return type(fn)(fn.__code__, namespace, fn.__name__, fn.__defaults__)


# --------------------------------------------------------------------------- mutants


def neuron_without_bias_gradient(w, x):
    out, dw, dx = SOLUTION["sigmoid_neuron"](w, x)
    return out, np.array([dw[0], dw[1], 0.0]), dx


def neuron_no_swap(w, x):
    out, dw, dx = SOLUTION["sigmoid_neuron"](w, x)
    return out, np.array([dx[0], dx[1], dw[2]]), dw[:2]


def affine_forward_no_bias(x, w, b):
    return x.reshape(x.shape[0], -1) @ w, (x, w, b)


def affine_backward_flat_dx(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)


def affine_backward_mean_db(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.mean(axis=0)


def relu_forward_abs(x):
    return np.abs(x), x


def relu_backward_leaky_gradient(dout, cache):
    """Lets the gradient through at x < 0 whenever dout is positive (ReLU applied to dout)."""
    return np.maximum(0, dout)


def relu_backward_identity(dout, cache):
    return dout


def sigmoid_forward_tanh(x):
    return np.tanh(x), np.tanh(x)


def sigmoid_backward_on_input(dout, cache):
    """Uses the formula s(1 - s) on the cached output as if it were the input."""
    s = 1 / (1 + np.exp(-cache))
    return dout * s * (1 - s)


def softmax_without_max_shift(scores, y):
    N = scores.shape[0]
    with np.errstate(all="ignore"):
        e = np.exp(scores)
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(N), y]))
        p[np.arange(N), y] -= 1
    return loss, p / N


def softmax_dscores_not_divided(scores, y):
    loss, d = SOLUTION["softmax_loss"](scores, y)
    return loss, d * scores.shape[0]


def svm_counts_correct_class(scores, y):
    N = scores.shape[0]
    margins = np.maximum(0, scores - scores[np.arange(N), y][:, None] + 1)
    d = (margins > 0).astype(float)
    d[np.arange(N), y] -= d.sum(axis=1)
    return margins.sum() / N, d / N


def svm_sum_not_mean(scores, y):
    loss, d = SOLUTION["svm_loss"](scores, y)
    return loss * scores.shape[0], d * scores.shape[0]


def net_without_reg_gradient(params, X, y=None, reg=0.0):
    out = SOLUTION["two_layer_net"](params, X, y, reg)
    if y is None:
        return out
    loss, grads = out
    return loss, dict(grads, W1=grads["W1"] - 2 * reg * params["W1"], W2=grads["W2"] - 2 * reg * params["W2"])


def net_regularizes_biases(params, X, y=None, reg=0.0):
    out = SOLUTION["two_layer_net"](params, X, y, reg)
    if y is None:
        return out
    loss, grads = out
    return (loss + reg * (np.sum(params["b1"] ** 2) + np.sum(params["b2"] ** 2)),
            dict(grads, b1=grads["b1"] + 2 * reg * params["b1"], b2=grads["b2"] + 2 * reg * params["b2"]))


def net_scores_are_probabilities(params, X, y=None, reg=0.0):
    out = SOLUTION["two_layer_net"](params, X, y, reg)
    if y is not None:
        return out
    e = np.exp(out - out.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def train_untrained(X, y, X_val, y_val, hidden_size, learning_rate, reg, num_epochs, batch_size, seed=0):
    return SOLUTION["train_two_layer_net"](X, y, X_val, y_val, hidden_size, 0.0, reg, num_epochs, batch_size, seed)


def train_one_epoch(X, y, X_val, y_val, hidden_size, learning_rate, reg, num_epochs, batch_size, seed=0):
    params, hist = SOLUTION["train_two_layer_net"](X, y, X_val, y_val, hidden_size, learning_rate / 10, reg, 1,
                                                   batch_size, seed)
    return params, {k: v * num_epochs if k != "loss" else v for k, v in hist.items()}


MUTANTS = {
    "sigmoid_neuron": [neuron_without_bias_gradient, neuron_no_swap],
    "affine_forward": [affine_forward_no_bias],
    "affine_backward": [affine_backward_flat_dx, affine_backward_mean_db],
    "relu_forward": [relu_forward_abs],
    "relu_backward": [relu_backward_leaky_gradient, relu_backward_identity],
    "sigmoid_forward": [sigmoid_forward_tanh],
    "sigmoid_backward": [sigmoid_backward_on_input],
    "softmax_loss": [softmax_without_max_shift, softmax_dscores_not_divided],
    "svm_loss": [svm_counts_correct_class, svm_sum_not_mean],
    "two_layer_net": [net_without_reg_gradient, net_regularizes_biases, net_scores_are_probabilities],
}


@pytest.mark.parametrize("name,mutant", [(n, m) for n, ms in MUTANTS.items() for m in ms],
                         ids=lambda v: getattr(v, "__name__", v))
def test_hidden_check_rejects_mistake(name, mutant):
    with pytest.raises(CheckFailure):
        run_check(CHECKS[name], with_namespace(mutant), name)


@pytest.mark.slow
@pytest.mark.parametrize("mutant", [train_untrained, train_one_epoch], ids=lambda m: m.__name__)
def test_training_check_rejects_broken_training(mutant):
    with pytest.raises(CheckFailure):
        run_check(CHECKS["train_two_layer_net"], mutant, "train_two_layer_net")


def test_backward_check_uses_the_students_forward():
    """A backward pass is called on the cache of the forward pass defined next to it."""
    def forward_caching_output(x):
        return np.maximum(0, x), np.maximum(0, x)

    def relu_backward(dout, cache):
        return dout * (cache > 0)

    run_check(CHECKS["relu_backward"], with_namespace(relu_backward, relu_forward=forward_caching_output),
              "relu_backward")


def test_relu_leak_gets_the_routing_hint():
    with pytest.raises(CheckFailure, match="only where x > 0"):
        run_check(CHECKS["relu_backward"], with_namespace(relu_backward_leaky_gradient), "relu_backward")


def test_overflow_gets_the_max_shift_hint():
    with pytest.raises(CheckFailure, match="maximum"):
        run_check(CHECKS["softmax_loss"], with_namespace(softmax_without_max_shift), "softmax_loss")
