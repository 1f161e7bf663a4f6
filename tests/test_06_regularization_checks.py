"""The hidden checks of 06_regularization pass the reference solution and reject typical mistakes."""

import os

import keras
import pytest

from course.asserts import CheckFailure
from grader.spec import load_checks
from grader.verify import run_check
from helpers import solution_namespace

CHECKS = load_checks("06_regularization")
SOLUTION = solution_namespace("06_regularization", extra={"keras": keras})
FAST = [n for n in sorted(CHECKS) if n != "build_regularized_convnet"]


def mutant(source: str, name: str):
    """Defines a mistaken version of a function beside the solution (its forward functions stay visible)."""
    namespace = dict(SOLUTION)
    exec(source, namespace)
    return namespace[name]


@pytest.fixture
def quick_profile(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")


@pytest.mark.parametrize("name", FAST)
def test_solution_passes_hidden_check(name):
    assert run_check(CHECKS[name], SOLUTION[name], name) > 0


@pytest.mark.slow
def test_solution_regularized_convnet_passes_in_quick_profile(quick_profile):
    assert os.environ["COURSE_PROFILE"] == "quick"
    assert run_check(CHECKS["build_regularized_convnet"], SOLUTION["build_regularized_convnet"],
                     "build_regularized_convnet") == 1


DROPOUT_SCALED_AT_TEST = '''
def dropout_forward(x, p_drop, training, seed=None):
    if training:
        mask = np.random.default_rng(seed).random(x.shape) >= p_drop
        return x * mask, (mask, training)
    return x * (1 - p_drop), (None, training)
'''
DROPOUT_KEEP_PROB_SWAPPED = '''
def dropout_forward(x, p_drop, training, seed=None):
    if training:
        mask = (np.random.default_rng(seed).random(x.shape) < p_drop) / (1 - p_drop)
        return x * mask, (mask, training)
    return x.copy(), (None, training)
'''
DROPOUT_FRESH_MASK_EACH_CALL = '''
def dropout_forward(x, p_drop, training, seed=None):
    if training:
        mask = (np.random.default_rng().random(x.shape) >= p_drop) / (1 - p_drop)
        return x * mask, (mask, training)
    return x.copy(), (None, training)
'''
DROPOUT_BACKWARD_UNSCALED = '''
def dropout_backward(dout, cache):
    mask, training = cache
    return dout * (mask != 0) if training else dout
'''
DROPOUT_BACKWARD_ALWAYS_MASKS = '''
def dropout_forward(x, p_drop, training, seed=None):
    mask = (np.random.default_rng(seed).random(x.shape) >= p_drop) / (1 - p_drop)
    return (x * mask if training else x.copy()), (mask, training)

def dropout_backward(dout, cache):
    mask, training = cache
    return dout * mask
'''
BN_BATCH_STATS_IN_INFERENCE = '''
def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.setdefault("eps", 1e-3)
    momentum = bn_param.setdefault("momentum", 0.99)
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    if bn_param["mode"] == "train":
        previous_mean = bn_param.get("running_mean", np.zeros(x.shape[-1]))
        bn_param["running_mean"] = momentum * previous_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * bn_param.get("running_var", np.ones(x.shape[-1])) + (1 - momentum) * var
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, (x_hat, gamma, std, axes, "train")
'''


def _bn_variant(old: str, new: str):
    import inspect

    source = inspect.getsource(SOLUTION["batchnorm_forward"])
    assert old in source, old
    return mutant(source.replace(old, new), "batchnorm_forward")


BN_BACKWARD_NO_MEAN_TERMS = '''
def batchnorm_backward(dout, cache):
    x_hat, gamma, std, axes, mode = cache
    return dout * gamma / std, (dout * x_hat).sum(axis=axes), dout.sum(axis=axes)
'''
BN_BACKWARD_2D_ONLY = '''
def batchnorm_backward(dout, cache):
    x_hat, gamma, std, axes, mode = cache
    dx_hat = dout * gamma
    if mode == "train":
        dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std
    else:
        dx = dx_hat / std
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
'''
AUGMENTER_VERTICAL_FLIPS = '''
def build_augmenter(seed=0):
    return keras.Sequential([keras.layers.RandomFlip("vertical", seed=seed)])
'''
AUGMENTER_DOES_NOTHING = '''
def build_augmenter(seed=0):
    return keras.Sequential([keras.layers.Identity()])
'''
AUGMENTER_RESCALES = '''
def build_augmenter(seed=0):
    return keras.Sequential([keras.layers.Rescaling(255.0), keras.layers.RandomFlip("horizontal", seed=seed)])
'''

AUGMENTER_HORIZONTAL_FLIPS = '''
def build_augmenter(seed=0):
    return keras.Sequential([keras.layers.RandomFlip("horizontal", seed=seed)])
'''
AUGMENTER_FLIPS_SHIFTS_AND_ZOOMS = '''
def build_augmenter(seed=0):
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 1),
        keras.layers.RandomZoom(0.1, fill_mode="constant", seed=seed + 2)])
'''
AUGMENTER_CROPS = '''
def build_augmenter(seed=0):
    return keras.Sequential([keras.layers.RandomCrop(24, 24, seed=seed)])
'''
AUGMENTER_OUT_OF_RANGE = '''
def build_augmenter(seed=0):
    return keras.Sequential([keras.layers.RandomTranslation(0.07, 0.07, fill_mode="constant", seed=seed),
                             keras.layers.RandomContrast(0.5, seed=seed + 1)])
'''

MUTANTS = {
    "dropout_forward": [("scaled at test time", DROPOUT_SCALED_AT_TEST),
                        ("keeps with p_drop", DROPOUT_KEEP_PROB_SWAPPED),
                        ("ignores the seed", DROPOUT_FRESH_MASK_EACH_CALL)],
    "dropout_backward": [("unscaled", DROPOUT_BACKWARD_UNSCALED),
                         ("masks at test time", DROPOUT_BACKWARD_ALWAYS_MASKS)],
    "batchnorm_forward": [("batch statistics in inference", BN_BATCH_STATS_IN_INFERENCE)],
    "batchnorm_backward": [("no mean terms", BN_BACKWARD_NO_MEAN_TERMS), ("2-D only", BN_BACKWARD_2D_ONLY)],
    "build_augmenter": [("vertical flips", AUGMENTER_VERTICAL_FLIPS), ("identity", AUGMENTER_DOES_NOTHING),
                        ("rescales", AUGMENTER_RESCALES), ("horizontal flips", AUGMENTER_HORIZONTAL_FLIPS),
                        ("flips, shifts and zooms", AUGMENTER_FLIPS_SHIFTS_AND_ZOOMS), ("crops", AUGMENTER_CROPS),
                        ("out of range", AUGMENTER_OUT_OF_RANGE)],
}


@pytest.mark.parametrize("name,label,source", [(n, label, s) for n, ms in MUTANTS.items() for label, s in ms],
                         ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_hidden_check_rejects_mistake(name, label, source):
    with pytest.raises(CheckFailure):
        run_check(CHECKS[name], mutant(source, name), name)


@pytest.mark.parametrize("old,new", [
    ("x.var(axis=axes)", "x.var(axis=axes, ddof=1)"),                       # unbiased variance
    ('bn_param.setdefault("momentum", 0.99)', 'bn_param.setdefault("momentum", 0.9)'),  # wrong default
    ("(1 - momentum) * mean", "momentum * mean"),                           # momentum the wrong way round
    ("np.sqrt(var + eps)", "np.sqrt(var) + eps"),                           # eps outside the root
    ("tuple(range(x.ndim - 1))", "(0,)"),                                   # 2-D only
])
def test_batchnorm_forward_check_rejects_mistake(old, new):
    with pytest.raises(CheckFailure):
        run_check(CHECKS["batchnorm_forward"], _bn_variant(old, new), "batchnorm_forward")


@pytest.mark.parametrize("layers", [
    "keras.layers.RandomTranslation(1 / 28, 1 / 28, fill_mode='constant', seed=seed)",
    "keras.layers.RandomTranslation(0.1, 0.1, fill_mode='constant', seed=seed), "
    "keras.layers.RandomZoom(0.1, fill_mode='constant', seed=seed + 1)",
    "keras.layers.RandomTranslation(0.1, 0.1, seed=seed), keras.layers.RandomRotation(0.03, seed=seed + 1)",
    "keras.layers.RandomZoom(0.2, fill_mode='constant', seed=seed)",
], ids=["one-pixel shifts", "shifts and zooms", "shifts and small rotations", "zooms"])
def test_augmenter_check_accepts_label_preserving_augmenters(layers):
    augmenter = mutant(f"def build_augmenter(seed=0):\n    return keras.Sequential([{layers}])\n", "build_augmenter")
    assert run_check(CHECKS["build_augmenter"], augmenter, "build_augmenter") > 0


def test_augmenter_check_explains_mirrored_shoes():
    with pytest.raises(CheckFailure, match="mirror image"):
        run_check(CHECKS["build_augmenter"], mutant(AUGMENTER_HORIZONTAL_FLIPS, "build_augmenter"), "build_augmenter")


def test_backward_check_needs_the_forward_cell():
    lonely = {}
    exec("def dropout_backward(dout, cache):\n    return dout\n", lonely)
    with pytest.raises(CheckFailure, match="dropout_forward is not defined"):
        run_check(CHECKS["dropout_backward"], lonely["dropout_backward"], "dropout_backward")


def test_regularized_check_rejects_a_model_that_does_not_learn(quick_profile):
    def frozen(input_shape=(28, 28, 1), num_classes=10, **kwargs):
        model = SOLUTION["build_regularized_convnet"](input_shape, num_classes)
        model.trainable = False  # compiles and fits, but nothing changes
        return model

    with pytest.raises(CheckFailure, match="does not learn"):
        run_check(CHECKS["build_regularized_convnet"], frozen, "build_regularized_convnet")
