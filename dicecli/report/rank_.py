"""The outputs of ``dicecli rank``: terminal tables, CSV (the leaderboards, long format), JSON
(everything, versioned) and Markdown."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from typing import IO, TYPE_CHECKING, Any

from dicecli._version import __version__
from dicecli.models.rank import task_name

if TYPE_CHECKING:
    import pandas as pd

    from dicecli.models.rank import RankResult

#: Bumped on any incompatible change to the JSON layout below.
SCHEMA_VERSION = 1

#: Columns of the leaderboards (CSV), tasks then the consensus.
COLUMNS = (
    "label",
    "metric",
    "submission",
    "score",
    "rank",
    "n_cases",
    "median_rank",
    "rank_low",
    "rank_high",
    "first_share",
)


def score_name(result: RankResult, metric: str = "") -> str:
    """What a task's score is under the scheme: ``dice mean``, ``mean rank``, ``share of
    significant wins``."""
    s = result.settings
    if s.scheme == "aggregate-then-rank":
        return f"{metric} {s.aggregate}".strip()
    if s.scheme == "rank-then-aggregate":
        return f"{s.aggregate} rank"
    return "significant wins"


def task_score(result: RankResult, metric: str) -> str:
    """A task's heading after its structure: ``dice mean``, ``hd95, significant wins``."""
    score = score_name(result, metric)
    return score if score.startswith(metric) else f"{metric}, {score}"


def describe(result: RankResult) -> str:
    s = result.settings
    scheme = s.scheme + (f" ({s.aggregate})" if s.scheme != "test-then-rank" else "")
    if s.scheme == "test-then-rank":
        scheme += f" (one-sided Wilcoxon, alpha {s.alpha:g}, p adjust {s.p_adjust})"
    boot = f"; {s.bootstrap} bootstrap resamples (seed {s.seed})" if s.bootstrap else ""
    tasks = len(result.tasks.groupby(["label", "metric"])) if not result.tasks.empty else 0
    missing = {"worst": "the worst value", "drop": "left out"}.get(s.missing, s.missing)
    return (
        f"{len(result.names)} submissions, {result.cases} cases, {tasks} task(s): {scheme}; "
        f"ties {s.ties}; a missing case: {missing}{boot}"
    )


def leaderboards(result: RankResult) -> list[tuple[str, pd.DataFrame, bool]]:
    """(title, rows sorted by rank, whether it is the consensus): the consensus first when
    there is more than one task (with one it is that task's ranking), then each task."""
    tasks = list(result.tasks.groupby(["label", "metric"], sort=False))
    out = []
    if len(tasks) != 1:
        out.append(
            ("Consensus (mean rank over the tasks)", result.consensus.sort_values("rank"), True)
        )
    for (label, metric), part in tasks:
        out.append((f"{task_name(str(label))}: {task_score(result, str(metric))}",
                    part.sort_values("rank"), False))  # fmt: skip
    return out


def _num(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _rank(value: float) -> str:
    return f"{value:g}"


def cells(
    result: RankResult, rows: pd.DataFrame, consensus: bool
) -> tuple[list[str], list[list[str]]]:
    boot = result.settings.bootstrap > 0 and "median_rank" in rows.columns
    score = "mean rank" if consensus else score_name(result, str(rows["metric"].iloc[0]))
    headers = ["rank", "submission", score]
    if boot:
        headers += ["median rank", "95% rank interval", "ranked 1st"]
    body = []
    for r in rows.to_dict(orient="records"):
        line = [_rank(r["rank"]), str(r["submission"]), _num(r["score"], 2 if consensus else 4)]
        if boot:
            line += [
                _rank(r["median_rank"]),
                f"[{_rank(r['rank_low'])}, {_rank(r['rank_high'])}]",
                f"{100 * r['first_share']:.0f}%",
            ]
        body.append(line)
    return headers, body


def robustness(result: RankResult) -> list[str]:
    """One line per leaderboard with resamples: who ranks first how often, and Kendall's tau."""
    if not result.settings.bootstrap or result.kendall.empty:
        return []
    out = []
    for title, rows, _ in leaderboards(result):
        if "first_share" not in rows.columns:
            continue
        top = rows.sort_values(["rank", "first_share"], ascending=[True, False]).iloc[0]
        label, metric = rows["label"].iloc[0], rows["metric"].iloc[0]
        tau = result.kendall[
            (result.kendall["label"] == label) & (result.kendall["metric"] == metric)
        ]
        tau_text = ""
        if not tau.empty:
            t = tau.iloc[0]
            tau_text = (
                f"; Kendall's tau against the full ranking: median {_num(t['tau_median'], 3)} "
                f"[IQR {_num(t['tau_q1'], 3)}, {_num(t['tau_q3'], 3)}]"
            )
        out.append(
            f"{title.split(' (')[0]}: {top['submission']} ranks 1st in "
            f"{100 * top['first_share']:.0f}% of {result.settings.bootstrap} resamples{tau_text}"
        )
    return out


def write_table(result: RankResult, stream: IO[str]) -> None:
    from rich.console import Console
    from rich.markup import escape

    from dicecli.report._console import print_lines, print_table

    console = Console(file=stream, width=None if stream.isatty() else 200, highlight=False)
    console.print(escape(f"Ranking: {describe(result)}"))
    for title, rows, consensus in leaderboards(result):
        headers, body = cells(result, rows, consensus)
        print_table(console, title, headers, body, text_column=1)
    print_lines(console, robustness(result))


def write_csv(result: RankResult, stream: IO[str]) -> None:
    import pandas as pd

    from dicecli.report.csv_ import write_frame

    table = pd.concat([result.tasks, result.consensus], ignore_index=True)
    write_frame(table.reindex(columns=[c for c in COLUMNS if c in table.columns]), stream)


def build_json(result: RankResult) -> dict[str, Any]:
    from dicecli.report.json_ import _records

    settings = dataclasses.asdict(result.settings)
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "rank",
        "dicecli_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": {k: (dict(v) if isinstance(v, dict) else v) for k, v in settings.items()},
        "score": score_name(result),
        "submissions": [
            {"name": n, "source": s} for n, s in zip(result.names, result.sources, strict=False)
        ],
        "cases": result.cases,
        "consensus": _records(result.consensus.sort_values("rank")),
        "tasks": _records(result.tasks),
        "frequencies": _records(result.frequencies),
        "significance": _records(result.significance),
        "kendall": _records(result.kendall),
        "robustness": robustness(result),
        "warnings": list(result.warnings),
    }


def write_json(result: RankResult, stream: IO[str]) -> None:
    json.dump(build_json(result), stream, indent=2, allow_nan=False, default=str)
    stream.write("\n")


def write_markdown(result: RankResult, stream: IO[str]) -> None:
    stream.write(f"## Ranking\n\n{describe(result)}\n\n")
    for title, rows, consensus in leaderboards(result):
        headers, body = cells(result, rows, consensus)
        stream.write(f"### {title}\n\n| {' | '.join(headers)} |\n|")
        stream.write("".join(" --- |" if k == 1 else " ---: |" for k in range(len(headers))))
        stream.write("\n")
        for cells_ in body:
            stream.write("| " + " | ".join(c.replace("|", "\\|") for c in cells_) + " |\n")
        stream.write("\n")
    for text in robustness(result):
        stream.write(f"- {text}\n")
    if result.settings.bootstrap:
        stream.write("\n")
