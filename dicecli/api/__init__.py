"""The Python API: score folders, manifests or single pairs, compare and rank prediction sets,
describe a mask; the CLI is a client of this package."""

from __future__ import annotations

from dicecli.api.compare import compare_predictions
from dicecli.api.describe import describe_mask
from dicecli.api.rank import rank_submissions
from dicecli.api.raters import rater_agreement, score_panel
from dicecli.api.score import apply_gate, score_cases, score_pair
from dicecli.models import RunResult

__all__ = [
    "RunResult",
    "apply_gate",
    "compare_predictions",
    "describe_mask",
    "rank_submissions",
    "rater_agreement",
    "score_cases",
    "score_pair",
    "score_panel",
]
