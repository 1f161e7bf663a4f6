"""The hidden checks of 05_optimization pass the reference solution and reject typical mistakes."""

import numpy as np
import pytest

from course.asserts import CheckFailure
from grader.spec import load_checks
from grader.verify import run_check
from helpers import solution_namespace

CHECKS = load_checks("05_optimization")
SOLUTION = solution_namespace("05_optimization")


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_solution_passes_hidden_check(name):
    assert run_check(CHECKS[name], SOLUTION[name], name) > 0


def _defaults(config, **defaults):
    config = {} if config is None else config
    for k, v in defaults.items():
        config.setdefault(k, v)
    return config


def sgd_plus(w, dw, config=None):
    config = _defaults(config, learning_rate=1e-2)
    return w + config["learning_rate"] * dw, config


def sgd_wrong_default(w, dw, config=None):
    config = _defaults(config, learning_rate=1e-3)
    return w - config["learning_rate"] * dw, config


def momentum_forgets_velocity(w, dw, config=None):
    config = _defaults(config, learning_rate=1e-2, momentum=0.9)
    v = config["momentum"] * np.zeros_like(w) - config["learning_rate"] * dw
    return w + v, config


def nesterov_as_momentum(w, dw, config=None):
    return SOLUTION["sgd_momentum"](w, dw, config)


def nesterov_wrong_sign(w, dw, config=None):
    config = _defaults(config, learning_rate=1e-2, momentum=0.9)
    v_prev = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w + config["momentum"] * v_prev + (1 - config["momentum"]) * v, config


def adagrad_lecture(w, dw, config=None):
    config = _defaults(config, learning_rate=1e-3, epsilon=1e-7)
    config["cache"] = config.get("cache", np.zeros_like(w)) + dw ** 2
    return w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"]), config


def adagrad_eps_outside(w, dw, config=None):
    config = _defaults(config, learning_rate=1e-3, initial_accumulator_value=0.1, epsilon=1e-7)
    config["accumulator"] = config.get("accumulator", np.full_like(w, config["initial_accumulator_value"])) + dw ** 2
    return w - config["learning_rate"] * dw / (np.sqrt(config["accumulator"]) + config["epsilon"]), config


def rmsprop_eps_outside(w, dw, config=None):
    config = _defaults(config, learning_rate=1e-3, rho=0.9, epsilon=1e-7)
    config["cache"] = config["rho"] * config.get("cache", np.zeros_like(w)) + (1 - config["rho"]) * dw ** 2
    return w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"]), config


def rmsprop_rho_swapped(w, dw, config=None):
    config = _defaults(config, learning_rate=1e-3, rho=0.9, epsilon=1e-7)
    config["cache"] = (1 - config["rho"]) * config.get("cache", np.zeros_like(w)) + config["rho"] * dw ** 2
    return w - config["learning_rate"] * dw / np.sqrt(config["cache"] + config["epsilon"]), config


def adam_no_bias_correction(w, dw, config=None):
    config = _defaults(config, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, t=0)
    config["t"] += 1
    config["m"] = config["beta_1"] * config.get("m", np.zeros_like(w)) + (1 - config["beta_1"]) * dw
    config["v"] = config["beta_2"] * config.get("v", np.zeros_like(w)) + (1 - config["beta_2"]) * dw ** 2
    return w - config["learning_rate"] * config["m"] / (np.sqrt(config["v"]) + config["epsilon"]), config


def adam_lecture_epsilon(w, dw, config=None):
    config = _defaults(config, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, t=0)
    config["t"] += 1
    t, b1, b2 = config["t"], config["beta_1"], config["beta_2"]
    config["m"] = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    config["v"] = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw ** 2
    m_hat, v_hat = config["m"] / (1 - b1 ** t), config["v"] / (1 - b2 ** t)
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config


def adam_t_from_zero(w, dw, config=None):
    config = _defaults(config, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, t=1)
    t, b1, b2 = config["t"] + 1, config["beta_1"], config["beta_2"]
    config["t"] = t
    config["m"] = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    config["v"] = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw ** 2
    lr_t = config["learning_rate"] * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return w - lr_t * config["m"] / (np.sqrt(config["v"]) + config["epsilon"]), config


def step_decay_off_by_one(initial_lr, step, drop=0.5, every=10):
    return float(initial_lr * drop ** ((step + 1) // every))


def exponential_staircase(initial_lr, step, decay_steps, decay_rate):
    return float(initial_lr * decay_rate ** (step // decay_steps))


def cosine_no_clip(initial_lr, step, decay_steps, alpha=0.0):
    return float(initial_lr * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * step / decay_steps)) + alpha))


def cosine_alpha_outside(initial_lr, step, decay_steps, alpha=0.0):
    s = min(step, decay_steps)
    return float(initial_lr * 0.5 * (1 + np.cos(np.pi * s / decay_steps)) + alpha)


def cosine_returns_array(initial_lr, step, decay_steps, alpha=0.0):
    return np.array([SOLUTION["cosine_decay"](initial_lr, step, decay_steps, alpha)])


def xavier_fan_sum(fan_in, fan_out, seed=0):
    return np.random.default_rng(seed).normal(0, np.sqrt(2 / (fan_in + fan_out)), (fan_in, fan_out))


def xavier_fan_out(fan_in, fan_out, seed=0):
    return np.random.default_rng(seed).normal(0, 1 / np.sqrt(fan_out), (fan_in, fan_out))


def xavier_global_rng(fan_in, fan_out, seed=0):
    return np.random.normal(0, 1 / np.sqrt(fan_in), (fan_in, fan_out))


def he_as_xavier(fan_in, fan_out, seed=0):
    return SOLUTION["xavier_init"](fan_in, fan_out, seed)


def he_float32(fan_in, fan_out, seed=0):
    return SOLUTION["he_init"](fan_in, fan_out, seed).astype(np.float32)


def he_ignores_seed(fan_in, fan_out, seed=0):
    return SOLUTION["he_init"](fan_in, fan_out, 0)


MUTANTS = {
    "sgd": [sgd_plus, sgd_wrong_default],
    "sgd_momentum": [momentum_forgets_velocity, SOLUTION["sgd"]],
    "sgd_nesterov": [nesterov_as_momentum, nesterov_wrong_sign],
    "adagrad": [adagrad_lecture, adagrad_eps_outside],
    "rmsprop": [rmsprop_eps_outside, rmsprop_rho_swapped],
    "adam": [adam_no_bias_correction, adam_lecture_epsilon, adam_t_from_zero],
    "step_decay": [step_decay_off_by_one],
    "exponential_decay": [exponential_staircase],
    "cosine_decay": [cosine_no_clip, cosine_alpha_outside, cosine_returns_array],
    "xavier_init": [xavier_fan_sum, xavier_fan_out, xavier_global_rng],
    "he_init": [he_as_xavier, he_float32, he_ignores_seed],
}


@pytest.mark.parametrize("name,mistake", [(n, m) for n, ms in MUTANTS.items() for m in ms],
                         ids=lambda v: getattr(v, "__name__", v))
def test_hidden_check_rejects_mistake(name, mistake):
    with pytest.raises(CheckFailure):
        run_check(CHECKS[name], mistake, name)


def test_nesterov_as_momentum_gets_a_pointed_hint():
    with pytest.raises(CheckFailure, match="Nesterov is not plain momentum"):
        run_check(CHECKS["sgd_nesterov"], nesterov_as_momentum, "sgd_nesterov")


def test_lecture_adam_is_close_but_not_keras():
    """The lecture's epsilon placement differs from Keras by more than the 1e-6 bound."""
    with pytest.raises(CheckFailure, match="epsilon next to the uncorrected"):
        run_check(CHECKS["adam"], adam_lecture_epsilon, "adam")
