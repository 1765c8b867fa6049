"""The study report: one self-contained HTML file (inline SVG plots, PNG overlays, CSS and JS;
nothing fetched at view time), rendered from a Jinja2 template with autoescaping."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import os
from collections import Counter
from importlib import resources
from types import SimpleNamespace
from typing import IO, TYPE_CHECKING, Any

from dicecli._version import __version__
from dicecli.metrics.registry import names as metric_names
from dicecli.models import HtmlOptions

__all__ = ["HtmlOptions", "write_html"]

if TYPE_CHECKING:
    from dicecli.models import RunResult


def write_html(result: RunResult, stream: IO[str]) -> None:
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["num"] = _num
    template = env.from_string(
        resources.files("dicecli.report").joinpath("templates/report.html.j2").read_text("utf-8")
    )
    stream.write(template.render(**context(result)))


def context(result: RunResult) -> dict[str, Any]:
    from dicecli.report import plots
    from dicecli.report._cells import (
        SIZE_BIN_HEADERS,
        lesion_cells,
        lesion_headers,
        size_bin_cells,
    )
    from dicecli.report.csv_ import write_csv

    options: HtmlOptions = getattr(result, "html", None) or HtmlOptions()
    cases = result.cases
    metrics = [m for m in metric_names() if m in cases.columns]
    csv = io.StringIO()
    write_csv(result, csv)
    return {
        "title": options.title,
        "created": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "version": __version__,
        "inputs": dict(result.inputs),
        "options": dataclasses.asdict(result.options),
        "backend": result.backend,
        "n_cases": int(cases["case"].nunique()),
        "regions": result.regions,
        "spacings": _spacings(result),
        "dicom": _dicom_ids(cases),
        "errors": result.errors,
        "skipped": result.skipped,
        "unmatched": result.unmatched_predictions,
        "warnings": result.warnings,
        "gate": result.gate,
        "summary": result.summary.to_dict(orient="records"),
        "metrics": metrics,
        "resamples": result.options.ci_resamples,
        "distributions": {
            m: plots.distribution(cases, result.regions, m)
            for m in metrics
            if plots.has_values(cases, m)
        },
        "volumes": plots.volume_scatter(cases, result.regions),
        "bland_altman": plots.bland_altman(cases, result.regions),
        "heatmap": plots.heatmap(cases, result.regions) if len(cases) else None,
        "reliability": [
            plots.reliability(result.calibration, str(label))
            for label in dict.fromkeys(result.calibration["label"])
        ]
        if result.calibration is not None and not result.calibration.empty
        else [],
        "overlays": _overlays(result, options),
        "lesion_rows": lesion_cells(result),
        "lesion_headers": lesion_headers(result),
        "size_bin_rows": size_bin_cells(result),
        "size_bin_headers": SIZE_BIN_HEADERS,
        "lesion_overlays": _lesion_overlays(result, options),
        "columns": [
            "case",
            "label",
            *metrics,
            "tp",
            "fp",
            "fn",
            "pred_volume_ml",
            "ref_volume_ml",
            "volume_diff_ml",
            "empty",
        ],
        "rows": cases.to_dict(orient="records"),
        "csv_uri": "data:text/csv;base64,"
        + base64.b64encode(csv.getvalue().encode("utf-8")).decode("ascii"),
    }


def _overlays(result: RunResult, options: HtmlOptions) -> list[Any]:
    from dicecli.report.overlay import render, worst_rows

    images = _image_index(options.images) if options.images else {}
    regions = {r.name: r for r in result.regions}
    return [
        render(row, regions[str(row.label)], images.get(str(row.case)), result.options)
        for row in worst_rows(result.cases, options.overlays).itertuples(index=False)
    ]


def _lesion_overlays(result: RunResult, options: HtmlOptions) -> list[tuple[Any, Any]]:
    """(lesion row, overlay centred on it) for the missed and invented lesions of the cases with
    the lowest lesion F1: up to ``--worst`` lesions, the largest first."""
    from dicecli.report.overlay import render

    table = result.lesions
    if table is None or table.empty or options.overlays == 0:
        return []
    wrong = table[table["status"].isin(["FN", "FP"])]
    order = result.cases.sort_values("lesion_f1", na_position="last")[["case", "label"]]
    picked = []
    for case, label in order.itertuples(index=False, name=None):
        part = wrong[(wrong["case"] == case) & (wrong["label"] == label)]
        picked += list(part.sort_values("voxels", ascending=False).itertuples(index=False))
        if len(picked) >= options.overlays:
            break
    regions = {r.name: r for r in result.regions}
    rows = result.cases.set_index(["case", "label"])
    out = []
    for lesion in picked[: options.overlays]:
        row = rows.loc[(lesion.case, lesion.label)]
        case_row = SimpleNamespace(case=lesion.case, label=lesion.label, **row.to_dict())
        ndim = len(str(lesion.bbox_low).split())
        low = [int(v) for v in str(lesion.bbox_low).split()]
        high = [int(v) for v in str(lesion.bbox_high).split()]
        centre = tuple((a + b - 1) // 2 for a, b in zip(low, high, strict=True))[:ndim]
        images = _image_index(options.images) if options.images else {}
        out.append(
            (
                lesion,
                render(
                    case_row,
                    regions[str(lesion.label)],
                    images.get(str(lesion.case)),
                    result.options,
                    centre,
                ),
            )
        )
    return out


def _image_index(folder: str) -> dict[str, str]:
    from dicecli.pairing import index_folder

    found, _ = index_folder(folder, None)
    return found


def _dicom_ids(cases: Any) -> dict[str, int]:
    """How many distinct patients, studies and series the DICOM inputs come from."""
    columns = {"patients": "patient_id", "studies": "study_uid", "series": "series_uid"}
    return {
        name: int(cases[column].replace("", None).nunique())
        for name, column in columns.items()
        if column in cases
    }


def _spacings(result: RunResult) -> list[tuple[str, int]]:
    counts = Counter(
        " × ".join(f"{v:.3g}" for v in spacing) for spacing in result.spacings.values()
    )
    return counts.most_common()


def _num(value: Any, digits: int = 4) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != number:  # NaN
        return "n/a"
    return f"{number:.{digits}f}"


def default_title(pred: str | None) -> str:
    return (
        f"Segmentation study: {os.path.basename(os.path.normpath(pred))}"
        if pred
        else ("Segmentation study")
    )
