"""Mutants equivalent to the reference solution under the contract (autograder/mutation_test.py).

``EQUIVALENT[assignment][function]`` maps a mutant's changed line (as ``mutation_test.changed_lines``
prints it, ``old line -> new line``, e.g. in a survivor's report) to the reason it computes what the contract asks for. Such a
mutant is not counted in the score, the hidden check must accept it (a correct student may write
exactly that), and an entry that matches no mutant any more is reported as an error.

Declare only true equivalents: a mutant that is wrong but hard to detect belongs in the survivors
until the check catches it.
"""

EQUIVALENT = {
    "06_regularization": {
        "dropout_forward": {
            "mask = (rng.random(x.shape) >= p_drop) / (1.0 - p_drop) -> "
            "mask = (rng.random(x.shape) > p_drop) / (1.0 - p_drop)":
                "`>` and `>=` differ only when a uniform draw equals p_drop exactly (probability 0)",
            "out = x.copy() -> out = x":
                "at test time dropout is the identity; returning x itself (CS231n's solution, and what "
                "keras.layers.Dropout does with training=False) is as correct as a copy",
        },
        "dropout_backward": {
            "dx = dout * mask if training else dout.copy() -> dx = dout * mask if training else dout":
                "at test time the gradient is dout itself; a copy is not required",
        },
    },
    "07_keras_convnets": {
        "saliency_map": {
            "scores_model = keras.Model(model.inputs[0], model.layers[-2].output) -> "
            "scores_model = keras.Model(model.inputs[-1], model.layers[-2].output)":
                "the contract's models have one input: inputs[0] and inputs[-1] are the same tensor",
            "correct = tf.gather(scores, labels, axis=1, batch_dims=1) -> "
            "correct = tf.gather(scores, labels, axis=None, batch_dims=1)":
                "tf.gather's axis defaults to batch_dims, here 1: the same call",
        },
    },
    "08_transfer_learning": {
        # The solution renumbers labels with a lookup table: its size (any length above the largest
        # label) and its fill value (read only for labels that `keep` has already removed) do not
        # change the result.
        "split_classes": {
            "lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -1, dtype=np.int64) -> "
            "lookup = np.full(int(max(y.max(initial=1), max(classes))) + 1, -1, dtype=np.int64)":
                "a table one entry longer when y is empty; the same labels",
            "lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -1, dtype=np.int64) -> "
            "lookup = np.full(int(max(y.max(initial=0), max(classes))) + 2, -1, dtype=np.int64)":
                "a table one entry longer; the same labels",
            "lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -1, dtype=np.int64) -> "
            "lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, 1, dtype=np.int64)":
                "the fill value is read only for labels outside `classes`, which are removed first",
            "lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -1, dtype=np.int64) -> "
            "lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -2, dtype=np.int64)":
                "the fill value is read only for labels outside `classes`, which are removed first",
            "lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -1, dtype=np.int64) -> "
            "lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -0, dtype=np.int64)":
                "the fill value is read only for labels outside `classes`, which are removed first",
            "removed: y = np.asarray(y)":
                "the contract's y is an array of shape (N,); the conversion only helps callers passing a list",
        },
    },
}
