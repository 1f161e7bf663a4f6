"""Sample submissions of 08_transfer_learning, built by ``autograder/build_samples.py`` from the student notebook.

Each sample says how the student's answer cells are filled, and the score it must get (13 points:
split_classes 1 + 2, build_transfer_model 1 + 4, run_transfer_experiment 1 + 4).
"""

COPIES_WITHOUT_FREEZING = '''def build_transfer_model(base_model, n_layers, num_classes, fine_tune=False):
    """Copies the first n_layers weight layers, but forgets to freeze them."""
    weight_layers = [layer for layer in base_model.layers if layer.weights]
    if not 0 <= n_layers < len(weight_layers):
        raise ValueError(f"n_layers={n_layers} must be in 0..{len(weight_layers) - 1}")
    model = keras.Sequential([keras.Input(shape=base_model.input_shape[1:])])
    copied = 0
    for i, layer in enumerate(base_model.layers):
        config = layer.get_config()
        if i == len(base_model.layers) - 1:
            config["units"] = num_classes
        new = layer.__class__.from_config(config)
        model.add(new)
        if layer.weights:
            if copied < n_layers:
                new.set_weights(layer.get_weights())
            copied += 1
    return model
'''

REINITIALIZES_COPIED_LAYERS = '''def build_transfer_model(base_model, n_layers, num_classes, fine_tune=False):
    """Freezes the first n_layers weight layers, but leaves them freshly initialized (nothing copied)."""
    weight_layers = [layer for layer in base_model.layers if layer.weights]
    if not 0 <= n_layers < len(weight_layers):
        raise ValueError(f"n_layers={n_layers} must be in 0..{len(weight_layers) - 1}")
    model = keras.Sequential([keras.Input(shape=base_model.input_shape[1:])])
    copied = 0
    for i, layer in enumerate(base_model.layers):
        config = layer.get_config()
        if i == len(base_model.layers) - 1:
            config["units"] = num_classes
        new = layer.__class__.from_config(config)
        model.add(new)
        if layer.weights:
            if copied < n_layers:
                new.trainable = fine_tune
            copied += 1
    return model
'''

RENUMBERS_IN_SORTED_ORDER = '''def split_classes(x, y, classes):
    """Keeps the right examples, but numbers the classes in sorted order, not in the given order."""
    keep = np.isin(y, classes)
    return x[keep], np.searchsorted(np.sort(np.asarray(classes)), y[keep])
'''

SAMPLES = {
    "correct": dict(answers="solution", score=13),
    "untouched": dict(answers=None, score=0),
    "copies_without_freezing": dict(
        answers="solution", replace={"build_transfer_model": COPIES_WITHOUT_FREEZING}, score=8,
        why="passes the visible test (the weights are copied); the hidden test finds copied layers that train, "
            "so the visible test's point does not count either"),
    "reinitializes_copied_layers": dict(
        answers="solution", replace={"build_transfer_model": REINITIALIZES_COPIED_LAYERS}, score=8,
        why="the visible and the hidden test find layers that should hold the base's weights but do not"),
    "sorted_label_order": dict(
        answers="solution", replace={"split_classes": RENUMBERS_IN_SORTED_ORDER}, score=10,
        why="the visible test lists its classes in increasing order and passes; the hidden test gives them "
            "in another order (2), and the visible test counts only for a confirmed function (1)"),
}
