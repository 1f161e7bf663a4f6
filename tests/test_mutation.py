"""Mutation testing of the hidden checks (autograder/mutation_test.py), on a subset in CI.

For every assignment with checks, one graded function (the first in CHECKS order, or those named
in COURSE_MUTATION_FUNCTIONS="id:fn,id:fn") is mutated; the checks must kill at least 95 % of the
mutants, and every alternative correct implementation must pass. The full run is
``python -m autograder.mutation_test --all``.
"""

import os

import pytest

from autograder import mutation_test
from helpers import LAYOUT

IDS = sorted(p.stem for p in LAYOUT.checks_dir.glob("*.py"))


# The function checked per assignment when it is not the first one in CHECKS: 07's first,
# build_convnet, trains a model per mutant (minutes each); its saliency_map is checked instead.
DEFAULT_FUNCTION = {"07_keras_convnets": "saliency_map"}


def chosen(aid):
    env = os.environ.get("COURSE_MUTATION_FUNCTIONS", "")
    named = [item.split(":", 1)[1] for item in env.split(",") if item.startswith(aid + ":")]
    if named:
        return named
    if aid in DEFAULT_FUNCTION:
        return [DEFAULT_FUNCTION[aid]]
    from grader.spec import load_checks

    _, defs = mutation_test.solution_namespace(aid)
    return [next(name for name in load_checks(aid) if name in defs)]


@pytest.mark.parametrize("aid", IDS)
def test_hidden_checks_kill_the_mutants(aid):
    report = mutation_test.mutation_report(aid, chosen(aid), timeout=10.0, max_mutants=80)
    assert report
    for name, r in report.items():
        assert r["mutants"] >= 5, f"{aid}/{name}: only {r['mutants']} mutants generated"
        assert r["score"] >= 95.0, f"{aid}/{name}: {r['score']} % killed; survivors: {r['survivors']}"
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


def test_only_the_students_lines_and_the_returns_are_mutated():
    source = '''def f(x, p):
    if not 0 <= p < 1:
        raise ValueError(p)
    y = x * 2 + p
    return y
'''
    found = mutation_test.mutants(source, lines={4})
    changes = {mutation_test.changed_lines(source, s) for _, _, s in found}
    assert not [c for c in changes if "0 <= p < 1" in c or "ValueError" in c], changes
    assert "y = x * 2 + p -> y = x * 2 - p" in changes
    assert "return y -> return -y" in changes  # the result is mutated wherever it is returned


def test_student_lines_are_those_between_the_solution_markers():
    lines = mutation_test.student_lines("06_regularization")["dropout_forward"]
    _, defs = mutation_test.solution_namespace("06_regularization")
    source = defs["dropout_forward"].splitlines()
    assert all("p_drop must be in" not in source[n - 1] for n in lines)
    assert any("rng.random" in source[n - 1] for n in lines)


def test_declared_equivalents_are_not_counted_but_must_pass(monkeypatch):
    monkeypatch.setattr(mutation_test, "equivalent_mutants", lambda aid: {"predict_labels": {
        "return y_pred -> return -y_pred": "declared equivalent, wrongly, for this test",
        "y_pred = 1 -> y_pred = 2": "a declaration that matches no mutant"}})
    report = mutation_test.mutation_report("01_knn", ["predict_labels"], log=lambda *a: None)
    r = report["predict_labels"]
    failures = "\n".join(r["alternative_failures"])
    assert "the check rejects it: sign flip: return x -> return -x" in failures, failures
    assert "no such mutant: `y_pred = 1 -> y_pred = 2`" in failures, failures
    assert r["mutants"] == len(mutation_test.mutants(
        mutation_test.solution_namespace("01_knn")[1]["predict_labels"],
        mutation_test.student_lines("01_knn")["predict_labels"])) - 1, "the declared mutant is not counted"
