"""Sample submissions of 07_keras_convnets, built by ``autograder/build_samples.py`` from the student notebook.

Each sample says how the student's answer cells are filled, and the score it must get (13 points in all:
building 3, training 4, saliency maps 3, class-model images 3).
"""

SALIENCY_WITHOUT_ABS = '''def saliency_map(model, images, labels):
    """Forgets the absolute value: negative gradients count as unimportant."""
    scores_model = keras.Model(model.inputs[0], model.layers[-2].output)
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(images)
        scores = scores_model(images, training=False)
        correct = tf.gather(scores, labels, axis=1, batch_dims=1)
    grads = tape.gradient(correct, images)
    return tf.reduce_max(grads, axis=-1).numpy()
'''

NEVER_CALLS_FIT = '''def train_convnet(model, x_train, y_train, x_val, y_val, epochs, batch_size=128, seed=0):
    """Compiles the model but never trains it."""
    keras.utils.set_random_seed(seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return keras.callbacks.History()
'''

SAMPLES = {
    "correct": dict(answers="solution", score=13),
    "untouched": dict(answers=None, score=0),
    "saliency_without_abs": dict(
        answers="solution", replace={"saliency_map": SALIENCY_WITHOUT_ABS}, score=10,
        why="signed gradients instead of their absolute value: the visible linear-model test (1) and the hidden "
            "comparison (2) fail"),
    "convnet_never_fits": dict(
        answers="solution", replace={"train_convnet": NEVER_CALLS_FIT}, score=9,
        why="train_convnet never calls fit: the visible history test (1) and the hidden accuracy band (3) fail"),
}
