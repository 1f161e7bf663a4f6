"""Hidden checks of 05_optimization: grader-chosen inputs and independent references (Keras, float64).

Each entry of ``CHECKS`` is a ``FunctionCheck`` run by ``course.grading.run_hidden_check``.
- Update rules run 20 steps on a fixed sequence of gradients next to their ``keras.optimizers``
  counterpart on a float64 ``keras.Variable`` (hyperparameters passed as np.float64). Compared: the
  distance travelled ``w_t - w_0`` after every step, normwise relative error
  ``max|got - keras| / max|keras|`` < 1e-6 (the contract's bound). Keras keeps the learning rate in
  float32 (relative precision ~5e-8), the rest is float64 round-off (~1e-15); every mistake we know of (no
  bias correction, epsilon on the other side of the root, momentum instead of Nesterov, a zero
  AdaGrad accumulator) is off by 1e-3 or more. One case has gradients of size 1e-4, where the
  placement of epsilon shows.
- Schedules are compared with ``keras.optimizers.schedules`` computed in float64 (initial rate passed
  as ``np.float64``), relative error 1e-9.
- Initializers: the weights are random, so their statistics are compared with those of Keras'
  ``VarianceScaling(scale, mode="fan_in", distribution="untruncated_normal")``: the sample std within
  3% of sqrt(scale / fan_in) (over >= 60,000 draws the sampling error of the std is < 0.3%, so 3% is
  10 standard errors), the mean within 5 standard errors of 0, the same weights for the same seed and
  other weights for another seed.
"""

import os

import numpy as np

from course.asserts import CheckFailure, assert_close, assert_shape, assert_true
from grader.spec import Case, FunctionCheck

STEPS = 20
TOL = 1e-6


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    return keras, tf


# --------------------------------------------------------------------------- update rules


def _gradients(seed: int, shape: tuple, scale: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(STEPS, *shape)) * scale


def _rule_cases(hyper_sets: list) -> callable:
    def cases() -> list:
        rng = np.random.default_rng(31)
        out = []
        for i, (label, shape, scale, hyper) in enumerate(hyper_sets):
            w0 = rng.normal(size=shape)
            out.append(Case(f"{label}, w of shape {shape}, {STEPS} steps", (w0, _gradients(100 + i, shape, scale)),
                            {"config": hyper}))
        return out
    return cases


def _run_rule(fn, case: Case):
    w0, grads = case.args
    config = None if case.kwargs["config"] is None else dict(case.kwargs["config"])
    w, path = w0.copy(), []
    for t, g in enumerate(grads):
        out = fn(w.copy(), g.copy(), config)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise CheckFailure(f"step {t + 1} returned {type(out).__name__}, expected (next_w, config)")
        w, config = out
        if not isinstance(config, dict):
            raise CheckFailure(f"step {t + 1} returned a config of type {type(config).__name__}, expected the dict "
                               "(return config so that the next step continues from its state)")
        w = np.array(w, dtype=np.float64)
        path.append(w.copy())
    return np.array(path)


def keras_path(optimizer, w0: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Weights after each step of a Keras optimizer on a float64 variable."""
    keras, tf = _keras()
    variable = keras.Variable(np.array(w0, dtype=np.float64), dtype="float64")
    path = []
    for g in grads:
        optimizer.apply_gradients([(tf.constant(g, dtype=tf.float64), variable)])
        path.append(variable.numpy().copy())
    return np.array(path)


def _verify_rule(make_optimizer, keras_name: str, hint: str):
    def verify(case: Case, out) -> None:
        w0, grads = case.args
        expected = keras_path(make_optimizer(case.kwargs["config"] or {}), w0, grads)
        assert_shape(out, expected.shape, "the weights after each step", hint="next_w has w's shape")
        moved, expected_moved = np.asarray(out, dtype=np.float64) - w0, expected - w0
        assert_true(np.all(np.isfinite(moved)), "some weights became NaN or infinite",
                    hint="look for a division by zero (epsilon) or a square root of a negative number")
        for t in range(STEPS):
            # Normwise relative error of the distance travelled: entries whose displacement happens to
            # cancel to ~0 would make an entrywise relative error meaningless.
            diff = np.abs(moved[t] - expected_moved[t])
            err = float(np.max(diff) / max(np.max(np.abs(expected_moved[t])), 1e-300))
            if err > TOL:
                idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))
                raise CheckFailure(
                    f"w - w0 after step {t + 1}: compared with {keras_name}, relative error {err:.2e} "
                    f"(target < {TOL:.0e}); worst at index {idx}: got {moved[t][idx]:.6g}, expected "
                    f"{expected_moved[t][idx]:.6g}\nHint: {hint}"
                    + (" (already the first step differs)" if t == 0 else ""))
    return verify


# Hyperparameters go to Keras as np.float64: Keras casts Python floats through float32 (0.999 becomes
# 0.99900001, which moves Adam's bias correction by 6e-6), NumPy float64 scalars stay exact. Only the
# learning rate is kept in a float32 variable (relative precision ~5e-8).
F64 = np.float64


def _sgd(cfg):
    keras, _ = _keras()
    return keras.optimizers.SGD(learning_rate=F64(cfg.get("learning_rate", 1e-2)))


def _momentum(nesterov):
    def make(cfg):
        keras, _ = _keras()
        return keras.optimizers.SGD(learning_rate=F64(cfg.get("learning_rate", 1e-2)),
                                    momentum=F64(cfg.get("momentum", 0.9)), nesterov=nesterov)
    return make


def _adagrad(cfg):
    keras, _ = _keras()
    return keras.optimizers.Adagrad(learning_rate=F64(cfg.get("learning_rate", 1e-3)),
                                    initial_accumulator_value=F64(cfg.get("initial_accumulator_value", 0.1)),
                                    epsilon=F64(cfg.get("epsilon", 1e-7)))


def _rmsprop(cfg):
    keras, _ = _keras()
    return keras.optimizers.RMSprop(learning_rate=F64(cfg.get("learning_rate", 1e-3)), rho=F64(cfg.get("rho", 0.9)),
                                    epsilon=F64(cfg.get("epsilon", 1e-7)))


def _adam(cfg):
    keras, _ = _keras()
    return keras.optimizers.Adam(learning_rate=F64(cfg.get("learning_rate", 1e-3)), beta_1=F64(cfg.get("beta_1", 0.9)),
                                 beta_2=F64(cfg.get("beta_2", 0.999)), epsilon=F64(cfg.get("epsilon", 1e-7)))


SGD_CASES = [("the default config (config=None)", (4, 3), 1.0, None),
             ("learning rate 0.1", (7,), 1.0, {"learning_rate": 0.1}),
             ("learning rate 0.003 on a 3-d weight tensor", (2, 3, 2), 0.5, {"learning_rate": 0.003})]
MOMENTUM_CASES = [("the default config (config=None)", (4, 3), 1.0, None),
                  ("learning rate 0.05, momentum 0.5", (7,), 1.0, {"learning_rate": 0.05, "momentum": 0.5}),
                  ("learning rate 0.01, momentum 0.99", (3, 5), 2.0, {"learning_rate": 0.01, "momentum": 0.99}),
                  ("learning rate 0.2, momentum 0.9, 3-d weights", (2, 2, 3), 0.1,
                   {"learning_rate": 0.2, "momentum": 0.9})]
ADAGRAD_CASES = [("the default config (config=None)", (4, 3), 1.0, None),
                 ("learning rate 0.1", (7,), 1.0, {"learning_rate": 0.1}),
                 ("gradients of size 1e-4", (3, 5), 1e-4, {"learning_rate": 0.01}),
                 ("initial accumulator 1.0, epsilon 1e-5", (6,), 3.0,
                  {"learning_rate": 0.05, "initial_accumulator_value": 1.0, "epsilon": 1e-5}),
                 ("a large epsilon, 0.5, next to an accumulator that starts at 0.01", (5,), 0.1,
                  {"learning_rate": 0.1, "initial_accumulator_value": 0.01, "epsilon": 0.5})]
RMSPROP_CASES = [("the default config (config=None)", (4, 3), 1.0, None),
                 ("learning rate 0.01, rho 0.99", (7,), 1.0, {"learning_rate": 0.01, "rho": 0.99}),
                 ("gradients of size 1e-4", (3, 5), 1e-4, {"learning_rate": 0.001}),
                 ("learning rate 0.1, rho 0.5, epsilon 1e-4", (2, 2, 3), 0.3,
                  {"learning_rate": 0.1, "rho": 0.5, "epsilon": 1e-4})]
ADAM_CASES = [("the default config (config=None)", (4, 3), 1.0, None),
              ("learning rate 0.01", (7,), 1.0, {"learning_rate": 0.01}),
              ("gradients of size 1e-4", (3, 5), 1e-4, {"learning_rate": 0.001}),
              ("beta_1 0.5, beta_2 0.9, epsilon 1e-3", (2, 2, 3), 0.5,
               {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3})]


def _rule_check(cases, make_optimizer, keras_name, hint):
    return FunctionCheck(cases=_rule_cases(cases), verify=_verify_rule(make_optimizer, keras_name, hint),
                         call=_run_rule)


# --------------------------------------------------------------------------- schedules


def _schedule_cases(rows) -> callable:
    return lambda: [Case(label, args, kwargs) for label, args, kwargs in rows]


def _verify_schedule(reference, name: str, hint: str):
    def verify(case: Case, out) -> None:
        assert_true(np.ndim(out) == 0 and isinstance(out, (float, np.floating)) and not isinstance(out, bool),
                    f"returned {type(out).__name__} {out!r}, expected a float", hint="return float(...)")
        # (wrapped in lists: assert_close compares arrays)
        assert_close([out], [reference(*case.args, **case.kwargs)], what="the learning rate", compared_with=name,
                     tol=1e-9, hint=hint)
    return verify


def _keras_step_decay(initial_lr, step, drop=0.5, every=10):
    keras, _ = _keras()
    # PiecewiseConstantDecay uses values[i] while step <= boundaries[i]; for integer steps,
    # "step <= k * every - 1" is "step < k * every", i.e. k drops happen at step k * every.
    drops = step // every + 2
    boundaries = [k * every - 1 for k in range(1, drops)]
    values = [np.float64(initial_lr) * np.float64(drop) ** k for k in range(drops)]
    return float(keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)(step))


def _keras_exponential(initial_lr, step, decay_steps, decay_rate):
    keras, _ = _keras()
    return float(keras.optimizers.schedules.ExponentialDecay(F64(initial_lr), decay_steps, F64(decay_rate))(step))


def _keras_cosine(initial_lr, step, decay_steps, alpha=0.0):
    keras, _ = _keras()
    return float(keras.optimizers.schedules.CosineDecay(F64(initial_lr), decay_steps, alpha=F64(alpha))(step))


STEP_ROWS = [("step 0, default drop and period", (0.1, 0), {}),
             ("the last step before the first drop", (0.1, 9), {}),
             ("the step of the first drop", (0.1, 10), {}),
             ("several drops in, drop 0.1 every 3", (1.0, 7), {"drop": 0.1, "every": 3}),
             ("step 100, drop 0.9 every 7", (0.05, 100), {"drop": 0.9, "every": 7})]
EXP_ROWS = [("step 0", (0.1, 0, 100, 0.5), {}),
            ("a step between two decay periods", (0.1, 37, 100, 0.5), {}),
            ("beyond several decay periods", (0.01, 1234, 100, 0.96), {}),
            ("decay rate 0.1 over 1000 steps", (3e-4, 250, 1000, 0.1), {})]
COS_ROWS = [("step 0", (0.1, 0, 100), {}),
            ("a quarter of the way", (0.1, 25, 100), {}),
            ("three quarters, alpha 0.1", (0.1, 75, 100), {"alpha": 0.1}),
            ("exactly at decay_steps", (1.0, 1000, 1000), {"alpha": 0.05}),
            ("beyond decay_steps", (0.02, 150, 100), {"alpha": 0.2}),
            ("beyond decay_steps, alpha 0", (0.02, 333, 100), {})]

# --------------------------------------------------------------------------- initializers

INIT_SHAPES = [((500, 200), 0, "a 500 x 200 layer, seed 0"),
               ((784, 100), 7, "a 784 x 100 layer, seed 7"),
               ((30, 3000), 2, "a 30 x 3000 layer (few inputs), seed 2"),
               ((4000, 20), 5, "a 4000 x 20 layer (many inputs), seed 5")]


def _init_cases() -> list:
    return [Case(label, shape, {"seed": seed}) for shape, seed, label in INIT_SHAPES]


def _init_call(fn, case: Case):
    first = fn(*case.args, **case.kwargs)
    again = fn(*case.args, **case.kwargs)
    other = fn(*case.args, seed=case.kwargs["seed"] + 1)
    return first, again, other


def _verify_init(scale: float, name: str):
    def verify(case: Case, out) -> None:
        keras, _ = _keras()
        first, again, other = out
        fan_in, fan_out = case.args
        assert_shape(first, (fan_in, fan_out), "the weights", hint="(fan_in, fan_out)")
        W = np.asarray(first)
        assert_true(W.dtype == np.float64, f"the weights are {W.dtype}, expected float64")
        expected_std = np.sqrt(scale / fan_in)
        keras_init = keras.initializers.VarianceScaling(scale=scale, mode="fan_in", distribution="untruncated_normal",
                                                        seed=0)
        keras_std = float(np.std(keras_init((fan_in, fan_out), dtype="float64")))
        assert_true(abs(keras_std / expected_std - 1) < 0.03, "internal: Keras' std differs from sqrt(scale/fan_in)")
        assert_close([W.std()], [expected_std], what="the std of the weights",
                     compared_with=f"keras.initializers.VarianceScaling({scale}, 'fan_in'): sqrt({scale:g} / fan_in)",
                     tol=0.015, hint=f"{name}: a standard normal times sqrt({scale:g} / fan_in); fan_in is the first "
                                     "dimension (rows), not fan_out or their sum")
        standard_error = expected_std / np.sqrt(W.size)
        assert_true(abs(W.mean()) < 5 * standard_error, f"the mean of the weights is {W.mean():.3g}, expected 0 "
                    f"(within {5 * standard_error:.1g})", hint="draw from a normal distribution centred at 0")
        assert_true(np.array_equal(np.asarray(again), W), "two calls with the same seed gave different weights",
                    hint="draw from np.random.default_rng(seed), not from the global np.random")
        assert_true(not np.array_equal(np.asarray(other), W), "another seed gave the same weights",
                    hint="pass seed to np.random.default_rng")
    return verify


CHECKS = {
    "sgd": _rule_check(SGD_CASES, _sgd, "keras.optimizers.SGD", "w - learning_rate * dw"),
    "sgd_momentum": _rule_check(
        MOMENTUM_CASES, _momentum(False), "keras.optimizers.SGD(momentum=...)",
        "v = momentum * v - learning_rate * dw; w + v; keep v in config['velocity'] between steps"),
    "sgd_nesterov": _rule_check(
        MOMENTUM_CASES, _momentum(True), "keras.optimizers.SGD(momentum=..., nesterov=True)",
        "Nesterov is not plain momentum: w - mu * v_prev + (1 + mu) * v, with v the new velocity"),
    "adagrad": _rule_check(
        ADAGRAD_CASES, _adagrad, "keras.optimizers.Adagrad",
        "Keras' AdaGrad: the accumulator starts at initial_accumulator_value (0.1) and epsilon is inside the "
        "square root, dw / sqrt(accumulator + epsilon)"),
    "rmsprop": _rule_check(
        RMSPROP_CASES, _rmsprop, "keras.optimizers.RMSprop",
        "cache = rho * cache + (1 - rho) * dw**2 from a zero cache; Keras puts epsilon inside the root: "
        "dw / sqrt(cache + epsilon)"),
    "adam": _rule_check(
        ADAM_CASES, _adam, "keras.optimizers.Adam",
        "count t from 1; bias-correct through lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t), then "
        "w - lr_t * m / (sqrt(v) + epsilon), epsilon next to the uncorrected sqrt(v)"),
    "step_decay": FunctionCheck(cases=_schedule_cases(STEP_ROWS), verify=_verify_schedule(
        _keras_step_decay, "keras.optimizers.schedules.PiecewiseConstantDecay",
        "initial_lr * drop ** (step // every): the first drop happens at step == every")),
    "exponential_decay": FunctionCheck(cases=_schedule_cases(EXP_ROWS), verify=_verify_schedule(
        _keras_exponential, "keras.optimizers.schedules.ExponentialDecay",
        "initial_lr * decay_rate ** (step / decay_steps), with a real (not integer) exponent")),
    "cosine_decay": FunctionCheck(cases=_schedule_cases(COS_ROWS), verify=_verify_schedule(
        _keras_cosine, "keras.optimizers.schedules.CosineDecay",
        "clip the step at decay_steps, then "
        "initial_lr * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha)")),
    "xavier_init": FunctionCheck(cases=_init_cases, verify=_verify_init(1.0, "Xavier"), call=_init_call),
    "he_init": FunctionCheck(cases=_init_cases, verify=_verify_init(2.0, "He"), call=_init_call),
}
