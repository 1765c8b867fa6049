"""Figures for the HTML report, drawn with matplotlib and returned as inline SVG text."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dicecli.models import Region


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(fig: Any) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "dicecli"}):
        fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)  # dates, creator
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG sits in HTML


def distribution(cases: pd.DataFrame, regions: Sequence[Region], metric: str) -> str:
    """Box plot per label with every case as a jittered dot (NaN left out and counted)."""
    fig = _figure(1.2 + 1.1 * len(regions), 2.8)
    ax = fig.subplots()
    rng = np.random.default_rng(0)
    data, labels = [], []
    for region in regions:
        values = cases.loc[cases["label"] == region.name, metric].to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        data.append(finite)
        missing = values.size - finite.size
        labels.append(region.name + (f"\n({missing} n/a)" if missing else ""))
    ax.boxplot(data, showfliers=False, widths=0.5)
    for i, values in enumerate(data, start=1):
        ax.scatter(
            i + rng.uniform(-0.15, 0.15, values.size),
            values,
            s=7,
            alpha=0.5,
            color="#1f77b4",
            linewidths=0,
        )
    ax.set_xticks(range(1, len(labels) + 1), labels)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} per case")
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig)


def volume_scatter(cases: pd.DataFrame, regions: Sequence[Region]) -> str | None:
    """Predicted against reference volume (mL) with the identity line; None without volumes."""
    if not np.isfinite(cases["ref_volume_ml"].to_numpy(dtype=float)).any():
        return None
    fig = _figure(4.2, 3.6)
    ax = fig.subplots()
    top = 0.0
    for region in regions:
        part = cases[cases["label"] == region.name]
        ax.scatter(
            part["ref_volume_ml"], part["pred_volume_ml"], s=10, alpha=0.7, label=region.name
        )
        top = max(top, float(np.nanmax(part[["ref_volume_ml", "pred_volume_ml"]].to_numpy())))
    ax.plot([0, top], [0, top], color="grey", linewidth=1, linestyle="--", label="identity")
    ax.set_xlabel("reference volume (mL)")
    ax.set_ylabel("predicted volume (mL)")
    ax.set_title("Volumes")
    ax.legend(fontsize="small")
    return _svg(fig)


def bland_altman(cases: pd.DataFrame, regions: Sequence[Region]) -> str | None:
    """Per label: difference against mean of predicted and reference volume, with the mean
    difference and its 95% limits of agreement (mean ± 1.96 SD)."""
    if not np.isfinite(cases["ref_volume_ml"].to_numpy(dtype=float)).any():
        return None
    fig = _figure(3.0 * len(regions), 2.8)
    axes = np.atleast_1d(fig.subplots(1, len(regions)))
    for ax, region in zip(axes, regions, strict=True):
        part = cases[cases["label"] == region.name]
        mean = (part["pred_volume_ml"] + part["ref_volume_ml"]) / 2
        diff = part["volume_diff_ml"].to_numpy(dtype=float)
        ax.scatter(mean, diff, s=10, alpha=0.7)
        if diff.size > 1:
            bias, sd = float(np.mean(diff)), float(np.std(diff, ddof=1))
            for y, style in ((bias, "-"), (bias - 1.96 * sd, "--"), (bias + 1.96 * sd, "--")):
                ax.axhline(y, color="grey", linewidth=1, linestyle=style)
        ax.set_title(f"{region.name}: Bland–Altman")
        ax.set_xlabel("mean volume (mL)")
        ax.set_ylabel("pred - ref (mL)")
    return _svg(fig)


def heatmap(cases: pd.DataFrame, regions: Sequence[Region], metric: str = "dice") -> str:
    """Cases x labels coloured by the metric, worst case (lowest mean) on top."""
    table = cases.pivot_table(
        index="case", columns="label", values=metric, aggfunc="first", dropna=False
    )
    table = table.reindex(columns=[r.name for r in regions])
    table = table.loc[table.mean(axis=1, skipna=True).sort_values(na_position="first").index]
    rows = len(table)
    fig = _figure(1.6 + 0.9 * len(regions), min(2.0 + 0.16 * rows, 40.0))
    ax = fig.subplots()
    image = ax.imshow(
        table.to_numpy(dtype=float),
        aspect="auto",
        cmap="RdYlGn",
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    ax.set_xticks(range(len(regions)), [r.name for r in regions])
    if rows <= 80:
        ax.set_yticks(range(rows), [str(c) for c in table.index], fontsize="x-small")
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"{rows} cases, worst on top")
    ax.set_title(f"{metric} per case and label (worst first)")
    fig.colorbar(image, ax=ax, shrink=0.6)
    return _svg(fig)


def has_values(cases: pd.DataFrame, metric: str) -> bool:
    values = cases[metric].to_numpy(dtype=float) if metric in cases else np.array([])
    return bool(values.size) and not all(math.isnan(v) for v in values)


def paired(values_a: np.ndarray, values_b: np.ndarray, names: tuple[str, str], title: str) -> str:
    """One line per case from its value in set A to its value in set B (green: B higher, red:
    B lower, grey: equal), with both means."""
    fig = _figure(3.2, 3.0)
    ax = fig.subplots()
    for a, b in zip(values_a, values_b, strict=True):
        colour = "#2e7d32" if b > a else "#c62828" if b < a else "#9e9e9e"
        ax.plot([0, 1], [a, b], color=colour, alpha=0.6, linewidth=1, marker="o", markersize=3)
    if values_a.size:
        ax.plot([0, 1], [values_a.mean(), values_b.mean()], color="black", linewidth=2.5)
    ax.set_xticks([0, 1], list(names))
    ax.set_xlim(-0.3, 1.3)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig)


def reliability(bins: pd.DataFrame, label: str) -> str:
    """A reliability diagram: per probability bin, the share of its voxels in the structure
    against their mean probability (the diagonal: calibrated), bar widths the bins, and each
    bin's voxels on a log scale beneath."""
    part = bins[bins["label"] == label]
    fig = _figure(3.4, 3.6)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    filled = part[part["voxels"] > 0]
    widths = filled["high"] - filled["low"]
    top.bar(filled["low"], filled["accuracy"], width=widths, align="edge", color="#90caf9",
            edgecolor="#1565c0", linewidth=0.5, label="share in structure")  # fmt: skip
    top.plot([0, 1], [0, 1], color="#555", linewidth=0.8, linestyle="--", label="calibrated")
    top.scatter(filled["confidence"], filled["accuracy"], s=8, color="#0d47a1", zorder=3)
    top.set_ylim(0, 1)
    top.set_ylabel("share of voxels in structure")
    top.set_title(f"{label}: reliability", fontsize=9)
    top.legend(fontsize=7, frameon=False, loc="upper left")
    bottom.bar(part["low"], part["voxels"].clip(lower=1), width=part["high"] - part["low"],
               align="edge", color="#bdbdbd")  # fmt: skip
    bottom.set_yscale("log")
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("voxels", fontsize=7)
    bottom.set_xlim(0, 1)
    return _svg(fig)
