"""Hidden checks of 07_keras_convnets: grader-chosen data, models and seeds, independent references.

Trained models: ``call`` runs the student's code (the builder, or the training function on a grader
model) with a grader seed on a class-balanced Fashion-MNIST subset the notebook never uses (data seed
707); ``verify`` evaluates the trained model itself on grader test images (``model.predict`` and an
argmax, outside the student's code) and compares with the band below. Bands (measured on this course's
2-core CPU machine with TensorFlow 2.21 / Keras 3.15, see ``BANDS``) are wide enough that a correct
solution passes with any seed and narrow enough that an untrained model (10 %) or a model that was never
fitted fails.

Gradients: saliency maps are compared with a per-image ``tf.GradientTape`` on the class score (the input
of the final softmax) at relative error 1e-4 (float32 models: gradients carry ~1e-6 relative round-off;
``atol`` 1e-6 for pixels whose gradient is ~0). Class-model images are judged by the objective
``S_c(I) - l2_reg ||I||^2`` they reach, against an independent gradient ascent (``keras.optimizers.SGD``
on the negated objective) from the same start.
"""

import numpy as np

from course.asserts import CheckFailure, assert_close, assert_shape, assert_true
from course.config import by_profile
from grader.spec import Case, FunctionCheck

DATA_SEED = 707

# Accuracy bands on grader test images (fractions). "min" is the pass mark.
# build_convnet: the grader trains the student's model with Adam(1e-3) at a constant rate.
# train_convnet: the student's function trains the grader's small ConvNet (grader_convnet below).
# Measured with the solution (issue 16's recipe: CONV-POOL-NORM-RELU blocks; train_convnet with label
# smoothing, one-pixel shifts and a tf.data pipeline) on this course's 2-core CPU machine (TensorFlow 2.21,
# Keras 3.15), with data seed 707+k and training seeds 7070+k, 7071+k (train_convnet's own seed 3+k), k = 0, 1, 2:
# - quick (2,000 training images, 2 epochs): build_convnet 0.799 / 0.778 / 0.813, train_convnet 0.749 / 0.733 /
#   0.758: every seed clears 0.60 by 13 points or more. An untrained model scores ~0.10, a train_convnet that
#   never calls fit ~0.10, and build_convnet with Keras' default batch-norm momentum (0.99, moving averages not
#   settled after 126 steps) 0.10-0.11: all fail.
# - full (4,000 training images, 3 epochs: 3-7 s each): build_convnet 0.830 / 0.851 / 0.831, train_convnet 0.811
#   / 0.831 / 0.811: 5 points or more above the marks (0.78, 0.76). An untrained model (~0.10) fails by far.
BANDS = {
    "quick": {
        "data": dict(num_train=2000, num_val=500, num_test=1000),
        "build_convnet": dict(epochs=2, batch_size=32, min=0.60),
        "train_convnet": dict(epochs=2, min=0.60),
    },
    "full": {
        "data": dict(num_train=4000, num_val=1000, num_test=2000),
        "build_convnet": dict(epochs=3, batch_size=64, min=0.78),
        "train_convnet": dict(epochs=3, min=0.76),
    },
}
TRAIN_SEEDS = {"build_convnet": 7070, "train_convnet": 7071}


def _bands() -> dict:
    return BANDS[by_profile(quick="quick", full="full")]


_DATA = {}


def grader_data():
    """(x_train, y_train, x_val, y_val, x_test, y_test), float32 (N, 28, 28, 1) in [0, 1]."""
    from course import data

    sizes = _bands()["data"]
    key = tuple(sorted(sizes.items()))
    if key not in _DATA:
        s = data.fashion_mnist_split(seed=DATA_SEED, **sizes)
        prep = lambda x: (x.astype("float32") / 255.0)[..., None]
        _DATA[key] = (prep(s.x_train), s.y_train, prep(s.x_val), s.y_val, prep(s.x_test), s.y_test)
    return _DATA[key]


def test_accuracy(model) -> float:
    """Accuracy of a trained model on the grader's test images (argmax of the model's outputs)."""
    *_, x_test, y_test = grader_data()
    out = np.asarray(model.predict(x_test, batch_size=500, verbose=0))
    return float(np.mean(np.argmax(out, axis=1) == y_test))


def _is_probabilities(model, x) -> bool:
    out = np.asarray(model(x[:8], training=False))
    return bool(np.all(out >= 0) and np.allclose(out.sum(axis=1), 1, atol=1e-3))


# --------------------------------------------------------------------------- build_convnet


def _call_build_convnet(fn, case):
    import keras

    seed = TRAIN_SEEDS["build_convnet"]
    keras.utils.set_random_seed(seed)
    model = fn(**case.kwargs)
    if not isinstance(model, keras.Model):
        raise CheckFailure(f"build_convnet should return a keras.Model, got {type(model).__name__}")
    if tuple(model.output_shape) != (None, 10):
        raise CheckFailure(f"the model's output shape is {model.output_shape}, expected (None, 10)")
    x_tr, y_tr, x_val, y_val, _, _ = grader_data()
    from_logits = not _is_probabilities(model, x_val)
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits), metrics=["accuracy"])
    band = _bands()["build_convnet"]
    model.fit(x_tr, y_tr, epochs=band["epochs"], batch_size=band["batch_size"], verbose=0)
    return model


def _verify_build_convnet(case: Case, model) -> None:
    band = _bands()["build_convnet"]
    acc = test_accuracy(model)
    assert_true(acc >= band["min"],
                f"trained by the grader for {band['epochs']} epochs, your model reaches {acc:.3f} test accuracy, "
                f"below the band's {band['min']:.2f}",
                hint="check the architecture: CONV-BN-RELU-POOL blocks, then Dense layers; the output must be "
                     "the softmax over num_classes; BatchNormalization(momentum=0.9), since with Keras' default "
                     "0.99 the moving averages used at inference lag behind in a run of ~100 steps")


# --------------------------------------------------------------------------- train_convnet


def grader_convnet(num_classes=10):
    """The grader's ConvNet for train_convnet (not the student's architecture)."""
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Flatten(), keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(num_classes), keras.layers.Activation("softmax")])


def _call_train_convnet(fn, case):
    import keras

    keras.utils.set_random_seed(12345)  # the grader's initial weights; the student's seed is case's
    model = grader_convnet()
    x_tr, y_tr, x_val, y_val, _, _ = grader_data()
    history = fn(model, x_tr, y_tr, x_val, y_val, epochs=case.kwargs["epochs"], batch_size=case.kwargs["batch_size"],
                 seed=case.kwargs["seed"])
    return model, history


def _verify_train_convnet(case: Case, output) -> None:
    import keras

    model, history = output
    band = _bands()["train_convnet"]
    assert_true(isinstance(history, keras.callbacks.History),
                f"train_convnet should return the keras.callbacks.History of model.fit, got {type(history).__name__}",
                hint="return model.fit(...)")
    epochs = case.kwargs["epochs"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        values = history.history.get(key, [])
        assert_true(len(values) == epochs, f'history["{key}"] has {len(values)} values, expected one per epoch '
                    f"({epochs})", hint="compile with metrics=['accuracy'], pass validation_data and epochs to fit")
    acc = test_accuracy(model)
    assert_true(acc >= band["min"],
                f"after train_convnet ({epochs} epochs on {len(grader_data()[0])} images), the grader's ConvNet "
                f"reaches {acc:.3f} test accuracy, below the band's {band['min']:.2f}",
                hint="compile with Adam and the sparse categorical cross-entropy, and train the model you were "
                     "given with model.fit on the training data")


# --------------------------------------------------------------------------- saliency_map

SALIENCY_MODELS = {
    "gray": ((28, 28, 1), 10, 31),
    "rgb": ((12, 10, 3), 5, 32),
}


def saliency_model(kind):
    """A small random ConvNet ending in a separate softmax, rebuilt identically from its seed.

    It is built twice, in the student's kernel and in the grader: its weights come from
    ``np.random.default_rng(seed)``, not from Keras' initializers, whose process-wide random state another
    thread may advance between the seeding and the draw (the two builds then differ; seen under load in 10).
    """
    import keras

    shape, classes, seed = SALIENCY_MODELS[kind]
    model = keras.Sequential([
        keras.Input(shape),
        keras.layers.Conv2D(8, 3, padding="same", activation="tanh"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"), keras.layers.Flatten(),
        keras.layers.Dense(classes), keras.layers.Activation("softmax")])
    rng = np.random.default_rng(seed)
    for var in model.weights:
        shape = tuple(var.shape)
        fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 0
        values = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape) if fan_in else rng.normal(0.0, 0.05, shape)
        var.assign(values.astype("float32"))
    return model


def _saliency_cases() -> list:
    rng = np.random.default_rng(7007)
    return [
        Case("6 grayscale 28x28 images, a random 10-class ConvNet", ("gray",),
             {"images": rng.uniform(size=(6, 28, 28, 1)).astype("float32"), "labels": rng.integers(0, 10, 6)}),
        Case("4 RGB 12x10 images (max over channels), a random 5-class ConvNet", ("rgb",),
             {"images": rng.normal(size=(4, 12, 10, 3)).astype("float32"), "labels": np.array([4, 0, 0, 2])}),
        Case("a single RGB image", ("rgb",),
             {"images": rng.normal(size=(1, 12, 10, 3)).astype("float32"), "labels": np.array([1])}),
    ]


def _call_saliency(fn, case):
    model = saliency_model(case.args[0])
    return fn(model, case.kwargs["images"], case.kwargs["labels"])


def _verify_saliency(case: Case, output) -> None:
    import keras
    import tensorflow as tf

    model = saliency_model(case.args[0])
    scores_model = keras.Model(model.inputs[0], model.layers[-2].output)
    images, labels = case.kwargs["images"], case.kwargs["labels"]
    maps = []
    for image, label in zip(images, labels):  # one image at a time, unlike the batched solution
        x = tf.Variable(image[None])
        with tf.GradientTape() as tape:
            score = scores_model(x)[0, int(label)]
        maps.append(np.max(np.abs(tape.gradient(score, x).numpy()[0]), axis=-1))
    expected = np.stack(maps)
    assert_shape(output, expected.shape, "saliency", hint="one (H, W) map per image: the max over the channel axis")
    out = np.asarray(output, dtype=np.float64)
    if np.any(out < 0):
        raise CheckFailure("saliency has negative values\nHint: the saliency map is the ABSOLUTE value of the "
                           "gradient, then the max over channels")
    assert_close(out, expected, what="saliency", tol=1e-4, atol=1e-6,
                 compared_with="|d score_label / d image| by tf.GradientTape, one image at a time, max over channels",
                 hint="differentiate the unnormalized score (model.layers[-2], before the softmax) of each image's "
                      "own label; take the absolute value, then the max over channels")


# --------------------------------------------------------------------------- class_model_image


def _class_model_cases() -> list:
    return [
        Case("a random 10-class ConvNet on 28x28x1, class 6, 60 steps", ("gray",),
             {"class_index": 6, "steps": 60, "learning_rate": 1.0, "l2_reg": 1e-3, "seed": 5}),
        Case("a random 5-class ConvNet on 12x10x3, class 2, strong L2 (0.2), 80 steps", ("rgb",),
             {"class_index": 2, "steps": 80, "learning_rate": 0.5, "l2_reg": 0.2, "seed": 9}),
        Case("a random 5-class ConvNet on 12x10x3, class 0, small learning rate, 40 steps", ("rgb",),
             {"class_index": 0, "steps": 40, "learning_rate": 0.1, "l2_reg": 1e-2, "seed": 1}),
    ]


def _call_class_model(fn, case):
    model = saliency_model(case.args[0])
    return fn(model, **case.kwargs)


def _objective(scores_model, image, class_index, l2_reg):
    import keras

    s = keras.ops.convert_to_numpy(scores_model(image[None].astype("float32")))[0, class_index]
    return float(s) - l2_reg * float(np.sum(np.asarray(image, dtype=np.float64) ** 2))


def reference_class_model(model, class_index, steps, learning_rate, l2_reg, seed):
    """Gradient ascent written as SGD on the negated objective (independent of the solution's loop)."""
    import keras
    import tensorflow as tf

    scores_model = keras.Model(model.inputs[0], model.layers[-2].output)
    shape = tuple(model.inputs[0].shape[1:])
    image = tf.Variable(np.random.default_rng(seed).normal(0.0, 0.01, size=(1, *shape)).astype("float32"))
    sgd = keras.optimizers.SGD(learning_rate)

    @tf.function  # a graph: ten times faster than eager steps (the check runs in every grading)
    def descent_step():
        with tf.GradientTape() as tape:
            loss = -scores_model(image)[0, class_index] + l2_reg * tf.reduce_sum(tf.square(image))
        sgd.apply_gradients([(tape.gradient(loss, image), image)])

    for _ in range(steps):
        descent_step()
    return image.numpy()[0]


def _verify_class_model(case: Case, image) -> None:
    import keras

    model = saliency_model(case.args[0])
    shape = tuple(model.inputs[0].shape[1:])
    assert_shape(image, shape, "image", hint="one image of the model's input shape (H, W, C), no batch axis")
    image = np.asarray(image, dtype=np.float64)
    assert_true(np.all(np.isfinite(image)), "the image has NaN or infinite values",
                hint="the L2 penalty keeps the image bounded: subtract 2 * l2_reg * I in the gradient")
    kw = case.kwargs
    scores_model = keras.Model(model.inputs[0], model.layers[-2].output)
    ref = reference_class_model(model, kw["class_index"], kw["steps"], kw["learning_rate"], kw["l2_reg"], kw["seed"])
    start = np.random.default_rng(kw["seed"]).normal(0.0, 0.01, size=shape)
    j_start = _objective(scores_model, start, kw["class_index"], kw["l2_reg"])
    j_ref = _objective(scores_model, ref, kw["class_index"], kw["l2_reg"])
    j_got = _objective(scores_model, image, kw["class_index"], kw["l2_reg"])
    # The reference's gain over the start is > 1 in every case; a correct ascent reaches it to round-off
    # (same start and rule); other starts or rounding may lose a little: 90 % of the gain is required.
    assert_true(j_got >= j_start + 0.9 * (j_ref - j_start),
                f"your image reaches an objective S_c(I) - l2_reg ||I||^2 of {j_got:.3f}; gradient ascent from the "
                f"specified start reaches {j_ref:.3f} (the start is at {j_start:.3f})",
                hint="ascend the objective: I += learning_rate * (dS_c/dI - 2 * l2_reg * I), with S_c the score "
                     "before the softmax, for exactly `steps` steps")


CHECKS = {
    "build_convnet": FunctionCheck(cases=lambda: [Case("default arguments, trained by the grader on unseen data",
                                                       (), {})],
                                   verify=_verify_build_convnet, call=_call_build_convnet),
    "train_convnet": FunctionCheck(cases=lambda: [Case("the grader's ConvNet on unseen data, batch 64, seed 3", (),
                                                       {"epochs": _bands()["train_convnet"]["epochs"],
                                                        "batch_size": 64, "seed": 3})],
                                   verify=_verify_train_convnet, call=_call_train_convnet),
    "saliency_map": FunctionCheck(cases=_saliency_cases, verify=_verify_saliency, call=_call_saliency),
    "class_model_image": FunctionCheck(cases=_class_model_cases, verify=_verify_class_model, call=_call_class_model),
}
