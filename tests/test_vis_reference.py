"""course.vis.plot_mean_std draws the reference means next to the student's."""

import numpy as np

from course import vis


def _lines(fig):
    return {line.get_label(): line for line in fig.axes[0].get_lines()}


def test_reference_means_from_a_json_dict_are_drawn_dashed():
    xs = [1, 3, 5]
    fig = vis.plot_mean_std(xs, [[0.7, 0.8], [0.75, 0.85], [0.6, 0.7]], reference={"1": 0.74, "3": 0.8, "5": 0.66})
    ref = _lines(fig)["reference"]
    assert ref.get_linestyle() == "--"
    np.testing.assert_allclose(ref.get_ydata(), [0.74, 0.8, 0.66])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "you: mean ± std" in labels and "reference" in labels


def test_reference_skips_missing_x_and_accepts_a_sequence():
    fig = vis.plot_mean_std([1, 3], [[0.5], [0.6]], reference={1: 0.55})
    np.testing.assert_allclose(_lines(fig)["reference"].get_xdata(), [1])
    fig = vis.plot_mean_std([1, 3], [[0.5], [0.6]], reference=[0.4, 0.45])
    np.testing.assert_allclose(_lines(fig)["reference"].get_ydata(), [0.4, 0.45])


def test_no_reference_no_legend():
    fig = vis.plot_mean_std([1, 3], [[0.5], [0.6]])
    assert fig.axes[0].get_legend() is None
