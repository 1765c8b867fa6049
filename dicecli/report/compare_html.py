"""The HTML report of ``dicecli compare``: the comparison table, a paired plot per label and
pair, and overlays of the cases where B lost most against A (the study report's pieces)."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import IO, TYPE_CHECKING, Any

from dicecli._version import __version__

if TYPE_CHECKING:
    from dicecli.models import CompareResult

#: overlays of the cases where B lost most, per pair
WORST = 6


def write_compare_html(result: CompareResult, stream: IO[str]) -> None:
    from jinja2 import Environment, select_autoescape

    from dicecli.report.compare_ import HEADERS, cells, sets_lines

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string(
        resources.files("dicecli.report").joinpath("templates/compare.html.j2").read_text("utf-8")
    )
    metric = result.gate.metric if result.gate else "dice"
    stream.write(
        template.render(
            title=f"dicecli compare: {' vs '.join(result.names)}",
            created=dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            version=__version__,
            reference=result.reference,
            sets=sets_lines(result),
            errors=[(name, e.case, e.message.splitlines()[0]) for name, e in result.errors],
            gate=result.gate,
            headers=HEADERS,
            rows=cells(result),
            metric=metric,
            plots=_plots(result, metric),
            losses=_losses(result, metric),
        )
    )


def _plots(result: CompareResult, metric: str) -> list[tuple[str, str]]:
    from dicecli.metrics.paired import paired_values
    from dicecli.report import plots

    out = []
    for a, b in result.pairs:
        for label in dict.fromkeys(result.comparisons["label"].astype(str)):
            va, vb, _ = paired_values(
                result.runs[a].cases, result.runs[b].cases, label, metric, (a, b)
            )
            out.append((f"{b} vs {a}: {label}", plots.paired(va, vb, (a, b), f"{label}: {metric}")))
    return out


def _losses(result: CompareResult, metric: str) -> list[tuple[str, float, Any]]:
    """(pair, loss, overlay of B) for the case/label pairs where B lost most against A."""
    from dicecli.metrics.registry import lower_is_better
    from dicecli.report._cells import records
    from dicecli.report.overlay import render

    out = []
    for a, b in result.pairs:
        cases_a, cases_b = result.runs[a].cases, result.runs[b].cases
        if metric not in cases_b.columns or cases_b.empty:
            continue
        other = cases_a[["case", "label", metric]].rename(columns={metric: "value_a"})
        joined = cases_b.merge(other, on=["case", "label"])
        loss = joined["value_a"] - joined[metric]  # how much lower B is than A
        joined = joined.assign(loss=-loss if lower_is_better(metric) else loss)
        worst = joined[joined["loss"] > 0].nlargest(WORST, "loss")
        run = result.runs[b]
        regions = {r.name: r for r in run.regions}
        for row in records(worst):
            overlay = render(row, regions[str(row.label)], None, run.options)
            out.append((f"{b} vs {a}", float(row.loss), overlay))
    return out
