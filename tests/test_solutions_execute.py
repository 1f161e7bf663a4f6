"""Every solution notebook runs end to end in the quick profile and reproduces its reference results."""

import json
import math

import pytest

from course.paths import course_layout
from grader.execute import execute_notebook
from helpers import LAYOUT

# Results that depend on the machine (timings) are reported, not compared.
MACHINE_DEPENDENT = ("speedup_", "seconds", "time_")
# Absolute tolerance per assignment and result key; 0 (exact) when not listed. Deterministic NumPy
# results (kNN) must match exactly; trained models list their own tolerance with the reason.
TOLERANCES = {
    "01_knn": {},
    # 04: the tiny conv net is trained with NumPy in float64, bit-identical on one machine; another
    # BLAS may sum in another order (round-off ~1e-16, amplified by 100 SGD steps to well under 1e-6).
    # One image of 50 more or less is the largest change in accuracy we accept from that.
    "04_cnn_layers": {"overfit_loss_history": 1e-6, "overfit_final_train_accuracy": 0.02},
    # 05: the toy surfaces are elementwise NumPy (exact); the deep-net statistics go through BLAS
    # (another summation order moves them by ~1e-12). Keras training in float32 is bit-identical on
    # one machine (seeded, op determinism); another CPU or thread count changes its round-off, which
    # moves a few-epoch loss by up to ~0.01 and a 500-image validation accuracy by a few images.
    "05_optimization": {"init_last_layer_std": 1e-6, "init_training_loss": 0.05,
                        "optimizer_loss_curves": 0.05, "optimizer_val_accuracy": 0.03,
                        "optimizer_lr_search": 0.03, "optimizer_test_accuracy": 0.03},
    # Keras training on CPU is not bit-reproducible across machines (oneDNN kernels, thread order), and the
    # quick profile's subsets are tiny (256 validation images: one prediction is 0.4 %): accuracies within
    # 8 points, the early-stopping epoch within 2.
    "06_regularization": {
        **{k: 0.08 for k in ("baseline_train_accuracy", "baseline_val_accuracy", "baseline_test_accuracy",
                             "regularized_val_accuracy", "regularized_test_accuracy", "regularized_gain",
                             "val_accuracy_L2", "val_accuracy_dropout", "val_accuracy_batch_norm",
                             "val_accuracy_augmentation", "train_accuracy_L2", "train_accuracy_dropout",
                             "train_accuracy_batch_norm", "train_accuracy_augmentation")},
        "early_stopping_best_epoch": 2,
    },
    # Same reasons; two epochs on 2,000 images and one-epoch searches on 500 are noisier still. The
    # parameter count is exact.
    "07_keras_convnets": {
        "initial_loss": 0.1, "tiny_subset_train_accuracy": 0.15, "search_best_val_accuracy": 0.2,
        "test_accuracy": 0.1, "history": 0.15, "confusion_matrix": 15,
        "class_model_images_predicted_as_their_class": 10,
    },
    # Accuracies of models trained with SGD: another BLAS (thread count, CPU) changes the last bits of
    # every matrix product, which can flip the prediction of a few images at a decision boundary
    # (1 image of 500 = 0.002). Loss curves: the same round-off, amplified over hundreds of SGD steps.
    "02_linear_classifiers": {"svm_sgd_val_accuracy": 0.01, "softmax_sgd_val_accuracy": 0.01,
                              "svm_best_val_accuracy": 0.01, "softmax_best_val_accuracy": 0.01,
                              "svm_test_accuracy": 0.01, "softmax_test_accuracy": 0.01,
                              "softmax_sgd_loss_history": 1e-3},
    # The same for the two-layer network trained with SGD.
    "03_backprop": {"first_run_val_accuracy": 0.01, "first_run_val_acc_curve": 0.01, "best_val_accuracy": 0.01,
                    "test_accuracy": 0.01},
    # Keras training with enable_op_determinism is bit-reproducible on one machine; another CPU (or oneDNN
    # build) changes the round-off, and over a few hundred steps on 100 images the test accuracy by a few points.
    "08_transfer_learning": {"ab_random": 0.05, "ab_dissimilar": 0.05, "scratch_accuracy": 0.05,
                             "feature_extraction_accuracy": 0.05, "fine_tuning_accuracy": 0.05,
                             "size_sweep": 0.05},
    # 09: the counts are exact. The three networks of the degradation experiment are trained with op
    # determinism (bit-identical on one machine); another CPU changes the round-off, which over a few
    # hundred SGD steps moves a training loss by a few hundredths and a 1000-image test accuracy by a few points.
    "09_cnn_architectures": {"degradation_final_train_loss": 0.1, "degradation_test_accuracy": 0.08,
                             "degradation_history": 0.15},
    # 10: the shipped model is fixed, so its predictions are deterministic; another CPU's round-off can flip
    # a prediction at a decision boundary (one image of 500 is 0.002) or a gradient's sign where it is ~0.
    "10_visualizing_convnets": {"test_accuracy": 0.01, "occlusion_min_probability": 0.02,
                                "neighbour_label_agreement": 0.02, "fgsm_accuracy": 0.03,
                                "fooling_success_rate": 0.2, "fooling_mean_steps": 1.0},
}


def _compare(key, got, want, tol, path=""):
    where = f"{path}{key}"
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{where}: keys {sorted(got)} vs {sorted(want)}"
        for k in want:
            _compare(k, got[k], want[k], tol, f"{where}.")
    elif isinstance(want, list) and tol:  # curves and matrices: element by element, with the key's tolerance
        assert isinstance(got, list) and len(got) == len(want), f"{where}: {got!r} vs reference {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            _compare(f"[{i}]", g, w, tol, where)
    elif isinstance(want, (int, float)) and not isinstance(want, bool):
        assert math.isclose(got, want, rel_tol=0, abs_tol=tol or 1e-12), \
            f"{where}: {got} vs reference {want} (tol {tol})"
    else:
        assert got == want, f"{where}: {got!r} vs reference {want!r}"


@pytest.mark.slow
@pytest.mark.parametrize("aid", course_layout().assignment_ids())
def test_solution_runs_in_quick_profile_and_matches_reference(aid, tmp_path):
    results_file = tmp_path / "results.json"
    nb, seconds = execute_notebook(LAYOUT.source_notebook(aid, f"{aid}.ipynb"), profile="quick",
                                   results_file=results_file)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors[0]
    got = json.loads(results_file.read_text())
    reference = json.loads(LAYOUT.references_file(aid).read_text())
    want = reference["profiles"]["quick"]["results"]
    assert set(got) == set(want), "the notebook records other results than the reference: rebuild references"
    for key, value in want.items():
        if not key.startswith(MACHINE_DEPENDENT):
            _compare(key, got[key], value, TOLERANCES.get(aid, {}).get(key, 0))
    print(f"{aid}: quick profile ran in {seconds:.1f} s")
