"""Sample submissions of 02_linear_classifiers, built by ``autograder/build_samples.py`` from the student notebook.

Each sample says how the student's answer cells are filled, and the score it must get.
"""

SVM_GRAD_WITHOUT_REG = '''def svm_loss_vectorized(W, X, y, reg):
    """Right loss, but the gradient forgets the regularization term 2 * reg * W."""
    num_train = X.shape[0]
    scores = X @ W
    correct = scores[np.arange(num_train), y][:, None]
    margins = np.maximum(0.0, scores - correct + 1.0)
    margins[np.arange(num_train), y] = 0.0
    loss = np.sum(margins) / num_train + reg * np.sum(W * W)
    mask = (margins > 0).astype(np.float64)
    mask[np.arange(num_train), y] = -np.sum(mask, axis=1)
    dW = X.T @ mask / num_train
    return loss, dW
'''

SOFTMAX_WITHOUT_MAX_SHIFT = '''def softmax_loss_vectorized(W, X, y, reg):
    """Right formulas, but no max-shift: np.exp overflows on large scores."""
    num_train = X.shape[0]
    exp_scores = np.exp(X @ W)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(num_train), y])) + reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[np.arange(num_train), y] -= 1.0
    dW = X.T @ dscores / num_train + 2 * reg * W
    return loss, dW
'''

SAMPLES = {
    "correct": dict(answers="solution", score=20),
    "untouched": dict(answers=None, score=0),
    "svm_grad_without_reg": dict(
        answers="solution", replace={"svm_loss_vectorized": SVM_GRAD_WITHOUT_REG}, score=16,
        why="the visible test (against the naive version, reg > 0) and the hidden test both see the missing "
            "2 * reg * W: Part B's 4 points are lost"),
    "softmax_without_max_shift": dict(
        answers="solution", replace={"softmax_loss_vectorized": SOFTMAX_WITHOUT_MAX_SHIFT}, score=16,
        why="passes the visible test (small scores); the hidden test's large scores overflow: 3 points lost, "
            "and the visible test's point, which counts only for a function the grader confirms"),
}
