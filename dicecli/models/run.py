"""Values that cross module lines at the top: a run's result, the gates' settings and outcomes,
a comparison's result, where a run goes (scheduler) and what a worker receives (CaseJob).

Plain data only: the code that computes them lives in ``gate``, ``compare``, ``engine`` and
``api``; this module imports nothing above ``models``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from dicecli.models.core import (
    CaseFailure,
    CasePair,
    CaseTally,
    ParsedOptions,
    Region,
    ScoreOptions,
)

if TYPE_CHECKING:
    import pandas as pd

Outcome = CaseTally | CaseFailure


@dataclass(frozen=True, slots=True)
class Scheduler:
    """Where a Dask run goes: ``address`` (``tcp://host:port``, or ``local`` / ``local:N`` for a
    LocalCluster of N worker processes started for the run), or a ``scheduler_file``."""

    address: str | None = None
    scheduler_file: str | None = None


@dataclass(frozen=True, slots=True)
class CaseJob:
    """What a worker needs: the case and the options (the backend is chosen in the worker)."""

    pair: CasePair
    options: ScoreOptions
    #: the options parsed once, in the submitting process (``options.parse_options``)
    parsed: ParsedOptions


@dataclass(frozen=True, slots=True)
class HtmlOptions:
    """``--title``, ``--overlays N`` thumbnails, ``--images DIR`` (CT/MR under the overlays)."""

    title: str = "Segmentation study"
    overlays: int = 10
    images: str | None = None


GateEmpty = Literal["skip", "fail", "pass"]


@dataclass(frozen=True, slots=True)
class GateSettings:
    metric: str = "dice"
    fail_under: float | None = None
    fail_under_labels: Mapping[str, float] = field(default_factory=dict)
    fail_case_under: float | None = None
    gate_empty: GateEmpty = "skip"
    max_drop: float | None = None
    max_case_drop: float | None = None

    @property
    def active(self) -> bool:
        return any(
            v is not None
            for v in (self.fail_under, self.fail_case_under, self.max_drop, self.max_case_drop)
        ) or bool(self.fail_under_labels)


@dataclass(frozen=True, slots=True)
class RuleFailure:
    """One failed rule; ``case`` is None for a label-mean rule."""

    rule: str
    label: str
    case: str | None
    value: float
    threshold: float
    message: str


@dataclass(frozen=True, slots=True)
class LabelComparison:
    label: str
    baseline: float
    current: float

    @property
    def delta(self) -> float:
        return self.current - self.baseline


@dataclass(frozen=True, slots=True)
class GateOutcome:
    settings: GateSettings
    failures: tuple[RuleFailure, ...] = ()
    rules: tuple[str, ...] = ()
    empty_skipped: Mapping[str, int] = field(default_factory=dict)
    comparison: tuple[LabelComparison, ...] = ()
    only_in_baseline: tuple[str, ...] = ()
    only_in_current: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True, slots=True)
class WorseRule:
    """``--fail-if-worse [LABEL=]MARGIN``: B may trail A by at most ``margin`` (every label when
    ``label`` is None), and must not be significantly worse."""

    margin: float
    label: str | None = None


@dataclass(frozen=True, slots=True)
class GateCheck:
    """One label of one pair, checked: ``failure`` is the one-line reason, or None."""

    pair: str
    label: str
    failure: str | None


@dataclass(frozen=True, slots=True)
class CompareGate:
    """The model-update gate on one metric."""

    metric: str
    alpha: float
    rules: tuple[WorseRule, ...]
    checks: tuple[GateCheck, ...] = ()

    @property
    def failures(self) -> tuple[str, ...]:
        return tuple(c.failure for c in self.checks if c.failure)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class CompareResult:
    """The scored sets (``runs``, by name, the first is the baseline A) and the comparisons."""

    names: tuple[str, ...]
    paths: tuple[str, ...]
    reference: str
    runs: Mapping[str, RunResult]
    comparisons: pd.DataFrame
    pairs: tuple[tuple[str, str], ...]
    gate: CompareGate | None = None

    @property
    def errors(self) -> list[tuple[str, Any]]:
        """(set name, CaseFailure) of every case that could not be scored in any set."""
        return [(name, e) for name in self.names for e in self.runs[name].errors]


@dataclass(frozen=True)
class RunResult:
    """The outcome of a run: ``cases`` (one row per case and label), ``summary`` (one row per
    label), ``errors`` (cases that could not be scored) and what was skipped or warned about."""

    cases: pd.DataFrame
    summary: pd.DataFrame
    errors: tuple[CaseFailure, ...]
    regions: tuple[Region, ...]
    options: ScoreOptions
    backend: str
    warnings: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    unmatched_predictions: tuple[str, ...] = ()
    #: the inputs as given: ``pred``, ``gt`` and/or ``pairs`` (paths)
    inputs: Mapping[str, str] = field(default_factory=dict)
    #: each setting's value and where it came from (command line, settings file, default)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    gate: GateOutcome | None = None
    spacings: dict[str, tuple[float, ...]] = field(default_factory=dict)
    html: HtmlOptions | None = None
    #: one row per lesion (``aggregate.LESION_TABLE_COLUMNS``), with ``lesions=True``
    lesions: pd.DataFrame | None = None
    #: False when the run was stopped (a signal) before every case was scored
    complete: bool = True
    #: cases taken from the journal (``resume=True``); cases finished of the cases to score
    resumed: int = 0
    finished: int = 0
    total: int = 0
    #: what the run found out by itself and says on stderr ("note: ..."): label tables found
    #: beside the data
    notes: tuple[str, ...] = ()
    #: per structure and probability bin, summed over the cases (``aggregate.calibration_bins``)
    #: with calibration metrics, else None: the reliability diagrams
    calibration: pd.DataFrame | None = None
    #: per structure and lesion size bin, summed over the cases (``--lesion-size-bins``)
    lesion_bins: pd.DataFrame | None = None

    @property
    def ok(self) -> bool:
        """True when every case was scored."""
        return not self.errors
