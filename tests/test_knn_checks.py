"""The hidden checks of 01_knn pass the reference solution and reject typical mistakes."""

import numpy as np
import pytest

from course.asserts import CheckFailure
from grader.spec import load_checks
from grader.verify import run_check
from helpers import solution_namespace

CHECKS = load_checks("01_knn")
SOLUTION = solution_namespace("01_knn")


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_solution_passes_hidden_check(name):
    assert run_check(CHECKS[name], SOLUTION[name], name) > 0


def transposed(X_train, X):
    return SOLUTION["compute_distances_two_loops"](X_train, X).T


def squared(X_train, X):
    return SOLUTION["compute_distances_no_loops"](X_train, X) ** 2


def no_clip_float32(X_train, X):
    X, X_train = X.astype(np.float32), X_train.astype(np.float32)
    return np.sqrt(np.abs(np.sum(X ** 2, 1, keepdims=True) - 2 * X @ X_train.T + np.sum(X_train ** 2, 1)))


def l1_as_l2(X_train, X):
    return SOLUTION["compute_distances_two_loops"](X_train, X)


def vote_ties_to_larger(dists, y_train, k=1):
    out = []
    for row in dists:
        counts = np.bincount(y_train[np.argsort(row)[:k]])
        out.append(len(counts) - 1 - np.argmax(counts[::-1]))
    return np.array(out)


def first_k_not_nearest(dists, y_train, k=1):
    return np.array([np.argmax(np.bincount(y_train[:k])) for _ in dists])


def cv_swapped_roles(X, y, k_choices, num_folds=5):
    X_folds, y_folds = np.array_split(X, num_folds), np.array_split(y, num_folds)
    out = {k: [] for k in k_choices}
    for i in range(num_folds):
        X_tr = np.concatenate(X_folds[:i] + X_folds[i + 1:])
        y_tr = np.concatenate(y_folds[:i] + y_folds[i + 1:])
        d = SOLUTION["compute_distances_no_loops"](X_folds[i], X_tr)
        for k in k_choices:
            out[k].append(float(np.mean(SOLUTION["predict_labels"](d, y_folds[i], k=k) == y_tr)))
    return out


def cv_scipy_shortcut(X, y, k_choices, num_folds=5):
    return {k: [0.5] * num_folds for k in k_choices}


MUTANTS = {
    "compute_distances_two_loops": [transposed, squared],
    "compute_distances_one_loop": [transposed, squared],
    "compute_distances_no_loops": [squared, no_clip_float32, SOLUTION["compute_distances_one_loop"]],
    "compute_distances_l1": [l1_as_l2, transposed],
    "predict_labels": [vote_ties_to_larger, first_k_not_nearest],
    "cross_validate_k": [cv_swapped_roles, cv_scipy_shortcut],
}


@pytest.mark.parametrize("name,mutant", [(n, m) for n, ms in MUTANTS.items() for m in ms],
                         ids=lambda v: getattr(v, "__name__", v))
def test_hidden_check_rejects_mistake(name, mutant):
    with pytest.raises(CheckFailure):
        run_check(CHECKS[name], mutant, name)


def test_no_loops_rule_names_the_loop():
    with pytest.raises(CheckFailure, match="contains a loop or comprehension"):
        run_check(CHECKS["compute_distances_no_loops"], SOLUTION["compute_distances_one_loop"],
                  "compute_distances_no_loops")
