"""Sample submissions of 06_regularization, built by ``autograder/build_samples.py`` from the student notebook.

Each sample says how the student's answer cells are filled, and the score it must get (18 points in all:
dropout 5, batch norm 6, augmentation 3, regularized ConvNet 4).
"""

DROPOUT_SCALED_AT_TEST_TIME = '''def dropout_forward(x, p_drop, training, seed=None):
    """Vanilla dropout: keeps units unscaled in training and scales by (1 - p) at test time."""
    if not 0 <= p_drop < 1:
        raise ValueError(f"p_drop must be in [0, 1), got {p_drop}")
    if training:
        mask = (np.random.default_rng(seed).random(x.shape) >= p_drop).astype(np.float64)
        out = x * mask
    else:
        mask = None
        out = x * (1 - p_drop)
    return out, (mask, training)
'''

BATCHNORM_BATCH_STATS_IN_INFERENCE = '''def batchnorm_forward(x, gamma, beta, bn_param):
    """Updates the running averages, but normalizes with the batch's own statistics in both modes."""
    mode = bn_param["mode"]
    if mode not in ("train", "test"):
        raise ValueError(f'bn_param["mode"] must be "train" or "test", got {mode!r}')
    eps = bn_param.setdefault("eps", 1e-3)
    momentum = bn_param.setdefault("momentum", 0.99)
    D = x.shape[-1]
    running_mean = bn_param.setdefault("running_mean", np.zeros(D))
    running_var = bn_param.setdefault("running_var", np.ones(D))
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    if mode == "train":
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, (x_hat, gamma, std, axes, mode)
'''

AUGMENTER_WITH_FLIPS = '''def build_augmenter(seed=0):
    """Shifts, zooms and horizontal flips: the flips mirror shoes, which all point the same way."""
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 1),
        keras.layers.RandomZoom(0.1, fill_mode="constant", seed=seed + 2),
    ], name="augmenter")
'''

SAMPLES = {
    "correct": dict(answers="solution", score=18),
    "untouched": dict(answers=None, score=0),
    "dropout_scaled_at_test_time": dict(
        answers="solution", replace={"dropout_forward": DROPOUT_SCALED_AT_TEST_TIME}, score=13,
        why="vanilla instead of inverted dropout: the visible statistics test (1) and the hidden Keras "
            "comparison (2) fail; dropout_backward (the solution's) no longer matches this forward pass at test "
            "time, where the forward multiplies by 1 - p, so its numeric-gradient test (1) and hidden check (1) "
            "fail too"),
    "batchnorm_batch_stats_in_inference": dict(
        answers="solution", replace={"batchnorm_forward": BATCHNORM_BATCH_STATS_IN_INFERENCE}, score=12,
        why="test mode normalizes with the test batch's statistics: the visible test-mode check (1), the hidden "
            "Keras inference comparison (2) and the hidden test-mode gradient of batchnorm_backward (2, whose "
            "cache now holds the batch statistics) fail, and with it batchnorm_backward's visible numeric "
            "gradient test (1), which counts only for a function the grader confirms"),
    "augmenter_with_flips": dict(
        answers="solution", replace={"build_augmenter": AUGMENTER_WITH_FLIPS}, score=15,
        why="the augmenter flips left to right: the hidden check (2) fails because about half of the augmented "
            "shoes are mirrored, images the test set never shows, and with it the visible shape test (1), which "
            "counts only for a function the grader confirms"),
}
