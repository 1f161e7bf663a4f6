"""Hidden checks of 01_knn: grader-chosen inputs and independent references (SciPy, NumPy).

Each entry of ``CHECKS`` is a ``FunctionCheck`` run by ``course.grading.run_hidden_check``.
Tolerances:
- distances from loops: relative error 1e-10 (float64 round-off of a sum of 784 squares);
- the no-loop version expands the square, which loses a few digits: 1e-8 relative, on inputs
  without duplicate points (where the distance is 0 and only an absolute error makes sense);
- labels and fold accuracies are compared exactly (the inputs have no distance ties).
"""


import numpy as np
from scipy.spatial.distance import cdist

from course.asserts import CheckFailure, assert_close, assert_equal, assert_true
from grader.source_rules import loop_nodes, names_used, parse_function
from grader.spec import Case, FunctionCheck

# --------------------------------------------------------------------------- distances


def _distance_cases() -> list:
    rng = np.random.default_rng(20240131)
    pixels = lambda n, d: rng.integers(0, 256, size=(n, d)).astype(np.float64)
    return [
        Case("7 training x 3 test points, D=5", (rng.normal(size=(7, 5)), rng.normal(size=(3, 5)))),
        Case("a single test point, 20 training points of 784 pixels", (pixels(20, 784), pixels(1, 784))),
        Case("3 training x 11 test points (more test than training points), D=4",
             (rng.normal(size=(3, 4)) * 10, rng.normal(size=(11, 4)) * 10)),
        Case("40 training x 9 test points of 784 pixels", (pixels(40, 784), pixels(9, 784))),
        Case("5 training x 2 test points, D=1", (rng.normal(size=(5, 1)), rng.normal(size=(2, 1)))),
    ]


def _verify_distances(metric: str, tol: float, hint: str):
    def verify(case: Case, out) -> None:
        X_train, X = case.args
        expected = cdist(X, X_train, metric=metric)
        if np.shape(out) == expected.shape[::-1] and expected.shape[0] != expected.shape[1]:
            raise CheckFailure(f"dists has shape {np.shape(out)}, expected {expected.shape} (num_test, num_train): "
                               "rows are test points, columns training points")
        assert_close(out, expected, what="dists", compared_with=f"scipy.spatial.distance.cdist(metric={metric!r})",
                     tol=tol, hint=hint)
    return verify


LIBRARY_SHORTCUTS = {"cdist", "pdist", "distance_matrix", "pairwise_distances", "scipy", "sklearn", "torch"}


def _no_library_shortcut(source: str) -> None:
    used = sorted(names_used(parse_function(source)) & LIBRARY_SHORTCUTS)
    assert_true(not used, f"the function uses {', '.join(used)}, which computes the distances for you",
                hint="write the computation with NumPy operations")


def _no_loops(source: str) -> None:
    loops = loop_nodes(parse_function(source))
    assert_true(not loops, f"compute_distances_no_loops contains a loop or comprehension "
                           f"({type(loops[0]).__name__} on line {loops[0].lineno} of the function)" if loops else "",
                hint="expand ||x - x'||^2 = ||x||^2 - 2 x.x' + ||x'||^2 and use one matrix product")
    _no_library_shortcut(source)


LOOP_HINT = "each entry is sqrt(sum((X[i] - X_train[j])**2)): square, sum over features, then the square root"

# --------------------------------------------------------------------------- predict_labels


def reference_predict(dists: np.ndarray, y_train: np.ndarray, k: int) -> np.ndarray:
    """Majority vote of the k nearest (stable order), ties toward the smaller label."""
    nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]
    votes = y_train[nearest]
    return np.array([np.argmax(np.bincount(row)) for row in votes], dtype=np.int64)


def _predict_cases() -> list:
    rng = np.random.default_rng(7)
    cases = []
    dists = rng.random((30, 50))
    labels = rng.integers(0, 10, size=50)
    for k in (1, 3, 7):
        cases.append(Case(f"30 test x 50 training points, 10 classes, k={k}", (dists, labels), {"k": k}))
    # Vote ties: k=2 with two different labels, k=4 split 2-2, k=5 split 2-2-1.
    tie_labels = np.array([5, 3, 5, 3, 8, 1, 1])
    tie_dists = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
                          [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
                          [0.2, 0.1, 0.9, 0.8, 0.3, 0.7, 0.6]])
    for k in (2, 4, 5):
        cases.append(Case(f"3 test points whose {k} nearest neighbors tie in votes, k={k}",
                          (tie_dists, tie_labels), {"k": k}))
    cases.append(Case("a single test point, k=3", (rng.random((1, 12)), rng.integers(0, 4, size=12)), {"k": 3}))
    cases.append(Case("k equal to the number of training points (everyone votes)",
                      (rng.random((4, 9)), np.array([0, 1, 1, 2, 2, 2, 0, 0, 1])), {"k": 9}))
    cases.append(Case("labels that are not 0..C-1 (only 4 and 9)",
                      (rng.random((6, 10)), np.array([9, 4, 9, 4, 4, 9, 9, 4, 4, 9])), {"k": 3}))
    return cases


def _verify_predict(case: Case, out) -> None:
    dists, y_train = case.args
    expected = reference_predict(dists, y_train, case.kwargs["k"])
    assert_equal(out, expected, what="y_pred", compared_with="an independent majority vote",
                 hint="take the k smallest distances of each row (np.argsort), count their labels "
                      "(np.bincount) and pick the most common; on a tie pick the smaller label")


# --------------------------------------------------------------------------- cross_validate_k


def reference_cross_validation(X, y, k_choices, num_folds):
    X_folds, y_folds = np.array_split(X, num_folds), np.array_split(y, num_folds)
    accuracies = {k: [] for k in k_choices}
    for i in range(num_folds):
        X_tr = np.concatenate(X_folds[:i] + X_folds[i + 1:])
        y_tr = np.concatenate(y_folds[:i] + y_folds[i + 1:])
        d = cdist(X_folds[i], X_tr)
        for k in k_choices:
            accuracies[k].append(float(np.mean(reference_predict(d, y_tr, k) == y_folds[i])))
    return accuracies


def _cv_cases() -> list:
    rng = np.random.default_rng(11)
    centers = rng.normal(size=(3, 6)) * 1.5
    y1 = rng.integers(0, 3, size=60)
    X1 = centers[y1] + rng.normal(size=(60, 6))
    y2 = rng.integers(0, 4, size=50)
    X2 = rng.normal(size=(4, 3))[y2] + rng.normal(size=(50, 3)) * 1.2
    return [
        Case("60 points in 3 noisy clusters, k in [1, 3, 5, 8], 5 folds", (X1, y1, [1, 3, 5, 8]), {"num_folds": 5}),
        Case("50 points, k in [2, 7], 3 folds of unequal size (17, 17, 16)", (X2, y2, [2, 7]), {"num_folds": 3}),
    ]


def _verify_cv(case: Case, out) -> None:
    X, y, k_choices = case.args
    expected = reference_cross_validation(X, y, k_choices, case.kwargs["num_folds"])
    assert_true(isinstance(out, dict), f"expected a dict k -> list of accuracies, got {type(out).__name__}")
    assert_equal(sorted(out), sorted(expected), what="the keys", compared_with="k_choices",
                 hint="one entry per k in k_choices")
    for k in k_choices:
        assert_close(out[k], expected[k], what=f"accuracies for k={k}", tol=1e-12,
                     compared_with="an independent cross-validation (np.array_split folds, in order)",
                     hint="fold i is the validation set and the other folds, concatenated in order, the training "
                          "set; if predict_labels or compute_distances_no_loops fail their tests, fix them first")


CHECKS = {
    "compute_distances_two_loops": FunctionCheck(
        cases=_distance_cases, verify=_verify_distances("euclidean", 1e-10, LOOP_HINT),
        source_rules=_no_library_shortcut),
    "compute_distances_one_loop": FunctionCheck(
        cases=_distance_cases, verify=_verify_distances("euclidean", 1e-10, LOOP_HINT),
        source_rules=_no_library_shortcut),
    "compute_distances_no_loops": FunctionCheck(
        cases=_distance_cases,
        verify=_verify_distances("euclidean", 1e-8, "check the expansion ||x||^2 - 2 x.x' + ||x'||^2: squared "
                                                    "norms of X as a column, of X_train as a row"),
        source_rules=_no_loops),
    "compute_distances_l1": FunctionCheck(
        cases=_distance_cases,
        verify=_verify_distances("cityblock", 1e-10, "L1 is the sum of absolute differences over the features"),
        source_rules=_no_library_shortcut),
    "predict_labels": FunctionCheck(cases=_predict_cases, verify=_verify_predict),
    "cross_validate_k": FunctionCheck(cases=_cv_cases, verify=_verify_cv),
}
