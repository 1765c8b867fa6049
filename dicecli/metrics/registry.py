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

Family = Literal["overlap", "surface", "lesion"]

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
    compute: Callable[[Counts, EmptyPolicy, float], float] | None = None
    digits: int = 4


_METRICS: Registry[Metric] = Registry("metric")


def register_metric(metric: Metric) -> Metric:
    """Add (or replace, by name) a metric; an overlap metric needs ``compute``."""
    if metric.family == "overlap" and metric.compute is None:
        raise ValueError(f"overlap metric {metric.name} needs compute(counts, empty, smooth)")
    return _METRICS.register(metric)


def unregister_metric(name: str) -> None:
    _METRICS.unregister(name)


def metrics(family: Family | None = None) -> tuple[Metric, ...]:
    """Registered metrics in column order: overlap, then surface, then lesion, each in
    registration order."""
    order = ("overlap", "surface", "lesion")
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


for _metric in (
    Metric("dice", "overlap", "2TP / (2TP + FP + FN)", compute=_dice),
    Metric("iou", "overlap", "TP / (TP + FP + FN), Jaccard", compute=_iou),
    Metric("precision", "overlap", "TP / (TP + FP)", compute=_precision),
    Metric("recall", "overlap", "TP / (TP + FN), sensitivity", compute=_recall),
    Metric("specificity", "overlap", "TN / (TN + FP)", compute=_specificity),
    Metric("hd", "surface", "Hausdorff distance", "mm", lower_is_better=True, digits=2),
    Metric("hd95", "surface", "95th percentile Hausdorff distance", "mm", True, digits=2),
    Metric("assd", "surface", "average symmetric surface distance", "mm", True, digits=2),
    Metric("masd", "surface", "mean average surface distance", "mm", True, digits=2),
    Metric("nsd", "surface", "normalised surface Dice at --nsd-tolerance"),
    Metric("lesion_f1", "lesion", "lesion detection F1 (panoptica's RQ)"),
    Metric("lesion_sq", "lesion", "mean IoU of matched lesions (SQ)"),
    Metric("lesion_pq", "lesion", "panoptic quality, RQ x SQ"),
    Metric("lesion_dice", "lesion", "lesion-wise Dice (BraTS 2023)"),
    Metric("lesion_hd95", "lesion", "lesion-wise HD95 (BraTS 2023)", "mm", True, digits=2),
):
    register_metric(_metric)
