"""Builds the course's reference base models for 08_transfer_learning (the A/B experiment).

    $ python -m autograder.build_base_models            # all four models (~5 min on 2 free CPU cores)
    $ python -m autograder.build_base_models --check    # verify the shipped files against provenance.json

Fashion-MNIST's ten classes are split into a task A and a task B two ways (``TASK_SPLITS``):

- ``random``: a seeded permutation of the ten classes, first five = A, last five = B;
- ``dissimilar``: A = footwear and bags, B = clothing (the analogue of Yosinski et al.'s man-made
  vs natural split).

For each split a small CNN (``base_cnn``, the same architecture for A and B except the number of
outputs) is trained with a fixed seed on all training images of the task's classes, labels
renumbered 0..C-1 in the order the classes are listed. The models are saved uncompiled in Keras'
native format as ``data/models/<split>_<task>.keras`` and described in
``data/models/provenance.json`` (data, classes, seed, epochs, test accuracy, library versions,
device, date, SHA-256). ``course.models.load_base_model`` refuses a file whose SHA-256 differs.
Rebuilding rewrites the files and their checksums (Keras stores the save date inside the file).
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from autograder.provenance import git_commit, versions
from course import models as course_models
from course.data import CLASS_NAMES, load_fashion_mnist
from course.paths import course_layout

LAYOUT = course_layout()

SPLIT_SEED = 0  # the random split
# The training seed differs from the seeds the notebook and the checks use (0, 1): with the same seed, a
# "freshly initialized" output layer would start from the very weights the base's own output layer
# started from, to which its features co-adapted, and the transfer experiment would flatter BnB.
SEED = 2014
EPOCHS = 4
BATCH_SIZE = 128
LEARNING_RATE = 1e-3

# Task A and task B of each split, as lists of Fashion-MNIST labels (the order defines the new labels).
# The random split's B is the first half of the permutation (coat, shirt, pullover, sneaker, dress): the
# half that 100 labels per class learn less well, which leaves transfer room to help (see the notebook).
_PERMUTATION = np.random.default_rng(SPLIT_SEED).permutation(10).tolist()  # [4, 6, 2, 7, 3, 5, 9, 0, 8, 1]
TASK_SPLITS = {
    "random": {"A": _PERMUTATION[5:], "B": _PERMUTATION[:5]},
    "dissimilar": {"A": [5, 7, 8, 9], "B": [0, 1, 2, 3, 4, 6]},  # footwear and bags | clothing
}
SPLIT_DESCRIPTIONS = {
    "random": f"a random 5 + 5 split: np.random.default_rng({SPLIT_SEED}).permutation(10), last five = A, "
              "first five = B",
    "dissimilar": "footwear and bags (A) vs clothing (B)",
}


def base_cnn(num_classes: int, input_shape=(28, 28, 1)):
    """The base architecture: 6 weight layers (4 conv, 2 dense), ~100k parameters.

    Input: float32 images of shape (N, 28, 28, 1) scaled to [0, 1]; output: softmax (N, num_classes).
    """
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(16, 3, activation="relu", name="conv1"),    # (N, 26, 26, 16)
        layers.Conv2D(32, 3, activation="relu", name="conv2"),    # (N, 24, 24, 32)
        layers.MaxPooling2D(2, name="pool1"),                     # (N, 12, 12, 32)
        layers.Conv2D(32, 3, activation="relu", name="conv3"),    # (N, 10, 10, 32)
        layers.Conv2D(64, 3, activation="relu", name="conv4"),    # (N, 8, 8, 64)
        layers.MaxPooling2D(2, name="pool2"),                     # (N, 4, 4, 64)
        layers.Flatten(name="flatten"),                           # (N, 1024)
        layers.Dense(64, activation="relu", name="fc5"),          # (N, 64)
        layers.Dense(num_classes, activation="softmax", name="fc6"),  # (N, num_classes)
    ], name="base_cnn")


def task_data(x, y, classes):
    """Images of the given classes as float32 (N, 28, 28, 1) in [0, 1], labels renumbered in list order."""
    mask = np.isin(y, classes)
    lookup = np.full(10, -1, dtype=np.int64)
    lookup[np.asarray(classes)] = np.arange(len(classes))
    return (x[mask].astype(np.float32) / 255.0)[..., None], lookup[y[mask]]


def device_description() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    return f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (no GPU was available)"


def save_uncompiled(model, num_classes: int, path: Path):
    """Saves the weights of ``model`` in a fresh, uncompiled ``base_cnn``: no optimizer state in the file
    (a third of the size), the layer names of ``base_cnn``. Returns the saved model."""
    shipped = base_cnn(num_classes)
    shipped.set_weights(model.get_weights())
    save_atomically(shipped, path)
    return shipped


def save_atomically(model, path: Path) -> None:
    """Saves a Keras model to ``path`` through a temporary file: a failed save leaves the old file whole."""
    import tempfile

    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        tmp_path = Path(tmp) / path.name
        model.save(tmp_path)
        tmp_path.replace(path)


def train_one(split: str, task: str, data, folder: Path) -> dict:
    """Trains, evaluates and saves one base model; returns its provenance entry."""
    import keras

    (x_tr, y_tr), (x_te, y_te) = data
    classes = TASK_SPLITS[split][task]
    x_train, y_train = task_data(x_tr, y_tr, classes)
    x_test, y_test = task_data(x_te, y_te, classes)
    keras.utils.set_random_seed(SEED)
    model = base_cnn(len(classes))
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.monotonic()
    history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0)
    seconds = time.monotonic() - start
    test_acc = float(np.mean(np.argmax(model.predict(x_test, batch_size=1000, verbose=0), 1) == y_test))
    name = f"{split}_{task}"
    path = folder / f"{name}.keras"
    shipped = save_uncompiled(model, len(classes), path)
    entry = {
        "file": path.name,
        "sha256": course_models._sha256(path),
        "bytes": path.stat().st_size,
        "split": split,
        "split_description": SPLIT_DESCRIPTIONS[split],
        "task": task,
        "classes": classes,
        "class_names": [CLASS_NAMES[c] for c in classes],
        "labels": "renumbered 0..C-1 in the order of `classes`",
        "data": f"Fashion-MNIST: all {len(y_train)} training images of these classes; "
                f"accuracy on all {len(y_test)} test images of these classes",
        "input": "float32 (N, 28, 28, 1), pixel values / 255",
        "architecture": "conv16-conv32-pool-conv32-conv64-pool-fc64-fc(C), ReLU, softmax output",
        "params": int(shipped.count_params()),
        "seed": SEED,
        "epochs": EPOCHS,
        "batch_size": BATCH_SIZE,
        "optimizer": f"Adam(learning_rate={LEARNING_RATE})",
        "train_accuracy": round(float(history.history["accuracy"][-1]), 4),
        "test_accuracy": round(test_acc, 4),
        "train_seconds": round(seconds, 1),
    }
    print(f"{name}: classes {classes}, test accuracy {test_acc:.4f}, {entry['bytes'] / 1024:.0f} KiB, "
          f"{seconds:.0f} s")
    return entry


def build(folder: Path) -> dict:
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    folder.mkdir(parents=True, exist_ok=True)
    data = load_fashion_mnist()
    start = time.monotonic()
    entries = {f"{s}_{t}": train_one(s, t, data, folder) for s in TASK_SPLITS for t in ("A", "B")}
    provenance = {
        "description": "Reference base models of 08_transfer_learning, built by autograder/build_base_models.py",
        "builder": {
            "command": "python -m autograder.build_base_models",
            "device": device_description(),
            "libraries": versions(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "git_commit": git_commit(LAYOUT.root),
            "seconds": round(time.monotonic() - start, 1),
            "determinism": "keras.utils.set_random_seed(seed) + tf.config.experimental.enable_op_determinism()",
        },
        "splits": TASK_SPLITS,
        "models": entries,
    }
    (folder / course_models.PROVENANCE).write_text(json.dumps(provenance, indent=1) + "\n")
    return provenance


def check(folder: Path) -> int:
    bad = 0
    for name in course_models.model_names(folder):
        try:
            course_models.verify_model(name, folder)
            print(f"{name}: ok")
        except course_models.ModelChecksumError as exc:
            print(exc)
            bad += 1
    return 1 if bad else 0


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow's first import
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="verify the shipped models, build nothing")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: data/models)")
    args = parser.parse_args(argv)
    folder = args.out or course_models.models_dir()
    if args.check:
        return check(folder)
    build(folder)
    print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
