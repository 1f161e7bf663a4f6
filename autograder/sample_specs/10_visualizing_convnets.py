"""Sample submissions of 10_visualizing_convnets, built by ``autograder/build_samples.py`` from the student notebook.

Each sample says how the student's answer cells are filled, and the score it must get (17 points in all:
occlusion 3, Grad-CAM 3, feature space 5, fooling 6). A visible test counts only for a function that
passes its hidden test, so a wrong function loses all its points.
"""

GRAD_CAM_WITHOUT_RELU = '''def grad_cam(model, images, labels, layer_name):
    """Keeps the regions that speak against the class: no ReLU on the weighted sum (then min-max scaled)."""
    layer = model.get_layer(layer_name)
    both = keras.Model(model.inputs[0], [layer.output, model.layers[-2].output])
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    with tf.GradientTape() as tape:
        activations, scores = both(images, training=False)
        chosen = tf.gather(scores, labels, axis=1, batch_dims=1)
    grads = tape.gradient(chosen, activations)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cams = tf.reduce_sum(weights * activations, axis=-1)
    cams = tf.image.resize(cams[..., None], images.shape[1:3], method="bilinear")[..., 0]
    low = tf.reduce_min(cams, axis=(1, 2), keepdims=True)
    high = tf.reduce_max(cams, axis=(1, 2), keepdims=True)
    return tf.math.divide_no_nan(cams - low, high - low).numpy()
'''

FGSM_WRONG_SIGN = '''def fgsm_attack(model, images, labels, epsilon):
    """Steps DOWN the loss gradient: the images become easier, not harder."""
    scores_model = keras.Model(model.inputs[0], model.layers[-2].output)
    x = tf.convert_to_tensor(images, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = keras.losses.sparse_categorical_crossentropy(labels, scores_model(x, training=False), from_logits=True)
    grads = tape.gradient(loss, x)
    return np.clip(images - epsilon * np.sign(grads.numpy()), 0.0, 1.0)
'''

OCCLUSION_WITHOUT_STRIDE = '''def occlusion_map(model, image, label, patch_size=6, stride=2, fill=0.0):
    """Counts the positions with the stride but places the patch at (i, j), not (i * stride, j * stride)."""
    H, W = image.shape[:2]
    rows, cols = (H - patch_size) // stride + 1, (W - patch_size) // stride + 1
    batch = np.repeat(np.asarray(image, dtype=np.float32)[None], rows * cols, axis=0)
    for i in range(rows):
        for j in range(cols):
            batch[i * cols + j, i:i + patch_size, j:j + patch_size, :] = fill
    return model.predict(batch, verbose=0)[:, label].reshape(rows, cols)
'''

SAMPLES = {
    "correct": dict(answers="solution", score=17),
    "untouched": dict(answers=None, score=0),
    "grad_cam_without_relu": dict(
        answers="solution", replace={"grad_cam": GRAD_CAM_WITHOUT_RELU}, score=14,
        why="Grad-CAM without the ReLU: the by-hand class that everything speaks against is not zero (visible, 1), "
            "and the hidden comparison (2) fails"),
    "fgsm_wrong_sign": dict(
        answers="solution", replace={"fgsm_attack": FGSM_WRONG_SIGN}, score=14,
        why="FGSM with the wrong sign: the linear model's step goes the other way (visible, 1) and the hidden "
            "comparison (2) fails"),
    "occlusion_without_stride": dict(
        answers="solution", replace={"occlusion_map": OCCLUSION_WITHOUT_STRIDE}, score=14,
        why="the patch is placed at (i, j) instead of (i * stride, j * stride): the visible one-pixel test runs, "
            "the hidden comparison (2) fails, and the visible test then does not count (1)"),
}
