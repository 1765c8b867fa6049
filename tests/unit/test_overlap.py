"""Metric formulas against hand computation and DESIGN's soft-Dice reference example."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dicecli.metrics import (
    dice_from_totals,
    empty_situation,
    overlap_metrics,
    region_counts,
    soft_tally,
)
from dicecli.models import Counts, Region

Y_PRED = np.array(
    [
        [0.38574776, 0.08795848, 0.83927506],
        [0.21592768, 0.44453627, 0.10463644],
        [0.8793516, 0.65118235, 0.5184219],
    ]
)
Y_TRUE = np.array([[1, 0, 0], [0, 0, 0], [1, 1, 1]], dtype=np.uint8)


def test_hand_computed_counts():
    # TP=6 FP=2 FN=4 TN=88 -> dice 12/18, iou 6/12, precision 6/8, recall 6/10, spec 88/90
    m = overlap_metrics(Counts(6, 2, 4, 88))
    assert m["dice"] == pytest.approx(12 / 18)
    assert m["iou"] == pytest.approx(0.5)
    assert m["precision"] == pytest.approx(0.75)
    assert m["recall"] == pytest.approx(0.6)
    assert m["specificity"] == pytest.approx(88 / 90)


@pytest.mark.parametrize(
    ("smooth", "dice", "loss"),
    [
        pytest.param(1.0, 0.64307916, 0.35692084, id="s=1"),
        pytest.param(0.0, 0.59916145, 0.40083855, id="s=0"),
    ],
)
def test_soft_dice_reference_example(smooth, dice, loss):
    counts = region_counts(soft_tally(Y_TRUE, Y_PRED), Region("1", (1,)))
    assert counts.tp == pytest.approx(2.4347036, abs=1e-6)
    value = overlap_metrics(counts, smooth=smooth)["dice"]
    assert value == pytest.approx(dice, abs=1e-6)
    assert 1 - value == pytest.approx(loss, abs=1e-6)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param("nan", math.nan, id="nan"),
        pytest.param("one", 1.0, id="one"),
        pytest.param("zero", 0.0, id="zero"),
    ],
)
def test_both_empty_follows_policy(policy, expected):
    m = overlap_metrics(Counts(0, 0, 0, 50), empty=policy)
    for key in ("dice", "iou"):
        assert (math.isnan(m[key]) and math.isnan(expected)) or m[key] == expected
    assert math.isnan(m["precision"])
    assert math.isnan(m["recall"])
    assert m["specificity"] == 1.0


@pytest.mark.parametrize(
    ("counts", "situation", "dice"),
    [
        pytest.param(Counts(0, 0, 0, 9), "both", None, id="both-empty"),
        pytest.param(Counts(0, 3, 0, 6), "reference", 0.0, id="ref-empty"),
        pytest.param(Counts(0, 0, 3, 6), "prediction", 0.0, id="pred-empty"),
        pytest.param(Counts(2, 1, 1, 5), "", 0.5 * 4 / 3, id="neither"),
    ],
)
def test_empty_situations(counts, situation, dice):
    assert empty_situation(counts) == situation
    if dice is not None:
        assert overlap_metrics(counts)["dice"] == pytest.approx(dice)


def test_pooled_dice_sums_counts():
    assert dice_from_totals(6 + 1, 2 + 0, 4 + 3) == pytest.approx(14 / 23)
    assert math.isnan(dice_from_totals(0, 0, 0))
