"""Sample submissions of 01_knn, built by ``autograder/build_samples.py`` from the student notebook.

Each sample says how the student's answer cells are filled, and the score it must get.
"""

NO_LOOPS_WITH_A_LOOP = '''def compute_distances_no_loops(X_train, X):
    """Correct numbers, but computed with a loop: the exercise asks for none."""
    dists = np.zeros((X.shape[0], X_train.shape[0]))
    for i in range(X.shape[0]):
        dists[i] = np.sqrt(np.sum((X_train - X[i]) ** 2, axis=1))
    return dists
'''

CV_WITH_SHUFFLED_FOLDS = '''def cross_validate_k(X, y, k_choices, num_folds=5):
    """Shuffles before splitting: the right structure, but not the folds the exercise defines."""
    order = np.random.default_rng(1).permutation(len(X))
    X_folds = np.array_split(X[order], num_folds)
    y_folds = np.array_split(y[order], num_folds)
    k_to_accuracies = {k: [] for k in k_choices}
    for i in range(num_folds):
        X_tr = np.concatenate(X_folds[:i] + X_folds[i + 1:])
        y_tr = np.concatenate(y_folds[:i] + y_folds[i + 1:])
        fold_dists = compute_distances_no_loops(X_tr, X_folds[i])
        for k in k_choices:
            y_pred = predict_labels(fold_dists, y_tr, k=k)
            k_to_accuracies[k].append(float(np.mean(y_pred == y_folds[i])))
    return k_to_accuracies
'''

SAMPLES = {
    "correct": dict(answers="solution", score=21),
    "untouched": dict(answers=None, score=0),
    "visible_only": dict(
        answers="solution",
        replace={"compute_distances_no_loops": NO_LOOPS_WITH_A_LOOP, "cross_validate_k": CV_WITH_SHUFFLED_FOLDS},
        score=13,
        why="passes every visible test; the hidden tests find a loop in the no-loop version and folds that "
            "are not np.array_split's, and those two functions' visible tests count only for confirmed "
            "functions (3 + 3 hidden, 1 + 1 visible points lost)"),
    "deleted_test_cell": dict(
        answers="solution", delete=["compute_distances_l1_by_hand", "predict_labels_matches_reference"], score=21,
        why="two test cells deleted; the autograder restores and grades them"),
    "invalid_json": dict(answers="solution", truncate=True, score=None,
                         why="the file is cut off in the middle: a clear error, the others are graded"),
}
