"""Hidden checks of 03_backprop: grader-chosen inputs and TensorFlow (float64) references.

Each entry of ``CHECKS`` is a ``FunctionCheck`` run by ``course.grading.run_hidden_check``.
References: every forward pass is recomputed with TensorFlow ops in float64 and every gradient with
``tf.GradientTape`` (for a layer: the gradient of ``sum(out * dout)``, i.e. the backward pass for
upstream gradient ``dout``). A backward function is called on the cache of the student's own forward
function (looked up next to it, in the notebook), as the notebook does.
Tolerances: 1e-9 relative for values, 1e-7 for gradients (entries within 1e-12 of each other count as
equal): float64 round-off is ~1e-15 here; the inputs are continuous random numbers kept away from the
ReLU and hinge kinks, where analytic gradients may legitimately differ from TensorFlow's choice.
The trained network: validation accuracy within ``BAND`` of the reference (see ``_verify_training``).
"""


import numpy as np

from course.asserts import CheckFailure, assert_close, assert_shape, assert_true
from course.tfquiet import import_tensorflow, silenced_stderr
from grader.spec import Case, FunctionCheck

ASSIGNMENT = "03_backprop"
VALUE_TOL, GRAD_TOL, ATOL = 1e-9, 1e-7, 1e-12

# --------------------------------------------------------------------------- TensorFlow, quietly


_silenced = silenced_stderr
_tf = import_tensorflow


def tf_value_and_grads(f, inputs, dout=None):
    """Returns (f(*inputs), gradients of sum(f * dout) w.r.t. each input), all float64 NumPy."""
    tf = _tf()
    with _silenced():
        vs = [tf.Variable(np.asarray(v, dtype=np.float64)) for v in inputs]
        with tf.GradientTape() as tape:
            out = f(tf, *vs)
            target = tf.reduce_sum(out * tf.constant(dout, dtype=tf.float64)) if dout is not None else out
        grads = tape.gradient(target, vs)
        return out.numpy(), [g.numpy() if g is not None else np.zeros(v.shape) for g, v in zip(grads, vs)]


def _pair(out, name, first, second):
    assert_true(isinstance(out, (tuple, list)) and len(out) == 2,
                f"{name} must return a pair ({first}, {second}), got {type(out).__name__}"
                + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""),
                hint=f"end with `return {first}, {second}`")
    return out


def _away_from_zero(a, gap=1e-3):
    a = np.array(a, dtype=np.float64)
    a[np.abs(a) < gap] = gap * 5
    return a


def _student_forward(fn, forward_name):
    """The student's forward function, defined next to ``fn`` in the notebook."""
    forward = getattr(fn, "__globals__", {}).get(forward_name)
    if not callable(forward):
        raise CheckFailure(f"{fn.__name__} is tested on the cache of your {forward_name}, which is not defined: "
                           f"run its cell first")
    return forward


def _forward_cache(fn, forward_name, *args):
    forward = _student_forward(fn, forward_name)
    try:
        out = forward(*args)
    except NotImplementedError:
        raise CheckFailure(
            f"{fn.__name__} needs the cache of your {forward_name}, which is not implemented yet") from None
    return _pair(out, forward_name, "out", "cache")[1]


# --------------------------------------------------------------------------- sigmoid_neuron


def _neuron_cases() -> list:
    rng = np.random.default_rng(303)
    cases = [Case(f"random w and x #{i + 1}", (rng.normal(size=3), rng.normal(size=2))) for i in range(3)]
    cases.append(Case("a large positive pre-activation (the sigmoid saturates near 1)",
                      (np.array([3.0, 2.0, 4.0]), np.array([1.5, 1.0]))))
    cases.append(Case("a negative pre-activation", (np.array([-1.0, 0.5, -2.0]), np.array([2.0, -1.0]))))
    return cases


def _verify_neuron(case: Case, out) -> None:
    w, x = case.args
    assert_true(isinstance(out, (tuple, list)) and len(out) == 3,
                "sigmoid_neuron must return a triple (out, dw, dx)", hint="end with `return out, dw, dx`")
    value, grads = tf_value_and_grads(lambda tf, w, x: tf.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2]), [w, x])
    assert_close(out[0], value, what="out", compared_with="tf.sigmoid", tol=VALUE_TOL)
    assert_shape(out[1], (3,), "dw", hint="three weights: w0, w1 and the bias w2")
    assert_close(out[1], grads[0], what="dw", compared_with="tf.GradientTape", tol=GRAD_TOL, atol=ATOL,
                 hint="dw = [x0, x1, 1] * sigma * (1 - sigma); the bias's local gradient is 1")
    assert_shape(out[2], (2,), "dx")
    assert_close(out[2], grads[1], what="dx", compared_with="tf.GradientTape", tol=GRAD_TOL, atol=ATOL,
                 hint="the multiply gate swaps: dx = [w0, w1] * sigma * (1 - sigma)")


# --------------------------------------------------------------------------- affine


def _affine_cases() -> list:
    rng = np.random.default_rng(404)
    shapes = [("N=3 examples of shape (4, 5), M=6", (3, 4, 5), 6),
              ("N=1 example of 784 numbers, M=10", (1, 784), 10),
              ("N=7 examples of shape (2, 3, 2) (channels-last images), M=3", (7, 2, 3, 2), 3),
              ("N=5 examples of 1 number, M=1", (5, 1), 1)]
    cases = []
    for label, shape, M in shapes:
        D = int(np.prod(shape[1:]))
        x, w, b = rng.normal(size=shape), rng.normal(size=(D, M)), rng.normal(size=M)
        cases.append(Case(label, (x, w, b), {"dout": rng.normal(size=(shape[0], M))}))
    return cases


def _tf_affine(tf, x, w, b):
    return tf.matmul(tf.reshape(x, (x.shape[0], -1)), w) + b


def _call_affine_forward(fn, case):
    return fn(*case.args)


def _verify_affine_forward(case: Case, out) -> None:
    x, w, b = case.args
    out_, _ = _pair(out, "affine_forward", "out", "cache")
    want, _ = tf_value_and_grads(_tf_affine, [x, w, b], case.kwargs["dout"])
    assert_close(out_, want, what="out", compared_with="TensorFlow (reshape, matmul, + b)", tol=VALUE_TOL,
                 hint="flatten every example to a row: x.reshape(N, -1) @ w + b")


def _call_affine_backward(fn, case):
    cache = _forward_cache(fn, "affine_forward", *case.args)
    return fn(case.kwargs["dout"], cache)


def _verify_affine_backward(case: Case, out) -> None:
    x, w, b = case.args
    assert_true(isinstance(out, (tuple, list)) and len(out) == 3,
                "affine_backward must return a triple (dx, dw, db)", hint="end with `return dx, dw, db`")
    _, (gx, gw, gb) = tf_value_and_grads(_tf_affine, [x, w, b], case.kwargs["dout"])
    assert_shape(out[0], x.shape, "dx", hint="reshape dx to x's original shape: (dout @ w.T).reshape(x.shape)")
    assert_close(out[0], gx, what="dx", compared_with="tf.GradientTape", tol=GRAD_TOL, atol=ATOL,
                 hint="dx = dout @ w.T, reshaped like x")
    assert_close(out[1], gw, what="dw", compared_with="tf.GradientTape", tol=GRAD_TOL, atol=ATOL,
                 hint="dw = x_flat.T @ dout, with x flattened to (N, D)")
    assert_close(out[2], gb, what="db", compared_with="tf.GradientTape", tol=GRAD_TOL, atol=ATOL,
                 hint="db sums dout over the examples (axis 0)")


# --------------------------------------------------------------------------- elementwise layers


def _elementwise_cases(scale: float) -> list:
    rng = np.random.default_rng(505)
    cases = []
    for label, shape in [("a (4, 6) input", (4, 6)), ("a (2, 3, 3, 2) input (channels-last images)", (2, 3, 3, 2)),
                         ("a (10,) vector", (10,)), ("a (1, 1) input", (1, 1))]:
        x = _away_from_zero(rng.normal(size=shape) * scale)
        cases.append(Case(f"{label}, positive and negative entries", (x,), {"dout": rng.normal(size=shape)}))
    x = -np.abs(_away_from_zero(rng.normal(size=(3, 5)) * scale))
    cases.append(Case("an input whose entries are all negative", (x,), {"dout": np.abs(rng.normal(size=(3, 5))) + 0.1}))
    return cases


def _verify_elementwise_forward(name, tf_op, hint):
    def verify(case: Case, out) -> None:
        (x,) = case.args
        out_, _ = _pair(out, name, "out", "cache")
        want, _ = tf_value_and_grads(lambda tf, x: getattr(tf.nn, tf_op)(x), [x], case.kwargs["dout"])
        assert_shape(out_, x.shape, "out", hint="elementwise: out has x's shape")
        assert_close(out_, want, what="out", compared_with=f"tf.nn.{tf_op}", tol=VALUE_TOL, atol=ATOL, hint=hint)
    return verify


def _call_elementwise(forward_name):
    def call(fn, case):
        cache = _forward_cache(fn, forward_name, *case.args)
        return fn(case.kwargs["dout"], cache)
    return call


def _verify_elementwise_backward(tf_op, hint):
    def verify(case: Case, out) -> None:
        (x,) = case.args
        _, (gx,) = tf_value_and_grads(lambda tf, x: getattr(tf.nn, tf_op)(x), [x], case.kwargs["dout"])
        assert_shape(out, x.shape, "dx", hint="dx has x's shape (return one array, not a tuple)")
        assert_close(out, gx, what="dx", compared_with=f"tf.GradientTape through tf.nn.{tf_op}", tol=GRAD_TOL,
                     atol=ATOL, hint=hint)
    return verify


def _call_forward(fn, case):
    return fn(*case.args)


# --------------------------------------------------------------------------- losses on scores


def _loss_cases() -> list:
    rng = np.random.default_rng(606)
    cases = []
    for label, N, C, scale in [("N=8 examples, C=10 classes, scores of size ~1", 8, 10, 1.0),
                               ("N=1 example, C=3", 1, 3, 1.0),
                               ("N=20 examples, C=2", 20, 2, 2.0),
                               ("N=6 examples, C=5, scores of size ~10 (most margins far from 0)", 6, 5, 10.0)]:
        cases.append(Case(label, (rng.normal(size=(N, C)) * scale, rng.integers(0, C, size=N))))
    y = np.zeros(7, dtype=np.int64)
    cases.append(Case("N=7 examples all of class 0, C=4", (rng.normal(size=(7, 4)), y)))
    # Scores near +1000 / -1000: np.exp overflows (or gives 0/0) unless each row's maximum is subtracted.
    for sign, word in ((1, "large positive"), (-1, "large negative")):
        cases.append(Case(f"N=5 examples, C=4, {word} scores (about {sign * 1000})",
                          (sign * 1000.0 + rng.normal(size=(5, 4)) * 3, rng.integers(0, 4, size=5))))
    return cases


def _tf_softmax(tf, s, y):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(y), logits=s))


def _tf_svm(tf, s, y):
    wrong = tf.constant(1.0 - np.eye(s.shape[1])[y], dtype=tf.float64)
    correct = tf.gather(s, y, axis=1, batch_dims=1)[:, None]
    return tf.reduce_sum(tf.nn.relu(s - correct + 1.0) * wrong) / s.shape[0]


def _verify_scores_loss(tf_loss, kind, grad_hint):
    def verify(case: Case, out) -> None:
        scores, y = case.args
        loss, dscores = _pair(out, f"{kind}_loss", "loss", "dscores")
        loss_arr = np.asarray(loss, dtype=np.float64)
        assert_true(loss_arr.size == 1, f"the loss must be one number, got shape {loss_arr.shape}",
                    hint="the mean over the N examples")
        loss = float(loss_arr.reshape(()))
        if not np.isfinite(loss):
            raise CheckFailure(f"the loss is {loss}" + (": np.exp overflowed. Subtract each row's maximum score "
                               "before np.exp (it does not change the probabilities)" if kind == "softmax" else ""))
        want, (gs, _) = tf_value_and_grads(lambda tf, s, y_: tf_loss(tf, s, y), [scores, np.zeros(1)])
        N = scores.shape[0]
        hint = f"the mean over the N examples of the {kind} loss"
        if N > 1 and np.isclose(loss, want * N, rtol=1e-9):
            hint = "divide by N: the loss is the mean over the examples, not the sum"
        assert_close(loss, float(want), what="loss", compared_with="TensorFlow in float64", tol=VALUE_TOL, hint=hint)
        assert_shape(dscores, scores.shape, "dscores", hint="dscores has the shape of scores (N, C)")
        dscores = np.asarray(dscores, dtype=np.float64)
        if N > 1 and np.allclose(dscores, gs * N, rtol=1e-7, atol=ATOL):
            grad_hint_ = "divide dscores by N, like the loss"
        else:
            grad_hint_ = grad_hint
        assert_close(dscores, gs, what="dscores", compared_with="tf.GradientTape", tol=GRAD_TOL, atol=ATOL,
                     hint=grad_hint_)
    return verify


# --------------------------------------------------------------------------- two_layer_net


def _net_cases() -> list:
    rng = np.random.default_rng(707)
    cases = []
    for label, N, D, H, C, reg, with_y in [
            ("scores only (y=None), N=4, D=6, H=5, C=3", 4, 6, 5, 3, 0.0, False),
            ("loss and gradients, N=10, D=8, H=7, C=4, no regularization", 10, 8, 7, 4, 0.0, True),
            ("loss and gradients, N=10, D=8, H=7, C=4, reg=0.25", 10, 8, 7, 4, 0.25, True),
            ("loss and gradients, N=30 images of 784 pixels, H=20, C=10, reg=1e-3", 30, 784, 20, 10, 1e-3, True),
            ("loss and gradients, a single example, D=3, H=4, C=2, reg=0.5", 1, 3, 4, 2, 0.5, True)]:
        params = {"W1": rng.normal(size=(D, H)) / np.sqrt(D), "b1": rng.normal(size=H) * 0.1,
                  "W2": rng.normal(size=(H, C)) / np.sqrt(H), "b2": rng.normal(size=C) * 0.1}
        X = rng.normal(size=(N, D))
        y = rng.integers(0, C, size=N) if with_y else None
        # Keep every hidden pre-activation away from the ReLU kink.
        pre = X @ params["W1"] + params["b1"]
        params["b1"] = params["b1"] + np.where(np.abs(pre).min(axis=0) < 1e-3, 0.01, 0.0)
        cases.append(Case(label, (params, X), {"y": y, "reg": reg}))
    return cases


def _tf_net(tf, W1, b1, W2, b2, X, y, reg):
    scores = tf.matmul(tf.nn.relu(tf.matmul(X, W1) + b1), W2) + b2
    if y is None:
        return scores
    return _tf_softmax(tf, scores, y) + reg * (tf.reduce_sum(W1 * W1) + tf.reduce_sum(W2 * W2))


def _verify_net(case: Case, out) -> None:
    params, X = case.args
    y, reg = case.kwargs["y"], case.kwargs["reg"]
    names = ("W1", "b1", "W2", "b2")
    inputs = [params[k] for k in names] + [X]
    if y is None:
        want, _ = tf_value_and_grads(lambda tf, W1, b1, W2, b2, X_: _tf_net(tf, W1, b1, W2, b2, X_, None, 0.0), inputs,
                                     dout=np.ones((X.shape[0], params["b2"].shape[0])))
        assert_close(out, want, what="scores", compared_with="TensorFlow (affine, relu, affine)", tol=VALUE_TOL,
                     hint="with y=None return the scores of shape (N, C), before any softmax")
        return
    loss, grads = _pair(out, "two_layer_net", "loss", "grads")
    want, wgrads = tf_value_and_grads(lambda tf, W1, b1, W2, b2, X_: _tf_net(tf, W1, b1, W2, b2, X_, y, reg), inputs)
    hint = "softmax loss of the scores plus reg * (sum(W1 * W1) + sum(W2 * W2)); no biases in the regularization"
    assert_close(float(np.asarray(loss).reshape(())), float(want), what="loss", compared_with="TensorFlow in float64",
                 tol=VALUE_TOL, hint=hint)
    assert_true(isinstance(grads, dict) and set(names) <= set(grads),
                "grads must be a dict with keys W1, b1, W2, b2; got "
                f"{sorted(grads) if isinstance(grads, dict) else type(grads).__name__}")
    for name, g in zip(names, wgrads):
        ghint = {"W1": "dW1 = X.T @ (dhidden where the hidden pre-activation > 0) + 2 * reg * W1",
                 "b1": "db1 sums the gradient after the ReLU over the examples (no regularization)",
                 "W2": "dW2 = hidden.T @ dscores + 2 * reg * W2",
                 "b2": "db2 sums dscores over the examples (no regularization)"}[name]
        if name in ("W1", "W2") and reg and np.allclose(grads[name], g - 2 * reg * params[name], rtol=1e-7, atol=ATOL):
            ghint = f"d{name} misses 2 * reg * {name}"
        assert_close(grads[name], g, what=f"grads['{name}']", compared_with="tf.GradientTape", tol=GRAD_TOL, atol=ATOL,
                     hint=ghint)


# --------------------------------------------------------------------------- train_two_layer_net

# The quick profile's data and settings of the notebook's "first run" cell.
TRAIN_SETTING = dict(num_train=2000, num_val=500, hidden_size=50, learning_rate=0.3, reg=1e-4, num_epochs=5,
                     batch_size=100)
# Accepted distance from the reference validation accuracy (see the measurements in _verify_training's
# docstring and the notebook's hidden-test cell).
BAND = 0.05
GRADER_SEEDS = (5, 17)

_DATA = {}


def training_data():
    """The notebook's quick-profile preprocessing: pixels / 255 minus the training mean image."""
    if not _DATA:
        from course import data

        split = data.fashion_mnist_split(num_train=TRAIN_SETTING["num_train"], num_val=TRAIN_SETTING["num_val"],
                                         num_test=0, seed=0)
        flat = lambda x: x.reshape(len(x), -1).astype(np.float64) / 255.0
        X_tr, X_va = flat(split.x_train), flat(split.x_val)
        mean = X_tr.mean(axis=0)
        _DATA.update(X_train=X_tr - mean, y_train=split.y_train, X_val=X_va - mean, y_val=split.y_val)
    return _DATA


def reference_accuracy() -> float:
    from course.results import load_reference

    ref = load_reference(ASSIGNMENT, "quick")
    if not ref or "first_run_val_accuracy" not in ref.get("results", {}):
        raise CheckFailure("the reference results of 03_backprop (quick profile) are missing; the instructor "
                           "runs python -m autograder.build_references --profile quick")
    return float(ref["results"]["first_run_val_accuracy"])


def _training_cases() -> list:
    s = TRAIN_SETTING
    kwargs = {k: s[k] for k in ("hidden_size", "learning_rate", "reg", "num_epochs", "batch_size")}
    return [Case(f"training on {s['num_train']} Fashion-MNIST images, H={s['hidden_size']}, {s['num_epochs']} epochs, "
                 f"grader's seed #{i + 1}", kwargs=dict(kwargs, seed=seed)) for i, seed in enumerate(GRADER_SEEDS)] + [
        Case("an exact trace of 2 epochs on 30 examples (D=5, H=4, C=3), batch_size 8, learning rate 0.1",
             kwargs=dict(hidden_size=4, learning_rate=0.1, reg=1e-3, num_epochs=2, batch_size=8, seed=4, trace=True))]


def _trace_data():
    rng = np.random.default_rng(3030)
    X = rng.normal(size=(30, 5))
    y = np.arange(30) % 3
    return X, y, rng.normal(size=(12, 5)), np.arange(12) % 3


def _call_trace(fn, case: Case):
    """Runs the student's training with their two_layer_net wrapped: every training step's parameters,
    minibatch, loss and gradients are recorded (evaluation calls, without y, are not)."""
    namespace = getattr(fn, "__globals__", {})
    net = namespace.get("two_layer_net")
    if not callable(net):
        raise CheckFailure("two_layer_net is not defined: run its cell before this test")
    steps = []

    def recording_net(params, X, y=None, reg=0.0):
        out = net(params, X, y, reg=reg)
        if y is not None:
            loss, grads = out
            steps.append(({k: np.array(v, dtype=np.float64) for k, v in params.items()}, np.array(X, dtype=np.float64),
                          float(loss), {k: np.array(v, dtype=np.float64) for k, v in grads.items()}))
        return out

    X, y, X_val, y_val = _trace_data()
    kwargs = {k: v for k, v in case.kwargs.items() if k != "trace"}
    namespace["two_layer_net"] = recording_net
    try:
        params, history = fn(X, y, X_val, y_val, **kwargs)
    finally:
        namespace["two_layer_net"] = net
    params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    history = {k: [float(v) for v in history[k]] for k in ("loss", "train_acc", "val_acc") if k in history}
    return params, history, steps


def _net_scores(params, X):
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    return np.maximum(0.0, X @ W1 + b1) @ W2 + b2


def _verify_trace(case: Case, out) -> None:
    params, history, steps = out
    kw = case.kwargs
    X, y, X_val, y_val = _trace_data()
    N, bs, lr, E = len(X), kw["batch_size"], kw["learning_rate"], kw["num_epochs"]
    per_epoch = -(-N // bs)
    assert_true(len(steps) == E * per_epoch,
                f"{len(steps)} SGD steps for {E} epochs of {N} examples in minibatches of {bs}; expected "
                f"{E * per_epoch}", hint="every epoch: minibatches of batch_size examples that cover the training set")
    rows = {X[i].tobytes(): i for i in range(N)}
    for e in range(E):
        seen = [rows.get(r.tobytes(), -1) for _, batch, _, _ in steps[e * per_epoch:(e + 1) * per_epoch] for r in batch]
        assert_true(sorted(seen) == list(range(N)),
                    f"epoch {e}: the minibatches do not cover each training example exactly once",
                    hint="idx = rng.permutation(N) once per epoch, then minibatches order[start:start + batch_size] "
                         "for start in range(0, N, batch_size)")
    for t, (p, _, _, grads) in enumerate(steps):
        following = steps[t + 1][0] if t + 1 < len(steps) else params
        for name in ("W1", "b1", "W2", "b2"):
            assert_close(following[name], p[name] - lr * grads[name], what=f"params['{name}'] after step {t}",
                         tol=1e-12, compared_with="params - learning_rate * grads, with the grads two_layer_net "
                         "returned at that step", hint="one SGD step on every parameter per minibatch, with the "
                         "learning_rate argument")
    assert_close(history.get("loss", []), [s[2] for s in steps], what="history['loss']", tol=1e-12,
                 compared_with="the loss two_layer_net returned at each step", hint="append each step's loss")
    for key, (Xs, ys) in (("train_acc", (X, y)), ("val_acc", (X_val, y_val))):
        acc = float(np.mean(np.argmax(_net_scores(params, Xs), axis=1) == ys))
        assert_true(len(history.get(key, [])) == E, f"history['{key}'] has {len(history.get(key, []))} entries, "
                    f"expected one per epoch ({E})")
        assert_close(history[key][-1], acc, what=f"history['{key}'][-1]", tol=1e-9, atol=1e-9,
                     compared_with=f"the accuracy of the returned params on the {key[:-4]} examples",
                     hint="the accuracy: the share of examples whose highest score is the true class")


def _call_training(fn, case: Case):
    if case.kwargs.get("trace"):
        return _call_trace(fn, case)
    d = training_data()
    return fn(d["X_train"], d["y_train"], d["X_val"], d["y_val"], **case.kwargs)


def _verify_training(case: Case, out) -> None:
    """Measured on this setting: a correct solution over seeds 0..10 reached 0.778-0.820 (the reference,
    seed 0, 0.792): at most 0.03 from it. The untrained network scores 0.05, one epoch at a 10x smaller
    step 0.45, a ReLU backward pass that leaks gradient 0.56. A band of 0.05 keeps every correct seed
    inside and broken training far outside."""
    if case.kwargs.get("trace"):
        return _verify_trace(case, out)
    params, history = _pair(out, "train_two_layer_net", "params", "history")
    d = training_data()
    D, H, E = d["X_train"].shape[1], case.kwargs["hidden_size"], case.kwargs["num_epochs"]
    assert_true(isinstance(params, dict) and {"W1", "b1", "W2", "b2"} <= set(params),
                "params must be a dict with keys W1, b1, W2, b2")
    for name, shape in (("W1", (D, H)), ("b1", (H,)), ("W2", (H, 10)), ("b2", (10,))):
        assert_shape(params[name], shape, f"params['{name}']")
    assert_true(isinstance(history, dict) and {"loss", "train_acc", "val_acc"} <= set(history),
                "history must be a dict with keys loss, train_acc, val_acc")
    for key in ("train_acc", "val_acc"):
        assert_true(len(history[key]) == E, f"history['{key}'] has {len(history[key])} entries, expected one per "
                                            f"epoch ({E})")
    assert_true(len(history["loss"]) >= E, "history['loss'] needs one entry per SGD step")
    acc = float(np.mean(np.argmax(_net_scores(params, d["X_val"]), axis=1) == d["y_val"]))
    assert_close(history["val_acc"][-1], acc, what="history['val_acc'][-1]",
                 compared_with="the accuracy of the returned params on the validation set", tol=1e-9, atol=1e-9,
                 hint="measure the validation accuracy at the end of each epoch, with the current parameters")
    train_acc = float(np.mean(np.argmax(_net_scores(params, d["X_train"]), axis=1) == d["y_train"]))
    assert_close(history["train_acc"][-1], train_acc, what="history['train_acc'][-1]",
                 compared_with="the accuracy of the returned params on the training set", tol=1e-9, atol=1e-9,
                 hint="measure the training accuracy at the end of each epoch, with the current parameters")
    ref = reference_accuracy()
    assert_true(abs(acc - ref) <= BAND,
                f"validation accuracy of the trained network is {acc:.3f}; the reference solution reaches {ref:.3f} "
                f"and a correct solution with any seed lands within {BAND} of it",
                hint="initialize as the text says (sqrt(2 / fan_in) * standard normal, zero biases); every epoch: "
                     "rng.permutation(N), minibatches in that order, one SGD step on every parameter per minibatch")


CHECKS = {
    "sigmoid_neuron": FunctionCheck(cases=_neuron_cases, verify=_verify_neuron),
    "affine_forward": FunctionCheck(cases=_affine_cases, verify=_verify_affine_forward, call=_call_affine_forward),
    "affine_backward": FunctionCheck(cases=_affine_cases, verify=_verify_affine_backward, call=_call_affine_backward),
    "relu_forward": FunctionCheck(
        cases=lambda: _elementwise_cases(1.0), call=_call_forward,
        verify=_verify_elementwise_forward("relu_forward", "relu", "np.maximum(0, x), elementwise")),
    "relu_backward": FunctionCheck(
        cases=lambda: _elementwise_cases(1.0), call=_call_elementwise("relu_forward"),
        verify=_verify_elementwise_backward("relu", "the gradient passes only where x > 0 (a max gate routes); "
                                                    "elsewhere dx is 0, whatever the sign of dout")),
    "sigmoid_forward": FunctionCheck(
        cases=lambda: _elementwise_cases(4.0), call=_call_forward,
        verify=_verify_elementwise_forward("sigmoid_forward", "sigmoid", "1 / (1 + np.exp(-x)), elementwise")),
    "sigmoid_backward": FunctionCheck(
        cases=lambda: _elementwise_cases(4.0), call=_call_elementwise("sigmoid_forward"),
        verify=_verify_elementwise_backward("sigmoid", "dx = dout * s * (1 - s) with s = sigmoid(x)")),
    "softmax_loss": FunctionCheck(
        cases=_loss_cases, verify=_verify_scores_loss(_tf_softmax, "softmax", "dscores = (softmax probabilities "
                                                      "- one-hot(y)) / N")),
    "svm_loss": FunctionCheck(
        cases=_loss_cases, verify=_verify_scores_loss(_tf_svm, "svm", "1 / N at each positive margin, minus their "
                                                      "number / N at the correct class")),
    "two_layer_net": FunctionCheck(cases=_net_cases, verify=_verify_net),
    "train_two_layer_net": FunctionCheck(cases=_training_cases, verify=_verify_training, call=_call_training),
}
