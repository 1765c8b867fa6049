"""The HTML leaderboard of ``dicecli rank``: the podium, every task's leaderboard, blob plots of
the rank distributions over the resamples, significance maps and the rank heat map. Offline: a
single file, its figures inline."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import IO, TYPE_CHECKING

from dicecli._version import __version__

if TYPE_CHECKING:
    from dicecli.models.rank import RankResult


def write_rank_html(result: RankResult, stream: IO[str]) -> None:
    from jinja2 import Environment, select_autoescape

    from dicecli.report import rank_plots
    from dicecli.report.rank_ import cells, describe, leaderboards, robustness

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string(
        resources.files("dicecli.report").joinpath("templates/rank.html.j2").read_text("utf-8")
    )
    boards = []
    order = list(result.consensus.sort_values(["rank", "submission"])["submission"])
    for title, rows, consensus in leaderboards(result):
        label, metric = rows["label"].iloc[0], rows["metric"].iloc[0]
        headers, body = cells(result, rows, consensus)
        frequencies = result.frequencies[
            (result.frequencies["label"] == label) & (result.frequencies["metric"] == metric)
        ]
        blob = rank_plots.blob(rows, frequencies, title) if not frequencies.empty else None
        significance = result.significance[
            (result.significance["label"] == label) & (result.significance["metric"] == metric)
        ]
        task_order = list(rows.sort_values(["rank", "submission"])["submission"])
        sig_map = (
            rank_plots.significance_map(task_order, significance, f"{title}: pairwise tests")
            if not significance.empty
            else None
        )
        boards.append({"title": title, "headers": headers, "rows": body, "blob": blob,
                       "significance": sig_map})  # fmt: skip
    stream.write(
        template.render(
            title="dicecli rank: " + ", ".join(order[:3]) + (" ..." if len(order) > 3 else ""),
            created=dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            version=__version__,
            description=describe(result),
            podium=order[:3],
            submissions=list(zip(result.names, result.sources, strict=False)),
            boards=boards,
            heatmap=rank_plots.rank_heatmap(order, result.tasks),
            robustness=robustness(result),
            warnings=result.warnings,
        )
    )
