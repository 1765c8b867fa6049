"""dicecli: score segmentation masks against expert references.

The public API is imported lazily so that ``dicecli --help`` starts without numpy or pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dicecli._version import __version__

if TYPE_CHECKING:
    from dicecli.api import (
        apply_gate,
        compare_predictions,
        describe_mask,
        rank_submissions,
        rater_agreement,
        score_cases,
        score_pair,
        score_panel,
    )
    from dicecli.io import load_mask
    from dicecli.models import RunResult

__all__ = [
    "RunResult",
    "__version__",
    "apply_gate",
    "compare_predictions",
    "describe_mask",
    "load_mask",
    "rank_submissions",
    "rater_agreement",
    "score_cases",
    "score_pair",
    "score_panel",
]

_LAZY = {
    "RunResult": "dicecli.models",
    "apply_gate": "dicecli.api",
    "compare_predictions": "dicecli.api",
    "describe_mask": "dicecli.api",
    "rank_submissions": "dicecli.api",
    "rater_agreement": "dicecli.api",
    "score_panel": "dicecli.api",
    "score_cases": "dicecli.api",
    "score_pair": "dicecli.api",
    "load_mask": "dicecli.io",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dicecli' has no attribute {name!r}")
