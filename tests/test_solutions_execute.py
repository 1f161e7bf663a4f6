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
    # Keras training with enable_op_determinism is bit-reproducible on one machine; another CPU (or oneDNN
    # build) changes the round-off, and over a few hundred steps on 100 images the test accuracy by a few points.
    "08_transfer_learning": {"ab_random": 0.05, "ab_dissimilar": 0.05, "scratch_accuracy": 0.05,
                             "feature_extraction_accuracy": 0.05, "fine_tuning_accuracy": 0.05},
}


def _compare(key, got, want, tol, path=""):
    where = f"{path}{key}"
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{where}: keys {sorted(got)} vs {sorted(want)}"
        for k in want:
            _compare(k, got[k], want[k], tol, f"{where}.")
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
