"""Hidden checks of 10_visualizing_convnets: grader-chosen models, images and classes, independent references.

Models: small random ConvNets rebuilt from a seed (``grader_model``), ending in ``Dense`` class scores and
a separate softmax (``model.layers[-2]`` outputs the scores), on grayscale 28x28 and RGB 12x10 images.

- occlusion: one occluded image at a time through the model (the solution batches them), relative
  error 1e-5 (float32 probabilities);
- Grad-CAM: the layer's activations and the gradients of the class score taken with one
  ``tf.GradientTape`` per image, the weights and the weighted sum in float64 NumPy; the map resized with
  ``tf.image.resize`` (bilinear) and divided by its max. Either order of resizing and dividing by the max
  is accepted (the contract names both steps); tolerance 1e-4 absolute (maps are in [0, 1]);
- features: the layers up to the last ``Dense`` applied one by one (inference mode); relative error 1e-5;
- nearest neighbours: SciPy's ``cdist`` in float64; any order among exactly equal distances is accepted;
- FGSM: the gradient of the cross-entropy of the true label, from the scores in float64 per image;
  pixels whose gradient is within round-off of zero may differ (at most 1 % of them);
- fooling images: an independent ascent loop (same rule) decides how many steps are needed; the
  student's count may differ by one (float32 round-off at the step where the prediction flips), and the
  returned image must be classified as the target whenever the loop stopped early.
"""

import numpy as np

from course.asserts import CheckFailure, assert_close, assert_equal, assert_shape, assert_true
from grader.spec import Case, FunctionCheck

MODELS = {
    "gray": ((28, 28, 1), 10, 41),
    "rgb": ((12, 10, 3), 5, 42),
    "gap": ((16, 16, 1), 4, 43),
    "sharp": ((28, 28, 1), 10, 44),
}


def _tf():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def grader_model(kind):
    """A small random ConvNet with named conv layers, rebuilt identically from its seed.

    The weights are drawn from ``np.random.default_rng(seed)`` after the model is built, not by Keras'
    initializers: those draw from process-wide random state that another thread (the kernel's, a Dask
    worker's) may advance between the seeding and the draw, and then the kernel's model and the
    grader's differ (observed under load).
    """
    model = _architecture(kind)
    rng = np.random.default_rng(MODELS[kind][2])
    for var in model.weights:
        shape = tuple(var.shape)
        fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 0
        values = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape) if fan_in else rng.normal(0.0, 0.05, shape)
        var.assign(values.astype("float32"))
    if kind == "sharp":  # confident: the scores scaled up
        kernel, bias = model.get_layer("scores").get_weights()
        model.get_layer("scores").set_weights([4.0 * kernel, bias])
    return model


def _architecture(kind):
    import keras

    shape, classes, _ = MODELS[kind]
    if kind == "sharp":  # blind to a 2-pixel border (zero gradients there)
        return keras.Sequential([
            keras.Input(shape), keras.layers.Cropping2D(2),
            keras.layers.Conv2D(8, 3, padding="same", activation="tanh", name="conv_a"), keras.layers.MaxPooling2D(),
            keras.layers.Flatten(), keras.layers.Dense(classes, name="scores"), keras.layers.Activation("softmax")])
    if kind == "gap":  # global average pooling before the last Dense layer
        return keras.Sequential([
            keras.Input(shape), keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_a"),
            keras.layers.MaxPooling2D(), keras.layers.Conv2D(8, 3, activation="relu", name="conv_b"),
            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(classes, name="scores"),
            keras.layers.Activation("softmax")])
    return keras.Sequential([
        keras.Input(shape),
        keras.layers.Conv2D(8, 3, padding="same", activation="tanh", name="conv_a"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_b"), keras.layers.Flatten(),
        keras.layers.Dense(16, activation="relu", name="fc"), keras.layers.Dropout(0.5),
        keras.layers.Dense(classes, name="scores"), keras.layers.Activation("softmax")])


def _images(kind, n, seed):
    shape = MODELS[kind][0]
    return np.random.default_rng(seed).uniform(size=(n, *shape)).astype("float32")


def _scores_model(model):
    import keras

    return keras.Model(model.inputs[0], model.layers[-2].output)


# --------------------------------------------------------------------------- occlusion_map

OCCLUSION_CASES = [
    ("gray", dict(label=3, patch_size=6, stride=2, fill=0.0), "a 28x28 image, the default 6x6 patch, stride 2"),
    ("gray", dict(label=0, patch_size=7, stride=7, fill=0.5), "a 7x7 grey patch with stride 7 (4 x 4 positions)"),
    ("gray", dict(label=9, patch_size=28, stride=1, fill=0.0), "a patch as large as the image (one position)"),
    ("gray", dict(label=5, patch_size=1, stride=3, fill=1.0), "a 1x1 white patch, stride 3"),
    ("rgb", dict(label=4, patch_size=4, stride=3, fill=0.0), "a non-square RGB 12x10 image (fill on every channel)"),
    ("rgb", dict(label=1, patch_size=5, stride=2, fill=0.3),
     "RGB, 5x5 patch, stride 2 (the last positions do not reach the border)"),
]


def _occlusion_cases() -> list:
    return [Case(label, (kind,), {"image": _images(kind, 1, 100 + i)[0], **kw})
            for i, (kind, kw, label) in enumerate(OCCLUSION_CASES)]


def _call_occlusion(fn, case):
    kw = dict(case.kwargs)
    return fn(grader_model(case.args[0]), kw.pop("image"), kw.pop("label"), **kw)


def reference_occlusion(model, image, label, patch_size, stride, fill):
    H, W = image.shape[:2]
    rows, cols = (H - patch_size) // stride + 1, (W - patch_size) // stride + 1
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            occluded = np.array(image, dtype=np.float32)
            occluded[i * stride:i * stride + patch_size, j * stride:j * stride + patch_size, :] = fill
            out[i, j] = float(np.asarray(model(occluded[None], training=False))[0, label])
    return out


def _verify_occlusion(case: Case, output) -> None:
    kw = case.kwargs
    model = grader_model(case.args[0])
    expected = reference_occlusion(model, kw["image"], kw["label"], kw["patch_size"], kw["stride"], kw["fill"])
    assert_shape(output, expected.shape, "occlusion map",
                 hint="one value per patch position: H' = (H - patch_size) // stride + 1, the same for W'")
    assert_close(output, expected, what="occlusion map", tol=1e-5, atol=1e-7,
                 compared_with="the model's probability of the label, one occluded image at a time",
                 hint="set image[i*stride : i*stride+patch_size, j*stride : j*stride+patch_size, :] = fill on a copy, "
                      "then take the softmax probability of the label (the model's output)")


# --------------------------------------------------------------------------- grad_cam

GRAD_CAM_CASES = [
    ("gray", "conv_b", [3, 7, 0], "3 grayscale images, the second conv layer (14x14 grid -> 28x28)"),
    ("gray", "conv_a", [1, 1], "2 images, the first conv layer (same grid as the image)"),
    ("rgb", "conv_b", [4, 0, 2, 2], "4 RGB 12x10 images (6x5 grid)"),
    ("gap", "conv_b", [0, 3], "a network with global average pooling (6x6 grid -> 16x16)"),
]


def _grad_cam_cases() -> list:
    return [Case(label, (kind, layer), {"images": _images(kind, len(labels), 200 + i), "labels": np.array(labels)})
            for i, (kind, layer, labels, label) in enumerate(GRAD_CAM_CASES)]


def _call_grad_cam(fn, case):
    kind, layer = case.args
    return fn(grader_model(kind), case.kwargs["images"], case.kwargs["labels"], layer)


def reference_cams(model, images, labels, layer_name):
    """Both readings of the contract: (resize, then divide by the max) and (divide, then resize)."""
    import keras

    tf = _tf()
    layer = model.get_layer(layer_name)
    both = keras.Model(model.inputs[0], [layer.output, model.layers[-2].output])
    H, W = images.shape[1:3]
    first, second = [], []
    for image, label in zip(images, labels):
        x = tf.constant(image[None])
        with tf.GradientTape() as tape:
            activations, scores = both(x, training=False)
            score = scores[0, int(label)]
        grads = tape.gradient(score, activations).numpy()[0].astype(np.float64)  # (h, w, K)
        A = activations.numpy()[0].astype(np.float64)
        weights = grads.mean(axis=(0, 1))  # (K,)
        cam = np.maximum(np.tensordot(A, weights, axes=([2], [0])), 0.0)  # (h, w)

        def resize(m):
            return tf.image.resize(m[None, :, :, None], (H, W), method="bilinear").numpy()[0, :, :, 0]

        def norm(m):
            return m / m.max() if m.max() > 0 else m

        first.append(norm(resize(cam)))
        second.append(resize(norm(cam)))
    return np.stack(first), np.stack(second)


def _verify_grad_cam(case: Case, output) -> None:
    kind, layer = case.args
    images, labels = case.kwargs["images"], case.kwargs["labels"]
    a, b = reference_cams(grader_model(kind), images, labels, layer)
    assert_shape(output, a.shape, "Grad-CAM maps", hint="one (H, W) map per image, resized to the image's size")
    out = np.asarray(output, dtype=np.float64)
    assert_true(np.all(out >= -1e-6) and np.all(out <= 1 + 1e-6),
                f"the maps should be in [0, 1]; yours range from {out.min():.3g} to {out.max():.3g}",
                hint="ReLU of the weighted sum, then divide each map by its max (a map of zeros stays zeros)")
    if np.max(np.abs(out - b)) <= 1e-4:
        return
    assert_close(out, a, what="Grad-CAM maps", tol=0, atol=1e-4,
                 compared_with="ReLU(sum_k alpha_k A_k) with alpha_k the mean over the grid of d score / d A_k, "
                               "resized bilinearly to the image and divided by its max",
                 hint="the gradient of the class SCORE (model.layers[-2], before the softmax) with respect to the "
                      "layer's output; average it over the grid for each channel; ReLU of the weighted sum")


# --------------------------------------------------------------------------- penultimate_features


def _features_cases() -> list:
    return [Case("a ConvNet with Flatten and a hidden Dense layer, 5 images", ("gray",),
                 {"images": _images("gray", 5, 300)}),
            Case("an RGB ConvNet, 1 image", ("rgb",), {"images": _images("rgb", 1, 301)}),
            Case("a network with global average pooling before its only Dense layer", ("gap",),
                 {"images": _images("gap", 3, 302)})]


def _call_features(fn, case):
    return fn(grader_model(case.args[0]), case.kwargs["images"])


def reference_features(model, images):
    import keras

    last_dense = max(i for i, layer in enumerate(model.layers) if isinstance(layer, keras.layers.Dense))
    x = images
    for layer in model.layers[:last_dense]:
        x = layer(x, training=False)
    return keras.ops.convert_to_numpy(x)


def _verify_features(case: Case, output) -> None:
    expected = reference_features(grader_model(case.args[0]), case.kwargs["images"])
    assert_shape(output, expected.shape, "features",
                 hint="the INPUT of the last Dense layer (the one that outputs the class scores), one row per image")
    assert_close(output, expected, what="features", tol=1e-5, atol=1e-6,
                 compared_with="the layers before the last Dense layer, applied one by one in inference mode",
                 hint="keras.Model(model.inputs[0], last_dense.input), run with training=False (no dropout)")


# --------------------------------------------------------------------------- feature_nearest_neighbors


def _nn_cases() -> list:
    rng = np.random.default_rng(400)
    ties = np.repeat(rng.normal(size=(4, 3)), 3, axis=0)  # every point three times: exact ties
    grid = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
    return [
        Case("50 training and 7 query points in 16 dimensions, k=5", (),
             {"features_train": rng.normal(size=(50, 16)), "features_query": rng.normal(size=(7, 16)), "k": 5}),
        Case("k=1", (),
             {"features_train": rng.normal(size=(20, 4)), "features_query": rng.normal(size=(3, 4)), "k": 1}),
        Case("k equal to the number of training points", (),
             {"features_train": rng.normal(size=(6, 2)), "features_query": rng.normal(size=(2, 2)), "k": 6}),
        Case("queries that are training points (distance 0 first)", (),
             {"features_train": grid, "features_query": grid[[4, 0]], "k": 3}),
        Case("duplicated training points (exact ties)", (),
             {"features_train": ties, "features_query": ties[[0, 5]] + 0.01, "k": 4}),
        Case("float32 features of a ConvNet's size (128 dimensions)", (),
             {"features_train": rng.uniform(size=(40, 128)).astype("float32"),
              "features_query": rng.uniform(size=(5, 128)).astype("float32"), "k": 3}),
    ]


def _verify_nn(case: Case, output) -> None:
    from scipy.spatial.distance import cdist

    train, query, k = case.kwargs["features_train"], case.kwargs["features_query"], case.kwargs["k"]
    out = np.asarray(output)
    assert_shape(out, (len(query), k), "neighbour indices", hint="one row of k indices per query")
    assert_true(np.issubdtype(out.dtype, np.integer), f"the indices should be integers, got {out.dtype}")
    assert_true(np.all((out >= 0) & (out < len(train))), "some indices are not indices into the training set")
    d = cdist(np.asarray(query, np.float64), np.asarray(train, np.float64))
    for q in range(len(query)):
        assert_true(len(set(out[q].tolist())) == k, f"query {q}: the same training point appears twice")
        got = d[q, out[q]]
        want = np.sort(d[q])[:k]
        assert_close(got, want, what=f"distances of query {q}'s neighbours, in your order", tol=1e-5, atol=1e-6,
                     compared_with="the k smallest Euclidean distances, nearest first (scipy cdist)",
                     hint="sort each query's distances to every training point (np.argsort) and keep the first k")


# --------------------------------------------------------------------------- fgsm_attack


def _fgsm_cases() -> list:
    return [Case("6 grayscale images, epsilon 0.05", ("gray",),
                 {"images": _images("gray", 6, 500), "labels": np.array([0, 1, 2, 3, 4, 9]), "epsilon": 0.05}),
            Case("4 RGB images, epsilon 0.2 (many pixels clipped at 0 and 1)", ("rgb",),
                 {"images": _images("rgb", 4, 501), "labels": np.array([4, 4, 0, 1]), "epsilon": 0.2}),
            Case("epsilon 0: the images unchanged", ("gray",),
                 {"images": _images("gray", 2, 502), "labels": np.array([5, 6]), "epsilon": 0.0}),
            Case("a confident model blind to a 2-pixel border (zero gradients there), epsilon 0.05", ("sharp",),
                 {"images": _images("sharp", 5, 504), "labels": np.array([0, 3, 5, 7, 9]), "epsilon": 0.05}),
            Case("pixels exactly at 0 and 1", ("rgb",),
                 {"images": np.round(_images("rgb", 3, 503)), "labels": np.array([1, 2, 3]), "epsilon": 0.1})]


def _call_fgsm(fn, case):
    kw = case.kwargs
    return fn(grader_model(case.args[0]), kw["images"], kw["labels"], kw["epsilon"])


def reference_fgsm(model, images, labels, epsilon):
    """Per image: the gradient of -log softmax(scores)[label], in float64 from the float32 scores' graph."""
    tf = _tf()
    scores_model = _scores_model(model)
    out, grads = [], []
    for image, label in zip(images, labels):
        x = tf.Variable(image[None].astype("float32"))
        with tf.GradientTape() as tape:
            scores = tf.cast(scores_model(x, training=False), tf.float64)
            loss = tf.reduce_logsumexp(scores[0]) - scores[0, int(label)]
        g = tape.gradient(loss, x).numpy()[0]
        grads.append(g)
        out.append(np.clip(image + epsilon * np.sign(g), 0.0, 1.0))
    return np.stack(out), np.stack(grads)


def _verify_fgsm(case: Case, output) -> None:
    kw = case.kwargs
    expected, grads = reference_fgsm(grader_model(case.args[0]), kw["images"], kw["labels"], kw["epsilon"])
    assert_shape(output, expected.shape, "adversarial images", hint="the images' own shape (N, H, W, C)")
    out = np.asarray(output, dtype=np.float64)
    assert_true(np.all(out >= 0) and np.all(out <= 1), "some pixels are outside [0, 1]", hint="np.clip(..., 0, 1)")
    differ = np.abs(out - expected) > 1e-6
    # Pixels whose gradient is within round-off of 0 may get another sign (or none) in another implementation.
    tiny = np.abs(grads) <= 1e-6 * np.max(np.abs(grads))
    wrong = differ & ~tiny
    if wrong.mean() > 0.01 or differ.mean() > 0.05:
        toward = np.mean(np.sign(out - kw["images"])[~tiny] == -np.sign(grads)[~tiny]) if kw["epsilon"] else 0
        hint = ("the step has the wrong sign: FGSM moves UP the loss gradient, x + epsilon * sign(dL/dx)"
                if toward > 0.5 else
                "x_adv = clip(x + epsilon * sign(d loss / d x), 0, 1), the loss being the cross-entropy of the TRUE "
                "label (from the model's softmax output or from the scores of model.layers[-2])")
        raise CheckFailure(f"{wrong.mean():.1%} of the pixels differ from x + epsilon * sign(gradient), clipped to "
                           f"[0, 1]\nHint: {hint}")


# --------------------------------------------------------------------------- fooling_image


def _fooling_cases() -> list:
    return [
        Case("a grayscale image to class 7, learning rate 1", ("gray",),
             {"image": _images("gray", 1, 600)[0], "target_class": 7, "learning_rate": 1.0, "max_steps": 100}),
        Case("an RGB image to class 3, learning rate 0.5", ("rgb",),
             {"image": _images("rgb", 1, 601)[0], "target_class": 3, "learning_rate": 0.5, "max_steps": 100}),
        Case("max_steps reached: 3 small steps (0.02) towards an unlikely class", ("gray",),
             {"image": _images("gray", 1, 602)[0], "target_class": 1, "learning_rate": 0.02, "max_steps": 3}),
        Case("the target is already the prediction: 0 steps", ("gray",),
             {"image": _images("gray", 1, 603)[0], "target_class": None, "learning_rate": 1.0, "max_steps": 50}),
    ]


def _target(case):
    """The case's target class (the model's own prediction when the case says None)."""
    kw = case.kwargs
    if kw["target_class"] is not None:
        return kw["target_class"]
    model = grader_model(case.args[0])
    return int(np.argmax(np.asarray(model.predict(kw["image"][None], verbose=0))[0]))


def _call_fooling(fn, case):
    kw = case.kwargs
    return fn(grader_model(case.args[0]), kw["image"], _target(case), learning_rate=kw["learning_rate"],
              max_steps=kw["max_steps"])


def reference_fooling(model, image, target, learning_rate, max_steps, stop=True):
    """The ascent; with ``stop=False`` exactly ``max_steps`` steps, whatever the model predicts."""
    tf = _tf()
    scores_model = _scores_model(model)
    x = np.array(image[None], dtype=np.float32)
    for step in range(max_steps + 1):
        xt = tf.Variable(x)
        scores = scores_model(xt, training=False)
        if (stop and int(np.argmax(scores.numpy()[0])) == target) or step == max_steps:
            return x[0], step
        with tf.GradientTape() as tape:
            score = scores_model(xt, training=False)[0, target]
        g = tape.gradient(score, xt).numpy()
        x = np.clip(x + learning_rate * g / np.linalg.norm(g), 0.0, 1.0).astype(np.float32)
    raise AssertionError("unreachable")


def _verify_fooling(case: Case, output) -> None:
    kw = case.kwargs
    assert_true(isinstance(output, (tuple, list)) and len(output) == 2,
                "fooling_image should return a pair (image, steps)")
    image, steps = output
    model = grader_model(case.args[0])
    target = _target(case)
    image = np.asarray(image, dtype=np.float32)
    assert_shape(image, kw["image"].shape, "the fooling image", hint="one image (H, W, C), no batch axis")
    assert_true(np.all(image >= 0) and np.all(image <= 1), "some pixels are outside [0, 1]",
                hint="clip the image to [0, 1] after every step")
    assert_true(isinstance(steps, (int, np.integer)) and not isinstance(steps, bool),
                f"steps should be an int, got {type(steps).__name__}")
    ref_image, ref_steps = reference_fooling(model, kw["image"], target, kw["learning_rate"], kw["max_steps"])
    exact = ref_steps in (0, kw["max_steps"])  # no flip of the prediction to be near: the count is exact
    assert_true(int(steps) == ref_steps if exact else abs(int(steps) - ref_steps) <= 1,
                f"your loop took {int(steps)} steps; the reference ascent takes a different number",
                hint="stop as soon as the model predicts the target (check before each step, so an image already "
                     "in the target class takes 0 steps); each step adds learning_rate * g / ||g||, g the gradient "
                     "of the target's SCORE (model.layers[-2]), then clips to [0, 1]")
    predicted = int(np.argmax(np.asarray(model.predict(image[None], verbose=0))[0]))
    if int(steps) < kw["max_steps"]:
        assert_equal(predicted, target, what="the class of your fooling image",
                     compared_with="the target (the loop stopped before max_steps)")
    if int(steps) != ref_steps:  # one step more or fewer: compare with the reference after as many steps
        ref_image, _ = reference_fooling(model, kw["image"], target, kw["learning_rate"], int(steps), stop=False)
    assert_close(image, ref_image, what="the fooling image", tol=0, atol=1e-4,
                 compared_with="the reference ascent after the same number of steps",
                 hint="step: image += learning_rate * g / ||g||_2 (the L2 norm of the whole gradient), then clip")


CHECKS = {
    "occlusion_map": FunctionCheck(cases=_occlusion_cases, verify=_verify_occlusion, call=_call_occlusion),
    "grad_cam": FunctionCheck(cases=_grad_cam_cases, verify=_verify_grad_cam, call=_call_grad_cam),
    "penultimate_features": FunctionCheck(cases=_features_cases, verify=_verify_features, call=_call_features),
    "feature_nearest_neighbors": FunctionCheck(cases=_nn_cases, verify=_verify_nn),
    "fgsm_attack": FunctionCheck(cases=_fgsm_cases, verify=_verify_fgsm, call=_call_fgsm),
    "fooling_image": FunctionCheck(cases=_fooling_cases, verify=_verify_fooling, call=_call_fooling),
}
