"""Hidden checks of 09_cnn_architectures: grader-chosen layers and shapes, independent references.

Costs and shapes: every expected value comes from Keras or TensorFlow, not from the formulas the
student writes. Output shapes come from ``tf.nn.conv2d`` / ``tf.nn.max_pool2d`` (explicit padding) on
a zero input, parameter counts from ``count_params()`` of the equivalent Keras layer (for a network,
of a whole ``keras.Sequential`` built from the spec, VGG-16 included), and multiply-adds from the
Keras output shape times the work of one output value. Integers are compared exactly.

Receptive fields: the empirical receptive field of the stack, in TensorFlow (float64): every conv
becomes a ``Conv2D`` with one filter of ones and every pool an ``AveragePooling2D`` (all weights
positive, so no gradient cancels), both ``padding="valid"``; the size is the extent of the nonzero
region of the gradient of one output unit with respect to the input, the jump the shift of that
region between two neighbouring output units. Exact.

Residual block: the student's block is built on a ``keras.Input``; the grader gives its layers random
weights and batch-norm statistics and compares its inference output with the block recomposed from
the same weights in float64 TensorFlow ops (``tf.nn.conv2d``, the batch-norm formula): relative error
1e-4 (float32 through two convolutions: round-off ~1e-6), 1e-5 absolute for outputs near zero.

Networks: structure (depth, widths, strides, shortcuts) from the model's layers, then the grader
trains the student's ResNet and plain net (Adam 1e-3, constant rate) on a class-balanced
Fashion-MNIST subset the notebook never uses (data seed 909) and evaluates them on grader test images
(``model.predict`` and an argmax, in the grader's process); see ``BANDS``.
"""

import math

import numpy as np

from course.asserts import CheckFailure, assert_close, assert_equal, assert_true
from course.config import by_profile
from grader.spec import Case, FunctionCheck

DATA_SEED = 909


def _tf():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- references from TF / Keras


def tf_conv_output_shape(input_shape, F, K, S, P):
    """(H', W', K) of tf.nn.conv2d with explicit zero padding P, or None when the filter does not fit."""
    tf = _tf()
    H, W, C = input_shape
    if H + 2 * P < F or W + 2 * P < F:
        return None
    out = tf.nn.conv2d(tf.zeros((1, H, W, C), tf.float32), tf.zeros((F, F, C, K), tf.float32), strides=S,
                       padding=[[0, 0], [P, P], [P, P], [0, 0]])
    return tuple(int(d) for d in out.shape[1:])


def tiles(n, F, S, P=0) -> bool:
    """Whether a window of F with stride S covers n + 2P pixels exactly (no pixel left at the end)."""
    return n + 2 * P >= F and (n + 2 * P - F) % S == 0


def keras_conv_params(C, F, K) -> int:
    import keras

    layer = keras.layers.Conv2D(K, F)
    layer.build((None, F, F, C))
    return int(layer.count_params())


def keras_sequential(layers, input_shape):
    """The spec as a keras.Sequential (ZeroPadding2D + valid Conv2D, MaxPooling2D, Flatten + Dense)."""
    import keras

    model_layers, built = [keras.Input(tuple(input_shape))], []
    flat = False
    for spec in layers:
        kind = spec[0]
        if kind == "conv":
            _, F, K, S, P = spec
            if P:
                model_layers.append(keras.layers.ZeroPadding2D(P))
            layer = keras.layers.Conv2D(K, F, strides=S)
        elif kind == "pool":
            _, F, S = spec
            layer = keras.layers.MaxPooling2D(F, strides=S)
        else:
            if not flat:
                model_layers.append(keras.layers.Flatten())
                flat = True
            layer = keras.layers.Dense(spec[1])
        model_layers.append(layer)
        built.append(layer)
    return keras.Sequential(model_layers), built


# --------------------------------------------------------------------------- conv_layer_cost

# (input_shape, F, K, S, P, label); impossible settings must raise ValueError
CONV_CASES = [
    ((227, 227, 3), 11, 96, 4, 0, "AlexNet's first layer"),
    ((224, 224, 64), 3, 64, 1, 1, "a VGG-16 layer, 'same' padding"),
    ((7, 7, 3), 3, 4, 2, 0, "7x7x3, 3x3 filters, stride 2"),
    ((9, 5, 2), 3, 6, 2, 1, "a non-square 9x5 input, stride 2, padding 1"),
    ((28, 28, 256), 1, 64, 1, 0, "a 1x1 convolution (Inception's bottleneck)"),
    ((1, 1, 1), 1, 1, 1, 0, "the smallest layer: 1x1x1 input, one 1x1 filter"),
    ((4, 4, 2), 3, 5, 1, 3, "padding larger than half the filter"),
    ((6, 6, 1), 8, 2, 2, 1, "a filter as large as the padded input (1x1 output)"),
    ((5, 8, 3), 5, 7, 1, 0, "a filter as tall as the input (1 x 4 output)"),
    ((32, 32, 3), 5, 16, 3, 2, "stride 3 on 32 pixels, a 5x5 filter, padding 2: (32 - 5 + 4) / 3 is not whole"),
    ((10, 10, 3), 3, 8, 2, 0, "stride 2 on 10 pixels: (10 - 3) / 2 is not whole"),
    ((9, 10, 1), 3, 2, 2, 0, "non-square: the height tiles, the width (10 - 3) / 2 does not"),
    ((10, 9, 1), 3, 2, 2, 0, "non-square: the width tiles, the height (10 - 3) / 2 does not"),
    ((3, 3, 1), 5, 2, 1, 0, "a filter larger than the input (W - F + 2P < 0)"),
    ((4, 4, 1), 5, 2, 1, 0, "a filter one pixel larger than the input (W - F + 2P = -1)"),
    ((2, 2, 1), 7, 1, 1, 2, "a filter larger than the padded input"),
]


def _conv_cases() -> list:
    cases = []
    for shape, F, K, S, P, label in CONV_CASES:
        valid = tiles(shape[0], F, S, P) and tiles(shape[1], F, S, P)
        cases.append(Case(label if valid else f"an impossible setting: {label}", (shape, F, K),
                          {"stride": S, "pad": P}))
    return cases


def _call_raising(fn, case):
    try:
        return ("value", fn(*case.args, **case.kwargs))
    except ValueError as exc:
        return ("ValueError", str(exc))


def _call_raising_args(fn, case):
    """As _call_raising, with the positional arguments only (the kwargs say what the grader expects)."""
    try:
        return ("value", fn(*case.args))
    except ValueError as exc:
        return ("ValueError", str(exc))


def expected_conv_cost(shape, F, K, S, P):
    out = tf_conv_output_shape(shape, F, K, S, P)
    per_output = F * F * shape[2]
    return {"output_shape": out, "params": keras_conv_params(shape[2], F, K),
            "multiply_adds": out[0] * out[1] * out[2] * per_output, "activations": out[0] * out[1] * out[2]}


def _check_cost_dict(got, want, where: str, hint: str) -> None:
    assert_true(isinstance(got, dict), f"{where}: expected a dict, got {type(got).__name__}")
    missing = [k for k in ("output_shape", "params", "multiply_adds", "activations") if k not in got]
    assert_true(not missing, f"{where}: the dict has no key {', '.join(map(repr, missing))} (its keys: "
                f"{sorted(got)})", hint="return output_shape, params, multiply_adds and activations")
    shape = got["output_shape"]
    assert_true(isinstance(shape, (tuple, list)) and len(shape) == 3 and all(_is_int(d) for d in shape),
                f"{where}: output_shape should be a tuple of 3 ints (H', W', K), got {shape!r}")
    assert_equal(tuple(int(d) for d in shape), want["output_shape"], what=f"{where}: output_shape",
                 compared_with="the output shape of tf.nn.conv2d / max_pool2d with the same setting", hint=hint)
    for key, formula in (("params", "count_params() of the Keras layer"),
                         ("multiply_adds", "H' * W' * K * (work of one output value)"),
                         ("activations", "H' * W' * K")):
        value = got[key]
        assert_true(_is_int(value), f"{where}: {key} should be an int, got {type(value).__name__} {value!r}",
                    hint="count with integers (// rather than /)")
        assert_equal(int(value), want[key], what=f"{where}: {key}", compared_with=formula, hint=hint)


def _verify_conv(case: Case, out) -> None:
    shape, F, K = case.args
    S, P = case.kwargs["stride"], case.kwargs["pad"]
    kind, value = out
    if not (tiles(shape[0], F, S, P) and tiles(shape[1], F, S, P)):
        assert_true(kind == "ValueError", f"returned {value!r} instead of raising ValueError",
                    hint="in each direction (H - F + 2P) / S + 1 must be a whole number and H - F + 2P must not be "
                         "negative; raise ValueError otherwise, quoting the numbers")
        assert_true(str(F) in value and str(S) in value,
                    f"the ValueError message does not quote the filter size and the stride: {value!r}",
                    hint="e.g. f\"... (H={H}, W={W}, F={filter_size}, S={stride}, P={pad})\"")
        return
    assert_true(kind == "value", f"raised ValueError ({value}) on a valid setting",
                hint="only refuse a setting when a division is not exact or the filter does not fit")
    _check_cost_dict(value, expected_conv_cost(shape, F, K, S, P), "the layer",
                     hint="params: F*F*C*K weights + K biases; multiply-adds: F*F*C per output value; "
                          "activations: the number of output values")


# --------------------------------------------------------------------------- network_cost

LENET = [("conv", 5, 6, 1, 0), ("pool", 2, 2), ("conv", 5, 16, 1, 0), ("pool", 2, 2), ("fc", 120), ("fc", 84),
         ("fc", 10)]
ALEXNET = [("conv", 11, 96, 4, 0), ("pool", 3, 2), ("conv", 5, 256, 1, 2), ("pool", 3, 2), ("conv", 3, 384, 1, 1),
           ("conv", 3, 384, 1, 1), ("conv", 3, 256, 1, 1), ("pool", 3, 2), ("fc", 4096), ("fc", 4096), ("fc", 1000)]
VGG16 = [spec for n, k in ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
         for spec in [("conv", 3, k, 1, 1)] * n + [("pool", 2, 2)]] + [("fc", 4096), ("fc", 4096), ("fc", 1000)]

NETWORK_CASES = [
    ("LeNet-5 on 32x32x1", LENET, (32, 32, 1)),
    ("AlexNet (one tower) on 227x227x3", ALEXNET, (227, 227, 3)),
    ("VGG-16 on 224x224x3 (parameters: keras.applications.VGG16's 138,357,544)", VGG16, (224, 224, 3)),
    ("a non-square input, a 1x1 conv after a pool, two FC layers",
     [("conv", 3, 4, 1, 1), ("pool", 2, 2), ("conv", 1, 5, 1, 0), ("fc", 7), ("fc", 3)], (12, 8, 2)),
    ("a stride-2 conv, a padded conv, two pools in a row",
     [("conv", 3, 3, 2, 0), ("conv", 3, 6, 1, 1), ("pool", 2, 2), ("pool", 2, 1)], (9, 9, 1)),
    ("a single FC layer on an image (flattened)", [("fc", 4)], (3, 3, 2)),
    ("an overlapping pool (3, stride 2) on a 7x7 map", [("pool", 3, 2), ("conv", 3, 2, 1, 0)], (7, 7, 3)),
    ("a 2x2 pool with stride 3 on a non-square 8x11 input", [("pool", 2, 3), ("conv", 1, 3, 1, 0)], (8, 11, 2)),
    ("no layers at all", [], (5, 4, 3)),
]
NETWORK_ERRORS = [
    ("a pool that does not tile its input (7x7, pool 2 stride 2)", [("conv", 3, 4, 1, 1), ("pool", 2, 2)], (7, 7, 1)),
    ("an impossible conv in the middle", [("pool", 2, 2), ("conv", 5, 4, 1, 0)], (8, 8, 1)),
    ("an unknown layer kind", [("conv", 3, 4, 1, 1), ("relu",)], (8, 8, 1)),
]


def _network_cases() -> list:
    cases = [Case(label, (layers, shape), {"error": False}) for label, layers, shape in NETWORK_CASES]
    cases += [Case(f"bad input: {label}", (layers, shape), {"error": True}) for label, layers, shape in NETWORK_ERRORS]
    return cases


def expected_names(layers) -> list:
    counts, names = {}, []
    for spec in layers:
        counts[spec[0]] = counts.get(spec[0], 0) + 1
        names.append(f"{spec[0]}{counts[spec[0]]}")
    return names


def expected_network_rows(layers, input_shape) -> list:
    """Per layer, from a keras.Sequential of the spec: output shape, count_params, multiply-adds."""
    if not layers:
        return []
    model, built = keras_sequential(layers, input_shape)
    rows, shape = [], tuple(input_shape)
    for spec, layer in zip(layers, built):
        out = tuple(int(d) for d in layer.output.shape[1:])
        if spec[0] == "conv":
            work = spec[1] * spec[1] * shape[2]
        elif spec[0] == "fc":
            work = int(np.prod(shape))
            out = (1, 1, out[0])
        else:
            work = 0
        rows.append({"output_shape": out, "params": int(layer.count_params()),
                     "multiply_adds": int(np.prod(out)) * work, "activations": int(np.prod(out))})
        shape = out
    return rows


def _verify_network(case: Case, out) -> None:
    layers, input_shape = case.args
    kind, value = out
    if case.kwargs["error"]:
        assert_true(kind == "ValueError", f"returned a result instead of raising ValueError for {layers!r}",
                    hint="raise ValueError for a layer that does not fit its input or an unknown layer kind, "
                         "quoting the layer")
        return
    assert_true(kind == "value", f"raised ValueError ({value}) on a valid network")
    assert_true(isinstance(value, list), f"expected a list of dicts, got {type(value).__name__}")
    assert_true(len(value) == len(layers) + 1,
                f"expected {len(layers) + 1} dicts (one per layer, then the total), got {len(value)}",
                hint="one dict per layer, then a last dict named 'total'")
    names = [row.get("name") if isinstance(row, dict) else None for row in value]
    assert_equal(names[:-1], expected_names(layers), what="the layers' names",
                 compared_with="the kind and its count: conv1, pool1, conv2, ..., fc1",
                 hint="name each layer after its kind and how many of that kind came before it, counting from 1")
    assert_true(names[-1] == "total", f"the last dict is named {names[-1]!r}, expected 'total'")
    expected = expected_network_rows(layers, input_shape)
    hint = ("each layer's input is the previous layer's output_shape; pools keep the channels and have no "
            "parameters or multiply-adds; an FC layer flattens its input (D = H*W*C) and outputs (1, 1, M)")
    for i, (row, want) in enumerate(zip(value, expected)):
        _check_cost_dict(row, want, f"layer {i} ({names[i]})", hint)
    total = value[-1]
    for key in ("params", "multiply_adds", "activations"):
        assert_true(key in total, f"the total has no key {key!r}")
        assert_true(_is_int(total[key]), f"the total's {key} should be an int, got {total[key]!r}")
        assert_equal(int(total[key]), sum(r[key] for r in expected), what=f"the total's {key}",
                     compared_with="the sum over the Keras model's layers",
                     hint="sum each key over the layers (the total of no layers is 0)")


# --------------------------------------------------------------------------- receptive_field

RF_CASES = [
    ("three 3x3 convs, stride 1 (as one 7x7)", [("conv", 3, 8, 1, 1)] * 3),
    ("AlexNet's first five layers", ALEXNET[:5]),
    ("ResNet's stem, then two 3x3 convs",
     [("conv", 7, 64, 2, 3), ("pool", 3, 2), ("conv", 3, 64, 1, 1), ("conv", 3, 64, 1, 1)]),
    ("two VGG blocks", [("conv", 3, 64, 1, 1), ("conv", 3, 64, 1, 1), ("pool", 2, 2), ("conv", 3, 128, 1, 1),
                        ("conv", 3, 128, 1, 1), ("pool", 2, 2)]),
    ("a single 1x1 conv", [("conv", 1, 16, 1, 0)]),
    ("a pool first, then a 3x3 conv and a 1x1 conv", [("pool", 2, 2), ("conv", 3, 4, 1, 1), ("conv", 1, 4, 1, 0)]),
    ("a 5x5 conv with stride 3, an even 2x2 conv with stride 2", [("conv", 5, 4, 3, 0), ("conv", 2, 4, 2, 0)]),
    ("a strided 1x1 conv between 3x3 convs", [("conv", 3, 4, 1, 0), ("conv", 1, 4, 2, 0), ("conv", 3, 4, 1, 0)]),
    ("no layers", []),
]


def _rf_cases() -> list:
    cases = [Case(label, (layers,), {"error": False}) for label, layers in RF_CASES]
    cases.append(Case("bad input: an FC layer in the stack", ([("conv", 3, 4, 1, 1), ("fc", 10)],), {"error": True}))
    return cases


def empirical_receptive_field(layers) -> list:
    """(size, jump) after each layer, from the gradient of output units w.r.t. the input (TF, float64)."""
    tf = _tf()
    results = []
    for depth in range(1, len(layers) + 1):
        stack = layers[:depth]
        bound, jump = 1, 1
        for spec in stack:  # an upper bound on the size, only to choose an input large enough
            F, S = (spec[1], spec[3]) if spec[0] == "conv" else (spec[1], spec[2])
            bound, jump = bound + (F - 1) * jump, jump * S
        n = 2 * bound + 4 * jump + 2
        x = tf.Variable(tf.ones((1, n, n, 1), tf.float64))
        with tf.GradientTape(persistent=True) as tape:
            y = x
            for spec in stack:
                if spec[0] == "conv":
                    F, S = spec[1], spec[3]
                    y = tf.nn.conv2d(y, tf.ones((F, F, 1, 1), tf.float64), strides=S, padding="VALID")
                else:
                    F, S = spec[1], spec[2]
                    y = tf.nn.avg_pool2d(y, F, S, padding="VALID")
            a, b = y[0, 0, 0, 0], y[0, 1, 1, 0]
        rows_a = np.flatnonzero(np.abs(tape.gradient(a, x).numpy()[0, :, :, 0]).sum(axis=1) > 0)
        rows_b = np.flatnonzero(np.abs(tape.gradient(b, x).numpy()[0, :, :, 0]).sum(axis=1) > 0)
        results.append((int(rows_a[-1] - rows_a[0] + 1), int(rows_b[0] - rows_a[0])))
    return results


def _verify_rf(case: Case, out) -> None:
    (layers,) = case.args
    kind, value = out
    if case.kwargs["error"]:
        assert_true(kind == "ValueError", "returned a result for a stack with an FC layer instead of raising "
                    "ValueError", hint="the receptive field is defined for conv and pool layers only")
        return
    assert_true(kind == "value", f"raised ValueError ({value}) on conv and pool layers")
    assert_true(isinstance(value, (list, tuple)), f"expected a list of (size, jump), got {type(value).__name__}")
    got = []
    for item in value:
        assert_true(isinstance(item, (list, tuple)) and len(item) == 2 and all(_is_int(v) for v in item),
                    f"each entry should be a pair of ints (size, jump), got {item!r}")
        got.append((int(item[0]), int(item[1])))
    assert_equal(got, empirical_receptive_field(layers), what="(size, jump) after each layer",
                 compared_with="the nonzero region of d output / d input in TensorFlow",
                 hint="size grows by (F - 1) times the jump so far; then the jump is multiplied by the stride; "
                      "padding changes neither; start from (1, 1) before the first layer")


# --------------------------------------------------------------------------- depthwise_separable_param_count

SEPARABLE_CASES = [(3, 32, 64), (3, 1, 1), (1, 8, 16), (5, 3, 7), (7, 16, 1), (3, 512, 512), (2, 5, 3)]


def _separable_cases() -> list:
    return [Case(f"{F}x{F} filters, {C} input channels, {K} output channels", (F, C, K))
            for F, C, K in SEPARABLE_CASES]


def _verify_separable(case: Case, out) -> None:
    import keras

    F, C, K = case.args
    layer = keras.layers.SeparableConv2D(K, F)
    layer.build((None, F + 4, F + 4, C))
    assert_true(_is_int(out), f"returned {type(out).__name__} {out!r}, expected an int")
    assert_equal(int(out), int(layer.count_params()), what="the parameter count",
                 compared_with="count_params() of keras.layers.SeparableConv2D",
                 hint="depthwise: one F x F filter per input channel, no bias; pointwise: a 1x1 conv from C to K "
                      "channels, with K biases")


# --------------------------------------------------------------------------- residual_block

BLOCK_CASES = [
    ((8, 8, 4), 4, 1, "identity shortcut: 8x8x4 -> 4 filters, stride 1"),
    ((8, 8, 4), 8, 1, "projection: the channels change (4 -> 8), stride 1"),
    ((8, 8, 4), 4, 2, "projection: stride 2, same channels"),
    ((7, 7, 3), 6, 2, "projection: an odd 7x7 input, stride 2, 3 -> 6 channels"),
    ((5, 6, 8), 8, 1, "identity shortcut on a non-square 5x6x8 input"),
]


def _block_cases() -> list:
    rng = np.random.default_rng(9090)
    cases = []
    for shape, filters, stride, label in BLOCK_CASES:
        cases.append(Case(label, (shape, filters, stride),
                          {"x": rng.normal(size=(3, *shape)).astype("float32"), "seed": int(rng.integers(1 << 30))}))
    return cases


def _call_block(fn, case):
    import keras

    shape, filters, stride = case.args
    inputs = keras.Input(shape)
    outputs = fn(inputs, filters, stride=stride)
    return keras.Model(inputs, outputs)


def _producers(layer) -> list:
    node = layer._inbound_nodes[0]
    return [t._keras_history.operation for t in node.input_tensors]


def _consumers(model, layer) -> list:
    return [other for other in model.layers if other._inbound_nodes and not other.__class__.__name__ == "InputLayer"
            and any(p is layer for p in _producers(other))]


def _randomize(model, seed) -> None:
    import keras

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            k = layer.gamma.shape[0] if layer.gamma is not None else layer.moving_mean.shape[0]
            values = {"gamma": rng.uniform(0.5, 1.5, k), "beta": rng.normal(0, 0.3, k),
                      "moving_mean": rng.normal(0, 0.3, k), "moving_variance": rng.uniform(0.5, 1.5, k)}
            for var in layer.weights:
                name = var.path.split("/")[-1]
                var.assign(values[name].astype("float32"))
        else:
            for var in layer.weights:
                shape = tuple(var.shape)
                fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
                var.assign(rng.normal(0, 1 / np.sqrt(fan_in), shape).astype("float32"))


def _tf_conv(tf, x, layer):
    kernel = tf.constant(layer.kernel.numpy(), tf.float64)
    y = tf.nn.conv2d(x, kernel, strides=layer.strides, padding=layer.padding.upper())
    if layer.use_bias:
        y = y + tf.constant(layer.bias.numpy(), tf.float64)
    return y


def _tf_bn(tf, x, layer):
    def get(var, default):
        return tf.constant(var.numpy(), tf.float64) if var is not None else default

    mean, var = get(layer.moving_mean, 0.0), get(layer.moving_variance, 1.0)
    gamma, beta = get(layer.gamma, 1.0), get(layer.beta, 0.0)
    return (x - mean) / tf.sqrt(var + layer.epsilon) * gamma + beta


def _follow(model, layer, kind):
    """The single layer of class ``kind`` that consumes ``layer``'s output, or None."""
    nxt = [c for c in _consumers(model, layer) if isinstance(c, kind)]
    return nxt[0] if len(nxt) == 1 else None


def _verify_block(case: Case, model) -> None:
    import keras

    tf = _tf()
    shape, filters, stride = case.args
    expected_shape = (None, math.ceil(shape[0] / stride), math.ceil(shape[1] / stride), filters)
    assert_equal(tuple(model.output_shape), expected_shape, what="the block's output shape",
                 compared_with="(ceil(H / stride), ceil(W / stride), filters)",
                 hint="3x3 convolutions with padding='same'; the first one has the stride")
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    three = [c for c in convs if tuple(c.kernel_size) == (3, 3)]
    ones = [c for c in convs if tuple(c.kernel_size) == (1, 1)]
    assert_true(len(three) == 2 and len(three) + len(ones) == len(convs),
                f"the block has {len(three)} 3x3 convolutions and {len(convs) - len(three)} others; expected two 3x3 "
                "convolutions (and a 1x1 projection only when the shape changes)")
    projection = stride != 1 or shape[-1] != filters
    if projection:
        assert_true(len(ones) == 1, f"the shape changes ({shape} -> stride {stride}, {filters} filters) but the block "
                    f"has {len(ones)} 1x1 convolutions", hint="project the shortcut with a 1x1 conv with the stride")
        assert_true(tuple(ones[0].strides) == (stride, stride),
                    f"the 1x1 projection has strides {tuple(ones[0].strides)}, expected ({stride}, {stride})")
    else:
        assert_true(not ones, "the input and output shapes match, yet the shortcut goes through a 1x1 convolution",
                    hint="when the shape does not change, the shortcut is the identity: add x itself")
    first = [c for c in three if any(isinstance(p, keras.layers.InputLayer) for p in _producers(c))]
    assert_true(len(first) == 1, "no 3x3 convolution reads the block's input",
                hint="conv - BN - ReLU - conv - BN on x, then add the shortcut")
    conv_a = first[0]
    conv_b = three[1] if three[0] is conv_a else three[0]
    assert_true(tuple(conv_a.strides) == (stride, stride) and tuple(conv_b.strides) == (1, 1),
                f"the first 3x3 conv has strides {tuple(conv_a.strides)} and the second {tuple(conv_b.strides)}; "
                f"expected ({stride}, {stride}) and (1, 1)", hint="the stride goes on the first convolution")
    bn_a = _follow(model, conv_a, keras.layers.BatchNormalization)
    bn_b = _follow(model, conv_b, keras.layers.BatchNormalization)
    assert_true(bn_a is not None and bn_b is not None, "a 3x3 convolution is not followed by BatchNormalization",
                hint="conv - BN - ReLU - conv - BN")
    _randomize(model, case.kwargs["seed"])
    x = case.kwargs["x"]
    xt = tf.constant(x, tf.float64)
    branch = _tf_bn(tf, _tf_conv(tf, tf.nn.relu(_tf_bn(tf, _tf_conv(tf, xt, conv_a), bn_a)), conv_b), bn_b)
    if projection:
        shortcut = _tf_conv(tf, xt, ones[0])
        bn_s = _follow(model, ones[0], keras.layers.BatchNormalization)
        if bn_s is not None:  # a projection followed by batch norm (as keras.applications.ResNet50) is accepted
            shortcut = _tf_bn(tf, shortcut, bn_s)
    else:
        shortcut = xt
    expected = tf.nn.relu(branch + shortcut).numpy()
    got = keras.ops.convert_to_numpy(model(x, training=False))
    assert_close(got, expected, what="the block's output (inference mode, random weights and statistics)",
                 tol=1e-4, atol=1e-5,
                 compared_with="ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x)) in float64 with the block's weights",
                 hint="order: conv - BN - ReLU - conv - BN, add the shortcut, then one ReLU after the addition")


# --------------------------------------------------------------------------- build_resnet, build_plain_net

# Accuracy bands on grader test images (fractions); "min" is the pass mark. The grader trains the
# student's network (blocks_per_stage=1, filters (8, 16, 32): 8 weight layers) with Adam(1e-3) at a
# constant rate, batch 64, seed 9091 (ResNet) / 9092 (plain), on data seed 909.
# Measured with the solution on this course's 2-core CPU machine (TensorFlow 2.21, Keras 3.15): see
# MEASURED below. An untrained network scores ~0.10.
BANDS = {
    "quick": {"data": dict(num_train=2000, num_val=0, num_test=1000), "epochs": 3, "min": 0.60},
    "full": {"data": dict(num_train=4000, num_val=0, num_test=2000), "epochs": 2, "min": 0.65},
}
TRAIN_SEEDS = {"build_resnet": 9091, "build_plain_net": 9092}
TRAINED = dict(input_shape=(28, 28, 1), num_classes=10, blocks_per_stage=1, filters=(8, 16, 32))


def _bands() -> dict:
    return BANDS[by_profile(quick="quick", full="full")]


_DATA = {}


def grader_data():
    """(x_train, y_train, x_test, y_test), float32 (N, 28, 28, 1) in [0, 1]."""
    from course import data

    sizes = _bands()["data"]
    key = tuple(sorted(sizes.items()))
    if key not in _DATA:
        s = data.fashion_mnist_split(seed=DATA_SEED, **sizes)
        prep = lambda x: (x.astype("float32") / 255.0)[..., None]
        _DATA[key] = (prep(s.x_train), s.y_train, prep(s.x_test), s.y_test)
    return _DATA[key]


def _net_cases() -> list:
    return [
        Case("28x28x1, 10 classes, 1 block per stage, filters (8, 16, 32), trained by the grader on unseen data",
             (), {**TRAINED, "train": True}),
        Case("32x32x3, 5 classes, 2 blocks per stage, filters (4, 8)", (),
             dict(input_shape=(32, 32, 3), num_classes=5, blocks_per_stage=2, filters=(4, 8), train=False)),
        Case("15x15x2, 3 classes, 3 blocks per stage, the default filters (16, 32, 64), an odd size", (),
             dict(input_shape=(15, 15, 2), num_classes=3, blocks_per_stage=3, train=False)),
    ]


def structure(model) -> dict:
    """What the grader reads of a network: its weight layers, strides, shortcuts and output."""
    import keras

    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    return {
        "three": [(int(c.filters), tuple(c.strides)) for c in convs if tuple(c.kernel_size) == (3, 3)],
        "others": [tuple(c.kernel_size) for c in convs if tuple(c.kernel_size) != (3, 3)],
        "adds": sum(isinstance(layer, keras.layers.Add) for layer in model.layers),
        "dense": sum(isinstance(layer, keras.layers.Dense) for layer in model.layers),
        "batch_norms": sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers),
        "relus": sum(isinstance(layer, keras.layers.ReLU)
                     or getattr(getattr(layer, "activation", None), "__name__", "") == "relu"
                     for layer in model.layers),
        "output_shape": tuple(model.output_shape),
        "last_conv_shape": tuple(convs[-1].output.shape) if convs else None,
    }


def structure_problems(model, kwargs, residual: bool) -> list:
    """Why ``model`` is not the specified network (empty when it is)."""
    filters = tuple(kwargs.get("filters", (16, 32, 64)))
    blocks = kwargs["blocks_per_stage"]
    s = structure(model)
    problems = []
    want_three = [(filters[0], (1, 1))] + [
        (f, (2, 2) if stage > 0 and b == 0 and i == 0 else (1, 1))
        for stage, f in enumerate(filters) for b in range(blocks) for i in range(2)]
    if s["output_shape"] != (None, kwargs["num_classes"]):
        problems.append(f"the output shape is {s['output_shape']}, expected (None, {kwargs['num_classes']})")
    if s["three"] != want_three:
        problems.append(f"its 3x3 convolutions (filters, strides) are {s['three']}, expected {want_three}: a 3x3 stem "
                        f"conv with filters[0], then {blocks} blocks of two 3x3 convs per stage, the first conv of "
                        "each stage after the first with stride 2")
    if s["dense"] != 1:
        problems.append(f"it has {s['dense']} Dense layers, expected one (the class scores after global average "
                        "pooling)")
    if s["batch_norms"] < len(want_three):
        problems.append(f"it has {s['batch_norms']} BatchNormalization layers for {len(want_three)} 3x3 convolutions")
    n_blocks = blocks * len(filters)
    if s["relus"] < 1 + 2 * n_blocks:
        problems.append(f"it has {s['relus']} ReLUs, expected {1 + 2 * n_blocks}: one after the stem's batch norm "
                        "and two per block")
    if residual:
        if s["adds"] != n_blocks:
            problems.append(f"it has {s['adds']} Add layers (shortcuts), expected one per block ({n_blocks})")
        want_proj = [(1, 1)] * (len(filters) - 1)  # the first block of each later stage changes the shape
        if s["others"] != want_proj:
            problems.append(f"its other convolutions have kernels {s['others']}, expected one 1x1 projection where a "
                            f"stage changes the shape ({len(want_proj)})")
    else:
        if s["adds"] or s["others"]:
            problems.append(f"the plain network has {s['adds']} Add layers and {len(s['others'])} other convolutions: "
                            "it should have no shortcuts at all")
    return problems


def _trainer(residual: bool):
    def call(fn, case):
        import keras

        kwargs = {k: v for k, v in case.kwargs.items() if k != "train"}
        name = "build_resnet" if residual else "build_plain_net"
        keras.utils.set_random_seed(TRAIN_SEEDS[name])
        model = fn(**kwargs)
        if not isinstance(model, keras.Model):
            raise CheckFailure(f"{name} should return a keras.Model, got {type(model).__name__}")
        # Train only a network of the specified structure (the verdict is verify's; this saves time).
        if case.kwargs["train"] and not structure_problems(model, kwargs, residual):
            x_tr, y_tr, _, _ = grader_data()
            keras.utils.set_random_seed(TRAIN_SEEDS[name])
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
            model.fit(x_tr, y_tr, epochs=_bands()["epochs"], batch_size=32, verbose=0)
        return model
    return call


def _verifier(residual: bool):
    def verify(case: Case, model) -> None:
        kwargs = {k: v for k, v in case.kwargs.items() if k != "train"}
        problems = structure_problems(model, kwargs, residual)
        assert_true(not problems, "; ".join(problems),
                    hint="stem: 3x3 conv - BN - ReLU; then per stage blocks_per_stage blocks ("
                         + ("residual_block" if residual else "conv - BN - ReLU - conv - BN - ReLU, no shortcut")
                         + "); then GlobalAveragePooling2D, Dense(num_classes) and a softmax")
        probe = np.random.default_rng(9093).uniform(size=(4, *kwargs["input_shape"])).astype("float32")
        out = np.asarray(model.predict(probe, verbose=0))
        assert_true(np.all(out >= 0) and np.allclose(out.sum(axis=1), 1, atol=1e-3),
                    "the network's outputs are not probabilities", hint='end with keras.layers.Activation("softmax")')
        if not case.kwargs["train"]:
            return
        band = _bands()
        _, _, x_test, y_test = grader_data()
        probs = np.asarray(model.predict(x_test, batch_size=500, verbose=0))
        acc = float(np.mean(np.argmax(probs, axis=1) == y_test))
        assert_true(acc >= band["min"],
                    f"trained by the grader for {band['epochs']} epochs, your network reaches {acc:.3f} test "
                    f"accuracy, below the band's {band['min']:.2f}",
                    hint="check the blocks: batch norm after each conv, ReLU after it (and after the addition)")
    return verify


CHECKS = {
    "conv_layer_cost": FunctionCheck(cases=_conv_cases, verify=_verify_conv, call=_call_raising),
    "network_cost": FunctionCheck(cases=_network_cases, verify=_verify_network, call=_call_raising_args),
    "receptive_field": FunctionCheck(cases=_rf_cases, verify=_verify_rf, call=_call_raising_args),
    "depthwise_separable_param_count": FunctionCheck(cases=_separable_cases, verify=_verify_separable),
    "residual_block": FunctionCheck(cases=_block_cases, verify=_verify_block, call=_call_block),
    "build_resnet": FunctionCheck(cases=_net_cases, verify=_verifier(True), call=_trainer(True)),
    "build_plain_net": FunctionCheck(cases=_net_cases, verify=_verifier(False), call=_trainer(False)),
}
