"""course.vis's explanatory figures: each returns a Figure, draws the numbers it claims, and refuses bad input.

The expected numbers are computed here independently (closed forms, explicit loops), never with the
figure's own code.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from course import vis


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts_by_gid(fig, prefix):
    return {t.get_gid().split(":", 1)[1]: t.get_text() for ax in fig.axes for t in ax.texts
            if (t.get_gid() or "").startswith(prefix)}


def _patches(ax, gid):
    return [p for p in ax.patches if p.get_gid() == gid]


def _sigmoid_neuron_by_closed_form(w, x):
    z = w[0] * x[0] + w[1] * x[1] + w[2]
    s = 1 / (1 + np.exp(-z))
    ds = s * (1 - s)
    return s, {"w0": x[0] * ds, "x0": w[0] * ds, "w1": x[1] * ds, "x1": w[1] * ds, "w2": ds}


def _neuron_nodes(w, x):
    """Every node's forward value and gradient, gate by gate (an independent backward pass)."""
    v = {"w0": w[0], "x0": x[0], "w1": w[1], "x1": x[1], "w2": w[2]}
    v["w0*x0"], v["w1*x1"] = w[0] * x[0], w[1] * x[1]
    v["sum"] = v["w0*x0"] + v["w1*x1"]
    v["z"] = v["sum"] + w[2]
    v["-z"] = -v["z"]
    v["exp"] = np.exp(v["-z"])
    v["+1"] = v["exp"] + 1
    v["f"] = 1 / v["+1"]
    g = {"f": 1.0}
    g["+1"] = -1 / v["+1"] ** 2
    g["exp"] = g["+1"]
    g["-z"] = np.exp(v["-z"]) * g["exp"]
    g["z"] = -g["-z"]
    g["sum"] = g["w2"] = g["z"]
    g["w0*x0"] = g["w1*x1"] = g["sum"]
    g["w0"], g["x0"] = x[0] * g["w0*x0"], w[0] * g["w0*x0"]
    g["w1"], g["x1"] = x[1] * g["w1*x1"], w[1] * g["w1*x1"]
    return v, g


def test_neuron_graph_shows_the_lectures_values():
    fig = vis.neuron_graph_figure(*_neuron_nodes([2.0, -3.0, -3.0], [-1.0, -2.0]))
    assert isinstance(fig, Figure)
    grads, values = _texts_by_gid(fig, "grad:"), _texts_by_gid(fig, "value:")
    # CS231n's picture: forward values and gradients of the five inputs, and the output 0.73
    assert {k: grads[k] for k in ("w0", "x0", "w1", "x1", "w2")} == {
        "w0": "-0.20", "x0": "0.39", "w1": "-0.39", "x1": "-0.59", "w2": "0.20"}
    assert values["f"] == "0.73" and grads["f"] == "1.00"
    assert values["+1"] == "1.37" and grads["+1"] == "-0.53" and values["z"] == "1.00"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_neuron_graph_draws_the_values_it_is_given(seed):
    r = np.random.default_rng(seed)
    w, x = r.normal(size=3), r.normal(size=2)
    values, grads = _neuron_nodes(w, x)
    out, expected = _sigmoid_neuron_by_closed_form(w, x)
    fig = vis.neuron_graph_figure(values, grads)
    drawn_values, drawn_grads = _texts_by_gid(fig, "value:"), _texts_by_gid(fig, "grad:")
    assert drawn_values == {k: f"{float(v):.2f}" for k, v in values.items()}
    assert drawn_grads == {k: f"{float(v):.2f}" for k, v in grads.items()}
    assert drawn_values["f"] == f"{out:.2f}"
    for name, g in expected.items():  # the node-by-node pass agrees with sigma(1 - sigma)
        assert float(drawn_grads[name]) == pytest.approx(g, abs=0.006), name  # labels: 2 decimals


def test_neuron_graph_names_the_missing_nodes():
    values, grads = _neuron_nodes([2.0, -3.0, -3.0], [-1.0, -2.0])
    del grads["exp"], grads["z"]
    with pytest.raises(ValueError, match=r"grads has no z, exp \(the graph's nodes are w0, x0"):
        vis.neuron_graph_figure(values, grads)


def test_activation_figure_draws_the_given_curves_and_marks_the_maximum():
    x = np.linspace(-8, 8, 161)
    s = 1 / (1 + np.exp(-x))
    fig = vis.activation_gradients_figure(x, {"sigmoid": (s, s * (1 - s)), "relu": (np.maximum(x, 0), 1.0 * (x > 0))},
                                          saturate_at=5)
    assert isinstance(fig, Figure)
    left, right = fig.axes[:2]
    curves = {line.get_label(): line.get_ydata() for line in right.lines if not line.get_label().startswith("_")}
    np.testing.assert_allclose(curves["sigmoid"], s * (1 - s))
    np.testing.assert_allclose(curves["relu"], 1.0 * (x > 0))
    assert "max 0.25" in [t.get_text() for t in right.texts]
    assert len(left.lines) == 2


def test_activation_figure_rejects_a_gradient_of_another_shape():
    x = np.linspace(-1, 1, 5)
    message = r"activations\['tanh'\] gradients must have x's shape \(5,\), got shape \(4,\)"
    with pytest.raises(ValueError, match=message):
        vis.activation_gradients_figure(x, {"tanh": (np.tanh(x), np.ones(4))})


@pytest.mark.parametrize("W, F, S, P", [(7, 3, 1, 0), (7, 3, 2, 1), (5, 3, 2, 1), (32, 5, 1, 2), (4, 4, 1, 0)])
def test_conv_window_figure_draws_the_formulas_output_size(W, F, S, P):
    out = (W - F + 2 * P) // S + 1
    fig = vis.conv_window_figure(W, F, S, P, output_size=out)
    assert isinstance(fig, Figure)
    left, right = fig.axes
    assert len(_patches(right, "output-cell")) == out * out
    assert fig._suptitle.get_text().endswith(f"= {out}")
    windows = _patches(left, "window")
    assert windows and all(p.get_x() < W + 2 * P and p.get_x() + p.get_width() <= W + 2 * P for p in windows)
    # the padded input: (W + 2P)^2 cells, the padding shaded
    shade = left.images[0].get_array()
    assert shade.shape == (W + 2 * P, W + 2 * P) and int(shade.sum()) == (W + 2 * P) ** 2 - W * W


@pytest.mark.parametrize("W, F, S, P, out", [(7, 3, 3, 0, 3), (7, 3, 2, 0, 4), (5, 3, 1, 0, 4)])
def test_conv_window_figure_rejects_windows_beyond_the_padded_input(W, F, S, P, out):
    with pytest.raises(ValueError, match=rf"{out} windows of F={F} at stride S={S} end at .*beyond the padded input "
                                         rf"\(W \+ 2P = {W} \+ 2\*{P}"):
        vis.conv_window_figure(W, F, S, P, output_size=out)


def test_conv_window_figure_draws_a_stride_that_does_not_tile_as_it_is():
    # W=7, F=3, S=3: two windows cover 6 of the 7 columns; the figure draws them and leaves the strip
    fig = vis.conv_window_figure(7, 3, 3, 0, output_size=2)
    assert len(_patches(fig.axes[1], "output-cell")) == 4


def test_conv_window_figure_rejects_a_filter_larger_than_the_input():
    with pytest.raises(ValueError, match=r"F=5 is larger than the padded input: W \+ 2P = 3 \+ 2\*0 = 3"):
        vis.conv_window_figure(3, 5, 1, 0, output_size=1)


def _im2col_by_loops(x, F, S, P):
    x_pad = np.pad(x, ((P, P), (P, P), (0, 0)))
    rows = []
    for i in range(0, x_pad.shape[0] - F + 1, S):
        for j in range(0, x_pad.shape[1] - F + 1, S):
            rows.append(x_pad[i:i + F, j:j + F, :].reshape(-1))
    return np.array(rows)


@pytest.mark.parametrize("H, W, C, F, S, P", [(4, 4, 1, 3, 1, 0), (3, 3, 1, 2, 1, 1), (5, 3, 2, 3, 2, 1)])
def test_im2col_figure_draws_a_matrix_of_shape_rows_by_window_size(H, W, C, F, S, P):
    x = np.arange(H * W * C, dtype=np.float64).reshape(H, W, C)
    cols = _im2col_by_loops(x, F, S, P)
    Ho, Wo = (H - F + 2 * P) // S + 1, (W - F + 2 * P) // S + 1
    fig = vis.im2col_figure(x, cols, F, S, P, output_size=(Ho, Wo))
    assert isinstance(fig, Figure)
    left, right = fig.axes
    assert right.images[0].get_array().shape[:2] == (Ho * Wo, F * F * C)
    assert left.images[0].get_array().shape == (H + 2 * P, W + 2 * P)
    assert [t.get_text() for t in right.texts] == [f"{v:g}" for v in cols.ravel()]  # the numbers, row by row
    assert len(left.patches) == Ho * Wo  # one outlined window per row


def test_im2col_figure_rejects_cols_of_the_wrong_shape():
    x = np.zeros((4, 4, 1))
    with pytest.raises(ValueError, match=r"cols must have shape \(H'\*W', F\*F\*C\) = \(4, 9\), got shape \(9, 4\)"):
        vis.im2col_figure(x, np.zeros((9, 4)), 3, output_size=2)


def test_im2col_figure_rejects_windows_beyond_the_input():
    with pytest.raises(ValueError, match=r"3 windows of F=2 at stride S=2 end at 6, beyond the padded input along "
                                         r"the height \(W \+ 2P = 5 \+ 2\*0 = 5\)"):
        vis.im2col_figure(np.zeros((5, 6, 1)), np.zeros((9, 4)), 2, stride=2, output_size=3)


def test_receptive_field_figure_draws_squares_of_the_given_sizes():
    sizes = [3, 5, 6, 10]
    fig = vis.receptive_field_figure(sizes, labels=["c", "c", "p", "c"], jumps=[1, 1, 2, 2])
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    squares = _patches(ax, "receptive-field")
    assert sorted((p.get_width(), p.get_height()) for p in squares) == [(s, s) for s in sizes]
    centre = [p for p in ax.patches if p.get_gid() is None][0]  # the unit's centre pixel lies in every square
    for p in squares:
        assert p.get_x() <= centre.get_x() and centre.get_x() + 1 <= p.get_x() + p.get_width()
    assert "p: 6×6 px, jump 2" in [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("sizes, kwargs, message", [
    ([3, 0], {}, r"int >= 1, got 0"),
    ([5, 3], {}, r"never shrink, got sizes \[5, 3\]"),
    ([3, 5], {"labels": ["a"]}, r"labels must have one entry per size \(2\), got 1"),
    ([3.5], {}, r"got 3.5"),
])
def test_receptive_field_figure_rejects_bad_sizes(sizes, kwargs, message):
    with pytest.raises(ValueError, match=message):
        vis.receptive_field_figure(sizes, **kwargs)


def test_importing_vis_draws_nothing():
    import importlib
    import sys

    before = plt.get_fignums()
    importlib.reload(sys.modules["course.vis"])
    assert plt.get_fignums() == before
