"""Sample submissions of 03_backprop, built by ``autograder/build_samples.py`` from the student notebook.

Each sample says how the student's answer cells are filled, and the score it must get.
"""

RELU_BACKWARD_LEAKS = '''def relu_backward(dout, cache):
    """Applies the ReLU to the gradient instead of masking it: lets positive gradient through at x < 0."""
    x = cache
    dx = np.maximum(0, dout)
    return dx
'''

SAMPLES = {
    "correct": dict(answers="solution", score=29),
    "untouched": dict(answers=None, score=0),
    "relu_backward_leaks": dict(
        answers="solution", replace={"relu_backward": RELU_BACKWARD_LEAKS}, score=19,
        why="relu_backward fails its visible and hidden tests (2 points); two_layer_net, built on it, fails its "
            "numeric gradient check and the TensorFlow comparison (4 points); training with the wrong gradient "
            "no longer overfits 20 images and ends far below the accuracy band (4 points)"),
}
