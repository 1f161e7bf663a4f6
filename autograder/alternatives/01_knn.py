"""Alternative correct implementations of 01_knn's graded functions: each must pass its hidden check.

Used by ``autograder/mutation_test.py``: a check that rejects one of these is too strict (it would
fail a student who wrote correct code another way).
"""

ALTERNATIVES = {
    "compute_distances_two_loops": ['''
def compute_distances_two_loops(X_train, X):
    dists = np.empty((len(X), len(X_train)))
    for i, x in enumerate(X):
        for j, t in enumerate(X_train):
            dists[i, j] = np.linalg.norm(x - t)
    return dists
'''],
    "compute_distances_one_loop": ['''
def compute_distances_one_loop(X_train, X):
    rows = []
    for x in X:
        rows.append(np.sqrt(((X_train - x) ** 2).sum(axis=-1)))
    return np.array(rows).reshape(len(X), len(X_train))
'''],
    "compute_distances_no_loops": ['''
def compute_distances_no_loops(X_train, X):
    return np.sqrt(np.maximum(0, np.einsum("ij,ij->i", X, X)[:, None] - 2 * X.dot(X_train.T)
                              + np.einsum("ij,ij->i", X_train, X_train)[None, :]))
''', '''
def compute_distances_no_loops(X_train, X):
    diff = X[:, None, :] - X_train[None, :, :]
    return np.sqrt((diff ** 2).sum(axis=2))
'''],
    "compute_distances_l1": ['''
def compute_distances_l1(X_train, X):
    return np.abs(X[:, None, :] - X_train[None, :, :]).sum(axis=2)
'''],
    "predict_labels": ['''
def predict_labels(dists, y_train, k=1):
    from collections import Counter
    out = np.zeros(dists.shape[0], dtype=np.int64)
    for i in range(dists.shape[0]):
        nearest = y_train[np.argsort(dists[i], kind="stable")[:k]]
        counts = Counter(nearest.tolist())
        best = max(counts.values())
        out[i] = min(label for label, c in counts.items() if c == best)
    return out
'''],
    "cross_validate_k": ['''
def cross_validate_k(X, y, k_choices, num_folds=5):
    folds = np.array_split(np.arange(len(X)), num_folds)
    result = {}
    for k in k_choices:
        result[k] = []
        for idx in folds:
            train = np.setdiff1d(np.arange(len(X)), idx)
            d = compute_distances_no_loops(X[train], X[idx])
            result[k].append(float((predict_labels(d, y[train], k=k) == y[idx]).mean()))
    return result
'''],
}
