"""The hidden checks of 07_keras_convnets pass the reference solution and reject typical mistakes."""

import keras
import pytest
import tensorflow as tf

from course.asserts import CheckFailure
from grader.spec import load_checks
from grader.verify import run_check
from helpers import solution_namespace

CHECKS = load_checks("07_keras_convnets")
SOLUTION = solution_namespace("07_keras_convnets", extra={"keras": keras, "tf": tf})


@pytest.fixture(autouse=True)
def quick_profile(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")


def mutant(source: str, name: str):
    namespace = dict(SOLUTION)
    exec(source, namespace)
    return namespace[name]


@pytest.mark.parametrize("name", ["saliency_map", "class_model_image"])
def test_solution_passes_hidden_check(name):
    assert run_check(CHECKS[name], SOLUTION[name], name) > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["build_convnet", "train_convnet"])
def test_solution_trains_into_the_band(name):
    assert run_check(CHECKS[name], SOLUTION[name], name) == 1


SALIENCY_NO_ABS = '''
def saliency_map(model, images, labels):
    scores_model = keras.Model(model.inputs[0], model.layers[-2].output)
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(images)
        correct = tf.gather(scores_model(images), labels, axis=1, batch_dims=1)
    return tf.reduce_max(tape.gradient(correct, images), axis=-1).numpy()
'''
SALIENCY_OF_PROBABILITIES = '''
def saliency_map(model, images, labels):
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(images)
        correct = tf.gather(model(images), labels, axis=1, batch_dims=1)
    return tf.reduce_max(tf.abs(tape.gradient(correct, images)), axis=-1).numpy()
'''
SALIENCY_MEAN_OVER_CHANNELS = '''
def saliency_map(model, images, labels):
    scores_model = keras.Model(model.inputs[0], model.layers[-2].output)
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(images)
        correct = tf.gather(scores_model(images), labels, axis=1, batch_dims=1)
    return tf.reduce_mean(tf.abs(tape.gradient(correct, images)), axis=-1).numpy()
'''
SALIENCY_PREDICTED_CLASS = '''
def saliency_map(model, images, labels):
    scores_model = keras.Model(model.inputs[0], model.layers[-2].output)
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(images)
        correct = tf.reduce_max(scores_model(images), axis=1)
    return tf.reduce_max(tf.abs(tape.gradient(correct, images)), axis=-1).numpy()
'''
CLASS_MODEL_NO_L2 = '''
def class_model_image(model, class_index, steps=200, learning_rate=1.0, l2_reg=1e-3, seed=0):
    scores_model = keras.Model(model.inputs[0], model.layers[-2].output)
    shape = tuple(model.inputs[0].shape[1:])
    image = tf.Variable(np.random.default_rng(seed).normal(0.0, 0.01, size=(1, *shape)).astype("float32"))
    for _ in range(steps):
        with tf.GradientTape() as tape:
            objective = scores_model(image)[0, class_index]
        image.assign_add(learning_rate * tape.gradient(objective, image))
    return image.numpy()[0]
'''
CLASS_MODEL_DESCENT = '''
def class_model_image(model, class_index, steps=200, learning_rate=1.0, l2_reg=1e-3, seed=0):
    scores_model = keras.Model(model.inputs[0], model.layers[-2].output)
    shape = tuple(model.inputs[0].shape[1:])
    image = tf.Variable(np.random.default_rng(seed).normal(0.0, 0.01, size=(1, *shape)).astype("float32"))
    for _ in range(steps):
        with tf.GradientTape() as tape:
            objective = scores_model(image)[0, class_index] - l2_reg * tf.reduce_sum(image ** 2)
        image.assign_sub(learning_rate * tape.gradient(objective, image))
    return image.numpy()[0]
'''
CLASS_MODEL_PROBABILITY = '''
def class_model_image(model, class_index, steps=200, learning_rate=1.0, l2_reg=1e-3, seed=0):
    shape = tuple(model.inputs[0].shape[1:])
    image = tf.Variable(np.random.default_rng(seed).normal(0.0, 0.01, size=(1, *shape)).astype("float32"))
    for _ in range(steps):
        with tf.GradientTape() as tape:
            objective = model(image)[0, class_index] - l2_reg * tf.reduce_sum(image ** 2)
        image.assign_add(learning_rate * tape.gradient(objective, image))
    return image.numpy()[0]
'''

MUTANTS = {
    "saliency_map": [("no absolute value", SALIENCY_NO_ABS), ("of the probabilities", SALIENCY_OF_PROBABILITIES),
                     ("mean over channels", SALIENCY_MEAN_OVER_CHANNELS),
                     ("predicted class", SALIENCY_PREDICTED_CLASS)],
    "class_model_image": [("no L2 penalty", CLASS_MODEL_NO_L2), ("descent", CLASS_MODEL_DESCENT),
                          ("softmax probability", CLASS_MODEL_PROBABILITY)],
}


@pytest.mark.parametrize("name,label,source", [(n, label, s) for n, ms in MUTANTS.items() for label, s in ms],
                         ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_hidden_check_rejects_mistake(name, label, source):
    with pytest.raises(CheckFailure):
        run_check(CHECKS[name], mutant(source, name), name)


NEVER_FITS = '''
def train_convnet(model, x_train, y_train, x_val, y_val, epochs, batch_size=128, seed=0):
    keras.utils.set_random_seed(seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = keras.callbacks.History()
    history.history = {k: [0.0] * epochs for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
    return history
'''
FITS_A_COPY = '''
def train_convnet(model, x_train, y_train, x_val, y_val, epochs, batch_size=128, seed=0):
    keras.utils.set_random_seed(seed)
    other = keras.models.clone_model(model)
    other.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return other.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size, verbose=0)
'''
NO_VALIDATION = '''
def train_convnet(model, x_train, y_train, x_val, y_val, epochs, batch_size=128, seed=0):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0)
'''
BUILD_NEVER_LEARNS = '''
def build_convnet(input_shape=(28, 28, 1), num_classes=10):
    model = keras.Sequential([keras.Input(input_shape), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                              keras.layers.Dense(num_classes), keras.layers.Activation("softmax")])
    model.trainable = False
    return model
'''


@pytest.mark.slow
@pytest.mark.parametrize("name,source", [("train_convnet", NEVER_FITS), ("train_convnet", FITS_A_COPY),
                                         ("train_convnet", NO_VALIDATION), ("build_convnet", BUILD_NEVER_LEARNS)],
                         ids=["never_fits", "fits_a_copy", "no_validation", "frozen_model"])
def test_trained_model_checks_reject(name, source):
    with pytest.raises(CheckFailure):
        run_check(CHECKS[name], mutant(source, name), name)
