"""Pure array code on numpy or CuPy (``xp``): confusion counting and the metrics derived from it.

Nothing here does I/O, logging or printing.
"""

from __future__ import annotations

from dicecli.metrics.counting import joint_histogram, soft_tally
from dicecli.metrics.overlap import (
    dice_from_totals,
    empty_situation,
    overlap_metrics,
    region_counts,
)
from dicecli.metrics.registry import Metric, register_metric

__all__ = [
    "Metric",
    "dice_from_totals",
    "empty_situation",
    "joint_histogram",
    "overlap_metrics",
    "region_counts",
    "register_metric",
    "soft_tally",
]
