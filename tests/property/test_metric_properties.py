"""Hypothesis properties of the counting kernel and the overlap metrics."""

from __future__ import annotations

import numpy as np
from conftest import brute_counts
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dicecli.metrics import joint_histogram, overlap_metrics, region_counts
from dicecli.models import Region

shapes = st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(1, 4))


@st.composite
def label_pairs(draw):
    shape = draw(shapes)
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.int32]))
    top = draw(st.integers(1, 6))
    elements = st.integers(0, top)
    gt = draw(arrays(dtype, shape, elements=elements))
    pred = draw(arrays(dtype, shape, elements=elements))
    return gt, pred, draw(st.integers(1, top))


@given(label_pairs())
@settings(max_examples=150, deadline=None)
def test_counts_sum_to_voxels_and_match_brute_force(data):
    gt, pred, label = data
    counts = region_counts(joint_histogram(gt, pred, chunk=64), Region("x", (label,)))
    assert counts.tp + counts.fp + counts.fn + counts.tn == gt.size
    assert (counts.tp, counts.fp, counts.fn, counts.tn) == brute_counts(gt, pred, (label,))


@given(label_pairs())
@settings(max_examples=150, deadline=None)
def test_dice_in_unit_interval_and_symmetric(data):
    gt, pred, label = data
    region = Region("x", (label,))
    forward = overlap_metrics(region_counts(joint_histogram(gt, pred), region))["dice"]
    backward = overlap_metrics(region_counts(joint_histogram(pred, gt), region))["dice"]
    assert np.isnan(forward) == np.isnan(backward)
    if not np.isnan(forward):
        assert 0.0 <= forward <= 1.0
        assert forward == backward


@given(label_pairs())
@settings(max_examples=100, deadline=None)
def test_identical_non_empty_masks_score_one_and_disjoint_zero(data):
    gt, _, label = data
    region = Region("x", (label,))
    if np.any(gt == label):
        same = overlap_metrics(region_counts(joint_histogram(gt, gt), region))
        assert same["dice"] == 1.0
        assert same["iou"] == 1.0
        disjoint = np.where(gt == label, 0, label).astype(gt.dtype)
        other = overlap_metrics(region_counts(joint_histogram(gt, disjoint), region))
        assert other["dice"] == 0.0
