"""The hidden checks of 04_cnn_layers pass the reference solution and reject typical mistakes."""

import numpy as np
import pytest

from course.asserts import CheckFailure
from grader.spec import load_checks
from grader.verify import run_check
from helpers import solution_namespace

CHECKS = load_checks("04_cnn_layers")
SOLUTION = solution_namespace("04_cnn_layers")


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_solution_passes_hidden_check(name):
    assert run_check(CHECKS[name], SOLUTION[name], name) > 0


def mutant(source: str, name: str, extra: dict | None = None):
    """Defines a mistaken version of a graded function in a copy of the solution's namespace."""
    namespace = {**SOLUTION, **(extra or {})}
    import linecache

    filename = f"<mutant {name} {abs(hash(source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


# --------------------------------------------------------------------------- geometry

def size_float(input_size, filter_size, stride=1, pad=0):
    return (input_size - filter_size + 2 * pad) / stride + 1


def size_no_error(input_size, filter_size, stride=1, pad=0):
    return (input_size - filter_size + 2 * pad) // stride + 1


def size_vague_error(input_size, filter_size, stride=1, pad=0):
    span = input_size - filter_size + 2 * pad
    if span < 0 or span % stride:
        raise ValueError("invalid convolution settings")
    return span // stride + 1


def size_no_fit_check(input_size, filter_size, stride=1, pad=0):
    span = input_size - filter_size + 2 * pad
    if span % stride:
        raise ValueError(f"W={input_size} F={filter_size} S={stride} P={pad}")
    return span // stride + 1


def size_pad_once(input_size, filter_size, stride=1, pad=0):
    return (input_size - filter_size + pad) // stride + 1


def count_no_bias(filter_size, in_channels, num_filters):
    return filter_size * filter_size * in_channels * num_filters


def count_no_depth(filter_size, in_channels, num_filters):
    return filter_size * filter_size * num_filters + num_filters


# --------------------------------------------------------------------------- convolution

CONV_PAD_ONE_SIDE = mutant('''
def conv_forward_pad_one_side(x, w, b, stride=1, pad=0):
    N, H, W, C = x.shape
    F, _, _, K = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 2 * pad), (0, 2 * pad), (0, 0)))
    H_out = (H - F + 2 * pad) // stride + 1
    W_out = (W - F + 2 * pad) // stride + 1
    out = np.zeros((N, H_out, W_out, K))
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                win = x_pad[n, i * stride:i * stride + F, j * stride:j * stride + F, :]
                out[n, i, j] = np.tensordot(win, w, axes=3) + b
    return out, (x, w, b, stride, pad)
''', "conv_forward_pad_one_side")

CONV_FLIPPED = mutant('''
def conv_forward_flipped(x, w, b, stride=1, pad=0):
    return conv_forward_naive(x, w[::-1, ::-1], b, stride, pad)
''', "conv_forward_flipped")

CONV_NO_BIAS = mutant('''
def conv_forward_no_bias(x, w, b, stride=1, pad=0):
    out, cache = conv_forward_naive(x, w, b, stride, pad)
    return out - b, cache
''', "conv_forward_no_bias")

CONV_WITH_TF = mutant('''
def conv_forward_tf(x, w, b, stride=1, pad=0):
    import tensorflow as tf
    out = tf.nn.conv2d(x, w, strides=stride, padding=[[0, 0], [pad, pad], [pad, pad], [0, 0]]).numpy() + b
    return out, (x, w, b, stride, pad)
''', "conv_forward_tf")

BACKWARD_KEEPS_PAD = mutant('''
def conv_backward_keeps_pad(dout, cache):
    x, w, b, stride, pad = cache
    dx, dw, db = conv_backward_naive(dout, cache)
    # Forgets that padded zeros get no gradient: crops the wrong corner.
    x_pad = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dx_pad = np.zeros_like(x_pad)
    dx_pad[:, pad:pad + x.shape[1], pad:pad + x.shape[2]] = dx
    return dx_pad[:, :x.shape[1], :x.shape[2]], dw, db
''', "conv_backward_keeps_pad")

BACKWARD_DB_MEAN = mutant('''
def conv_backward_db_mean(dout, cache):
    dx, dw, db = conv_backward_naive(dout, cache)
    return dx, dw, dout.mean(axis=(0, 1, 2))
''', "conv_backward_db_mean")

BACKWARD_DX_ASSIGN = mutant('''
def conv_backward_dx_assign(dout, cache):
    x, w, b, stride, pad = cache
    _, dw, db = conv_backward_naive(dout, cache)
    N, H, W, C = x.shape
    F = w.shape[0]
    dx_pad = np.zeros((N, H + 2 * pad, W + 2 * pad, C))
    for n in range(N):
        for i in range(dout.shape[1]):
            for j in range(dout.shape[2]):
                dx_pad[n, i * stride:i * stride + F, j * stride:j * stride + F] = w @ dout[n, i, j]
    return dx_pad[:, pad:pad + H, pad:pad + W], dw, db
''', "conv_backward_dx_assign")

# --------------------------------------------------------------------------- pooling

POOL_AVERAGE = mutant('''
def max_pool_average(x, pool_size=2, stride=2):
    N, H, W, C = x.shape
    Ho, Wo = (H - pool_size) // stride + 1, (W - pool_size) // stride + 1
    out = np.zeros((N, Ho, Wo, C))
    for i in range(Ho):
        for j in range(Wo):
            out[:, i, j] = x[:, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size].mean(axis=(1, 2))
    return out, (x, pool_size, stride)
''', "max_pool_average")

POOL_OVER_CHANNELS = mutant('''
def max_pool_over_channels(x, pool_size=2, stride=2):
    out, cache = max_pool_forward_naive(x, pool_size, stride)
    return np.repeat(out.max(axis=-1, keepdims=True), x.shape[-1], axis=-1), cache
''', "max_pool_over_channels")

POOL_BACKWARD_EVERYWHERE = mutant('''
def max_pool_backward_everywhere(dout, cache):
    x, pool_size, stride = cache
    dx = np.zeros_like(x)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            dx[:, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size] += dout[:, i:i + 1, j:j + 1]
    return dx
''', "max_pool_backward_everywhere")

POOL_BACKWARD_ASSIGN = mutant('''
def max_pool_backward_assign(dout, cache):
    x, pool_size, stride = cache
    dx = np.zeros_like(x)
    N, Ho, Wo, C = dout.shape
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                hs, ws = i * stride, j * stride
                win = x[n, hs:hs + pool_size, ws:ws + pool_size].reshape(-1, C)
                r, c = np.unravel_index(np.argmax(win, axis=0), (pool_size, pool_size))
                dx[n, hs + r, ws + c, np.arange(C)] = dout[n, i, j]
    return dx
''', "max_pool_backward_assign")

# --------------------------------------------------------------------------- im2col

IM2COL_CHANNELS_FIRST = mutant('''
def im2col_channels_first(x, filter_size, stride=1, pad=0):
    cols = im2col(x, filter_size, stride, pad)
    C = x.shape[-1]
    return cols.reshape(-1, filter_size, filter_size, C).transpose(0, 3, 1, 2).reshape(cols.shape)
''', "im2col_channels_first")

IM2COL_NO_PAD = mutant('''
def im2col_no_pad(x, filter_size, stride=1, pad=0):
    cols = im2col(np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0))), filter_size, stride, 0)
    return cols[::-1]
''', "im2col_no_pad")

FORWARD_IM2COL_WITH_NAIVE = mutant('''
def conv_forward_im2col_naive(x, w, b, stride=1, pad=0):
    out, _ = conv_forward_naive(x, w, b, stride, pad)
    return out, (x, w, b, stride, pad, im2col(x, w.shape[0], stride, pad))
''', "conv_forward_im2col_naive")

FORWARD_IM2COL_LOOP = mutant('''
def conv_forward_im2col_loop(x, w, b, stride=1, pad=0):
    cols = im2col(x, w.shape[0], stride, pad)
    K = w.shape[-1]
    out = np.zeros((cols.shape[0], K))
    for k in range(K):
        out[:, k] = cols @ w.reshape(-1, K)[:, k] + b[k]
    N, H, W, C = x.shape
    Ho, Wo = (H - w.shape[0] + 2 * pad) // stride + 1, (W - w.shape[0] + 2 * pad) // stride + 1
    return out.reshape(N, Ho, Wo, K), (x, w, b, stride, pad, cols)
''', "conv_forward_im2col_loop")

FORWARD_IM2COL_WRONG_RESHAPE = mutant('''
def conv_forward_im2col_transposed(x, w, b, stride=1, pad=0):
    out, cache = conv_forward_im2col(x, w, b, stride, pad)
    return out.transpose(0, 2, 1, 3).reshape(out.shape), cache
''', "conv_forward_im2col_transposed")

BACKWARD_IM2COL_NO_ACCUMULATE = mutant('''
def conv_backward_im2col_assign(dout, cache):
    x, w, b, stride, pad, cols = cache
    N, H, W, C = x.shape
    F, _, _, K = w.shape
    _, Ho, Wo, _ = dout.shape
    dmat = dout.reshape(-1, K)
    dcols = (dmat @ w.reshape(-1, K).T).reshape(N, Ho, Wo, F, F, C)
    dx_pad = np.zeros((N, H + 2 * pad, W + 2 * pad, C))
    for p in range(F):
        for q in range(F):
            dx_pad[:, p:p + stride * Ho:stride, q:q + stride * Wo:stride] = dcols[:, :, :, p, q]
    return dx_pad[:, pad:pad + H, pad:pad + W], (cols.T @ dmat).reshape(w.shape), dmat.sum(axis=0)
''', "conv_backward_im2col_assign")

BACKWARD_IM2COL_DW_TRANSPOSED = mutant('''
def conv_backward_im2col_dw(dout, cache):
    dx, dw, db = conv_backward_im2col(dout, cache)
    return dx, dw.transpose(1, 0, 2, 3), db
''', "conv_backward_im2col_dw")

MUTANTS = {
    "conv_output_size": [size_float, size_no_error, size_vague_error, size_no_fit_check, size_pad_once],
    "conv_param_count": [count_no_bias, count_no_depth],
    "conv_forward_naive": [CONV_PAD_ONE_SIDE, CONV_FLIPPED, CONV_NO_BIAS, CONV_WITH_TF],
    "conv_backward_naive": [BACKWARD_KEEPS_PAD, BACKWARD_DB_MEAN, BACKWARD_DX_ASSIGN],
    "max_pool_forward_naive": [POOL_AVERAGE, POOL_OVER_CHANNELS],
    "max_pool_backward_naive": [POOL_BACKWARD_EVERYWHERE, POOL_BACKWARD_ASSIGN],
    "im2col": [IM2COL_CHANNELS_FIRST, IM2COL_NO_PAD],
    "conv_forward_im2col": [FORWARD_IM2COL_WITH_NAIVE, FORWARD_IM2COL_LOOP, FORWARD_IM2COL_WRONG_RESHAPE],
    "conv_backward_im2col": [BACKWARD_IM2COL_NO_ACCUMULATE, BACKWARD_IM2COL_DW_TRANSPOSED],
}


@pytest.mark.parametrize("name,mistake", [(n, m) for n, ms in MUTANTS.items() for m in ms],
                         ids=lambda v: getattr(v, "__name__", v))
def test_hidden_check_rejects_mistake(name, mistake):
    with pytest.raises(CheckFailure):
        run_check(CHECKS[name], mistake, name)


def test_one_sided_padding_gets_a_pointed_hint():
    with pytest.raises(CheckFailure, match="bottom and right only"):
        run_check(CHECKS["conv_forward_naive"], CONV_PAD_ONE_SIDE, "conv_forward_naive")


def test_pool_gradient_everywhere_gets_a_pointed_hint():
    with pytest.raises(CheckFailure, match="more elements than the maxima"):
        run_check(CHECKS["max_pool_backward_naive"], POOL_BACKWARD_EVERYWHERE, "max_pool_backward_naive")


def test_backward_uses_the_students_forward():
    """A backward pass is checked on the cache of the student's own forward pass."""
    def backward_without_forward(dout, cache):
        return SOLUTION["conv_backward_naive"](dout, cache)

    with pytest.raises(CheckFailure, match="conv_forward_naive is not defined"):
        run_check(CHECKS["conv_backward_naive"], backward_without_forward, "conv_backward_naive")


def test_channels_first_im2col_gets_a_pointed_hint():
    with pytest.raises(CheckFailure, match=r"\(c, p, q\) order"):
        run_check(CHECKS["im2col"], IM2COL_CHANNELS_FIRST, "im2col")


def test_solution_layers_agree_with_each_other():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 9, 8, 3)), rng.normal(size=(3, 3, 3, 4)), rng.normal(size=(4,))
    naive, _ = SOLUTION["conv_forward_naive"](x, w, b, stride=2, pad=1)
    fast, _ = SOLUTION["conv_forward_im2col"](x, w, b, stride=2, pad=1)
    assert np.allclose(naive, fast, rtol=1e-12, atol=1e-12)
