"""course.vis.show_images: zero at a diverging map's centre, other maps min to max, vmin/vmax one fixed scale."""

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


def test_a_fixed_scale_keeps_a_near_constant_map_bright():
    near_one = np.array([[0.9996, 1.0], [0.9998, 1.0]])  # a probability that never drops
    (own,) = _shown(vis.show_images([near_one], cmap="viridis"))
    (fixed,) = _shown(vis.show_images([near_one], cmap="viridis", vmin=0.0, vmax=1.0))
    assert own.min() == 0.0  # its own scale stretches 0.9996 .. 1 over the whole colour map
    assert np.allclose(fixed, near_one)  # on 0 .. 1 it stays at the bright end


def test_a_fixed_scale_is_shared_and_clips():
    a, b = np.array([[0.0, 0.5]]), np.array([[0.25, 2.0]])
    shown_a, shown_b = _shown(vis.show_images([a, b], vmin=0.0, vmax=1.0))
    assert np.allclose(shown_a, [[0.0, 0.5]]) and np.allclose(shown_b, [[0.25, 1.0]])


def test_a_fixed_diverging_scale_centres_zero_only_if_asked():
    change = np.array([[-0.05, 0.0, 0.1]])
    (shown,) = _shown(vis.show_images([change], cmap="bwr", vmin=-0.5, vmax=0.5))
    assert np.allclose(shown, [[0.45, 0.5, 0.6]])


def test_one_fixed_end_takes_the_other_from_the_image():
    (shown,) = _shown(vis.show_images([np.array([[0.5, 1.0]])], vmin=0.0))
    assert np.allclose(shown, [[0.5, 1.0]])


def test_a_scale_that_is_not_increasing_is_refused():
    with pytest.raises(ValueError, match="vmin=1.0, vmax=0.0"):
        vis.show_images([np.zeros((2, 2))], vmin=1.0, vmax=0.0)
