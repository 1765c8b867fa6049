"""The HTML report of a panel of raters: the summary, per structure the model's values against
each rater and over them drawn in front of the inter-rater band, the band's pairs, Fleiss'
kappa and the per-case table; one offline file."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from dicecli._version import __version__

if TYPE_CHECKING:
    from dicecli.models.raters import PanelResult


def band_plot(result: PanelResult, label: str) -> str:
    """Box plots of the model's per-case values against each rater and of their per-case mean,
    and of the rater pairs, over a band from the worst to the best pair's mean (line: the
    median pair)."""
    from dicecli.report.plots import _figure, _svg

    m = result.metric
    boxes: list[tuple[str, Any]] = []
    per_case = result.per_case
    if result.model is not None and f"{m}_mean" in per_case.columns:
        mine = per_case.loc[per_case["label"] == label, f"{m}_mean"].to_numpy(dtype=float)
        boxes.append(("mean over\nraters", mine))
        for name in result.raters:
            run = result.runs.get(name)
            if run is not None and not run.cases.empty:
                boxes.append((f"vs {name}", _values(run.cases, label, m)))
        consensus = result.runs.get("consensus")
        if consensus is not None and not consensus.cases.empty:
            boxes.append(("vs consensus", _values(consensus.cases, label, m)))
    pairs = [run.cases for run in result.band.values() if not run.cases.empty]
    if pairs:
        import pandas as pd

        boxes.append(("rater\npairs", _values(pd.concat(pairs), label, m)))
    fig = _figure(1.4 + 0.9 * len(boxes), 3.0)
    ax = fig.subplots()
    row = result.summary[result.summary["label"] == label]
    if not row.empty and np.isfinite(row["band_min"].iloc[0]):
        low, high = float(row["band_min"].iloc[0]), float(row["band_max"].iloc[0])
        ax.axhspan(low, high if high > low else low + 1e-3, color="#ffe0b2", zorder=0,
                   label="inter-rater band")  # fmt: skip
        ax.axhline(float(row["band_median"].iloc[0]), color="#ef6c00", linewidth=1, zorder=1)
    data = [v[np.isfinite(v)] for _, v in boxes]
    ax.boxplot(data, showfliers=False, widths=0.5, zorder=2)
    rng = np.random.default_rng(0)
    for i, values in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.15, 0.15, values.size), values, s=7, alpha=0.5,
                   color="#1565c0", linewidths=0, zorder=3)  # fmt: skip
    ax.set_xticks(range(1, len(boxes) + 1), [name for name, _ in boxes], fontsize=7)
    ax.set_ylabel(m)
    ax.set_title(f"{label}: {m} per case", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    if not row.empty and np.isfinite(row["band_min"].iloc[0]):
        ax.legend(loc="lower right", fontsize=7, frameon=False)
    return _svg(fig)


def _values(cases: Any, label: str, metric: str) -> Any:
    return cases.loc[cases["label"] == label, metric].to_numpy(dtype=float)


def write_panel_html(result: PanelResult, stream: IO[str]) -> None:
    from jinja2 import Environment, select_autoescape

    from dicecli.report.panel_ import describe, gate_lines, reading, summary_cells

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string(
        resources.files("dicecli.report").joinpath("templates/panel.html.j2").read_text("utf-8")
    )
    headers, rows = summary_cells(result)
    labels = [str(v) for v in result.summary["label"]] if not result.summary.empty else []
    per_case = result.per_case
    columns = [c for c in per_case.columns if c in ("case", "label", "n_raters")
               or c.startswith((f"{result.metric}_", f"band_{result.metric}_"))]  # fmt: skip
    kappa = result.agreement.set_index(["case", "label"])["fleiss_kappa"].to_dict()
    table = [
        [*(_cell(r[c]) for c in columns), _cell(kappa.get((r["case"], r["label"])), 3)]
        for r in per_case.to_dict(orient="records")
    ]
    title = (
        result.html.title
        if result.html is not None and result.html.title
        else f"dicecli: {result.model or 'raters'} and {len(result.raters)} raters"
    )
    stream.write(
        template.render(
            title=title,
            created=dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            version=__version__,
            description=describe(result),
            model=(result.model, result.prediction) if result.model else None,
            raters=list(zip(result.raters, result.references, strict=False)),
            warnings=[*result.warnings, *result.notes],
            errors=[e.message.splitlines()[0] for e in result.errors],
            headers=headers,
            rows=rows,
            reading=reading(result),
            gate=gate_lines(result),
            plots=[(label, band_plot(result, label)) for label in labels],
            case_headers=[*columns, "Fleiss κ"],
            cases=table,
        )
    )


def _cell(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)
