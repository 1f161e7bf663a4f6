"""Sample submissions of 05_optimization, built by ``autograder/build_samples.py`` from the student notebook.

Each sample says how the student's answer cells are filled, and the score it must get (28 points in all).
"""

ADAM_NO_BIAS_CORRECTION = '''def adam(w, dw, config=None):
    """Moving averages without bias correction: the first steps are about 3 times too large."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta_1", 0.9)
    config.setdefault("beta_2", 0.999)
    config.setdefault("epsilon", 1e-7)
    config.setdefault("m", np.zeros_like(w, dtype=np.float64))
    config.setdefault("v", np.zeros_like(w, dtype=np.float64))
    config.setdefault("t", 0)
    config["t"] += 1
    config["m"] = config["beta_1"] * config["m"] + (1 - config["beta_1"]) * dw
    config["v"] = config["beta_2"] * config["v"] + (1 - config["beta_2"]) * dw ** 2
    next_w = w - config["learning_rate"] * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
    return next_w, config
'''

NESTEROV_AS_MOMENTUM = '''def sgd_nesterov(w, dw, config=None):
    """Plain momentum under Nesterov's name: no look-ahead."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    config["velocity"] = v
    return next_w, config
'''

SAMPLES = {
    "correct": dict(answers="solution", score=28),
    "untouched": dict(answers=None, score=0),
    "adam_no_bias_correction": dict(
        answers="solution", replace={"adam": ADAM_NO_BIAS_CORRECTION}, score=24,
        why="passes the visible test (state, step count, descent) but not the step-by-step comparison with "
            "keras.optimizers.Adam (-3), so the visible test's point does not count either (-1)"),
    "nesterov_as_momentum": dict(
        answers="solution", replace={"sgd_nesterov": NESTEROV_AS_MOMENTUM}, score=25,
        why="the visible first-step test (1 + momentum times the SGD step) and the comparison with "
            "SGD(nesterov=True) fail (-1 -2)"),
}
