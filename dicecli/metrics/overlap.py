"""Overlap metrics from confusion counts, and the counts of a region from a case's tally.

Dice = 2TP/(2TP+FP+FN); IoU = TP/(TP+FP+FN); precision = TP/(TP+FP); recall = TP/(TP+FN);
specificity = TN/(TN+FP); MCC, Cohen's kappa, F-beta, volumetric similarity, relative and
absolute volume differences (``registry.py``). A 0/0 ratio is NaN, except Dice, IoU, F-beta
and VS with both masks empty, which follow the ``empty`` policy. Laplace smoothing ``smooth``
s gives Dice = (2TP+s)/(2TP+FP+FN+s).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from dicecli.metrics.registry import metrics
from dicecli.models import Counts, EmptyPolicy, JointHistogram, Region, SoftTally, Tally


def region_counts(tally: Tally, region: Region, ignore: int | None = None) -> Counts:
    """TP/FP/FN/TN of ``region`` (a union of label values); reference voxels equal to ``ignore``
    are left out of every count."""
    return match_counts(tally, region.values, region.values, ignore)


def match_counts(
    tally: Tally, ref: Sequence[int], pred: Sequence[int], ignore: int | None = None
) -> Counts:
    """TP/FP/FN/TN of a structure that is the reference values ``ref`` and the prediction
    values ``pred`` (a structure matched by name may have other numbers on each side); for a
    soft tally, ``ref`` alone. Reference voxels equal to ``ignore`` are left out."""
    values = np.asarray(ref, dtype=np.int64)
    if isinstance(tally, JointHistogram):
        keep = tally.ref_values != ignore if ignore is not None else slice(None)
        g, p, c = tally.ref_values[keep], tally.pred_values[keep], tally.counts[keep]
        in_g, in_p = np.isin(g, values), np.isin(p, np.asarray(pred, dtype=np.int64))
        n = int(c.sum())
        tp = int(c[in_g & in_p].sum())
        in_ref = int(c[in_g].sum())
        in_pred = int(c[in_p].sum())
        return Counts(tp, in_pred - tp, in_ref - tp, n - in_ref - in_pred + tp)
    return _soft_counts(tally, values, ignore)


def _soft_counts(tally: SoftTally, values: np.ndarray, ignore: int | None) -> Counts:
    keep = tally.ref_values != ignore if ignore is not None else slice(None)
    g, c, s = tally.ref_values[keep], tally.counts[keep], tally.prob_sums[keep]
    in_g = np.isin(g, values)
    n = float(c.sum())
    tp = float(s[in_g].sum())
    ref = float(c[in_g].sum())
    pred = float(s.sum())
    return Counts(tp, pred - tp, ref - tp, n - ref - pred + tp)


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def overlap_metrics(
    counts: Counts, empty: EmptyPolicy = "nan", smooth: float = 0.0, **extras: Any
) -> dict[str, float]:
    """Every registered overlap metric (Dice, IoU, precision, recall, specificity, MCC...) of
    one region in one case (``registry.py`` holds the formulas); ``extras`` are what some
    formulas need besides the counts (``beta``, ``voxel_ml``), each passed to those that
    declare it."""
    out = {}
    for m in metrics("overlap"):
        if m.compute is None:
            continue
        given = {k: extras[k] for k in m.extras if k in extras}
        out[m.name] = m.compute(counts, empty, smooth, **given)
    return out


def empty_situation(counts: Counts) -> str:
    """Which of the masks is empty: ``both``, ``reference`` (a false-positive case),
    ``prediction`` (a missed case), or ``""`` when neither is."""
    ref_empty, pred_empty = counts.ref == 0, counts.pred == 0
    if ref_empty and pred_empty:
        return "both"
    if ref_empty:
        return "reference"
    if pred_empty:
        return "prediction"
    return ""


def dice_from_totals(tp: float, fp: float, fn: float) -> float:
    """Dice of summed counts (pooled, micro); NaN when everything is empty."""
    return _ratio(2 * tp, 2 * tp + fp + fn)
