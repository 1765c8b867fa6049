"""Values of a challenge ranking (``dicecli rank``): its settings and its result. Plain data; the
code that computes them lives in ``dicecli.rank``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

Scheme = Literal["aggregate-then-rank", "rank-then-aggregate", "test-then-rank"]
Ties = Literal["min", "max", "average", "dense", "ordinal"]
PAdjust = Literal["none", "holm"]


@dataclass(frozen=True, slots=True)
class RankSettings:
    """How submissions are ranked. ``aggregate``: ``mean``, ``median``, ``min``, ``max`` or a
    quantile ``q0.05``; ``missing``: ``worst``, ``drop`` or a number; ``worst``: per metric, the
    value of a case where it is undefined or missing; ``weights``: per metric, in the
    consensus."""

    metrics: tuple[str, ...] = ("dice",)
    scheme: Scheme = "aggregate-then-rank"
    aggregate: str = "mean"
    alpha: float = 0.05
    p_adjust: PAdjust = "none"
    ties: Ties = "min"
    missing: str = "worst"
    worst: Mapping[str, float] = field(default_factory=dict)
    labels: tuple[str, ...] | None = None
    bootstrap: int = 0
    seed: int = 0
    weights: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RankResult:
    """The leaderboards: ``tasks`` one row per (label, metric, submission) with its score (the
    aggregate, the mean rank or the share of significant wins), rank and, with ``bootstrap``,
    its stability (median rank, 95% interval, share ranked first); ``consensus`` one row per
    submission (mean of its ranks over the tasks, weighted); ``frequencies`` how often each
    submission took each rank in the resamples; ``significance`` the one-sided Wilcoxon p and
    decision of every ordered pair in every task; ``kendall`` Kendall's tau of each resample's
    ranking against the full one, per task."""

    names: tuple[str, ...]
    sources: tuple[str, ...]
    settings: RankSettings
    tasks: pd.DataFrame
    consensus: pd.DataFrame
    frequencies: pd.DataFrame
    significance: pd.DataFrame
    kendall: pd.DataFrame
    cases: int
    warnings: tuple[str, ...] = ()
    #: "submission: case: message" of every case that could not be scored (scoring mode)
    errors: tuple[str, ...] = ()
    #: per submission, the per-case values of each task (long format) the ranking used
    values: pd.DataFrame | None = None


def task_name(label: str) -> str:
    """A structure in a sentence or heading: its name, or ``label 2`` for an unnamed number."""
    return f"label {label}" if label.lstrip("-").isdigit() else label
