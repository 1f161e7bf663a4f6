"""Builds the reference ConvNet of 10_visualizing_convnets (a trained Fashion-MNIST classifier).

    $ python -m autograder.build_vis_model           # train and write data/models/10_visualizing_convnets/
    $ python -m autograder.build_vis_model --check   # verify the shipped file against its SHA-256

The notebook and its hidden checks load this model (``course.models.load_base_model("fashion_convnet",
VIS_MODELS)``), so that 10 does not depend on 07 having been run. The model: three 3x3 convolutions
(``conv1``, ``conv2``, ``conv3``, ReLU, each followed by 2x2 max pooling), ``fc`` (128, ReLU), dropout,
``scores`` (10) and a separate ``softmax`` layer: the last layer is the softmax and ``model.layers[-2]``
outputs the class scores, as the contract of 10 says. Trained with fixed seeds and op determinism on
the first 50,000 training images (class-balanced, ``course.data.fashion_mnist_split`` seed 1010); the test
accuracy is on all 10,000 test images.
"""

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

from autograder.build_base_models import device_description, save_atomically
from autograder.provenance import git_commit, versions
from course import models as course_models
from course.paths import course_layout

LAYOUT = course_layout()
FOLDER_NAME = "10_visualizing_convnets"
NAME = "fashion_convnet"
SEED = 1010
NUM_TRAIN = 50000
EPOCHS = 4
BATCH_SIZE = 128
LEARNING_RATE = 1e-3


def folder() -> Path:
    return course_models.models_dir() / FOLDER_NAME


def vis_convnet(input_shape=(28, 28, 1), num_classes=10):
    """The architecture of the shipped model (uncompiled)."""
    import keras

    return keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(2, name="pool1"),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2"),
        keras.layers.MaxPooling2D(2, name="pool2"),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv3"),
        keras.layers.MaxPooling2D(2, name="pool3"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(128, activation="relu", name="fc"),
        keras.layers.Dropout(0.3, name="dropout"),
        keras.layers.Dense(num_classes, name="scores"),
        keras.layers.Activation("softmax", name="softmax"),
    ], name=NAME)


def build(out: Path) -> dict:
    import keras
    import tensorflow as tf

    from course import data

    tf.config.experimental.enable_op_determinism()
    out.mkdir(parents=True, exist_ok=True)
    split = data.fashion_mnist_split(num_train=NUM_TRAIN, num_val=0, num_test=10000, seed=SEED)
    prep = lambda x: (x.astype("float32") / 255.0)[..., None]
    x_train, x_test = prep(split.x_train), prep(split.x_test)
    keras.utils.set_random_seed(SEED)
    model = vis_convnet()
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.monotonic()
    history = model.fit(x_train, split.y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=2)
    seconds = time.monotonic() - start
    test_acc = float(np.mean(np.argmax(model.predict(x_test, batch_size=1000, verbose=0), 1) == split.y_test))
    shipped = vis_convnet()
    shipped.set_weights(model.get_weights())  # uncompiled: no optimizer state in the file
    path = out / f"{NAME}.keras"
    save_atomically(shipped, path)
    entry = {
        "file": path.name,
        "sha256": course_models._sha256(path),
        "bytes": path.stat().st_size,
        "classes": list(range(10)),
        "data": f"Fashion-MNIST: {NUM_TRAIN} training images (class-balanced, fashion_mnist_split seed {SEED}); "
                "accuracy on all 10000 test images",
        "input": "float32 (N, 28, 28, 1), pixel values / 255",
        "architecture": "conv32-pool-conv64-pool-conv64-pool-fc128-dropout-scores(10)-softmax, ReLU, 'same' padding",
        "params": int(shipped.count_params()),
        "seed": SEED,
        "epochs": EPOCHS,
        "batch_size": BATCH_SIZE,
        "optimizer": f"Adam(learning_rate={LEARNING_RATE})",
        "train_accuracy": round(float(history.history["accuracy"][-1]), 4),
        "test_accuracy": round(test_acc, 4),
        "train_seconds": round(seconds, 1),
    }
    provenance = {
        "description": "Reference ConvNet of 10_visualizing_convnets, built by autograder/build_vis_model.py",
        "builder": {
            "command": "python -m autograder.build_vis_model",
            "device": device_description(),
            "libraries": versions(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "git_commit": git_commit(LAYOUT.root),
            "determinism": "keras.utils.set_random_seed(seed) + tf.config.experimental.enable_op_determinism()",
        },
        "models": {NAME: entry},
    }
    (out / course_models.PROVENANCE).write_text(json.dumps(provenance, indent=1) + "\n")
    print(f"{NAME}: test accuracy {test_acc:.4f}, {entry['bytes'] / 1024:.0f} KiB, {seconds:.0f} s")
    return provenance


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="verify the shipped file, train nothing")
    args = parser.parse_args(argv)
    if args.check:
        try:
            course_models.verify_model(NAME, folder())
        except (course_models.ModelChecksumError, KeyError) as exc:
            print(exc)
            return 1
        print(f"{NAME}: ok")
        return 0
    build(folder())
    return 0


if __name__ == "__main__":
    sys.exit(main())
