"""Sample submissions of 04_cnn_layers, built by ``autograder/build_samples.py`` from the student notebook.

Each sample says how the student's answer cells are filled, and the score it must get (27 points in all).
"""

CONV_PAD_ONE_SIDE = '''def conv_forward_naive(x, w, b, stride=1, pad=0):
    """Pads 2*pad zeros at the bottom and right only: the output has the right shape, the values are shifted."""
    N, H, W, C = x.shape
    F, _, _, K = w.shape
    H_out = (H - F + 2 * pad) // stride + 1
    W_out = (W - F + 2 * pad) // stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 2 * pad), (0, 2 * pad), (0, 0)))
    out = np.zeros((N, H_out, W_out, K))
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                window = x_pad[n, i * stride:i * stride + F, j * stride:j * stride + F, :]
                out[n, i, j, :] = np.tensordot(window, w, axes=3) + b
    cache = (x, w, b, stride, pad)
    return out, cache
'''

POOL_BACKWARD_WHOLE_WINDOW = '''def max_pool_backward_naive(dout, cache):
    """Sends the gradient to every element of the window, as if it were a sum pool."""
    x, pool_size, stride = cache
    dx = np.zeros_like(x)
    N, H_out, W_out, C = dout.shape
    for i in range(H_out):
        for j in range(W_out):
            hs, ws = i * stride, j * stride
            dx[:, hs:hs + pool_size, ws:ws + pool_size, :] += dout[:, i:i + 1, j:j + 1, :]
    return dx
'''

SAMPLES = {
    "correct": dict(answers="solution", score=27),
    "untouched": dict(answers=None, score=0),
    "conv_pad_one_side": dict(
        answers="solution", replace={"conv_forward_naive": CONV_PAD_ONE_SIDE}, score=23,
        why="conv_forward_naive pads on one side only: its visible test (padding 1) and hidden test fail "
            "(-1 -3); the backward pass, checked on the same cache, is right"),
    "pool_backward_whole_window": dict(
        answers="solution", replace={"max_pool_backward_naive": POOL_BACKWARD_WHOLE_WINDOW}, score=24,
        why="max_pool_backward_naive sends the gradient to the whole window: its numeric-gradient test and "
            "hidden test fail (-1 -2)"),
}
