"""One registry of the per-case metrics: name, family, how computed, unit, direction, gateable.

The CSV/JSON columns, the summary statistics, the terminal and Markdown tables, the HTML report,
``--metrics``, ``--gate-metric``, comparisons and the gates' direction all read it. Adding an
overlap metric is one ``register_metric(Metric(..., compute=...))``: ``compute`` receives the
region's confusion counts (``Counts``), the ``--empty`` policy and the ``--smooth`` value. Surface
and lesion entries describe what ``surface.py`` and ``lesions.py`` compute; a new one of those
families also needs its computation there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from dicecli.models import EMPTY_VALUE, Counts, EmptyPolicy
from dicecli.models.registry import Registry

Family = Literal["overlap", "surface", "lesion", "calibration"]

#: Lesion counts per case and label, with ``--lesions`` (columns, not metrics).
LESION_COUNTS = ("lesions_ref", "lesions_pred", "lesion_tp", "lesion_fp", "lesion_fn")


@dataclass(frozen=True, slots=True)
class Metric:
    """One per-case metric. ``unit`` is "" for ratios and "mm" for distances; ``digits`` is how
    many decimals the tables show."""

    name: str
    family: Family
    title: str
    unit: str = ""
    lower_is_better: bool = False
    gateable: bool = True
    compute: Callable[..., float] | None = None
    digits: int = 4
    #: options the formula needs besides the counts, passed by keyword: ``beta``
    #: (``--beta``), ``voxel_ml`` (the case's voxel volume, None without geometry)
    extras: tuple[str, ...] = ()
    #: shown in the terminal and Markdown tables by default (else when ``--metrics`` names
    #: it, or ``all``); every output file holds every metric computed
    shown: bool = True


_METRICS: Registry[Metric] = Registry("metric")


def register_metric(metric: Metric) -> Metric:
    """Add (or replace, by name) a metric; an overlap metric needs ``compute``."""
    if metric.family == "overlap" and metric.compute is None:
        raise ValueError(f"overlap metric {metric.name} needs compute(counts, empty, smooth)")
    return _METRICS.register(metric)


def unregister_metric(name: str) -> None:
    _METRICS.unregister(name)


def metrics(family: Family | None = None) -> tuple[Metric, ...]:
    """Registered metrics in column order: overlap, surface, calibration, then lesion, each in
    registration order."""
    order = ("overlap", "surface", "calibration", "lesion")
    chosen = [m for m in _METRICS.entries() if family is None or m.family == family]
    return tuple(sorted(chosen, key=lambda m: order.index(m.family)))


def names(family: Family | None = None) -> tuple[str, ...]:
    return tuple(m.name for m in metrics(family))


def gateable() -> tuple[str, ...]:
    """The metrics ``--gate-metric`` may name."""
    return tuple(m.name for m in metrics() if m.gateable)


def metric(name: str) -> Metric:
    return _METRICS.get(name)


def lower_is_better(name: str) -> bool:
    """Gates and comparisons read "better" downwards for this metric (distances)."""
    found = _METRICS.find(name)
    return found is not None and found.lower_is_better


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def _dice(c: Counts, empty: EmptyPolicy, smooth: float) -> float:
    if c.tp + c.fp + c.fn == 0 and not smooth:
        return EMPTY_VALUE[empty]
    return (2 * c.tp + smooth) / (2 * c.tp + c.fp + c.fn + smooth)


def _iou(c: Counts, empty: EmptyPolicy, smooth: float) -> float:
    if c.tp + c.fp + c.fn == 0:
        return EMPTY_VALUE[empty]
    return c.tp / (c.tp + c.fp + c.fn)


def _precision(c: Counts, empty: EmptyPolicy, smooth: float) -> float:
    return _ratio(c.tp, c.tp + c.fp)


def _recall(c: Counts, empty: EmptyPolicy, smooth: float) -> float:
    return _ratio(c.tp, c.tp + c.fn)


def _specificity(c: Counts, empty: EmptyPolicy, smooth: float) -> float:
    return _ratio(c.tn, c.tn + c.fp)


def _mcc(c: Counts, empty: EmptyPolicy, smooth: float) -> float:
    """Matthews correlation coefficient; NaN when a marginal is empty (0/0; scikit-learn
    returns 0 there)."""
    den = (c.tp + c.fp) * (c.tp + c.fn) * (c.tn + c.fp) * (c.tn + c.fn)
    return (c.tp * c.tn - c.fp * c.fn) / math.sqrt(den) if den else math.nan


def _kappa(c: Counts, empty: EmptyPolicy, smooth: float) -> float:
    """Cohen's kappa of the 2x2 table; NaN when chance agreement is 1."""
    n = c.tp + c.fp + c.fn + c.tn
    if not n:
        return math.nan
    observed = (c.tp + c.tn) / n
    chance = ((c.tp + c.fp) * (c.tp + c.fn) + (c.fn + c.tn) * (c.fp + c.tn)) / (n * n)
    return (observed - chance) / (1 - chance) if chance != 1 else math.nan


def _fbeta(c: Counts, empty: EmptyPolicy, smooth: float, beta: float = 2.0) -> float:
    """F-beta, recall weighted beta times precision; both masks empty: the ``--empty`` value
    (as Dice, which is F1)."""
    if c.tp + c.fp + c.fn == 0:
        return EMPTY_VALUE[empty]
    b2 = beta * beta
    return (1 + b2) * c.tp / ((1 + b2) * c.tp + b2 * c.fn + c.fp)


def _vs(c: Counts, empty: EmptyPolicy, smooth: float) -> float:
    """Volumetric similarity 1 - |FN - FP| / (2TP + FP + FN) (Taha & Hanbury 2015); both masks
    empty: the ``--empty`` value."""
    den = 2 * c.tp + c.fp + c.fn
    if not den:
        return EMPTY_VALUE[empty]
    return 1 - abs(c.fn - c.fp) / den


def _rvd(c: Counts, empty: EmptyPolicy, smooth: float) -> float:
    """Signed relative volume difference (|P| - |R|) / |R|; NaN for an empty reference."""
    return _ratio(c.pred - c.ref, c.ref)


def _avd_ml(c: Counts, empty: EmptyPolicy, smooth: float, voxel_ml: float | None = None) -> float:
    """Absolute volume difference ||P| - |R|| in mL; NaN without a voxel volume (PNG)."""
    return abs(c.pred - c.ref) * voxel_ml if voxel_ml is not None else math.nan


def _distance(name: str, title: str) -> Metric:
    return Metric(name, "surface", title, "mm", lower_is_better=True, digits=2)


for _metric in (
    Metric("dice", "overlap", "2TP / (2TP + FP + FN)", compute=_dice),
    Metric("iou", "overlap", "TP / (TP + FP + FN), Jaccard", compute=_iou),
    Metric("precision", "overlap", "TP / (TP + FP)", compute=_precision),
    Metric("recall", "overlap", "TP / (TP + FN), sensitivity", compute=_recall),
    Metric("specificity", "overlap", "TN / (TN + FP)", compute=_specificity),
    # shown in the tables when --metrics names them; in every output file always
    Metric("mcc", "overlap", "Matthews correlation coefficient", compute=_mcc, shown=False),
    Metric("kappa", "overlap", "Cohen's kappa of the 2×2 table", compute=_kappa, shown=False),
    Metric(
        "fbeta",
        "overlap",
        "(1+β²)TP / ((1+β²)TP + β²FN + FP), β = --beta",
        compute=_fbeta,
        extras=("beta",),
        shown=False,
    ),
    Metric(
        "vs",
        "overlap",
        "volumetric similarity 1 − |FN − FP| / (2TP + FP + FN)",
        compute=_vs,
        shown=False,
    ),
    Metric(
        "rvd",
        "overlap",
        "relative volume difference (|P| − |R|) / |R|",
        compute=_rvd,
        gateable=False,
        shown=False,
    ),
    Metric(
        "avd_ml",
        "overlap",
        "absolute volume difference",
        "mL",
        lower_is_better=True,
        compute=_avd_ml,
        extras=("voxel_ml",),
        digits=2,
        shown=False,
    ),
    _distance("hd", "Hausdorff distance"),
    _distance("hd95", "95th percentile Hausdorff distance"),
    _distance("assd", "average symmetric surface distance"),
    _distance("masd", "mean average surface distance"),
    Metric("nsd", "surface", "normalised surface Dice at --nsd-tolerance"),
    _distance("hd_rp", "directed Hausdorff distance, reference to prediction"),
    _distance("hd_pr", "directed Hausdorff distance, prediction to reference"),
    _distance("hd95_rp", "directed --hd-percentile distance, reference to prediction"),
    _distance("hd95_pr", "directed --hd-percentile distance, prediction to reference"),
    Metric("biou", "surface", "boundary IoU at --boundary-distance"),
    Metric("cldice", "surface", "centreline Dice of the skeletons"),
    Metric(
        "betti0_error", "surface", "|b0(P) − b0(R)|, components", lower_is_better=True, digits=1
    ),
    Metric(
        "betti1_error", "surface", "|b1(P) − b1(R)|, tunnels/holes", lower_is_better=True, digits=1
    ),
    Metric("ece", "calibration", "expected calibration error", lower_is_better=True),
    Metric("ace", "calibration", "average calibration error", lower_is_better=True),
    Metric("mce", "calibration", "maximum calibration error", lower_is_better=True),
    Metric("brier", "calibration", "Brier score", lower_is_better=True),
    Metric("nll", "calibration", "negative log-likelihood", lower_is_better=True),
    Metric("auroc", "calibration", "area under the ROC curve of the voxels"),
    Metric("ap", "calibration", "average precision of the voxels"),
    Metric("lesion_f1", "lesion", "lesion detection F1 (panoptica's RQ)"),
    Metric("lesion_sq", "lesion", "mean IoU of matched lesions (SQ)"),
    Metric("lesion_pq", "lesion", "panoptic quality, RQ x SQ"),
    Metric("lesion_dice", "lesion", "lesion-wise Dice (BraTS 2023)"),
    Metric("lesion_region_dice", "lesion", "mean Dice in each reference lesion's region"),
    Metric("lesion_hd95", "lesion", "lesion-wise HD95 (BraTS 2023)", "mm", True, digits=2),
):
    register_metric(_metric)
