"""Numeric gradients and relative errors, as in CS231n's ``gradient_check.py``.

Usage:
    >>> f = lambda W: loss(W, X, y, reg)[0]
    >>> grad_numeric = eval_numerical_gradient(f, W, verbose=False)
    >>> rel_error(grad_numeric, grad_analytic)   # ~1e-8 or smaller for smooth functions
"""

import numpy as np


def rel_error(x, y) -> float:
    """Returns the largest elementwise relative error ``|x - y| / max(1e-8, |x| + |y|)``.

    Args:
        x, y: arrays of the same shape (or scalars).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error needs equal shapes, got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(f, x: np.ndarray, verbose: bool = True, h: float = 1e-5) -> np.ndarray:
    """Centered-difference gradient of a scalar function ``f`` at ``x``.

    ``x`` is changed in place during the evaluation and restored afterwards.

    Args:
        f: function taking one array argument and returning a float.
        x: float64 array of any shape.
        verbose: print each coordinate's gradient.
        h: step of the centered difference.

    Returns:
        array of ``x``'s shape.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x: np.ndarray, df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Numeric gradient of ``sum(f(x) * df)`` with respect to ``x``, for array-valued ``f``.

    This is what a layer's backward pass computes for upstream gradient ``df``.

    Args:
        f: function taking ``x`` and returning an array of ``df``'s shape.
        x: float64 array of any shape (changed in place during the evaluation, then restored).
        df: upstream gradient, of ``f(x)``'s shape.
        h: step of the centered difference.

    Returns:
        array of ``x``'s shape.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def grad_check_sparse(f, x: np.ndarray, analytic_grad: np.ndarray, num_checks: int = 10,
                      h: float = 1e-5, seed: int = 0, verbose: bool = True) -> list[float]:
    """Compares numeric and analytic gradients at ``num_checks`` random coordinates.

    Args:
        f: scalar function of ``x``.
        x: float64 array (changed in place during the evaluation, then restored).
        analytic_grad: array of ``x``'s shape.
        num_checks: coordinates to check.
        h: step of the centered difference.
        seed: seed for picking coordinates.
        verbose: print one line per coordinate.

    Returns:
        the relative error at each checked coordinate.
    """
    if analytic_grad.shape != x.shape:
        raise ValueError(f"analytic_grad has shape {analytic_grad.shape}, x has {x.shape}")
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        numeric = (fxph - fxmh) / (2 * h)
        analytic = analytic_grad[ix]
        err = abs(numeric - analytic) / max(1e-8, abs(numeric) + abs(analytic))
        errors.append(float(err))
        if verbose:
            print(f"numerical: {numeric:f} analytic: {analytic:f}, relative error: {err:e}")
    return errors
