"""The hidden checks of 08_transfer_learning pass the reference solution and reject typical mistakes;
the shipped base models verify against their provenance."""

import json
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from course import models
from course.asserts import CheckFailure
from grader.spec import load_checks
from grader.verify import run_check
from helpers import solution_namespace

AID = "08_transfer_learning"
CHECKS = load_checks(AID)
SOLUTION = solution_namespace(AID, extra={"keras": keras})


# --------------------------------------------------------------------------- the shipped base models


def test_shipped_base_models_verify_and_are_small():
    provenance = models.load_provenance()
    assert sorted(provenance["models"]) == ["dissimilar_A", "dissimilar_B", "random_A", "random_B"]
    for name, info in provenance["models"].items():
        path = models.verify_model(name)
        assert path.stat().st_size < 1_000_000, f"{name} is {path.stat().st_size} bytes"
        for key in ("sha256", "seed", "epochs", "test_accuracy", "classes"):
            assert key in info, f"{name}: provenance lacks {key}"
    for key in ("device", "libraries", "date"):
        assert key in provenance["builder"]
    for split in provenance["splits"].values():
        assert not set(split["A"]) & set(split["B"]) and len(split["A"]) + len(split["B"]) == 10


def test_a_changed_model_file_is_refused(tmp_path):
    folder = tmp_path / "models"
    shutil.copytree(models.models_dir(), folder)
    path = folder / "random_A.keras"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one bit flipped
    path.write_bytes(bytes(raw))
    with pytest.raises(models.ModelChecksumError, match="does not match"):
        models.load_base_model("random_A", folder=folder)
    (folder / "random_B.keras").unlink()
    with pytest.raises(models.ModelChecksumError, match="missing"):
        models.verify_model("random_B", folder=folder)
    with pytest.raises(KeyError, match="known"):
        models.model_info("imagenet", folder=folder)


def test_base_models_have_the_same_architecture():
    provenance = json.loads((models.models_dir() / models.PROVENANCE).read_text())
    shapes = {name: [w.shape for w in models.load_base_model(name).get_weights()[:-2]]
              for name in provenance["models"]}
    assert len({str(s) for s in shapes.values()}) == 1


# --------------------------------------------------------------------------- split_classes and build_transfer_model


@pytest.mark.parametrize("name", ["split_classes", "build_transfer_model"])
def test_solution_passes_hidden_check(name):
    assert run_check(CHECKS[name], SOLUTION[name], name) > 0


def split_sorted_order(x, y, classes):
    keep = np.isin(y, classes)
    return x[keep], np.searchsorted(np.sort(classes), y[keep])


def split_keeps_original_labels(x, y, classes):
    keep = np.isin(y, classes)
    return x[keep], y[keep]


def split_grouped_by_class(x, y, classes):
    parts = [(x[y == c], np.full(int(np.sum(y == c)), i)) for i, c in enumerate(classes)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _build(base_model, n_layers, num_classes, fine_tune=False, freeze=True, copy=True, count_all=False,
           freeze_new=False, softmax=True, share=False):
    """A configurable build_transfer_model, to make mutants of."""
    if not 0 <= n_layers < len([layer for layer in base_model.layers if layer.weights]):
        raise ValueError(f"n_layers={n_layers} is out of range")
    model = keras.Sequential([keras.Input(shape=base_model.input_shape[1:])])
    seen = 0
    for i, layer in enumerate(base_model.layers):
        config = layer.get_config()
        last = i == len(base_model.layers) - 1
        if last:
            config["units"] = num_classes
            if not softmax:
                config["activation"] = "linear"
        copy_this = (i if count_all else seen) < n_layers and layer.weights
        new = layer if (share and copy_this) else layer.__class__.from_config(config)
        model.add(new)
        if copy_this:
            if copy and not share:
                new.set_weights(layer.get_weights())
            if freeze:
                new.trainable = fine_tune
        elif layer.weights and freeze_new:
            new.trainable = False
        if layer.weights:
            seen += 1
    return model


def build_accepting_any_n_layers(base_model, n_layers, num_classes, fine_tune=False):
    """Copies as asked, but returns a model for an impossible n_layers instead of raising ValueError."""
    n = min(max(n_layers, 0), len([layer for layer in base_model.layers if layer.weights]) - 1)
    return _build(base_model, n, num_classes, fine_tune)


def build_not_freezing(base_model, n_layers, num_classes, fine_tune=False):
    return _build(base_model, n_layers, num_classes, fine_tune, freeze=False)


def build_reinit_copied(base_model, n_layers, num_classes, fine_tune=False):
    return _build(base_model, n_layers, num_classes, fine_tune, copy=False)


def build_counting_every_layer(base_model, n_layers, num_classes, fine_tune=False):
    return _build(base_model, n_layers, num_classes, fine_tune, count_all=True)


def build_freezing_new_layers(base_model, n_layers, num_classes, fine_tune=False):
    return _build(base_model, n_layers, num_classes, fine_tune, freeze_new=True)


def build_logits_output(base_model, n_layers, num_classes, fine_tune=False):
    return _build(base_model, n_layers, num_classes, fine_tune, softmax=False)


def build_sharing_base_layers(base_model, n_layers, num_classes, fine_tune=False):
    return _build(base_model, n_layers, num_classes, fine_tune, share=True)


def build_always_frozen(base_model, n_layers, num_classes, fine_tune=False):
    return _build(base_model, n_layers, num_classes, False)


MUTANTS = {
    "split_classes": [split_sorted_order, split_keeps_original_labels, split_grouped_by_class],
    "build_transfer_model": [build_not_freezing, build_reinit_copied, build_counting_every_layer,
                             build_freezing_new_layers, build_logits_output, build_sharing_base_layers,
                             build_always_frozen, build_accepting_any_n_layers],
}


def test_configurable_builder_is_correct_when_unmutated():
    assert run_check(CHECKS["build_transfer_model"], _build, "build_transfer_model") > 0


@pytest.mark.parametrize("name,mutant", [(n, m) for n, ms in MUTANTS.items() for m in ms],
                         ids=lambda v: getattr(v, "__name__", v))
def test_hidden_check_rejects_mistake(name, mutant):
    with pytest.raises(CheckFailure):
        run_check(CHECKS[name], mutant, name)


# --------------------------------------------------------------------------- run_transfer_experiment (quick profile)


def _experiment(variants, use_test=True):
    """A run_transfer_experiment whose (name, base, fine_tune) recipe can be changed."""
    build_transfer_model = SOLUTION["build_transfer_model"]

    def run_transfer_experiment(base_a, base_b, data_b, layer_counts, epochs, seed=0):
        x_train, y_train, x_test, y_test = data_b
        out = {"BnB": {}, "AnB": {}, "AnB+": {}}
        for n in layer_counts:
            for name, which, fine_tune in variants:
                keras.utils.set_random_seed(seed)
                model = build_transfer_model(base_a if which == "A" else base_b, n, len(np.unique(y_train)),
                                             fine_tune=fine_tune)
                model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                              metrics=["accuracy"])
                model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
                xs, ys = (x_test, y_test) if use_test else (x_train, y_train)
                out[name][n] = float(model.evaluate(xs, ys, verbose=0)[1])
        return out
    return run_transfer_experiment


RIGHT = [("BnB", "B", False), ("AnB", "A", False), ("AnB+", "A", True)]
EXPERIMENT_MUTANTS = {
    "anb_not_frozen": _experiment([("BnB", "B", False), ("AnB", "A", True), ("AnB+", "A", True)]),
    "bases_swapped": _experiment([("BnB", "A", False), ("AnB", "B", False), ("AnB+", "B", True)]),
    "train_accuracy": _experiment(RIGHT, use_test=False),
}


@pytest.fixture
def quick_profile(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    tf.config.experimental.enable_op_determinism()  # as the notebook's setup cell does


@pytest.mark.slow
def test_solution_passes_experiment_check(quick_profile):
    fn = SOLUTION["run_transfer_experiment"]
    assert run_check(CHECKS["run_transfer_experiment"], fn, "run_transfer_experiment") == 1
    assert fn.__globals__["build_transfer_model"] is SOLUTION["build_transfer_model"], "the check must restore it"


@pytest.mark.slow
@pytest.mark.parametrize("mutant", sorted(EXPERIMENT_MUTANTS))
def test_experiment_check_rejects_mistake(quick_profile, mutant):
    with pytest.raises(CheckFailure):
        run_check(CHECKS["run_transfer_experiment"], EXPERIMENT_MUTANTS[mutant], "run_transfer_experiment")
