"""Every solution notebook runs end to end in the quick profile and reproduces its reference results."""

import json
import math

import pytest

from course.execute import execute_notebook
from course.release import assignment_ids
from helpers import ROOT

# Results that depend on the machine (timings) are reported, not compared.
MACHINE_DEPENDENT = ("speedup_", "seconds", "time_")
# Absolute tolerance per assignment and result key; 0 (exact) when not listed. Deterministic NumPy
# results (kNN) must match exactly; trained models list their own tolerance with the reason.
TOLERANCES = {
    "01_knn": {},
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
}


def _compare(key, got, want, tol, path=""):
    where = f"{path}{key}"
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{where}: keys {sorted(got)} vs {sorted(want)}"
        for k in want:
            _compare(k, got[k], want[k], tol, f"{where}.")
    elif isinstance(want, list) and tol and all(isinstance(v, (int, float)) for v in want):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: length {len(got)} vs {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            _compare(f"[{i}]", g, w, tol, where)
    elif isinstance(want, (int, float)) and not isinstance(want, bool):
        assert math.isclose(got, want, rel_tol=0, abs_tol=tol or 1e-12), f"{where}: {got} vs reference {want} (tol {tol})"
    else:
        assert got == want, f"{where}: {got!r} vs reference {want!r}"


@pytest.mark.slow
@pytest.mark.parametrize("aid", assignment_ids())
def test_solution_runs_in_quick_profile_and_matches_reference(aid, tmp_path):
    results_file = tmp_path / "results.json"
    nb, seconds = execute_notebook(ROOT / "solutions" / aid / f"{aid}.ipynb", profile="quick",
                                   results_file=results_file)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors[0]
    got = json.loads(results_file.read_text())
    reference = json.loads((ROOT / "autograder" / "references" / f"{aid}.json").read_text())
    want = reference["profiles"]["quick"]["results"]
    assert set(got) == set(want), "the notebook records other results than the reference: rebuild references"
    for key, value in want.items():
        if not key.startswith(MACHINE_DEPENDENT):
            _compare(key, got[key], value, TOLERANCES.get(aid, {}).get(key, 0))
    print(f"{aid}: quick profile ran in {seconds:.1f} s")
