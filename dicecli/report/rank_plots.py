"""The figures of the ranking report (challengeR's): blob plots of the bootstrap rank
distributions, significance maps, the rank heat map over tasks. Inline SVG text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from dicecli.report.plots import _figure, _svg

if TYPE_CHECKING:
    import pandas as pd


def blob(rows: pd.DataFrame, frequencies: pd.DataFrame, title: str) -> str:
    """Each submission (ordered by its rank) at the ranks the resamples gave it, a disc of area
    proportional to how often; a cross at its median rank, a bar over its 95% interval."""
    ordered = rows.sort_values(["rank", "submission"])
    names = list(ordered["submission"])
    n = len(names)
    fig = _figure(1.2 + 0.45 * n, 1.2 + 0.35 * n)
    ax = fig.subplots()
    ax.plot([0, n - 1], [1, n], color="#bbb", linewidth=0.8, zorder=0)
    for x, name in enumerate(names):
        part = frequencies[frequencies["submission"] == name]
        ax.scatter(
            np.full(len(part), x), part["rank"], s=400 * part["share"], color="#1565c0",
            alpha=0.6, linewidths=0,
        )  # fmt: skip
        row = ordered.iloc[x]
        if "median_rank" in ordered.columns:
            ax.plot([x, x], [row["rank_low"], row["rank_high"]], color="#222", linewidth=1)
            ax.scatter([x], [row["median_rank"]], marker="x", color="#222", s=30)
    ax.set_xticks(range(n), names, rotation=45, ha="right")
    ax.set_yticks(range(1, n + 1))
    ax.invert_yaxis()
    ax.set_ylabel("rank")
    ax.set_title(title, fontsize=9)
    ax.grid(axis="y", color="#eee")
    return _svg(fig)


def significance_map(order: Sequence[str], significance: pd.DataFrame, title: str) -> str:
    """Rows better than columns: filled where the one-sided test (adjusted) is significant."""
    n = len(order)
    index = {name: i for i, name in enumerate(order)}
    grid = np.zeros((n, n))
    for r in significance.to_dict(orient="records"):
        if r["better"] in index and r["than"] in index:
            grid[index[r["better"]], index[r["than"]]] = 1.0 if r["significant"] else 0.0
    np.fill_diagonal(grid, np.nan)
    fig = _figure(1.4 + 0.4 * n, 1.2 + 0.4 * n)
    ax = fig.subplots()
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    colours = ListedColormap(["#eceff1", "#1565c0"])
    ax.imshow(np.ma.masked_invalid(grid), cmap=colours, vmin=0, vmax=1)
    ax.legend(
        handles=[Patch(color="#1565c0", label="significant"),
                 Patch(color="#eceff1", label="not significant")],
        loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, frameon=False,
    )  # fmt: skip
    ax.set_xticks(range(n), order, rotation=45, ha="right")
    ax.set_yticks(range(n), order)
    ax.set_xlabel("than")
    ax.set_ylabel("significantly better")
    ax.set_title(title, fontsize=9)
    return _svg(fig)


def rank_heatmap(order: Sequence[str], tasks: pd.DataFrame) -> str:
    """Each submission's rank in each task (the consensus order), annotated."""
    columns = list(dict.fromkeys(zip(tasks["label"], tasks["metric"], strict=True)))
    grid = np.full((len(order), len(columns)), np.nan)
    for r in tasks.to_dict(orient="records"):
        if r["submission"] in order:
            grid[list(order).index(r["submission"]), columns.index((r["label"], r["metric"]))] = r[
                "rank"
            ]
    fig = _figure(1.8 + 0.7 * len(columns), 1.0 + 0.35 * len(order))
    ax = fig.subplots()
    ax.imshow(grid, cmap="Blues_r", aspect="auto", vmin=1, vmax=max(len(order), 2) * 1.3)
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            dark = value <= max(len(order), 2) * 0.45  # deep blue: white text reads
            ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=7,
                    color="white" if dark else "#111")  # fmt: skip
    ax.set_xticks(range(len(columns)), [f"{a}\n{b}" for a, b in columns], fontsize=7)
    ax.set_yticks(range(len(order)), order)
    ax.set_title("rank in each task", fontsize=9)
    return _svg(fig)
