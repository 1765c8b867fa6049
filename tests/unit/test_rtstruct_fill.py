"""RTSTRUCT rasterisation by scanlines gives exactly the voxels of the rule dicecli used before:
matplotlib's ``Path.contains_points`` at voxel centres over the contour's bounding box, contours
of one ROI combined by the even-odd rule. The oracle below is that old code, verbatim."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from matplotlib.path import Path

from dicecli.io.rtstruct import fill_polygon


def matplotlib_fill(plane: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """The rasterisation of dicecli 0.x: every centre of the bounding box tested."""
    index = np.column_stack([x, y])
    shape = plane.shape
    lo = np.maximum(np.floor(index.min(axis=0)).astype(int), 0)
    hi = np.minimum(np.ceil(index.max(axis=0)).astype(int) + 1, shape)
    if np.any(hi <= lo):
        return
    ii, jj = np.meshgrid(np.arange(lo[0], hi[0]), np.arange(lo[1], hi[1]), indexing="ij")
    inside = Path(index, closed=False).contains_points(np.column_stack([ii.ravel(), jj.ravel()]))
    plane[lo[0] : hi[0], lo[1] : hi[1]] ^= inside.reshape(ii.shape)


def both(shape, contours):
    new, old = np.zeros(shape, bool), np.zeros(shape, bool)
    for x, y in contours:
        fill_polygon(new, np.asarray(x, float), np.asarray(y, float))
        matplotlib_fill(old, np.asarray(x, float), np.asarray(y, float))
    return new, old


def test_a_ring_with_a_hole_on_voxel_boundaries():
    outer = ([2.5, 15.5, 15.5, 2.5], [2.5, 2.5, 14.5, 14.5])
    hole = ([6.5, 10.5, 10.5, 6.5], [6.5, 6.5, 9.5, 9.5])
    new, old = both((20, 18), [outer, hole])
    expected = np.zeros((20, 18), bool)
    expected[3:16, 3:15] = True
    expected[7:11, 7:10] = False
    np.testing.assert_array_equal(new, expected)
    np.testing.assert_array_equal(new, old)


def test_contours_through_voxel_centres_fall_where_they_fell():
    """Vertices and edges exactly on centres: the boundary rule (which side a centre on an edge
    lies) is matplotlib's, edge direction included."""
    square = ([2, 8, 8, 2], [2, 2, 8, 8])
    new, old = both((12, 12), [square])
    np.testing.assert_array_equal(new, old)
    # by hand: rows 3..8 are crossed (an edge crosses row j when one end has y >= j, the other
    # not); the right edge, going up, toggles i <= 8; the left, going down, i < 2: columns 2..8
    expected = np.zeros((12, 12), bool)
    expected[2:9, 3:9] = True
    np.testing.assert_array_equal(new, expected)
    reverse = (square[0][::-1], square[1][::-1])
    new, old = both((12, 12), [reverse])
    np.testing.assert_array_equal(new, old)
    diamond = ([5, 9, 5, 1], [1, 5, 9, 5])
    new, old = both((12, 12), [diamond])
    np.testing.assert_array_equal(new, old)


def test_outside_the_plane_and_self_intersecting():
    bowtie = ([-3, 14, -3, 14], [-2, 9, 9, -2])
    new, old = both((10, 8), [bowtie])
    np.testing.assert_array_equal(new, old)
    far = ([40, 50, 45], [40, 40, 50])  # entirely outside
    new, old = both((10, 8), [far])
    assert not new.any()
    np.testing.assert_array_equal(new, old)


coordinate = st.one_of(
    st.integers(-3, 30).map(float),
    st.integers(-6, 60).map(lambda v: v / 2),
    st.floats(-3.0, 30.0, allow_nan=False),
)


@given(
    contours=st.lists(
        st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=9), min_size=1, max_size=3
    ),
    width=st.integers(1, 28),
    height=st.integers(1, 28),
)
@settings(max_examples=400, deadline=None)
@example(contours=[[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)]], width=5, height=5)
@example(contours=[[(1.0, 1.0), (1.0, 1.0), (5.0, 3.0)]], width=6, height=6)  # a repeated vertex
def test_scanlines_equal_the_old_rule(contours, width, height):
    pairs = [([p[0] for p in c], [p[1] for p in c]) for c in contours]
    new, old = both((width, height), pairs)
    np.testing.assert_array_equal(new, old)


@pytest.mark.slow
def test_scanlines_equal_the_old_rule_on_many_random_polygons():
    rng = np.random.default_rng(20)
    for trial in range(20_000):
        n = int(rng.integers(3, 40))
        shape = (int(rng.integers(2, 80)), int(rng.integers(2, 80)))
        scale = np.asarray(shape) + 4
        x, y = (rng.uniform(-2, scale[i], n) for i in range(2))
        if trial % 3 == 1:
            x, y = np.round(x), np.round(y)
        elif trial % 3 == 2:
            x, y = np.round(x * 2) / 2, np.round(y * 2) / 2
        new, old = both(shape, [(x, y)])
        np.testing.assert_array_equal(new, old, err_msg=f"trial {trial}")
