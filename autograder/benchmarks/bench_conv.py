"""Times the solution's conv layers against each other and against TensorFlow, on the same input.

    $ python -m autograder.benchmarks.bench_conv                    # 32 images 32x32x3, 16 filters 5x5, pad 2
    $ python -m autograder.benchmarks.bench_conv --images 8 --repeat 3

The layers come from the answer cells of ``solutions/04_cnn_layers/04_cnn_layers.ipynb`` (run
without a kernel), so the numbers are those of the reference solution: the naive loops, im2col in
pure NumPy, and ``tf.nn.conv2d`` in float64 on the same input. Prints the best-of-``repeat``
wall-clock time of each forward pass and the ratios im2col / naive and im2col / tf.nn.conv2d
(a ratio below 1 means im2col is faster).
"""

import argparse
import os
import platform
import sys
import time

import numpy as np

from autograder.solutions import solution_namespace


def solution_layers() -> dict:
    """Executes the answer cells of the 04_cnn_layers solution and returns their namespace."""
    return solution_namespace("04_cnn_layers", imports=False)[0]


def best_time(f, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow's first import
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=32, help="batch size N (default 32)")
    parser.add_argument("--size", type=int, default=32, help="image height and width (default 32)")
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--filter-size", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of the fast versions (best is kept)")
    args = parser.parse_args(argv)

    import tensorflow as tf

    layers = solution_layers()
    rng = np.random.default_rng(0)
    F, pad = args.filter_size, (args.filter_size - 1) // 2
    x = rng.normal(size=(args.images, args.size, args.size, args.channels))
    w = rng.normal(size=(F, F, args.channels, args.filters))
    b = rng.normal(size=(args.filters,))
    padding = [[0, 0], [pad, pad], [pad, pad], [0, 0]]
    x_tf, w_tf, b_tf = tf.constant(x), tf.constant(w), tf.constant(b)

    def tf_forward():
        return (tf.nn.conv2d(x_tf, w_tf, strides=1, padding=padding) + b_tf).numpy()

    naive = layers["conv_forward_naive"](x, w, b, 1, pad)[0]
    fast = layers["conv_forward_im2col"](x, w, b, 1, pad)[0]
    reference = tf_forward()
    agree = max(float(np.max(np.abs(naive - reference))), float(np.max(np.abs(fast - reference))))

    t_naive = best_time(lambda: layers["conv_forward_naive"](x, w, b, 1, pad), max(1, args.repeat // 3))
    t_im2col = best_time(lambda: layers["conv_forward_im2col"](x, w, b, 1, pad), args.repeat)
    t_tf = best_time(tf_forward, args.repeat)

    print(f"input {x.shape} float64, {args.filters} filters {F}x{F}x{args.channels}, stride 1, pad {pad}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"numpy {np.__version__}, tensorflow {tf.__version__}")
    print(f"largest difference from tf.nn.conv2d: {agree:.1e}")
    print(f"naive forward:         {t_naive * 1e3:10.2f} ms")
    print(f"im2col forward:        {t_im2col * 1e3:10.2f} ms")
    print(f"tf.nn.conv2d forward:  {t_tf * 1e3:10.2f} ms")
    print(f"ratio im2col / naive        = {t_im2col / t_naive:.4f}  (im2col is {t_naive / t_im2col:.0f}x faster)")
    print(f"ratio im2col / tf.nn.conv2d = {t_im2col / t_tf:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
