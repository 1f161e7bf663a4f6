"""Hidden checks of 04_cnn_layers: grader-chosen inputs and independent references (TensorFlow, float64).

Each entry of ``CHECKS`` is a ``FunctionCheck`` run by ``course.grading.run_hidden_check``.
References: ``tf.nn.conv2d`` with explicit padding, ``tf.nn.max_pool2d``, ``tf.image.extract_patches``
and ``tf.GradientTape``, all in float64.
Tolerances:
- conv and pool outputs and gradients: relative error 1e-8 per entry (both sides compute the same
  float64 sums in another order: round-off is ~1e-15), entries within 1e-10 of each other count as
  equal (outputs are O(1); near-zero entries would otherwise give large relative errors);
- im2col copies numbers: compared exactly (tolerance 0);
- sizes and parameter counts are integers, compared exactly.
The backward checks build the cache with the student's own forward function (taken from the
namespace of the backward function, i.e. the notebook), as the notebook's gradient checks do.
"""

import re

import numpy as np

from course.asserts import CheckFailure, assert_close, assert_equal, assert_shape, assert_true
from grader.source_rules import loop_nodes, names_used, parse_function
from grader.spec import Case, FunctionCheck

TOL = 1e-8
ATOL = 1e-10


def _tf():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


# --------------------------------------------------------------------------- source rules


FRAMEWORKS = {"tf", "tensorflow", "keras", "torch", "scipy", "jax", "conv2d", "max_pool2d", "extract_patches",
              "correlate", "convolve", "correlate2d", "convolve2d"}


def _rules(forbidden: set, what: str, no_loops: bool = False, must_use: str | None = None):
    def rule(source: str) -> None:
        tree = parse_function(source)
        used = sorted(names_used(tree) & forbidden)
        assert_true(not used, f"the function uses {', '.join(used)}, which does the exercise for you",
                    hint=f"write {what} with NumPy operations")
        if no_loops:
            loops = loop_nodes(tree)
            assert_true(not loops, f"the function contains a loop or comprehension (line {loops[0].lineno} of the "
                                   "function)" if loops else "",
                        hint="call im2col (the loops live there), then one matrix product and a reshape")
        if must_use:
            assert_true(must_use in names_used(tree), f"the function does not call {must_use}",
                        hint=f"the exercise is to build the layer on {must_use}")
    return rule


# --------------------------------------------------------------------------- geometry


def _size_cases() -> list:
    valid = [((7, 3, 1, 0), "7-wide input, 3-wide filter, stride 1"),
             ((7, 3, 2, 0), "7-wide input, 3-wide filter, stride 2"),
             ((227, 11, 4, 0), "AlexNet's first layer"),
             ((28, 3, 1, 1), "'same' padding with a 3-wide filter"),
             ((5, 5, 1, 2), "'same' padding with a 5-wide filter"),
             ((1, 1, 1, 0), "a 1x1 input and filter"),
             ((4, 3, 1, 3), "padding larger than half the filter"),
             ((6, 8, 2, 1), "a filter as large as the padded input")]
    invalid = [((7, 3, 3, 0), "stride 3 on a 7-wide input with a 3-wide filter (not a whole number)"),
               ((10, 3, 2, 0), "stride 2 that does not divide W - F + 2P"),
               ((32, 5, 2, 2), "padding 2 and stride 2 on 32 pixels (not a whole number)"),
               ((224, 7, 2, 3), "stride 2 and padding 3 on 224 pixels with a 7-wide filter"),
               ((3, 5, 1, 0), "a filter larger than the input (W - F + 2P < 0)"),
               ((4, 5, 1, 0), "a filter one pixel wider than the input, stride 1 (W - F + 2P = -1)"),
               ((2, 7, 1, 1), "a filter larger than the padded input")]
    cases = [Case(f"{label}", args, {"expect_error": False}) for args, label in valid]
    cases += [Case(f"an impossible setting: {label}", args, {"expect_error": True}) for args, label in invalid]
    return cases


def _call_size(fn, case: Case):
    try:
        return ("value", fn(*case.args))
    except ValueError as exc:
        return ("ValueError", str(exc))


def _verify_size(case: Case, out) -> None:
    W, F, S, P = case.args
    kind, value = out
    if case.kwargs["expect_error"]:
        assert_true(kind == "ValueError", f"returned {value!r} instead of raising ValueError",
                    hint="(W - F + 2P) / S + 1 must be a whole number and W - F + 2P must not be negative; "
                         "raise ValueError otherwise")
        numbers = set(re.findall(r"-?\d+", value))
        missing = [name for name, v in (("W", W), ("F", F), ("S", S)) if str(v) not in numbers]
        assert_true(not missing, f"the ValueError message does not quote {', '.join(missing)}: {value!r}",
                    hint="quote the numbers, e.g. f\"... (W={W}, F={F}, S={S}, P={P})\" with your variables")
        return
    assert_true(kind == "value", f"raised ValueError ({value}) on a valid setting",
                hint="only refuse a setting when the division is not exact or the filter does not fit")
    assert_true(isinstance(value, (int, np.integer)) and not isinstance(value, bool),
                f"returned {type(value).__name__} {value!r}, expected an int",
                hint="return an int: use // once you know the division is exact")
    assert_equal(value, (W - F + 2 * P) // S + 1, what="the output size", compared_with="(W - F + 2P) / S + 1")


def _count_cases() -> list:
    return [Case(label, args) for args, label in [
        ((3, 3, 64), "3x3 filters on 3 channels, 64 filters"),
        ((11, 3, 96), "AlexNet's first layer"),
        ((1, 256, 64), "a 1x1 convolution"),
        ((7, 1, 1), "a single 7x7 filter on one channel"),
        ((5, 16, 120), "LeNet's third conv layer")]]


def _verify_count(case: Case, out) -> None:
    F, D, K = case.args
    assert_true(isinstance(out, (int, np.integer)) and not isinstance(out, bool),
                f"returned {type(out).__name__} {out!r}, expected an int")
    assert_equal(out, (F * F * D) * K + K, what="the parameter count", compared_with="(F*F*D)*K + K",
                 hint="each of the K filters has F*F*D weights and one bias")


# --------------------------------------------------------------------------- convolution

# (N, H, W, C, F, K, stride, pad, label)
CONV_SHAPES = [
    (2, 7, 7, 3, 3, 4, 1, 0, "2 images 7x7x3, 4 filters 3x3, stride 1, no padding"),
    (3, 8, 8, 2, 3, 5, 2, 1, "3 images 8x8x2, 5 filters 3x3, stride 2, padding 1"),
    (1, 9, 7, 3, 3, 2, 2, 0, "a non-square 9x7x3 image, stride 2, no padding"),
    (2, 5, 5, 1, 5, 3, 1, 2, "2 images 5x5x1, 5x5 filters with 'same' padding 2"),
    (2, 6, 6, 4, 1, 3, 1, 0, "1x1 filters on 4 channels"),
    (1, 12, 12, 3, 5, 2, 3, 1, "12x12x3, 5x5 filters, stride 3, padding 1"),
    (2, 4, 4, 2, 3, 2, 1, 3, "4x4x2, padding 3 (more than half the filter)"),
    (1, 6, 8, 2, 2, 3, 2, 1, "a non-square 6x8 image, 2x2 filters, stride 2, padding 1"),
]


def _conv_inputs(seed: int = 4):
    rng = np.random.default_rng(seed)
    out = []
    for N, H, W, C, F, K, S, P, label in CONV_SHAPES:
        x, w, b = rng.normal(size=(N, H, W, C)), rng.normal(size=(F, F, C, K)), rng.normal(size=(K,))
        H_out, W_out = (H - F + 2 * P) // S + 1, (W - F + 2 * P) // S + 1
        dout = rng.normal(size=(N, H_out, W_out, K))
        out.append((x, w, b, S, P, dout, label))
    return out


def tf_conv(x, w, b, stride, pad):
    """Reference forward: tf.nn.conv2d with explicit symmetric padding, plus bias."""
    tf = _tf()
    y = tf.nn.conv2d(tf.constant(x, tf.float64), tf.constant(w, tf.float64), strides=stride,
                     padding=[[0, 0], [pad, pad], [pad, pad], [0, 0]])
    return (y + tf.constant(b, tf.float64)).numpy()


def tf_conv_grads(x, w, b, stride, pad, dout):
    """Reference gradients of sum(conv(x, w, b) * dout) with tf.GradientTape."""
    tf = _tf()
    xv, wv, bv = (tf.constant(v, tf.float64) for v in (x, w, b))
    with tf.GradientTape() as tape:
        tape.watch([xv, wv, bv])
        y = tf.nn.conv2d(xv, wv, strides=stride, padding=[[0, 0], [pad, pad], [pad, pad], [0, 0]]) + bv
        loss = tf.reduce_sum(y * tf.constant(dout, tf.float64))
    return [g.numpy() for g in tape.gradient(loss, [xv, wv, bv])]


def _forward_cases() -> list:
    return [Case(label, (x, w, b), {"stride": S, "pad": P}) for x, w, b, S, P, _, label in _conv_inputs()]


def _verify_forward(case: Case, out) -> None:
    assert_true(isinstance(out, tuple) and len(out) == 2, f"expected (out, cache), got {type(out).__name__}",
                hint="return out, cache")
    x, w, b = case.args
    S, P = case.kwargs["stride"], case.kwargs["pad"]
    expected = tf_conv(x, w, b, S, P)
    got = out[0]
    assert_shape(got, expected.shape, "out", hint="H' = (H - F + 2*pad) // stride + 1, same for W'; K channels")
    hint = "check the bias and the window (i*stride ... i*stride + F) of the padded input"
    if P:
        shifted = np.pad(x, ((0, 0), (0, 2 * P), (0, 2 * P), (0, 0)))
        one_side = tf_conv(shifted, w, b, S, 0)
        if np.allclose(got, one_side):
            hint = ("your output matches an input padded with 2*pad zeros at the bottom and right only: "
                    "pad every side, np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))")
        else:
            hint = ("check the padding (pad zeros on every side, top, bottom, left and right), "
                    "the window start (i*stride, j*stride) and the bias")
    if not np.allclose(got, expected, atol=1e-6) and np.allclose(got - b, expected - b, atol=1e-6):
        hint = "check the bias"
    assert_close(got, expected, what="out", compared_with="tf.nn.conv2d (float64)", tol=TOL, atol=ATOL, hint=hint)


def _student_forward(fn, name: str):
    forward = getattr(fn, "__globals__", {}).get(name)
    if not callable(forward):
        raise CheckFailure(f"{name} is not defined: the backward check builds its cache with your {name}; "
                           "run its cell first")
    return forward


def _backward_call(forward_name: str):
    def call(fn, case: Case):
        x, w, b, S, P, dout = case.args
        forward = _student_forward(fn, forward_name)
        try:
            _, cache = forward(x.copy(), w.copy(), b.copy(), stride=S, pad=P)
        except NotImplementedError:
            raise CheckFailure(f"{forward_name} is not implemented yet: the backward pass needs its cache") from None
        except Exception as exc:  # noqa: BLE001 - the student's error becomes the verdict
            raise CheckFailure(f"{forward_name} raised {type(exc).__name__}: {exc} while building the cache") from None
        return fn(dout.copy(), cache)
    return call


def _backward_cases() -> list:
    return [Case(label, (x, w, b, S, P, dout)) for x, w, b, S, P, dout, label in _conv_inputs(seed=5)]


def _verify_backward(case: Case, out) -> None:
    x, w, b, S, P, dout = case.args
    assert_true(isinstance(out, tuple) and len(out) == 3, f"expected (dx, dw, db), got {type(out).__name__}",
                hint="return dx, dw, db, in the order of the forward inputs")
    dx_ref, dw_ref, db_ref = tf_conv_grads(x, w, b, S, P, dout)
    dx, dw, db = out
    assert_close(db, db_ref, what="db", compared_with="tf.GradientTape", tol=TOL, atol=ATOL,
                 hint="db[k] is the sum of dout[..., k] over images and positions")
    assert_close(dw, dw_ref, what="dw", compared_with="tf.GradientTape", tol=TOL, atol=ATOL,
                 hint="dw adds, for every output position, the padded input window times dout[n, i, j, :]")
    hint = "dx_pad gets w times dout for every window; overlapping windows add up"
    if P:
        hint += "; cut the padding off at the end: dx = dx_pad[:, pad:pad + H, pad:pad + W, :]"
    assert_close(dx, dx_ref, what="dx", compared_with="tf.GradientTape", tol=TOL, atol=ATOL, hint=hint)


# --------------------------------------------------------------------------- max pooling

# (N, H, W, C, pool_size, stride, label)
POOL_SHAPES = [
    (2, 4, 4, 3, 2, 2, "2 images 4x4x3, 2x2 windows, stride 2"),
    (1, 6, 8, 2, 2, 2, "a non-square 6x8x2 image, 2x2 windows, stride 2"),
    (2, 7, 7, 2, 3, 2, "7x7x2, overlapping 3x3 windows at stride 2"),
    (1, 5, 5, 3, 2, 1, "5x5x3, overlapping 2x2 windows at stride 1"),
    (2, 9, 9, 1, 3, 3, "9x9x1, 3x3 windows at stride 3"),
    (1, 7, 5, 2, 2, 2, "7x5x2, 2x2 windows at stride 2 (the last row and column are dropped)"),
]


def _pool_inputs(seed: int):
    rng = np.random.default_rng(seed)
    out = []
    for N, H, W, C, P, S, label in POOL_SHAPES:
        # A permutation: no two entries equal, so the max of every window is unique (no ties).
        x = rng.permutation(N * H * W * C).reshape(N, H, W, C) / (N * H * W * C) + rng.normal(scale=1e-3)
        dout = rng.normal(size=(N, (H - P) // S + 1, (W - P) // S + 1, C))
        out.append((x, P, S, dout, label))
    return out


def tf_max_pool(x, pool_size, stride):
    tf = _tf()
    return tf.nn.max_pool2d(tf.constant(x, tf.float64), ksize=pool_size, strides=stride, padding="VALID").numpy()


def tf_max_pool_grad(x, pool_size, stride, dout):
    tf = _tf()
    xv = tf.constant(x, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(xv)
        y = tf.nn.max_pool2d(xv, ksize=pool_size, strides=stride, padding="VALID")
        loss = tf.reduce_sum(y * tf.constant(dout, tf.float64))
    return tape.gradient(loss, xv).numpy()


def _pool_forward_cases() -> list:
    return [Case(label, (x,), {"pool_size": P, "stride": S}) for x, P, S, _, label in _pool_inputs(6)]


def _verify_pool_forward(case: Case, out) -> None:
    assert_true(isinstance(out, tuple) and len(out) == 2, f"expected (out, cache), got {type(out).__name__}",
                hint="return out, cache")
    (x,) = case.args
    expected = tf_max_pool(x, case.kwargs["pool_size"], case.kwargs["stride"])
    assert_shape(out[0], expected.shape, "out", hint="H' = (H - pool_size) // stride + 1; channels unchanged")
    assert_close(out[0], expected, what="out", compared_with="tf.nn.max_pool2d (padding='VALID')", tol=TOL,
                 hint="window (i, j) starts at (i*stride, j*stride); take the max over its rows and columns, "
                      "separately for every image and channel")


def _pool_backward_call(fn, case: Case):
    x, P, S, dout = case.args
    forward = _student_forward(fn, "max_pool_forward_naive")
    try:
        _, cache = forward(x.copy(), pool_size=P, stride=S)
    except NotImplementedError:
        raise CheckFailure("max_pool_forward_naive is not implemented yet: the backward pass needs its cache") from None
    except Exception as exc:  # noqa: BLE001 - the student's forward pass failing is the verdict
        raise CheckFailure(
            f"max_pool_forward_naive raised {type(exc).__name__}: {exc} while building the cache") from None
    return fn(dout.copy(), cache)


def _pool_backward_cases() -> list:
    return [Case(label, (x, P, S, dout)) for x, P, S, dout, label in _pool_inputs(7)]


def _verify_pool_backward(case: Case, out) -> None:
    x, P, S, dout = case.args
    expected = tf_max_pool_grad(x, P, S, dout)
    assert_shape(out, x.shape, "dx", hint="dx has the shape of the input x")
    got = np.asarray(out, dtype=np.float64)
    hint = "dout[n, i, j, c] goes to the largest element of window (i, j), channel c, and nowhere else"
    if got.shape == expected.shape and np.count_nonzero(got) > np.count_nonzero(expected) * 1.5:
        hint = ("the gradient reaches more elements than the maxima: only the largest element of each window "
                "gets dout, the others get 0")
    elif P > S:
        hint += "; windows overlap here, so add (+=) the gradients of all windows an element is the max of"
    assert_close(got, expected, what="dx", compared_with="tf.GradientTape of tf.nn.max_pool2d", tol=TOL,
                 atol=ATOL, hint=hint)


# --------------------------------------------------------------------------- im2col


def _im2col_cases() -> list:
    return [Case(label, (x, w.shape[0]), {"stride": S, "pad": P}) for x, w, b, S, P, _, label in _conv_inputs(8)]


def _verify_im2col(case: Case, out) -> None:
    tf = _tf()
    x, F = case.args
    S, P = case.kwargs["stride"], case.kwargs["pad"]
    x_pad = tf.pad(tf.constant(x, tf.float64), [[0, 0], [P, P], [P, P], [0, 0]])
    patches = tf.image.extract_patches(x_pad, sizes=[1, F, F, 1], strides=[1, S, S, 1], rates=[1, 1, 1, 1],
                                       padding="VALID").numpy()          # (N, H', W', F*F*C)
    expected = patches.reshape(-1, patches.shape[-1])
    assert_shape(out, expected.shape, "cols", hint="(N*H'*W', F*F*C): one row per output position")
    got = np.asarray(out, dtype=np.float64)
    hint = "row n*H'*W' + i*W' + j holds the window at (i*stride, j*stride) of the padded image n"
    C = x.shape[-1]
    if C > 1:
        channels_first = got.reshape(-1, C, F, F).transpose(0, 2, 3, 1).reshape(got.shape)
        if np.array_equal(channels_first, expected):
            hint = "the columns are in (c, p, q) order; they must follow w.reshape(-1, K): (p, q, c)"
    assert_close(got, expected, what="cols", compared_with="tf.image.extract_patches", tol=0.0, hint=hint)


def _verify_forward_im2col(case: Case, out) -> None:
    _verify_forward(case, out)


def _backward_im2col_cases() -> list:
    return [Case(label, (x, w, b, S, P, dout)) for x, w, b, S, P, dout, label in _conv_inputs(seed=9)]


CHECKS = {
    "conv_output_size": FunctionCheck(cases=_size_cases, verify=_verify_size, call=_call_size),
    "conv_param_count": FunctionCheck(cases=_count_cases, verify=_verify_count),
    "conv_forward_naive": FunctionCheck(cases=_forward_cases, verify=_verify_forward,
                                        source_rules=_rules(FRAMEWORKS, "the convolution")),
    "conv_backward_naive": FunctionCheck(cases=_backward_cases, verify=_verify_backward,
                                         call=_backward_call("conv_forward_naive"),
                                         source_rules=_rules(FRAMEWORKS, "the gradients")),
    "max_pool_forward_naive": FunctionCheck(cases=_pool_forward_cases, verify=_verify_pool_forward,
                                            source_rules=_rules(FRAMEWORKS, "the pooling")),
    "max_pool_backward_naive": FunctionCheck(cases=_pool_backward_cases, verify=_verify_pool_backward,
                                             call=_pool_backward_call,
                                             source_rules=_rules(FRAMEWORKS, "the gradient")),
    "im2col": FunctionCheck(cases=_im2col_cases, verify=_verify_im2col,
                            source_rules=_rules(FRAMEWORKS | {"conv_forward_naive"}, "im2col")),
    "conv_forward_im2col": FunctionCheck(cases=_forward_cases, verify=_verify_forward_im2col,
                                         source_rules=_rules(FRAMEWORKS | {"conv_forward_naive"},
                                                             "the layer", no_loops=True, must_use="im2col")),
    "conv_backward_im2col": FunctionCheck(cases=_backward_im2col_cases, verify=_verify_backward,
                                          call=_backward_call("conv_forward_im2col"),
                                          source_rules=_rules(FRAMEWORKS | {"conv_backward_naive"}, "the gradients")),
}
