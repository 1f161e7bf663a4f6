"""Hidden checks of 02_linear_classifiers: grader-chosen inputs and independent references.

Each entry of ``CHECKS`` is a ``FunctionCheck`` run by ``course.grading.run_hidden_check``.
References:
- losses and gradients: TensorFlow in float64, the loss written with TF ops (``tf.nn.relu`` for the
  hinge, ``tf.nn.sparse_softmax_cross_entropy_with_logits`` for the softmax) and the gradient from
  ``tf.GradientTape``;
- labels: an independent argmax;
- training: the grader's own softmax loss, data and seeds, and the reference solution's validation
  accuracy (``autograder/references/02_linear_classifiers.json``, quick profile).
Tolerances:
- loss 1e-9 relative, dW 1e-7 relative (entries within 1e-12 of each other count as equal): float64
  round-off of sums over at most a few hundred examples is ~1e-14; the inputs are continuous random
  numbers, so no SVM margin sits at the kink, where analytic gradients may legitimately differ;
- the trained classifier: validation accuracy within ``BAND`` of the reference (see ``_verify_training``).
"""


import numpy as np

from course.asserts import CheckFailure, assert_close, assert_equal, assert_shape, assert_true
from course.tfquiet import import_tensorflow, silenced_stderr
from grader.source_rules import loop_nodes, names_used, parse_function
from grader.spec import Case, FunctionCheck

ASSIGNMENT = "02_linear_classifiers"

# --------------------------------------------------------------------------- TensorFlow references


_silenced = silenced_stderr
_tf = import_tensorflow


def tf_svm_loss(W, X, y, reg):
    """Multiclass hinge loss (margin 1) + reg * sum(W^2) and its tf.GradientTape gradient, float64."""
    with _silenced():
        return _tf_svm_loss(_tf(), W, X, y, reg)


def _tf_svm_loss(tf, W, X, y, reg):
    W_t = tf.Variable(W, dtype=tf.float64)
    X_t = tf.constant(X, dtype=tf.float64)
    wrong_class = tf.constant(1.0 - np.eye(W.shape[1])[y], dtype=tf.float64)       # (N, C), 0 at y_i
    with tf.GradientTape() as tape:
        scores = tf.matmul(X_t, W_t)
        correct = tf.gather(scores, y, axis=1, batch_dims=1)[:, None]
        loss = (tf.reduce_sum(tf.nn.relu(scores - correct + 1.0) * wrong_class) / X.shape[0]
                + reg * tf.reduce_sum(tf.square(W_t)))
    return float(loss.numpy()), tape.gradient(loss, W_t).numpy()


def tf_softmax_loss(W, X, y, reg):
    """Mean cross-entropy + reg * sum(W^2) and its tf.GradientTape gradient, float64."""
    with _silenced():
        return _tf_softmax_loss(_tf(), W, X, y, reg)


def _tf_softmax_loss(tf, W, X, y, reg):
    W_t = tf.Variable(W, dtype=tf.float64)
    X_t = tf.constant(X, dtype=tf.float64)
    with tf.GradientTape() as tape:
        logits = tf.matmul(X_t, W_t)
        loss = (tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(y), logits=logits))
                + reg * tf.reduce_sum(tf.square(W_t)))
    return float(loss.numpy()), tape.gradient(loss, W_t).numpy()


# --------------------------------------------------------------------------- loss cases


def _with_bias(X):
    return np.hstack([X, np.ones((len(X), 1))])


def _loss_cases(large_scores: bool) -> list:
    rng = np.random.default_rng(20240202)
    cases = []

    def add(label, N, D, C, reg, scale=1.0, y=None, w_scale=0.1):
        X = _with_bias(rng.normal(size=(N, D - 1)) * scale)
        W = rng.normal(size=(D, C)) * w_scale
        labels = rng.integers(0, C, size=N) if y is None else y
        cases.append(Case(label, (W, X, labels, reg)))

    add("N=6 examples, D=4 (with a bias column), C=3 classes, no regularization", 6, 4, 3, 0.0)
    add("N=6 examples, D=4, C=3, with regularization (reg=0.3)", 6, 4, 3, 0.3)
    add("N=40 examples of 785 features (like the preprocessed images), C=10, reg=5e-3", 40, 785, 10, 5e-3,
        scale=0.3, w_scale=0.05)
    add("N=25, D=12, C=5, strong regularization (reg=2.0)", 25, 12, 5, 2.0)
    add("a single example, D=3, C=2, reg=0.1", 1, 3, 2, 0.1)
    add("N=10 examples all of class 0, D=5, C=4, reg=0.05", 10, 5, 4, 0.05, y=np.zeros(10, dtype=np.int64))
    add("N=30 examples, D=8, C=7, large weights (every margin positive or far from 0), reg=1e-2", 30, 8, 7, 1e-2,
        w_scale=3.0)
    if large_scores:
        # Scores around +1000 or -1000 (a large bias row), close to each other: np.exp overflows to inf
        # (or underflows to 0/0) unless each row's maximum is subtracted first; after the shift the
        # probabilities are ordinary numbers, so the lecture's max-shift is all a correct solution needs.
        for sign, word in ((1, "large positive"), (-1, "large negative")):
            X = _with_bias(rng.normal(size=(12, 5)))
            W = rng.normal(size=(6, 4))
            W[-1] += sign * 1000.0
            cases.append(Case(f"N=12 examples with {word} scores (|s| about 1000), D=6, C=4, reg=1e-6",
                              (W, X, rng.integers(0, 4, size=12), 1e-6)))
    return cases


def _unpack(out, name):
    assert_true(isinstance(out, (tuple, list)) and len(out) == 2,
                f"{name} must return a pair (loss, dW), got {type(out).__name__}"
                + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""),
                hint="end with `return loss, dW`")
    loss, dW = out
    loss_arr = np.asarray(loss)
    assert_true(loss_arr.size == 1, f"the loss must be one number, got an array of shape {loss_arr.shape}",
                hint="average over the examples and sum over the classes")
    return float(loss_arr.reshape(())), dW


def _verify_loss(reference, kind: str):
    def verify(case: Case, out) -> None:
        W, X, y, reg = case.args
        loss, dW = _unpack(out, kind)
        want_loss, want_dW = reference(W, X, y, reg)
        reg_term = reg * np.sum(W * W)
        if not np.isfinite(loss):
            raise CheckFailure(f"the loss is {loss}" + (
                ": exp overflowed. Subtract each row's maximum score before np.exp (it does not change "
                "the probabilities)" if kind.startswith("softmax") else ""))
        loss_hint = f"the {kind} loss is the mean over the N examples plus reg * sum(W * W)"
        if reg and np.isclose(loss, want_loss - reg_term, rtol=1e-9, atol=1e-12):
            loss_hint = "your loss misses the regularization term reg * sum(W * W)"
        elif reg and np.isclose(loss, want_loss - 0.5 * reg_term, rtol=1e-9, atol=1e-12):
            loss_hint = "the contract's regularization is reg * sum(W * W), without a factor 1/2"
        elif np.isclose(loss, (want_loss - reg_term) * X.shape[0] + reg_term, rtol=1e-9, atol=1e-12) and X.shape[0] > 1:
            loss_hint = "divide the data loss by N (the mean over examples, not the sum)"
        assert_close(loss, want_loss, what="loss", compared_with="TensorFlow in float64", tol=1e-9, hint=loss_hint)
        assert_shape(dW, W.shape, "dW", hint="dW has W's shape (D, C)")
        dW = np.asarray(dW, dtype=np.float64)
        grad_hint = "compare with the formula for dW; the loss is right, so look at the gradient only"
        if reg and np.allclose(dW, want_dW - 2 * reg * W, rtol=1e-7, atol=1e-12):
            grad_hint = "dW misses the gradient of the regularization term, 2 * reg * W"
        elif reg and np.allclose(dW, want_dW - reg * W, rtol=1e-7, atol=1e-12):
            grad_hint = "the gradient of reg * sum(W * W) is 2 * reg * W, not reg * W"
        elif X.shape[0] > 1 and np.allclose(dW, (want_dW - 2 * reg * W) * X.shape[0] + 2 * reg * W,
                                            rtol=1e-7, atol=1e-12):
            grad_hint = "divide the data gradient by N"
        elif np.allclose(dW[:-1], want_dW[:-1], rtol=1e-7, atol=1e-12):
            grad_hint = "dW differs only in the last row: the bias row (the column of ones in X)"
        assert_close(dW, want_dW, what="dW", compared_with="tf.GradientTape in float64", tol=1e-7, atol=1e-12,
                     hint=grad_hint)
    return verify


# --------------------------------------------------------------------------- source rules


SHORTCUTS = {"tensorflow", "tf", "torch", "jax", "sklearn", "scipy", "keras"}


def _no_loops(name: str, hint: str):
    def rule(source: str) -> None:
        tree = parse_function(source)
        loops = loop_nodes(tree)
        assert_true(not loops, f"{name} contains a loop or comprehension ({type(loops[0]).__name__} on line "
                               f"{loops[0].lineno} of the function)" if loops else "", hint=hint)
        used = sorted(names_used(tree) & SHORTCUTS)
        assert_true(not used, f"{name} uses {', '.join(used)}: write it with NumPy operations")
    return rule


# --------------------------------------------------------------------------- predict_linear


def _predict_cases() -> list:
    rng = np.random.default_rng(99)
    return [
        Case("50 examples, D=785, C=10", (rng.normal(size=(785, 10)), _with_bias(rng.normal(size=(50, 784))))),
        Case("a single example, C=3", (rng.normal(size=(4, 3)), rng.normal(size=(1, 4)))),
        Case("20 examples, C=2", (rng.normal(size=(6, 2)), rng.normal(size=(20, 6)))),
    ]


def _verify_predict(case: Case, out) -> None:
    W, X = case.args
    expected = np.array([max(range(W.shape[1]), key=lambda c: float(x @ W[:, c])) for x in X])
    arr = np.asarray(out)
    assert_true(np.issubdtype(arr.dtype, np.integer), f"y_pred has dtype {arr.dtype}, expected integers",
                hint="np.argmax returns integers; do not compute in float")
    assert_equal(arr, expected, what="y_pred", compared_with="the class of the highest score",
                 hint="np.argmax(X @ W, axis=1): the classes are the columns")


# --------------------------------------------------------------------------- train_linear_classifier

# The quick profile's data and softmax settings of the notebook's "Training both classifiers" cell.
TRAIN_SETTING = dict(num_train=2000, num_val=500, learning_rate=0.1, reg=1e-3, num_iters=300, batch_size=200)
# Accepted distance from the reference validation accuracy (seed 0: 0.800). Measured on this setting:
# a correct solution over seeds 0..10 reached 0.796-0.820; untrained weights 0.08, 10 steps 0.63, a
# learning rate 100x too small (argument ignored) 0.61, lr 3x too small 0.75. So a correct run with any
# seed is at most ~0.02 from the reference and 0.04 keeps the band clear of broken training.
BAND = 0.04
GRADER_SEEDS = (3, 11)


def reference_softmax_loss(W, X, y, reg):
    """The grader's own softmax loss, so that the training check depends on no student loss."""
    scores = X @ W
    scores = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(len(y)), y])) + reg * np.sum(W * W)
    probs[np.arange(len(y)), y] -= 1.0
    return loss, X.T @ probs / len(y) + 2 * reg * W


_DATA = {}


def training_data():
    """The notebook's quick-profile preprocessing: pixels / 255, minus the training mean, bias column."""
    if not _DATA:
        from course import data

        split = data.fashion_mnist_split(num_train=TRAIN_SETTING["num_train"], num_val=TRAIN_SETTING["num_val"],
                                         num_test=0, seed=0)
        flat = lambda x: x.reshape(len(x), -1).astype(np.float64) / 255.0
        X_tr, X_va = flat(split.x_train), flat(split.x_val)
        mean = X_tr.mean(axis=0)
        _DATA.update(X_train=_with_bias(X_tr - mean), y_train=split.y_train,
                     X_val=_with_bias(X_va - mean), y_val=split.y_val)
    return _DATA


def reference_accuracy() -> float:
    from course.results import load_reference

    ref = load_reference(ASSIGNMENT, "quick")
    if not ref or "softmax_sgd_val_accuracy" not in ref.get("results", {}):
        raise CheckFailure("the reference results of 02_linear_classifiers (quick profile) are missing; "
                           "the instructor runs python -m autograder.build_references --profile quick")
    return float(ref["results"]["softmax_sgd_val_accuracy"])


def _training_cases() -> list:
    s = TRAIN_SETTING
    return [Case(f"softmax training on {s['num_train']} Fashion-MNIST images, {s['num_iters']} steps, "
                 f"grader's seed #{i + 1}",
                 kwargs=dict(learning_rate=s["learning_rate"], reg=s["reg"], num_iters=s["num_iters"],
                             batch_size=s["batch_size"], seed=seed))
            for i, seed in enumerate(GRADER_SEEDS)] + [_trace_case()]


def _trace_data():
    rng = np.random.default_rng(2020)
    X = rng.normal(size=(40, 6))
    X[:, -1] = 1.0  # the bias column
    return X, rng.integers(0, 3, size=40)


def _trace_case() -> Case:
    return Case("an exact trace of 7 SGD steps on 40 examples (D=6, C=3), batch_size 8, learning rate 0.05",
                kwargs=dict(learning_rate=0.05, reg=1e-3, num_iters=7, batch_size=8, seed=3, trace=True))


def _call_training(fn, case: Case):
    if case.kwargs.get("trace"):
        # The grader's loss function records every W it is given and the (loss, dW) it returns, so
        # that each step can be checked exactly, whatever the student's random minibatches.
        X, y = _trace_data()
        steps = []

        def recording_loss(W, X_batch, y_batch, reg):
            loss, dW = reference_softmax_loss(W, X_batch, y_batch, reg)
            steps.append((np.array(W, dtype=np.float64), np.array(X_batch, dtype=np.float64), float(loss),
                          np.array(dW, dtype=np.float64)))
            return loss, dW

        kwargs = {k: v for k, v in case.kwargs.items() if k != "trace"}
        W, history = fn(recording_loss, X, y, **kwargs)
        return np.asarray(W, dtype=np.float64), [float(h) for h in history], \
            [s[0] for s in steps], [s[1] for s in steps], [s[2] for s in steps], [s[3] for s in steps]
    d = training_data()
    return fn(reference_softmax_loss, d["X_train"], d["y_train"], **case.kwargs)


def _verify_trace(case: Case, out) -> None:
    W, history, Ws, batches, losses, dWs = out
    kw = case.kwargs
    n, lr = kw["num_iters"], kw["learning_rate"]
    X, _ = _trace_data()
    assert_true(len(Ws) == n, f"loss_fn was called {len(Ws)} times for num_iters = {n}",
                hint="call loss_fn once per step, on the minibatch of that step")
    for t in range(n):
        rows = np.asarray(batches[t])
        assert_true(rows.shape == (kw["batch_size"], X.shape[1]),
                    f"step {t}: the minibatch has shape {rows.shape}, expected ({kw['batch_size']}, {X.shape[1]})",
                    hint="a minibatch of batch_size rows of X")
        assert_true(all(np.any(np.all(X == r, axis=1)) for r in rows), f"step {t}: the minibatch has rows not in X",
                    hint="pick rows of X: X[idx] with idx = rng.choice(N, batch_size)")
        following = Ws[t + 1] if t + 1 < n else W
        assert_close(following, Ws[t] - lr * dWs[t], what=f"W after step {t}", tol=1e-12,
                     compared_with="W - learning_rate * dW with the dW that loss_fn returned at that step",
                     hint="one plain SGD step per iteration: W -= learning_rate * dW (use the learning_rate argument)")
    assert_close(history, losses, what="loss_history", tol=1e-12,
                 compared_with="the loss loss_fn returned at each step",
                 hint="append the loss of each step's minibatch")


def _verify_training(case: Case, out) -> None:
    if case.kwargs.get("trace"):
        return _verify_trace(case, out)
    assert_true(isinstance(out, (tuple, list)) and len(out) == 2,
                f"train_linear_classifier must return (W, loss_history), got {type(out).__name__}")
    W, history = out
    d = training_data()
    assert_shape(W, (d["X_train"].shape[1], 10), "W", hint="W has shape (D, C) with C = max(y) + 1")
    n = case.kwargs["num_iters"]
    assert_true(len(history) == n, f"loss_history has {len(history)} entries, expected num_iters = {n}",
                hint="append the minibatch loss once per step")
    history = np.asarray(history, dtype=np.float64)
    assert_true(np.all(np.isfinite(history)), "loss_history contains NaN or infinite values",
                hint="a too large step? use the learning_rate argument as given")
    W = np.asarray(W, dtype=np.float64)
    acc = float(np.mean(np.argmax(d["X_val"] @ W, axis=1) == d["y_val"]))
    ref = reference_accuracy()
    assert_true(abs(acc - ref) <= BAND,
                f"validation accuracy of the trained W is {acc:.3f}; the reference solution reaches {ref:.3f} "
                f"and a correct solution with any seed lands within {BAND} of it",
                hint="start from 0.001 * rng.standard_normal((D, C)); each step: a minibatch of batch_size "
                     "indices rng.choice(N, batch_size), loss_fn on it, W -= learning_rate * dW")
    assert_true(np.mean(history[-20:]) < history[0] - 0.5,
                f"the minibatch loss went from {history[0]:.3f} to {np.mean(history[-20:]):.3f} (mean of the "
                "last 20 steps): it should fall clearly", hint="record the loss of each step before updating W")


CHECKS = {
    "svm_loss_naive": FunctionCheck(cases=lambda: _loss_cases(large_scores=False),
                                    verify=_verify_loss(tf_svm_loss, "SVM")),
    "svm_loss_vectorized": FunctionCheck(
        cases=lambda: _loss_cases(large_scores=False), verify=_verify_loss(tf_svm_loss, "SVM"),
        source_rules=_no_loops("svm_loss_vectorized", "margins of all examples at once: scores - correct[:, None] + 1; "
                                                      "then dW = X.T @ mask / N")),
    "softmax_loss_naive": FunctionCheck(cases=lambda: _loss_cases(large_scores=True),
                                        verify=_verify_loss(tf_softmax_loss, "softmax")),
    "softmax_loss_vectorized": FunctionCheck(
        cases=lambda: _loss_cases(large_scores=True), verify=_verify_loss(tf_softmax_loss, "softmax"),
        source_rules=_no_loops("softmax_loss_vectorized", "probabilities of all examples at once with np.exp and "
                                                          "a sum over axis=1; then dW = X.T @ dscores / N")),
    "train_linear_classifier": FunctionCheck(cases=_training_cases, verify=_verify_training, call=_call_training),
    "predict_linear": FunctionCheck(cases=_predict_cases, verify=_verify_predict),
}
