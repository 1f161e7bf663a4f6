"""The hidden checks of 09_cnn_architectures pass the reference solution and reject typical mistakes; the
reference results show what the notebook teaches (the degradation problem, in both profiles)."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from course.asserts import CheckFailure
from grader.spec import load_checks
from grader.verify import run_check
from helpers import LAYOUT, solution_namespace

AID = "09_cnn_architectures"
CHECKS = load_checks(AID)
SOLUTION = solution_namespace(AID, extra={"keras": keras, "tf": tf, "np": np})


@pytest.fixture(autouse=True)
def quick_profile(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")


def mutant(source: str, name: str):
    namespace = dict(SOLUTION)
    exec(source, namespace)
    return namespace[name]


@pytest.mark.parametrize("name", ["conv_layer_cost", "network_cost", "receptive_field",
                                  "depthwise_separable_param_count", "residual_block"])
def test_solution_passes_hidden_check(name):
    assert run_check(CHECKS[name], SOLUTION[name], name) > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["build_resnet", "build_plain_net"])
def test_solution_trains_into_the_band(name):
    assert run_check(CHECKS[name], SOLUTION[name], name) == 3


def test_empirical_receptive_field_is_independent_of_the_formula():
    """The reference is measured: a stride changes the jump, padding changes nothing, an even filter works."""
    empirical = CHECKS["receptive_field"].verify.__globals__["empirical_receptive_field"]
    assert empirical([("conv", 3, 1, 1, 1)] * 3) == [(3, 1), (5, 1), (7, 1)]
    assert empirical([("conv", 7, 1, 2, 3), ("pool", 3, 2)]) == [(7, 2), (11, 4)]
    assert empirical([("conv", 2, 1, 2, 0), ("conv", 2, 1, 2, 0)]) == [(2, 2), (4, 4)]


CONV_FLOOR = '''
def conv_layer_cost(input_shape, filter_size, num_filters, stride=1, pad=0):
    H, W, C = input_shape
    out_h = (H - filter_size + 2 * pad) // stride + 1
    out_w = (W - filter_size + 2 * pad) // stride + 1
    weights = filter_size * filter_size * C * num_filters
    return {"output_shape": (out_h, out_w, num_filters), "params": weights + num_filters,
            "multiply_adds": out_h * out_w * weights, "activations": out_h * out_w * num_filters}
'''
CONV_HEIGHT_ONLY = '''
def conv_layer_cost(input_shape, filter_size, num_filters, stride=1, pad=0):
    H, W, C = input_shape
    span = H - filter_size + 2 * pad
    if span < 0 or span % stride:
        raise ValueError(f"F={filter_size} S={stride} P={pad} H={H}")
    out = span // stride + 1
    weights = filter_size * filter_size * C * num_filters
    return {"output_shape": (out, out, num_filters), "params": weights + num_filters,
            "multiply_adds": out * out * weights, "activations": out * out * num_filters}
'''
CONV_MACS_PER_FILTER = '''
def conv_layer_cost(input_shape, filter_size, num_filters, stride=1, pad=0):
    H, W, C = input_shape
    sizes = []
    for n in (H, W):
        span = n - filter_size + 2 * pad
        if span < 0 or span % stride:
            raise ValueError(f"F={filter_size} S={stride} P={pad}")
        sizes.append(span // stride + 1)
    weights = filter_size * filter_size * C * num_filters
    return {"output_shape": (sizes[0], sizes[1], num_filters), "params": weights + num_filters,
            "multiply_adds": sizes[0] * sizes[1] * filter_size * filter_size * C,
            "activations": sizes[0] * sizes[1] * num_filters}
'''
NETWORK_FC_ON_CHANNELS = '''
def network_cost(layers, input_shape):
    shape, rows, counts = tuple(input_shape), [], {}
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            row = conv_layer_cost(shape, *layer[1:])
        elif kind == "pool":
            H, W, C = shape
            if H < layer[1] or (H - layer[1]) % layer[2] or (W - layer[1]) % layer[2]:
                raise ValueError(f"{layer!r}")
            out = ((H - layer[1]) // layer[2] + 1, (W - layer[1]) // layer[2] + 1, C)
            row = {"output_shape": out, "params": 0, "multiply_adds": 0, "activations": out[0] * out[1] * C}
        elif kind == "fc":
            D = shape[2]
            row = {"output_shape": (1, 1, layer[1]), "params": D * layer[1] + layer[1],
                   "multiply_adds": D * layer[1], "activations": layer[1]}
        else:
            raise ValueError(f"{layer!r}")
        counts[kind] = counts.get(kind, 0) + 1
        rows.append({"name": f"{kind}{counts[kind]}", **row})
        shape = row["output_shape"]
    total = {"name": "total", "output_shape": shape}
    for key in ("params", "multiply_adds", "activations"):
        total[key] = sum(r[key] for r in rows)
    return rows + [total]
'''
NETWORK_POOL_FLOORS = NETWORK_FC_ON_CHANNELS.replace(
    '            if H < layer[1] or (H - layer[1]) % layer[2] or (W - layer[1]) % layer[2]:\n'
    '                raise ValueError(f"{layer!r}")\n', '').replace(
    "D = shape[2]", "D = shape[0] * shape[1] * shape[2]")
NETWORK_NAMES_FROM_ZERO = NETWORK_FC_ON_CHANNELS.replace("D = shape[2]", "D = shape[0] * shape[1] * shape[2]").replace(
    'counts[kind] = counts.get(kind, 0) + 1\n        rows.append({"name": f"{kind}{counts[kind]}", **row})',
    'rows.append({"name": f"{kind}{counts.get(kind, 0)}", **row})\n        counts[kind] = counts.get(kind, 0) + 1')
RF_WITH_PADDING = '''
def receptive_field(layers):
    size, jump, out = 1, 1, []
    for layer in layers:
        if layer[0] == "conv":
            F, S, P = layer[1], layer[3], layer[4]
        elif layer[0] == "pool":
            F, S, P = layer[1], layer[2], 0
        else:
            raise ValueError(f"{layer!r}")
        size += (F - 1 - 2 * P) * jump
        jump *= S
        out.append((size, jump))
    return out
'''
RF_JUMP_AFTER = '''
def receptive_field(layers):
    size, jump, out = 1, 1, []
    for layer in layers:
        if layer[0] == "conv":
            F, S = layer[1], layer[3]
        elif layer[0] == "pool":
            F, S = layer[1], layer[2]
        else:
            raise ValueError(f"{layer!r}")
        jump *= S
        size += (F - 1) * jump
        out.append((size, jump))
    return out
'''
RF_FC_SILENT = '''
def receptive_field(layers):
    size, jump, out = 1, 1, []
    for layer in layers:
        if layer[0] == "conv":
            F, S = layer[1], layer[3]
        elif layer[0] == "pool":
            F, S = layer[1], layer[2]
        else:
            continue
        size += (F - 1) * jump
        jump *= S
        out.append((size, jump))
    return out
'''
SEPARABLE_NO_BIAS = '''
def depthwise_separable_param_count(filter_size, in_channels, out_channels):
    return filter_size * filter_size * in_channels + in_channels * out_channels
'''
SEPARABLE_STANDARD = '''
def depthwise_separable_param_count(filter_size, in_channels, out_channels):
    return filter_size * filter_size * in_channels * out_channels + out_channels
'''
BLOCK_BODY = '''
def residual_block(x, filters, stride=1):
    y = keras.layers.Conv2D(filters, 3, strides=STRIDE_A, padding="same", use_bias=False)(x)
    y = keras.layers.BatchNormalization(momentum=0.9)(y)
    y = keras.layers.ReLU()(y)
    y = keras.layers.Conv2D(filters, 3, strides=STRIDE_B, padding="same", use_bias=False)(y)
    y = keras.layers.BatchNormalization(momentum=0.9)(y)
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = keras.layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
    y = keras.layers.Add()([y, shortcut])
    return keras.layers.ReLU()(y)
'''
BLOCK_STRIDE_ON_SECOND = BLOCK_BODY.replace("STRIDE_A", "1").replace("STRIDE_B", "stride")
BLOCK_NO_FINAL_RELU = BLOCK_BODY.replace("STRIDE_A", "stride").replace("STRIDE_B", "1").replace(
    "    return keras.layers.ReLU()(y)", "    return y")
BLOCK_ALWAYS_PROJECTS = BLOCK_BODY.replace("STRIDE_A", "stride").replace("STRIDE_B", "1").replace(
    "    if stride != 1 or x.shape[-1] != filters:\n        shortcut", "    shortcut")
BLOCK_NO_SECOND_BN = BLOCK_BODY.replace("STRIDE_A", "stride").replace("STRIDE_B", "1").replace(
    '(y)\n    y = keras.layers.BatchNormalization(momentum=0.9)(y)\n    shortcut', '(y)\n    shortcut')
BLOCK_RELU_ON_SHORTCUT = BLOCK_BODY.replace("STRIDE_A", "stride").replace("STRIDE_B", "1").replace(
    "    y = keras.layers.Add()([y, shortcut])", "    y = keras.layers.Add()([y, keras.layers.ReLU()(shortcut)])")

MUTANTS = {
    "conv_layer_cost": [("floors instead of raising", CONV_FLOOR), ("the height for both sizes", CONV_HEIGHT_ONLY),
                        ("multiply-adds of one filter", CONV_MACS_PER_FILTER)],
    "network_cost": [("FC on the channels only", NETWORK_FC_ON_CHANNELS), ("pools floor", NETWORK_POOL_FLOORS),
                     ("names from 0", NETWORK_NAMES_FROM_ZERO)],
    "receptive_field": [("padding shrinks it", RF_WITH_PADDING), ("jump updated first", RF_JUMP_AFTER),
                        ("FC skipped silently", RF_FC_SILENT)],
    "depthwise_separable_param_count": [("no bias", SEPARABLE_NO_BIAS), ("a standard conv", SEPARABLE_STANDARD)],
    "residual_block": [("stride on the second conv", BLOCK_STRIDE_ON_SECOND), ("no final ReLU", BLOCK_NO_FINAL_RELU),
                       ("always projects", BLOCK_ALWAYS_PROJECTS), ("no second batch norm", BLOCK_NO_SECOND_BN),
                       ("ReLU on the shortcut", BLOCK_RELU_ON_SHORTCUT)],
}


@pytest.mark.parametrize("name,label,source", [(n, label, s) for n, ms in MUTANTS.items() for label, s in ms],
                         ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_hidden_check_rejects_mistake(name, label, source):
    with pytest.raises(CheckFailure):
        run_check(CHECKS[name], mutant(source, name), name)


def test_residual_block_accepts_batch_norm_on_the_projection():
    """keras.applications.ResNet50 normalizes its projection shortcut: that is a correct block too."""
    source = BLOCK_BODY.replace("STRIDE_A", "stride").replace("STRIDE_B", "1").replace(
        "use_bias=False)(x)\n    y = keras.layers.Add()",
        "use_bias=False)(x)\n        shortcut = keras.layers.BatchNormalization()(shortcut)\n"
        "    y = keras.layers.Add()")
    assert "BatchNormalization()(shortcut)" in source
    assert run_check(CHECKS["residual_block"], mutant(source, "residual_block"), "residual_block") == 5


PLAIN_WITH_SHORTCUTS = '''
def build_plain_net(input_shape, num_classes, blocks_per_stage, filters=(16, 32, 64)):
    return build_resnet(input_shape, num_classes, blocks_per_stage, filters)
'''
RESNET_NO_DOWNSAMPLING = '''
def build_resnet(input_shape, num_classes, blocks_per_stage, filters=(16, 32, 64)):
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(filters[0], 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization(momentum=0.9)(x)
    x = keras.layers.ReLU()(x)
    for width in filters:
        for block in range(blocks_per_stage):
            x = residual_block(x, width, stride=1)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(num_classes)(x)
    return keras.Model(inputs, keras.layers.Activation("softmax")(x))
'''
RESNET_ONE_BLOCK_PER_STAGE = RESNET_NO_DOWNSAMPLING.replace("range(blocks_per_stage)", "range(1)").replace(
    "stride=1", "stride=2 if width != filters[0] and block == 0 else 1")

RESNET_STEM_WITHOUT_RELU = '''
def build_resnet(input_shape, num_classes, blocks_per_stage, filters=(16, 32, 64)):
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(filters[0], 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization(momentum=0.9)(x)
    for stage, width in enumerate(filters):
        for block in range(blocks_per_stage):
            x = residual_block(x, width, stride=2 if stage > 0 and block == 0 else 1)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(num_classes)(x)
    return keras.Model(inputs, keras.layers.Activation("softmax")(x))
'''


@pytest.mark.parametrize("name,source", [("build_plain_net", PLAIN_WITH_SHORTCUTS),
                                         ("build_resnet", RESNET_NO_DOWNSAMPLING),
                                         ("build_resnet", RESNET_ONE_BLOCK_PER_STAGE),
                                         ("build_resnet", RESNET_STEM_WITHOUT_RELU)],
                         ids=["plain_with_shortcuts", "no_downsampling", "one_block_per_stage", "stem_without_relu"])
def test_network_checks_reject_wrong_structure(name, source):
    """Wrong structures fail before any training (the grader trains only a network of the right shape)."""
    with pytest.raises(CheckFailure):
        run_check(CHECKS[name], mutant(source, name), name)


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_reference_shows_the_degradation_problem(profile):
    """In the recorded reference run: the deep plain net trains worse than the shallow one, the ResNet does not."""
    reference = json.loads(LAYOUT.references_file(AID).read_text())
    loss = reference["profiles"][profile]["results"]["degradation_final_train_loss"]
    assert len(loss) == 3 and "plain, 8 layers" in loss, sorted(loss)
    shallow = loss["plain, 8 layers"]
    (deep_plain,) = [v for k, v in loss.items() if k.startswith("plain") and k != "plain, 8 layers"]
    (deep_resnet,) = [v for k, v in loss.items() if k.startswith("ResNet")]
    assert deep_plain > 1.2 * shallow, f"{profile}: deep plain {deep_plain:.3f} vs shallow plain {shallow:.3f}"
    assert deep_plain > 1.2 * deep_resnet, f"{profile}: deep plain {deep_plain:.3f} vs deep ResNet {deep_resnet:.3f}"
    assert deep_resnet <= 1.1 * shallow, f"{profile}: deep ResNet {deep_resnet:.3f} vs shallow plain {shallow:.3f}"


def test_reference_counts_match_keras():
    """The counted architectures in the reference: VGG-16 as Keras builds it, AlexNet's ~60 M parameters."""
    reference = json.loads(LAYOUT.references_file(AID).read_text())
    for profile in ("quick", "full"):
        r = reference["profiles"][profile]["results"]
        assert r["vgg16_params"] == r["vgg16_keras_params"] == 138_357_544
        assert 60e6 < r["alexnet_params"] < 63e6
