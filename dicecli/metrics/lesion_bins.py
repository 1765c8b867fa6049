"""Lesion detection by size (``--lesion-size-bins 10,50,200``): recall, precision and F1 of the
lesions in each size bin, pooled over the cases.

A reference lesion falls in the bin of its own size (voxels, or mm³ with ``'... mm3'``); it is a
hit (TP) or a miss (FN) there. A false-positive predicted lesion falls in the bin of its own
size. So recall_b = TP_b / (TP_b + FN_b), precision_b = TP_b / (TP_b + FP_b) and F1_b =
2TP_b / (2TP_b + FP_b + FN_b); the bins' counts add up to the unbinned lesion counts. Dropped
reference lesions (BraTS's size rule) are in no bin.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dicecli.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from dicecli.metrics.lesions import Lesion
    from dicecli.models import CaseTally, Region


@dataclass(frozen=True, slots=True)
class SizeBins:
    """Bin edges e1 < e2 < ...: bins [0, e1), [e1, e2), ..., [ek, inf)."""

    edges: tuple[float, ...]
    mm3: bool

    @property
    def names(self) -> tuple[str, ...]:
        bounds = (0.0, *self.edges)
        inner = [f"{_num(lo)}-{_num(hi)}" for lo, hi in zip(bounds, self.edges, strict=False)]
        return (*inner, f"{_num(self.edges[-1])}+")

    @property
    def unit(self) -> str:
        return "mm3" if self.mm3 else "voxels"

    def size(self, lesion: Lesion) -> float:
        if self.mm3:
            return round(lesion.volume_ml * 1000.0, 9)  # voxels x voxel mm³, undone from mL
        return float(lesion.voxels)

    def index(self, lesion: Lesion) -> int:
        size = self.size(lesion)
        return sum(size >= e for e in self.edges)


def _num(value: float) -> str:
    return f"{value:g}"


def parse_size_bins(text: str | None) -> SizeBins | None:
    """``--lesion-size-bins``: ``10,50,200`` (voxels) or ``'10,50,200 mm3'``."""
    if text is None or not str(text).strip():
        return None
    value = str(text).strip().lower()
    mm3 = value.endswith("mm3")
    try:
        edges = tuple(float(v) for v in value.removesuffix("mm3").split(",") if v.strip())
    except ValueError:
        edges = ()
    if not edges or any(not math.isfinite(e) or e <= 0 for e in edges):
        raise UsageError(
            f"--lesion-size-bins {text}: write increasing positive sizes, 10,50,200 (voxels) "
            "or '10,50,200 mm3'"
        )
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise UsageError(f"--lesion-size-bins {text}: the sizes must increase")
    return SizeBins(edges, mm3)


BIN_COLUMNS = (
    *("label", "bin", "low", "high", "unit", "lesions_ref"),
    *("lesion_tp", "lesion_fn", "lesion_fp", "recall", "precision", "f1"),
)


def bin_counts(lesions: Sequence[Lesion], bins: SizeBins) -> list[tuple[int, int, int]]:
    """(TP, FN, FP) per bin of one structure's lesions."""
    counts = [[0, 0, 0] for _ in bins.names]
    for lesion in lesions:
        if lesion.side == "reference" and lesion.status in ("TP", "FN"):
            counts[bins.index(lesion)][0 if lesion.status == "TP" else 1] += 1
        elif lesion.side == "prediction" and lesion.status == "FP":
            counts[bins.index(lesion)][2] += 1
    return [(tp, fn, fp) for tp, fn, fp in counts]


def bin_rows(
    tallies: Sequence[CaseTally], regions: Sequence[Region], bins: SizeBins
) -> pd.DataFrame:
    """Per structure and size bin, summed over the cases: lesions, hits, misses, false
    positives and the detection scores."""
    import pandas as pd

    rows = []
    low = (0.0, *bins.edges)
    high = (*bins.edges, math.inf)
    for region in regions:
        totals = [[0, 0, 0] for _ in bins.names]
        for t in tallies:
            result = t.lesions.get(region.key)
            if result is None:
                continue
            for b, counts in enumerate(bin_counts(result.lesions, bins)):
                totals[b] = [a + c for a, c in zip(totals[b], counts, strict=True)]
        for b, (tp, fn, fp) in enumerate(totals):
            rows.append(
                {
                    "label": region.name,
                    "bin": bins.names[b],
                    "low": low[b],
                    "high": high[b],
                    "unit": bins.unit,
                    "lesions_ref": tp + fn,
                    "lesion_tp": tp,
                    "lesion_fn": fn,
                    "lesion_fp": fp,
                    "recall": tp / (tp + fn) if tp + fn else math.nan,
                    "precision": tp / (tp + fp) if tp + fp else math.nan,
                    "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=list(BIN_COLUMNS))
