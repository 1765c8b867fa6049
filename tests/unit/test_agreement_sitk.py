"""Per-label Dice agrees with SimpleITK's LabelOverlapMeasuresImageFilter (a peer library)."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from dicecli.metrics import joint_histogram, overlap_metrics, region_counts
from dicecli.models import Region


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dice_matches_simpleitk(seed):
    rng = np.random.default_rng(seed)
    shape = (31, 27, 19)
    gt = rng.integers(0, 5, shape).astype(np.uint8)
    pred = np.where(rng.random(shape) < 0.7, gt, rng.integers(0, 5, shape)).astype(np.uint8)
    hist = joint_histogram(gt, pred)
    measures = sitk.LabelOverlapMeasuresImageFilter()
    measures.Execute(sitk.GetImageFromArray(gt), sitk.GetImageFromArray(pred))
    for label in range(1, 5):
        ours = overlap_metrics(region_counts(hist, Region(str(label), (label,))))
        assert abs(ours["dice"] - measures.GetDiceCoefficient(label)) < 1e-12
        assert abs(ours["iou"] - measures.GetJaccardCoefficient(label)) < 1e-12
