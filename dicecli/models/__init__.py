"""Values that cross module lines: masks, regions, tallies, options, results.

``core`` holds what a case needs (masks, regions, tallies, options); ``run`` what a run returns
(RunResult, gate and comparison outcomes) and what a worker or a scheduler receives. Plain data
that imports nothing else from dicecli, so that every layer may import it.
"""

from __future__ import annotations

from dicecli.models.core import (
    SEG_OWN_GRID,
    CaseFailure,
    CasePair,
    CaseTally,
    Counts,
    DevicePolicy,
    EmptyPolicy,
    GeometryPolicy,
    Hd95Mode,
    JointHistogram,
    LesionSettings,
    Mask,
    MissingPolicy,
    ParsedOptions,
    ReadOptions,
    Region,
    ScoreOptions,
    Segment,
    SoftTally,
    Tally,
)
from dicecli.models.run import (
    CaseJob,
    CompareGate,
    CompareResult,
    GateCheck,
    GateEmpty,
    GateOutcome,
    GateSettings,
    HtmlOptions,
    LabelComparison,
    Outcome,
    RuleFailure,
    RunResult,
    Scheduler,
    WorseRule,
)

__all__ = [
    "SEG_OWN_GRID",
    "CaseFailure",
    "CaseJob",
    "CasePair",
    "CaseTally",
    "CompareGate",
    "CompareResult",
    "Counts",
    "DevicePolicy",
    "EmptyPolicy",
    "GateCheck",
    "GateEmpty",
    "GateOutcome",
    "GateSettings",
    "GeometryPolicy",
    "Hd95Mode",
    "HtmlOptions",
    "JointHistogram",
    "LabelComparison",
    "LesionSettings",
    "Mask",
    "MissingPolicy",
    "Outcome",
    "ParsedOptions",
    "ReadOptions",
    "Region",
    "RuleFailure",
    "RunResult",
    "Scheduler",
    "ScoreOptions",
    "Segment",
    "SoftTally",
    "Tally",
    "WorseRule",
]
