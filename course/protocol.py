"""The protocol between a student's kernel and the grader: one home for every name both sides use.

The grader (``grader``) and the kernel side (``course.grading.run_hidden_check``) meet only here:

- the environment variables the grader sets in a grading kernel (``GRADING_DIR_ENV`` and the
  others below);
- where the grader leaves a hidden check's inputs (``inputs_path``): a pickle of the ``Case``
  list and the check's ``call``/``serialize`` hooks, never its references;
- how the kernel sends back a check's outputs: a display message under ``HIDDEN_MIME`` whose
  payload is plain JSON (``encode_plain``) plus one base64 ``.npz`` of arrays (``pack_arrays``);
- how the grader reads them (``decode_plain``, ``unpack_arrays``: never unpickles).

A payload is ``{"assignment", "check", "records": [{"ok": true, "output": tree} | {"ok": false,
"error": text}], "npz": base64}``, or ``{"assignment", "check", "error": text}`` when the kernel had
no inputs.
"""

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from course.asserts import CheckFailure, describe

#: the grader's read-only folder of hidden-check inputs, inside the grading kernel
GRADING_DIR_ENV = "COURSE_GRADING_DIR"
#: ``quick`` or ``full``: the size of the data and training (``course.config.profile``)
PROFILE_ENV = "COURSE_PROFILE"
#: where ``course.results.record`` writes a notebook's results
RESULTS_FILE_ENV = "COURSE_RESULTS_FILE"
#: ``1``: train again even where a notebook finds a saved model (``course.config.retrain``); the
#: reference builder sets it, so that recorded times and results come from training
RETRAIN_ENV = "COURSE_RETRAIN"
#: the course's data cache (``course.config.data_dir``)
DATA_ENV = "COURSE_DATA"
#: the course repository (``course.config.repo_root``); the grader points it nowhere in a sandbox
ROOT_ENV = "COURSE_ROOT"
#: the folder of hidden checks (``autograder/checks``); the grader points it nowhere in a sandbox
CHECKS_ENV = "COURSE_CHECKS"

#: mimetype under which a grading kernel sends a hidden check's recorded outputs
HIDDEN_MIME = "application/x-course-hidden-outputs+json"

NOWHERE = "/nonexistent"
_PLAIN_ARRAY_KINDS = "biufc"
_MAX_DEPTH = 32


@dataclass
class Case:
    """One call of a student's function on inputs the grader chose.

    Attributes:
        label: shown in feedback, e.g. ``"7 training x 3 test points, D=5"`` (never the values).
        args: positional arguments.
        kwargs: keyword arguments.
    """

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)



def encode_plain(value, arrays: dict, depth: int = 0):
    """Turns an output into JSON-able plain data; arrays go into ``arrays`` (saved as ``.npz``).

    Raises:
        CheckFailure: for anything that is not numbers, strings, arrays of numbers, lists,
            tuples or dicts (objects with ``__array__`` or ``.numpy()`` become arrays).
    """
    if depth > _MAX_DEPTH:
        raise CheckFailure("the output is nested too deeply for the grader")
    kind = type(value)
    if value is None:
        return {"n": None}
    if kind is bool:
        return {"b": value}
    if kind is int:
        return {"i": str(value)}
    if kind is float:
        return {"f": value if np.isfinite(value) else repr(value)}
    if kind is str:
        return {"s": value}
    if kind in (list, tuple):
        return {"l" if kind is list else "t": [encode_plain(v, arrays, depth + 1) for v in value]}
    if kind is dict:
        return {"d": [[encode_plain(k, arrays, depth + 1), encode_plain(v, arrays, depth + 1)]
                      for k, v in value.items()]}
    if isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "__array__") or hasattr(value, "numpy"):
        try:
            arr = value.numpy() if not isinstance(value, (np.ndarray, np.generic)) and hasattr(value, "numpy") \
                else value
            arr = np.array(arr, copy=True)
        except Exception as exc:  # noqa: BLE001 - a student's object
            raise CheckFailure(f"the output ({describe(value)}) could not be turned into an array: {exc}") from None
        if type(arr) is not np.ndarray or arr.dtype.kind not in _PLAIN_ARRAY_KINDS:
            raise CheckFailure(f"the output is an array of {arr.dtype} values; the grader reads numbers only")
        key = f"a{len(arrays)}"
        arrays[key] = arr
        return {"a": key, "scalar": isinstance(value, np.generic)}
    keras_tree = _encode_keras(value, arrays, depth)
    if keras_tree is not None:
        return keras_tree
    raise CheckFailure(
        f"the function returned a {kind.__name__}, which the grader cannot read: return NumPy arrays, "
        "numbers, strings, lists, tuples or dicts")


def _is_keras(value, names: tuple) -> bool:
    return any(c.__module__.split(".")[0] == "keras" and c.__name__ in names for c in type(value).__mro__)


def _encode_keras(value, arrays: dict, depth: int):
    """Keras models and History objects without a ``serialize`` hook: the ``.keras`` file's bytes.

    The grader loads them back with ``keras.saving.load_model(..., safe_mode=True)`` (no Lambda
    code, no unregistered classes); give the check a ``serialize`` hook to avoid loading a
    student's model outside the sandbox at all.
    """
    import tempfile

    if _is_keras(value, ("Model",)):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.keras"
            try:
                value.save(path)
            except Exception as exc:  # noqa: BLE001 - a student's model
                raise CheckFailure(f"the returned Keras model could not be saved for the grader: {exc}") from None
            data = np.frombuffer(path.read_bytes(), dtype=np.uint8)
        key = f"a{len(arrays)}"
        arrays[key] = data
        return {"keras_model": key}
    if _is_keras(value, ("History",)):
        model = getattr(value, "model", None)
        return {"keras_history": encode_plain({"history": getattr(value, "history", {}),
                                               "params": getattr(value, "params", {}) or {}}, arrays, depth + 1),
                "model": encode_plain(model, arrays, depth + 1) if model is not None else {"n": None}}
    return None


def _decode_keras(tree: dict, arrays: dict, depth: int):
    import tempfile

    import keras

    if "keras_model" in tree:
        data = arrays.get(str(tree["keras_model"]))
        if data is None or data.dtype != np.uint8:
            raise CheckFailure("the recorded output is malformed (missing model)")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.keras"
            path.write_bytes(data.tobytes())
            try:
                return keras.saving.load_model(path, safe_mode=True)
            except Exception as exc:  # noqa: BLE001 - whatever Keras raises on a student's model file, it is a verdict
                raise CheckFailure(f"the returned Keras model could not be loaded by the grader "
                                   f"({type(exc).__name__}: {str(exc)[:200]}); custom layers or Lambda layers "
                                   "need registered classes") from None
    history = keras.callbacks.History()
    plain = decode_plain(tree["keras_history"], arrays, depth + 1)
    history.history, history.params = dict(plain.get("history", {})), dict(plain.get("params", {}))
    model = decode_plain(tree.get("model", {"n": None}), arrays, depth + 1)
    if model is not None:
        history.set_model(model)
    return history


def decode_plain(tree, arrays: dict, depth: int = 0):
    """Inverse of ``encode_plain`` (run by the grader on data a student's kernel sent)."""
    if depth > _MAX_DEPTH or not isinstance(tree, dict) or len(tree) not in (1, 2):
        raise CheckFailure("the recorded output is malformed")
    if "keras_model" in tree or "keras_history" in tree:
        return _decode_keras(tree, arrays, depth)
    if "n" in tree:
        return None
    if "b" in tree:
        return bool(tree["b"])
    if "i" in tree:
        text = str(tree["i"])
        if len(text) > 4000:
            raise CheckFailure("the recorded output holds an integer too large to read")
        return int(text)
    if "f" in tree:
        return float(tree["f"])
    if "s" in tree:
        return str(tree["s"])
    if "l" in tree or "t" in tree:
        items = [decode_plain(v, arrays, depth + 1) for v in tree.get("l", tree.get("t", []))]
        return items if "l" in tree else tuple(items)
    if "d" in tree:
        out = {}
        for pair in tree["d"]:
            key = decode_plain(pair[0], arrays, depth + 1)
            if isinstance(key, np.ndarray) and key.ndim == 0:
                key = key[()]
            try:
                out[key] = decode_plain(pair[1], arrays, depth + 1)
            except TypeError:
                raise CheckFailure("the output is a dict whose keys are not numbers or strings") from None
        return out
    if "a" in tree:
        arr = arrays.get(str(tree["a"]))
        if arr is None:
            raise CheckFailure("the recorded output is malformed (missing array)")
        return arr[()] if tree.get("scalar") else arr
    raise CheckFailure("the recorded output is malformed")


def inputs_path(folder: Path, assignment_id: str, name: str) -> Path:
    """Where the grader leaves the inputs of hidden check ``name`` of an assignment."""
    return Path(folder) / assignment_id / f"{name}.pkl"


def pack_arrays(arrays: dict) -> str:
    """Returns the arrays as one base64 ``.npz`` (the ``npz`` field of a payload)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def unpack_arrays(b64: str) -> dict:
    """Returns the arrays of a base64 ``.npz`` (``allow_pickle=False``: never unpickles)."""
    raw = base64.b64decode(b64.encode("ascii"), validate=True)
    with np.load(io.BytesIO(raw), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}
