"""Mutants equivalent to the reference solution under the contract (autograder/mutation_test.py).

``EQUIVALENT[assignment][function]`` maps a mutant's change (as ``mutation_test.changed_lines``
prints it, ``old line -> new line``, e.g. in a survivor's report) to the reason it computes what the
contract asks for. Such a mutant is not counted in the score, the hidden check must accept it (a correct student may write
exactly that), and an entry that matches no mutant any more is reported as an error.

Declare only true equivalents: a mutant that is wrong but hard to detect belongs in the survivors
until the check catches it.
"""

EQUIVALENT = {
    '03_backprop': {
        'affine_forward': {
            'out = x.reshape(x.shape[0], -1) @ w + b -> out = x.reshape(x.shape[0], -2) @ w + b':
                'NumPy reads any negative size in reshape as the one unknown dimension: -2 works as -1',
        },
        'affine_backward': {
            'dw = x.reshape(x.shape[0], -1).T @ dout -> dw = x.reshape(x.shape[0], -2).T @ dout':
                'NumPy reads any negative size in reshape as the one unknown dimension: -2 works as -1',
        },
        'relu_backward': {
            'dx = dout * (x > 0) -> dx = dout * (x >= 0)':
                "ReLU has no derivative at x == 0 exactly: 0 and 1 are both subgradients there (the grader's inputs are continuous draws)",
        },
    },
    '04_cnn_layers': {
        'conv_forward_naive': {
            'x_pad = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0))) -> x_pad = np.pad(x, ((0, 1), (pad, pad), (pad, pad), (0, 0)))':
                'the extra zero image padded onto the batch is never read: the loops run over the N input images',
        },
        'conv_forward_im2col': {
            'out = cols @ w.reshape(-1, K) + b -> out = cols @ w.reshape(-2, K) + b':
                'NumPy reads any negative size in reshape as the one unknown dimension: -2 works as -1',
        },
        'conv_backward_im2col': {
            'dout_mat = dout.reshape(-1, K) -> dout_mat = dout.reshape(-2, K)':
                'NumPy reads any negative size in reshape as the one unknown dimension: -2 works as -1',
            'dcols = (dout_mat @ w.reshape(-1, K).T).reshape(N, H_out, W_out, F, F, C) -> dcols = (dout_mat @ w.reshape(-2, K).T).reshape(N, H_out, W_out, F, F, C)':
                'NumPy reads any negative size in reshape as the one unknown dimension: -2 works as -1',
            'dx_pad = np.zeros((N, H + 2 * pad, W + 2 * pad, C)) -> dx_pad = np.zeros((N, H + 3 * pad, W + 2 * pad, C))':
                'a larger zero buffer: the gradient is cut out of it at [pad:pad + H, pad:pad + W], the extra rows or columns are never read',
            'dx_pad = np.zeros((N, H + 2 * pad, W + 2 * pad, C)) -> dx_pad = np.zeros((N, H + 2 * pad, W + 3 * pad, C))':
                'a larger zero buffer: the gradient is cut out of it at [pad:pad + H, pad:pad + W], the extra rows or columns are never read',
        },
        'max_pool_backward_naive': {
            'window = x[n, hs:hs + pool_size, ws:ws + pool_size, :].reshape(-1, C) -> window = x[n, hs:hs + pool_size, ws:ws + pool_size, :].reshape(-2, C)':
                'NumPy reads any negative size in reshape as the one unknown dimension: -2 works as -1',
        },
    },
    '05_optimization': {
        'he_init': {
            'return np.random.default_rng(seed).normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out)) -> return -np.random.default_rng(seed).normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))':
                'a zero-mean normal and its negation have the same distribution; the contract fixes the distribution and determinism by seed, not the draws',
        },
        'xavier_init': {
            'return np.random.default_rng(seed).normal(0.0, 1.0 / np.sqrt(fan_in), size=(fan_in, fan_out)) -> return -np.random.default_rng(seed).normal(0.0, 1.0 / np.sqrt(fan_in), size=(fan_in, fan_out))':
                'a zero-mean normal and its negation have the same distribution; the contract fixes the distribution and determinism by seed, not the draws',
        },
    },
    '06_regularization': {
        'dropout_forward': {
            'mask = (rng.random(x.shape) >= p_drop) / (1.0 - p_drop) -> mask = (rng.random(x.shape) > p_drop) / (1.0 - p_drop)':
                '`>` and `>=` differ only when a uniform draw equals p_drop exactly (probability 0)',
            'out = x.copy() -> out = x':
                "at test time dropout is the identity; returning x itself (CS231n's solution, and what keras.layers.Dropout does with training=False) is as correct as a copy",
        },
        'dropout_backward': {
            'dx = dout * mask if training else dout.copy() -> dx = dout * mask if training else dout':
                'at test time the gradient is dout itself; a copy is not required',
        },
        'build_augmenter': {
            'shift = 2 / 28 -> shift = 3 / 28':
                'a shift of 1 or 3 pixels (or 2 of 27 or 29) is as label-preserving as 2 of 28: the contract asks for augmentations that keep the label, not for one amount of shift (the check accepts shifts, zooms and small rotations alike)',
            'shift = 2 / 28 -> shift = 1 / 28':
                'a shift of 1 or 3 pixels (or 2 of 27 or 29) is as label-preserving as 2 of 28: the contract asks for augmentations that keep the label, not for one amount of shift (the check accepts shifts, zooms and small rotations alike)',
            'shift = 2 / 28 -> shift = 2 / 29':
                'a shift of 1 or 3 pixels (or 2 of 27 or 29) is as label-preserving as 2 of 28: the contract asks for augmentations that keep the label, not for one amount of shift (the check accepts shifts, zooms and small rotations alike)',
            'shift = 2 / 28 -> shift = 2 / 27':
                'a shift of 1 or 3 pixels (or 2 of 27 or 29) is as label-preserving as 2 of 28: the contract asks for augmentations that keep the label, not for one amount of shift (the check accepts shifts, zooms and small rotations alike)',
        },
    },
    '07_keras_convnets': {
        'saliency_map': {
            'scores_model = keras.Model(model.inputs[0], model.layers[-2].output) -> scores_model = keras.Model(model.inputs[-1], model.layers[-2].output)':
                "the contract's models have one input: inputs[0] and inputs[-1] are the same tensor",
            'correct = tf.gather(scores, labels, axis=1, batch_dims=1) -> correct = tf.gather(scores, labels, axis=None, batch_dims=1)':
                "tf.gather's axis defaults to batch_dims, here 1: the same call",
        },
    },
    '08_transfer_learning': {
        # The solution renumbers labels with a lookup table: its size (any length above the largest
        # label) and its fill value (read only for labels that `keep` has already removed) do not
        # change the result.
        'split_classes': {
            'lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -1, dtype=np.int64) -> lookup = np.full(int(max(y.max(initial=1), max(classes))) + 1, -1, dtype=np.int64)':
                'a table one entry longer when y is empty; the same labels',
            'lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -1, dtype=np.int64) -> lookup = np.full(int(max(y.max(initial=0), max(classes))) + 2, -1, dtype=np.int64)':
                'a table one entry longer; the same labels',
            'lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -1, dtype=np.int64) -> lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, 1, dtype=np.int64)':
                'the fill value is read only for labels outside `classes`, which are removed first',
            'lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -1, dtype=np.int64) -> lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -2, dtype=np.int64)':
                'the fill value is read only for labels outside `classes`, which are removed first',
            'lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -1, dtype=np.int64) -> lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -0, dtype=np.int64)':
                'the fill value is read only for labels outside `classes`, which are removed first',
            'removed: y = np.asarray(y)':
                "the contract's y is an array of shape (N,); the conversion only helps callers passing a list",
        },
    },
    '10_visualizing_convnets': {
        'occlusion_map': {
            'probs = model.predict(batch, verbose=0) -> probs = model.predict(batch, verbose=1)':
                'verbose only prints a progress bar',
            'probs = model.predict(batch, verbose=0) -> probs = model.predict(batch, verbose=-1)':
                'verbose only prints a progress bar',
        },
        'grad_cam': {
            "both = keras.Model(model.inputs[0], [layer.output, model.layers[-2].output]) -> both = keras.Model(model.inputs[-1], [layer.output, model.layers[-2].output])":
                "the contract's models have one input: inputs[0] and inputs[-1] are the same tensor",
            'chosen = tf.gather(scores, labels, axis=1, batch_dims=1) -> chosen = tf.gather(scores, labels, axis=None, batch_dims=1)':
                "tf.gather's axis defaults to batch_dims, here 1: the same call",
            "cams = tf.image.resize(cams[..., None], images.shape[1:3], method='bilinear')[..., 0] -> cams = tf.image.resize(cams[..., None], images.shape[1:3], method='bilinear')[..., -1]":
                'the resized maps have one channel: index 0 and index -1 are the same',
            'removed: images = tf.convert_to_tensor(images, dtype=tf.float32)':
                "the contract's images are float arrays, which the Keras model and .shape accept as they are",
        },
        'penultimate_features': {
            'extractor = keras.Model(model.inputs[0], last_dense.input) -> extractor = keras.Model(model.inputs[-1], last_dense.input)':
                "the contract's models have one input: inputs[0] and inputs[-1] are the same tensor",
        },
        'feature_nearest_neighbors': {
            'd2 = np.sum(query ** 2, axis=1)[:, None] - 2 * query @ train.T + np.sum(train ** 2, axis=1)[None, :] -> d2 = np.sum(query * 2, axis=1)[:, None] - 2 * query @ train.T + np.sum(train ** 2, axis=1)[None, :]':
                "the query's own term is the same for every training point of its row: it does not change the row's order",
            'd2 = np.sum(query ** 2, axis=1)[:, None] - 2 * query @ train.T + np.sum(train ** 2, axis=1)[None, :] -> d2 = np.sum(query ** 3, axis=1)[:, None] - 2 * query @ train.T + np.sum(train ** 2, axis=1)[None, :]':
                "the query's own term is the same for every training point of its row: it does not change the row's order",
            'd2 = np.sum(query ** 2, axis=1)[:, None] - 2 * query @ train.T + np.sum(train ** 2, axis=1)[None, :] -> d2 = np.sum(query ** 1, axis=1)[:, None] - 2 * query @ train.T + np.sum(train ** 2, axis=1)[None, :]':
                "the query's own term is the same for every training point of its row: it does not change the row's order",
        },
        'fgsm_attack': {
            'scores_model = keras.Model(model.inputs[0], model.layers[-2].output) -> scores_model = keras.Model(model.inputs[-1], model.layers[-2].output)':
                "the contract's models have one input: inputs[0] and inputs[-1] are the same tensor",
            'scores_model = keras.Model(model.inputs[0], model.layers[-2].output) -> scores_model = keras.Model(model.inputs[0], model.layers[-1].output)':
                "Keras' softmax layer keeps its logits on its output (_keras_logits), and the cross-entropy with "
                "from_logits=True uses them (with a warning): the same loss, the same gradient",
        },
        'fooling_image': {
            'scores_model = keras.Model(model.inputs[0], model.layers[-2].output) -> scores_model = keras.Model(model.inputs[-1], model.layers[-2].output)':
                "the contract's models have one input: inputs[0] and inputs[-1] are the same tensor",
            'score = scores[0, target_class] -> score = scores[-1, target_class]': 'the batch has one image: index 0 and index -1 are the same',
            'if int(tf.argmax(scores[0])) == target_class: -> if int(tf.argmax(scores[-1])) == target_class:': 'the batch has one image: index 0 and index -1 are the same',
            'return (x.numpy()[0], step) -> return (x.numpy()[-1], step)': 'the batch has one image: index 0 and index -1 are the same',
            'return (x.numpy()[0], max_steps) -> return (x.numpy()[-1], max_steps)': 'the batch has one image: index 0 and index -1 are the same',
        },
    },
}
