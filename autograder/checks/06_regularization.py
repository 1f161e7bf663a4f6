"""Hidden checks of 06_regularization: grader-chosen inputs and independent references.

References: ``keras.layers.Dropout`` (its keep scale), ``keras.layers.BatchNormalization`` in float64
(outputs in both modes, moving statistics), ``tf.GradientTape`` in float64 on a batch norm written
with TensorFlow ops, and, for the regularized ConvNet, a grader-trained unregularized baseline.

Tolerances:
- dropout: kept units equal ``x / (1 - p)`` to 1e-12 (one division); the fraction dropped is compared
  with ``p`` within 5 standard deviations of a Binomial(n, p) fraction (a correct mask fails with
  probability below 1e-6);
- batch norm forward against Keras in float64: relative error 1e-8 (Keras computes the variance as
  ``mean(x^2) - mean(x)^2``, which loses a few digits against ``np.var``);
- batch norm backward against TensorFlow autodiff in float64: relative error 1e-7 (``atol`` 1e-10 for
  sums that cancel to ~0, like dx summed over the batch);
- the augmenter (upright, not mirrored, in range): see ``_verify_augmenter``;
- the regularized ConvNet: see ``_verify_regularized``.
"""

import numpy as np

from course.asserts import CheckFailure, assert_close, assert_shape, assert_true
from course.config import by_profile
from grader.spec import Case, FunctionCheck

# --------------------------------------------------------------------------- dropout


def _dropout_cases() -> list:
    rng = np.random.default_rng(6061)
    return [
        Case("a (300, 200) batch, p_drop=0.5, training", (rng.normal(size=(300, 200)) + 2.0, 0.5, True), {"seed": 11}),
        Case("a (64, 10, 10, 8) batch of feature maps, p_drop=0.2, training",
             (rng.normal(size=(64, 10, 10, 8)) - 1.0, 0.2, True), {"seed": 5}),
        Case("a (500, 100) batch, p_drop=0.9, training", (rng.uniform(1, 2, size=(500, 100)), 0.9, True), {"seed": 3}),
        Case("a (40, 30) batch, p_drop=0.0 (nothing dropped), training", (rng.normal(size=(40, 30)) + 3, 0.0, True),
             {"seed": 1}),
        Case("a (50, 20) batch, p_drop=0.5, test time", (rng.normal(size=(50, 20)), 0.5, False), {}),
        Case("a (7, 3, 3, 2) batch, p_drop=0.3, test time", (rng.normal(size=(7, 3, 3, 2)), 0.3, False), {}),
    ]


def _keras_keep_scale(p: float) -> float:
    """The value keras.layers.Dropout gives a kept 1.0 in training: 1 / (1 - p)."""
    import keras

    if p == 0:
        return 1.0
    out = keras.ops.convert_to_numpy(keras.layers.Dropout(p, seed=0)(np.ones((64, 64)), training=True))
    return float(out[out != 0][0])


def _call_dropout_forward(fn, case):
    out = fn(*case.args, **case.kwargs)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise CheckFailure(f"dropout_forward should return (out, cache), got {type(out).__name__}")
    again = fn(*case.args, **case.kwargs)[0] if case.args[2] else None
    return out[0], again


def _verify_dropout_forward(case: Case, output) -> None:
    out, again = output
    x, p, training = case.args
    assert_shape(out, x.shape, "out", hint="dropout keeps the shape of x")
    out = np.asarray(out, dtype=np.float64)
    if not training:
        assert_close(out, x, what="out at test time", compared_with="x (keras.layers.Dropout with training=False)",
                     tol=0, hint="inverted dropout is the identity at test time: scale in training, not here")
        return
    kept = out != 0
    scale = _keras_keep_scale(p)
    assert_close(out[kept], x[kept] * scale, what="kept units", tol=1e-12,
                 compared_with="x times keras.layers.Dropout's keep scale 1 / (1 - p_drop)",
                 hint="scale the kept units by 1 / (1 - p_drop) in training (inverted dropout)")
    n = x.size
    sigma = np.sqrt(p * (1 - p) / n)
    dropped = float(np.mean(~kept))
    assert_true(abs(dropped - p) <= 5 * sigma + 1e-12,
                f"{dropped:.4f} of the units were dropped, expected about p_drop (within {5 * sigma:.4f})",
                hint="drop a unit when a uniform random number in [0, 1) is below p_drop")
    assert_close(again, out, what="a second call with the same seed", compared_with="the first call", tol=0,
                 hint="draw the mask from np.random.default_rng(seed)")


# --------------------------------------------------------------------------- dropout backward


def _forward_of(fn, name: str):
    """The student's forward function, from the namespace where ``fn`` was defined (the notebook)."""
    forward = getattr(fn, "__globals__", {}).get(name)
    if not callable(forward):
        raise CheckFailure(f"{name} is not defined: run its cell before this test")
    return forward


def _call_dropout_backward(fn, case):
    forward = _forward_of(fn, "dropout_forward")
    x, p, training = case.args
    out, cache = forward(x, p, training, **case.kwargs)
    dout = np.random.default_rng(99).normal(size=x.shape)
    return np.asarray(out, dtype=np.float64), dout, fn(dout, cache)


def _verify_dropout_backward(case: Case, output) -> None:
    out, dout, dx = output
    x = case.args[0]
    # out = x * m elementwise, so dout/dx = m = out / x (x has no zeros in these cases).
    assert_close(dx, dout * out / x, what="dx", compared_with="dout times the mask your dropout_forward used",
                 tol=1e-12, hint="dx = dout * mask, with the same scaled mask as the forward pass; "
                                  "at test time dx = dout")


def _dropout_backward_cases() -> list:
    rng = np.random.default_rng(707)
    return [
        Case("a (30, 40) batch, p_drop=0.5, training", (rng.uniform(0.5, 2, size=(30, 40)), 0.5, True), {"seed": 2}),
        Case("a (8, 5, 5, 3) batch, p_drop=0.25, training", (rng.uniform(-2, -0.5, size=(8, 5, 5, 3)), 0.25, True),
             {"seed": 4}),
        Case("a (20, 6) batch, p_drop=0.4, test time", (rng.uniform(0.5, 2, size=(20, 6)), 0.4, False), {}),
    ]


# --------------------------------------------------------------------------- batch norm forward


def _bn_cases() -> list:
    rng = np.random.default_rng(4242)
    cases = []
    x = rng.normal(4.0, 3.0, size=(32, 6))
    g, b = rng.normal(size=6), rng.normal(size=6)
    cases.append(Case("a (32, 6) batch in train mode, default bn_param", (x, g, b, {"mode": "train"})))
    x = rng.normal(-1.0, 0.5, size=(10, 3))
    g, b = rng.uniform(0.5, 2, size=3), rng.normal(size=3)
    param = {"mode": "train", "momentum": 0.9, "eps": 1e-5, "running_mean": rng.normal(size=3),
             "running_var": rng.uniform(0.5, 2, size=3)}
    cases.append(Case("a (10, 3) batch in train mode, momentum 0.9, eps 1e-5, given running averages",
                      (x, g, b, param)))
    x = rng.normal(2.0, 1.5, size=(4, 5, 5, 7))
    g, b = rng.normal(size=7), rng.normal(size=7)
    cases.append(Case("a (4, 5, 5, 7) batch of feature maps in train mode (statistics per channel)",
                      (x, g, b, {"mode": "train"})))
    x = rng.normal(0.0, 5.0, size=(12, 4))
    g, b = rng.normal(size=4), rng.normal(size=4)
    param = {"mode": "test", "running_mean": rng.normal(size=4), "running_var": rng.uniform(0.1, 3, size=4)}
    cases.append(Case("a (12, 4) batch in test mode, given running averages", (x, g, b, param)))
    x = rng.normal(3.0, 1.0, size=(1, 6, 6, 2))
    g, b = rng.normal(size=2), rng.normal(size=2)
    param = {"mode": "test", "running_mean": np.array([0.5, -0.5]), "running_var": np.array([2.0, 0.3]),
             "eps": 1e-3, "momentum": 0.99}
    cases.append(Case("a single (6, 6, 2) feature map in test mode", (x, g, b, param)))
    return cases


def _call_bn_forward(fn, case):
    x, gamma, beta, bn_param = case.args  # call_student passed a copy: bn_param is the student's to update
    out = fn(x, gamma, beta, bn_param)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise CheckFailure(f"batchnorm_forward should return (out, cache), got {type(out).__name__}")
    return out[0], bn_param


def _keras_bn(case: Case):
    """Keras' BatchNormalization in float64, set up like the case's bn_param."""
    import keras

    x, gamma, beta, param = case.args
    layer = keras.layers.BatchNormalization(axis=-1, momentum=param.get("momentum", 0.99),
                                            epsilon=param.get("eps", 1e-3), dtype="float64")
    layer.build(x.shape)
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    if "running_mean" in param:
        layer.moving_mean.assign(param["running_mean"])
        layer.moving_variance.assign(param["running_var"])
    training = param["mode"] == "train"
    out = keras.ops.convert_to_numpy(layer(x, training=training))
    return out, keras.ops.convert_to_numpy(layer.moving_mean), keras.ops.convert_to_numpy(layer.moving_variance)


def _verify_bn_forward(case: Case, output) -> None:
    out, bn_param = output
    expected, moving_mean, moving_var = _keras_bn(case)
    train = case.args[3]["mode"] == "train"
    mode = "training" if train else "inference"
    assert_close(out, expected, what=f"out ({mode})", tol=1e-8,
                 compared_with=f"keras.layers.BatchNormalization(training={train}) in float64",
                 hint=("normalize with the batch mean and the biased batch variance (np.var) of each feature, "
                       "over every axis but the last, with eps inside the square root") if train else
                      "at test time normalize with running_mean and running_var, never with the test batch's "
                      "own statistics")
    if train:
        for key, ref in (("running_mean", moving_mean), ("running_var", moving_var)):
            assert_true(key in bn_param, f'bn_param has no "{key}" after a train step',
                        hint='store the updated running averages in bn_param["running_mean"] and ["running_var"]')
            assert_close(bn_param[key], ref, what=f'bn_param["{key}"] after one train step', tol=1e-8,
                         compared_with="the moving statistics of keras.layers.BatchNormalization",
                         hint="running = momentum * running + (1 - momentum) * batch statistic, starting from "
                              "zeros (mean) and ones (variance), with the momentum of bn_param (default 0.99)")


# --------------------------------------------------------------------------- batch norm backward


def _bn_backward_cases() -> list:
    rng = np.random.default_rng(5150)
    cases = []
    for shape, mode in (((16, 5), "train"), ((3, 4, 4, 6), "train"), ((2, 7), "train"), ((9, 4), "test")):
        D = shape[-1]
        param = {"mode": mode}
        if mode == "test":
            param.update(running_mean=rng.normal(size=D), running_var=rng.uniform(0.2, 2, size=D))
        label = f"a {shape} batch in {mode} mode" + (" (statistics per channel)" if len(shape) == 4 else "")
        cases.append(Case(label, (rng.normal(1.0, 2.0, size=shape), rng.normal(size=D), rng.normal(size=D), param),
                          {"dout": rng.normal(size=shape)}))
    return cases


def _call_bn_backward(fn, case):
    forward = _forward_of(fn, "batchnorm_forward")
    x, gamma, beta, param = case.args
    _, cache = forward(x, gamma, beta, param)
    out = fn(case.kwargs["dout"], cache)
    if not (isinstance(out, tuple) and len(out) == 3):
        raise CheckFailure(f"batchnorm_backward should return (dx, dgamma, dbeta), got {type(out).__name__}")
    return out


def _tf_bn_gradients(case: Case):
    import tensorflow as tf

    x, gamma, beta, param = case.args
    dout = tf.constant(case.kwargs["dout"], tf.float64)
    x, gamma, beta = (tf.Variable(v, dtype=tf.float64) for v in (x, gamma, beta))
    axes = list(range(len(x.shape) - 1))
    with tf.GradientTape() as tape:
        if param["mode"] == "train":
            mean, var = tf.nn.moments(x, axes=axes)
        else:
            mean = tf.constant(param["running_mean"], tf.float64)
            var = tf.constant(param["running_var"], tf.float64)
        out = tf.nn.batch_normalization(x, mean, var, beta, gamma, variance_epsilon=param.get("eps", 1e-3))
        loss = tf.reduce_sum(out * dout)
    return [g.numpy() for g in tape.gradient(loss, [x, gamma, beta])]


def _verify_bn_backward(case: Case, output) -> None:
    dx, dgamma, dbeta = output
    ref_dx, ref_dgamma, ref_dbeta = _tf_bn_gradients(case)
    mode = case.args[3]["mode"]
    assert_close(dbeta, ref_dbeta, what="dbeta", compared_with="tf.GradientTape in float64", tol=1e-7, atol=1e-10,
                 hint="dbeta sums dout over every axis but the last")
    assert_close(dgamma, ref_dgamma, what="dgamma", compared_with="tf.GradientTape in float64", tol=1e-7, atol=1e-10,
                 hint="dgamma sums dout * x_hat over every axis but the last")
    assert_close(dx, ref_dx, what=f"dx ({mode} mode)", compared_with="tf.GradientTape in float64", tol=1e-7,
                 atol=1e-10,
                 hint="in train mode the batch mean and variance depend on x: dx has three terms" if mode == "train"
                 else "in test mode the running averages are constants: dx = gamma * dout / sqrt(running_var + eps)")


# --------------------------------------------------------------------------- augmenter

FOOTWEAR = (5, 7, 9)  # sandal, sneaker, ankle boot: in Fashion-MNIST they all point the same way


def _augmenter_cases() -> list:
    from course import data

    split = data.fashion_mnist_split(num_train=200, num_val=0, num_test=0, seed=606)
    x = (split.x_train.astype("float32") / 255.0)[..., None]
    return [Case("200 unseen Fashion-MNIST images (60 of them footwear), seed=3", (), {"seed": 3}),
            Case("the same images, seed=12345", (), {"seed": 12345})], (x, np.isin(split.y_train, FOOTWEAR))


def _call_augmenter(fn, case):
    import keras

    _, (x, _) = _augmenter_cases()
    aug = fn(**case.kwargs)
    if not isinstance(aug, keras.Model):
        raise CheckFailure(f"build_augmenter should return a keras.Sequential, got {type(aug).__name__}")
    outs = [keras.ops.convert_to_numpy(aug(x, training=True)) for _ in range(3)]
    return x, outs, keras.ops.convert_to_numpy(aug(x, training=False))


def _corr(a, b):
    """Pixel correlation of each image of a with the same image of b, (N,)."""
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
    return np.sum(a * b, 1) / np.maximum(1e-8, np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def _aligned_corr(a, b, radius=4):
    """The best correlation of each image of a with the same image of b shifted by up to radius pixels, (N,)."""
    best = np.full(len(a), -1.0)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            best = np.maximum(best, _corr(a, np.roll(b, (dy, dx), axis=(1, 2))))
    return best


def _verify_augmenter(case: Case, output) -> None:
    x, outs, inference = output
    _, (_, footwear) = _augmenter_cases()
    assert_close(inference, x, what="output with training=False", compared_with="the input", tol=1e-6,
                 hint="use only random preprocessing layers: they are the identity in inference")
    for out in outs:
        assert_shape(out, x.shape, "augmented batch", hint="augmentation keeps (N, 28, 28, 1): no cropping or resizing")
        assert_true(np.all(np.isfinite(out)) and out.min() >= -0.05 and out.max() <= 1.05,
                    f"augmented values range over [{out.min():.2f}, {out.max():.2f}], the images are in [0, 1]",
                    hint="do not rescale, change contrast or add noise that leaves the images' range")
    # Mirrored footwear: each augmented shoe is compared with its original and with its mirror image, each
    # shifted by up to 4 pixels (so that translations do not count). Measured over 3 draws of 60 shoes:
    # shifts of 1-2 pixels, shifts of 10-15 % with zooms or small rotations, zooms of 20 %: 0 to 2 % look
    # mirrored; rotations of up to 36 degrees 12-14 %; RandomFlip("horizontal") 39-48 %. The mark, 25 %,
    # lies between; a flip of every other image misses it with a probability far below 1e-6.
    mirrored = np.mean([np.mean(_aligned_corr(a[footwear], x[footwear][:, :, ::-1])
                                > _aligned_corr(a[footwear], x[footwear])) for a in outs])
    assert_true(mirrored < 0.25,
                f"{mirrored:.0%} of the augmented shoes (sandals, sneakers, ankle boots) look like the mirror image "
                "of their original, not like the original",
                hint="do not flip left to right: every shoe in Fashion-MNIST points the same way, so a mirrored shoe "
                     "is an image the test set never shows; use small shifts (1-2 pixels) and small zooms")
    changed = np.mean([np.mean(np.abs(a - x).reshape(len(x), -1).max(axis=1) > 1e-3) for a in outs])
    assert_true(changed >= 0.5, f"only {changed:.0%} of the images changed in training",
                hint="the random layers must act when called with training=True")
    assert_true(not np.allclose(outs[0], outs[1]), "two calls in training gave the same batch",
                hint="each call should draw new random transformations")

    upright = np.mean([_corr(a, x).mean() for a in outs])
    upside_down = np.mean([_corr(a, x[:, ::-1]).mean() for a in outs])
    # Measured with the solution (shifts of 2 pixels): 0.75 upright, 0.50 upside down; shifts of 10 % with
    # zooms of 10 %: 0.68 / 0.47; vertical flips: 0.78 / 0.75.
    assert_true(upright > 0.4 and upright > upside_down + 0.1,
                f"the augmented images correlate {upright:.2f} with the originals and {upside_down:.2f} with the "
                "originals upside down",
                hint="keep garments upright: no vertical flips or large rotations; small shifts and zooms only")


# --------------------------------------------------------------------------- regularized ConvNet

# Grading of a trained model. The grader trains the student's model and its own unregularized baseline
# (the notebook's) identically on a subset the student never saw (data seed 606, training seed 2024).
# Full profile: 2,000 training and 2,000 validation images, 20 epochs, minibatches of 32.
# Measured with the solution over (data, training) seeds (606+k, 2024+k), k = 0, 1, 2, on this course's
# 2-core CPU machine (TensorFlow 2.21, Keras 3.15): regularized 0.873 / 0.859 / 0.875 validation accuracy,
# baseline 0.855 / 0.844 / 0.832, gains +1.8 / +1.5 / +4.3 points; all pass the marks below (>= 0.80,
# gain >= +0.5 point). An untrained or frozen model has ~0.10 and fails the 0.80 mark; the unregularized
# architecture itself gains 0 on average and passes only by luck of the seed.
# Quick profile (512 training, 256 validation images, 3 epochs): too few epochs for regularization to show.
# Measured for k = 0..4: regularized 0.742 / 0.781 / 0.793 / 0.750 / 0.762, gains -1.6 to +3.5 points; the
# marks are: learns (>= 0.50; an untrained model has ~0.10) and within 10 points of the baseline.
FULL = dict(num_train=2000, num_val=2000, epochs=20, min_gain=0.005, min_accuracy=0.80)
QUICK = dict(num_train=512, num_val=256, epochs=3, min_gain=-0.10, min_accuracy=0.50)
DATA_SEED, TRAIN_SEED = 606, 2024


def _settings() -> dict:
    return by_profile(quick=QUICK, full=FULL)


def _baseline(input_shape=(28, 28, 1), num_classes=10):
    import keras

    return keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Flatten(), keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(num_classes, activation="softmax")])


_DATA = {}


def _grader_data(settings):
    from course import data

    key = (settings["num_train"], settings["num_val"])
    if key not in _DATA:
        split = data.fashion_mnist_split(settings["num_train"], settings["num_val"], 0, seed=DATA_SEED)
        prep = lambda x: (x.astype("float32") / 255.0)[..., None]
        _DATA[key] = (prep(split.x_train), split.y_train, prep(split.x_val), split.y_val)
    return _DATA[key]


def train_and_score(model, settings) -> float:
    """Trains a (fresh, uncompiled) model as the notebook does; returns its final validation accuracy."""
    import keras

    x_tr, y_tr, x_val, y_val = _grader_data(settings)
    probe = keras.ops.convert_to_numpy(model(x_val[:8], training=False))
    from_logits = not (np.all(probe >= 0) and np.allclose(probe.sum(axis=1), 1, atol=1e-3))
    keras.utils.set_random_seed(TRAIN_SEED)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits), metrics=["accuracy"])
    model.fit(x_tr, y_tr, epochs=settings["epochs"], batch_size=32, verbose=0)
    logits = keras.ops.convert_to_numpy(model.predict(x_val, batch_size=256, verbose=0))
    return float(np.mean(np.argmax(logits, axis=1) == y_val))


_BASELINE_SCORE = {}


def _call_regularized(fn, case):
    import keras

    keras.utils.set_random_seed(TRAIN_SEED)
    model = fn(**case.kwargs)
    if not isinstance(model, keras.Model):
        raise CheckFailure(f"build_regularized_convnet should return a keras.Model, got {type(model).__name__}")
    if tuple(model.output_shape) != (None, 10):
        raise CheckFailure(f"the model's output shape is {model.output_shape}, expected (None, 10)")
    return train_and_score(model, _settings())


def _verify_regularized(case: Case, val_accuracy) -> None:
    import keras

    settings = _settings()
    key = tuple(sorted(settings.items()))
    if key not in _BASELINE_SCORE:
        keras.utils.set_random_seed(TRAIN_SEED)
        _BASELINE_SCORE[key] = train_and_score(_baseline(), settings)
    base = _BASELINE_SCORE[key]
    assert_true(val_accuracy >= settings["min_accuracy"],
                f"trained by the grader, your model reaches a validation accuracy of {val_accuracy:.3f}, "
                f"below {settings['min_accuracy']:.2f}: it does not learn",
                hint="check the model alone first: does the loss go down when you fit it in the notebook?")
    assert_true(val_accuracy - base >= settings["min_gain"],
                f"your model reaches {val_accuracy:.3f} validation accuracy, the unregularized baseline {base:.3f}: "
                f"a gain of {100 * (val_accuracy - base):+.1f} points, the target is at least "
                f"{100 * settings['min_gain']:+.1f}",
                hint="combine batch norm after each convolution, dropout before the dense layers and a small L2; "
                     "too much L2 or dropout underfits in 20 epochs")


CHECKS = {
    "dropout_forward": FunctionCheck(cases=_dropout_cases, verify=_verify_dropout_forward, call=_call_dropout_forward),
    "dropout_backward": FunctionCheck(cases=_dropout_backward_cases, verify=_verify_dropout_backward,
                                      call=_call_dropout_backward),
    "batchnorm_forward": FunctionCheck(cases=_bn_cases, verify=_verify_bn_forward, call=_call_bn_forward),
    "batchnorm_backward": FunctionCheck(cases=_bn_backward_cases, verify=_verify_bn_backward, call=_call_bn_backward),
    "build_augmenter": FunctionCheck(cases=lambda: _augmenter_cases()[0], verify=_verify_augmenter,
                                     call=_call_augmenter),
    "build_regularized_convnet": FunctionCheck(cases=lambda: [Case("default arguments, trained by the grader on "
                                                                   "an unseen subset", (), {})],
                                               verify=_verify_regularized, call=_call_regularized),
}
