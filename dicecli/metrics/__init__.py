"""Pure array code on numpy or CuPy (``xp``): confusion counting and the metrics derived from it.

Nothing here does I/O, logging or printing. The names below are imported when first used, so
that reading the metric registry (``--help``) does not import numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dicecli.metrics.counting import joint_histogram, soft_tally
    from dicecli.metrics.overlap import (
        dice_from_totals,
        empty_situation,
        overlap_metrics,
        region_counts,
    )
    from dicecli.metrics.registry import Metric, register_metric

_LAZY = {
    "Metric": "dicecli.metrics.registry",
    "register_metric": "dicecli.metrics.registry",
    "joint_histogram": "dicecli.metrics.counting",
    "soft_tally": "dicecli.metrics.counting",
    "dice_from_totals": "dicecli.metrics.overlap",
    "empty_situation": "dicecli.metrics.overlap",
    "overlap_metrics": "dicecli.metrics.overlap",
    "region_counts": "dicecli.metrics.overlap",
}

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dicecli.metrics' has no attribute {name!r}")
