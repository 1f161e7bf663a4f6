"""course.vis.show_images: zero is the centre colour of a diverging map, and the other maps span min to max."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from course import vis


def _shown(fig):
    return [np.asarray(ax.images[0].get_array()) for ax in fig.axes if ax.images]


@pytest.mark.parametrize("cmap", ["bwr", "RdBu_r", "seismic"])
def test_a_diverging_map_puts_zero_at_its_centre(cmap):
    edge = np.array([[-1.0, 0.0, 3.0], [0.0, 0.0, 0.0]])  # asymmetric: min -1, max 3
    (shown,) = _shown(vis.show_images([edge], cmap=cmap))
    assert shown[0, 1] == pytest.approx(0.5)  # zero -> the centre colour
    assert shown[0, 2] == pytest.approx(1.0) and shown[0, 0] == pytest.approx(0.5 - 0.5 / 3)


def test_an_all_zero_image_is_the_centre_colour():
    (shown,) = _shown(vis.show_images([np.zeros((2, 2))], cmap="bwr"))
    assert np.allclose(shown, 0.5)


def test_a_sequential_map_spans_min_to_max():
    img = np.array([[-1.0, 0.0], [1.0, 3.0]])
    (shown,) = _shown(vis.show_images([img], cmap="gray"))
    assert shown.min() == 0.0 and shown.max() == 1.0 and shown[0, 1] == pytest.approx(0.25)


def test_uint8_images_are_shown_as_they_are():
    img = np.array([[0, 255], [128, 7]], dtype=np.uint8)
    (shown,) = _shown(vis.show_images([img]))
    assert shown.dtype == np.uint8 and shown[0, 1] == 255


def test_is_diverging():
    assert vis.is_diverging("bwr") and vis.is_diverging("coolwarm_r")
    assert not vis.is_diverging("gray") and not vis.is_diverging("viridis") and not vis.is_diverging(None)
