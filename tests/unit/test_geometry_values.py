"""Geometry checks and how voxel values become labels or probabilities."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dicecli.errors import GeometryError, MaskReadError
from dicecli.geometry import check_geometry, orientation_code
from dicecli.models import Mask
from dicecli.values import label_map, probability_map

EYE3 = (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0)


def mask(array, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0), path="m.nii.gz", fmt="nifti"):
    return Mask(np.asarray(array), spacing, origin, EYE3, path, fmt)


def test_shape_mismatch_is_always_an_error_naming_both_files():
    a = mask(np.zeros((4, 4, 3)), path="pred/c.nii.gz")
    b = mask(np.zeros((4, 4, 2)), path="gt/c.nii.gz")
    with pytest.raises(GeometryError, match=r"pred/c.nii.gz has shape \(4, 4, 3\) but gt/c"):
        check_geometry(a, b, "ignore")


def test_spacing_mismatch_strict_warn_ignore():
    a = mask(np.zeros((2, 2, 2)), spacing=(1.0, 1.0, 2.0))
    b = mask(np.zeros((2, 2, 2)), spacing=(1.0, 1.0, 2.5))
    with pytest.raises(GeometryError, match="spacing"):
        check_geometry(a, b)
    assert "spacing" in check_geometry(a, b, "warn")[0]
    assert check_geometry(a, b, "ignore") == []
    nearly = mask(np.zeros((2, 2, 2)), spacing=(1.0, 1.0, 2.0000001))
    assert check_geometry(a, nearly) == []


def test_origin_mismatch():
    a = mask(np.zeros((2, 2, 2)), origin=(0.0, 0.0, 0.0))
    b = mask(np.zeros((2, 2, 2)), origin=(0.0, 5.0, 0.0))
    with pytest.raises(GeometryError, match="origin"):
        check_geometry(a, b)


def test_orientation_codes():
    lps = mask(np.zeros((2, 2, 2)))
    assert orientation_code(lps) == "LPS"


def test_float_label_maps_with_whole_numbers_become_integers():
    m = mask(np.array([[0.0, 1.0], [2.0, 3.0]], np.float32))
    out = label_map(m)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[0, 1], [2, 3]])


def test_non_integer_floats_need_threshold_or_soft():
    m = mask(np.array([[0.1, 0.9]], np.float32), path="prob.nii.gz")
    with pytest.raises(MaskReadError, match=r"prob\.nii\.gz.*--threshold"):
        label_map(m)
    np.testing.assert_array_equal(label_map(m, threshold=0.5), [[0, 1]])


def test_nan_is_not_a_label():
    with pytest.raises(MaskReadError, match="1 NaN voxel value"):
        label_map(mask(np.array([np.nan, 1.0])))


@pytest.mark.parametrize(
    ("values", "said"),
    [
        pytest.param([np.nan, 0.7, np.nan, 0.2], "2 NaN voxel value(s) of 4", id="nan"),
        pytest.param([np.inf, 0.7, -np.inf, 0.2], "2 infinite voxel value(s) of 4", id="inf"),
        pytest.param([np.nan, np.inf, 0.2, 0.1], "1 NaN and 1 infinite voxel", id="both"),
    ],
)
def test_non_finite_values_are_an_error_under_threshold_and_soft(values, said):
    """Under --threshold NaN > T is False: NaN would silently read as background."""
    m = mask(np.array(values, np.float32))
    with pytest.raises(MaskReadError, match=re.escape(said)):
        label_map(m, 0.5, binarise=True)
    with pytest.raises(MaskReadError, match=re.escape(said)):
        probability_map(m)


def test_threshold_binarises_every_prediction():
    m = mask(np.array([0, 100, 200], np.uint8))
    np.testing.assert_array_equal(label_map(m, 150, binarise=True), [0, 0, 1])
    np.testing.assert_array_equal(label_map(m, 150), [0, 100, 200])  # integer reference kept


def test_probabilities_must_be_in_unit_interval():
    with pytest.raises(MaskReadError, match=r"\[0, 1\]"):
        probability_map(mask(np.array([0.0, 1.5])))
    np.testing.assert_array_equal(probability_map(mask(np.array([0, 1], np.uint8))), [0, 1])
