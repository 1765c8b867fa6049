"""The paired values of two prediction sets scored against one reference (``dicecli compare``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def paired_values(
    table_a: pd.DataFrame, table_b: pd.DataFrame, label: str, metric: str, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """The values of both sets on the cases where both are defined (ordered by case), and how
    many cases were left out and why."""
    a = _values(table_a, label, metric)
    b = _values(table_b, label, metric)
    both = sorted(set(a) & set(b))
    defined = [c for c in both if math.isfinite(a[c]) and math.isfinite(b[c])]
    left_out = {
        f"not scored in {names[1]}": len(set(a) - set(b)),
        f"not scored in {names[0]}": len(set(b) - set(a)),
        "undefined in either set (e.g. both masks empty)": len(both) - len(defined),
    }
    return (
        np.array([a[c] for c in defined], dtype=float),
        np.array([b[c] for c in defined], dtype=float),
        left_out,
    )


def _values(table: pd.DataFrame, label: str, metric: str) -> dict[str, float]:
    if metric not in table.columns or table.empty:
        return {}
    part = table[table["label"].astype(str) == label]
    return {str(c): float(v) for c, v in zip(part["case"], part[metric], strict=True)}
