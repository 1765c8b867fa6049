"""A panel of raters: the model scored against each rater (and a consensus), the raters against
each other (the inter-rater band), and where the model falls. Plain data; computed in
``dicecli.raters`` and assembled by ``dicecli.api.raters``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dicecli.models.core import CaseFailure, ScoreOptions
from dicecli.models.run import GateOutcome, HtmlOptions, RunResult

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class RaterGate:
    """``--fail-below-raters`` and the score gates, checked on the model's values (its mean
    over the raters per case, or the consensus rows with ``--consensus``)."""

    below_raters: bool
    failures: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    score: GateOutcome | None = None

    @property
    def passed(self) -> bool:
        return not self.failures and (self.score is None or self.score.passed)


@dataclass(frozen=True)
class PanelResult:
    """``runs``: the model against each rater (by rater name) and against the consensus (key
    ``consensus``); ``band``: each rater pair, the earlier rater as the reference. ``cases`` is
    every row of them (``reference`` and ``prediction`` first); ``per_case`` the model's mean,
    min and max over the raters per case and structure, with the band's; ``summary`` one row
    per structure; ``agreement`` Fleiss' kappa per case and structure."""

    raters: tuple[str, ...]
    references: tuple[str, ...]
    model: str | None
    prediction: str | None
    consensus: str | None
    runs: Mapping[str, RunResult]
    band: Mapping[tuple[str, str], RunResult]
    cases: pd.DataFrame
    per_case: pd.DataFrame
    summary: pd.DataFrame
    agreement: pd.DataFrame
    metric: str
    options: ScoreOptions
    errors: tuple[CaseFailure, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    gate: RaterGate | None = None
    complete: bool = True
    finished: int = 0
    total: int = 0
    backend: str = ""
    settings: dict[str, dict[str, object]] = field(default_factory=dict)
    html: HtmlOptions | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def consensus_name(consensus: str | None) -> str:
    """The consensus rows' reference: ``staple consensus``, or ``agreement`` (dissensus only)."""
    if consensus in (None, "agreement"):
        return "agreement"
    return f"{consensus} consensus"
