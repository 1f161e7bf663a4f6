"""The hidden checks of 10_visualizing_convnets pass the reference solution and reject typical mistakes; the
shipped model verifies; the reference results show what the notebook teaches."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from autograder import build_vis_model
from course import models
from course.asserts import CheckFailure
from grader.spec import load_checks
from grader.verify import run_check
from helpers import LAYOUT, solution_namespace

AID = "10_visualizing_convnets"
CHECKS = load_checks(AID)
SOLUTION = solution_namespace(AID, extra={"keras": keras, "tf": tf, "np": np})


@pytest.fixture(autouse=True)
def quick_profile(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")


def mutant(source: str, name: str):
    namespace = dict(SOLUTION)
    exec(source, namespace)
    return namespace[name]


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_solution_passes_hidden_check(name):
    assert run_check(CHECKS[name], SOLUTION[name], name) > 0


def test_shipped_model_verifies_and_follows_the_contract():
    assert build_vis_model.main(["--check"]) == 0
    info = models.model_info(build_vis_model.NAME, build_vis_model.folder())
    assert info["test_accuracy"] > 0.85 and info["seed"] == build_vis_model.SEED
    model = models.load_base_model(build_vis_model.NAME, build_vis_model.folder())
    assert isinstance(model.layers[-1], keras.layers.Activation) and model.layers[-2].name == "scores"


def replaced(name: str, old: str, new: str) -> str:
    """The solution's source of ``name`` with one change (asserting the change applies)."""
    from autograder.solutions import solution_namespace as full_namespace

    _, defs = full_namespace(AID)
    source = defs[name]
    assert old in source, (name, old)
    return source.replace(old, new)


MUTANTS = [
    ("occlusion_map", "patch at (i, j)",
     "batch[i * cols + j, i * stride:i * stride + patch_size, j * stride:j * stride + patch_size, :]",
     "batch[i * cols + j, i:i + patch_size, j:j + patch_size, :]"),
    ("occlusion_map", "first channel only", "j * stride + patch_size, :] = fill", "j * stride + patch_size, 0] = fill"),
    ("occlusion_map", "one position too few", "rows, cols = (H - patch_size) // stride + 1, (W - patch_size) // stride "
     "+ 1", "rows, cols = (H - patch_size) // stride, (W - patch_size) // stride"),
    ("grad_cam", "no ReLU", "cams = tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))",
     "cams = tf.abs(tf.reduce_sum(weights * activations, axis=-1))"),
    ("grad_cam", "gradient of the probability", "[layer.output, model.layers[-2].output]",
     "[layer.output, model.layers[-1].output]"),
    ("grad_cam", "weights summed, not averaged... then maps not normalized",
     "return tf.math.divide_no_nan(cams, peak).numpy()", "return cams.numpy()"),
    ("grad_cam", "nearest-neighbour resize", 'method="bilinear"', 'method="nearest"'),
    ("penultimate_features", "the class scores", "last_dense.input", "last_dense.output"),
    ("feature_nearest_neighbors", "farthest first", 'np.argsort(d2, axis=1, kind="stable")[:, :k]',
     'np.argsort(-d2, axis=1, kind="stable")[:, :k]'),
    ("feature_nearest_neighbors", "L1 distance", "d2 = np.sum(query ** 2, axis=1)[:, None] - 2 * query @ train.T + "
     "np.sum(train ** 2, axis=1)[None, :]", "d2 = np.abs(query[:, None, :] - train[None, :, :]).sum(axis=2)"),
    ("fgsm_attack", "wrong sign", "images + epsilon * np.sign", "images - epsilon * np.sign"),
    ("fgsm_attack", "no clipping", "np.clip(images + epsilon * np.sign(grads.numpy()), 0.0, 1.0)",
     "images + epsilon * np.sign(grads.numpy())"),
    ("fgsm_attack", "the gradient itself, not its sign", "epsilon * np.sign(grads.numpy())",
     "epsilon * grads.numpy() / np.abs(grads.numpy()).max()"),
    ("fooling_image", "descends", "x + learning_rate * g / tf.norm(g)", "x - learning_rate * g / tf.norm(g)"),
    ("fooling_image", "unnormalized step", "x + learning_rate * g / tf.norm(g)", "x + learning_rate * g"),
    ("fooling_image", "never stops early", "if int(tf.argmax(scores[0])) == target_class:", "if False:"),
    ("fooling_image", "no clipping", "tf.clip_by_value(x + learning_rate * g / tf.norm(g), 0.0, 1.0)",
     "x + learning_rate * g / tf.norm(g)"),
]


@pytest.mark.parametrize("name,label,old,new", MUTANTS, ids=[f"{m[0]}-{m[1][:25]}" for m in MUTANTS])
def test_hidden_check_rejects_mistake(name, label, old, new):
    with pytest.raises(CheckFailure):
        run_check(CHECKS[name], mutant(replaced(name, old, new), name), name)


def test_grad_cam_accepts_dividing_before_resizing():
    """The contract names both steps; dividing by the max on the layer's grid, then resizing, is accepted."""
    resize_then_divide = (
        '    cams = tf.image.resize(cams[..., None], images.shape[1:3], method="bilinear")[..., 0]  # (N, H, W)\n'
        '''    peak = tf.reduce_max(cams, axis=(1, 2), keepdims=True)
    return tf.math.divide_no_nan(cams, peak).numpy()''')
    source = replaced("grad_cam", resize_then_divide, '''    peak = tf.reduce_max(cams, axis=(1, 2), keepdims=True)
    cams = tf.math.divide_no_nan(cams, peak)
    return tf.image.resize(cams[..., None], images.shape[1:3], method="bilinear")[..., 0].numpy()''')
    assert run_check(CHECKS["grad_cam"], mutant(source, "grad_cam"), "grad_cam") == 4


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_reference_shows_the_lessons(profile):
    """Features beat pixels for neighbours; FGSM accuracy falls with epsilon; fooling images succeed."""
    r = json.loads(LAYOUT.references_file(AID).read_text())["profiles"][profile]["results"]
    agreement = r["neighbour_label_agreement"]
    assert agreement["features"] > agreement["pixels"] + 0.05, agreement
    curve = [r["fgsm_accuracy"][e] for e in sorted(r["fgsm_accuracy"], key=float)]
    assert curve[0] == 1.0 and curve[-1] < 0.2, curve  # correctly classified images, then fooled
    assert all(a >= b for a, b in zip(curve, curve[1:])), curve
    assert r["fooling_success_rate"] >= 0.8, r["fooling_success_rate"]
