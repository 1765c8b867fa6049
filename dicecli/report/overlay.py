"""Worst-case thumbnails for the HTML report: the slice with the most disagreement, with the
reference and predicted contours and the false positives and negatives coloured.

This writer reads the masks again (and the CT/MR image when ``--images`` gives a folder), for the N
worst case/label pairs only.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dicecli.errors import DiceCliError
from dicecli.models import Region, ScoreOptions

FP_COLOUR, FN_COLOUR = (0.9, 0.1, 0.1), (0.1, 0.4, 0.95)


@dataclass(frozen=True, slots=True)
class Overlay:
    case: str
    label: str
    dice: float
    pred_path: str
    gt_path: str
    image_path: str | None
    slice_index: int | None
    png_base64: str | None
    problem: str | None = None


def worst_rows(cases: pd.DataFrame, n: int) -> pd.DataFrame:
    """The n case/label pairs with the lowest Dice (undefined Dice, both empty, left out)."""
    scored = cases[cases["dice"].notna() & (cases["empty"] != "both")]
    return scored.nsmallest(n, "dice", keep="first")


def render(
    row: Any,
    region: Region,
    image_path: str | None,
    options: ScoreOptions,
    focus: tuple[int, ...] | None = None,
) -> Overlay:
    """One thumbnail; a problem reading the files becomes a message, never a failed report.
    ``focus`` (a voxel index on the scoring grid, e.g. a lesion's centre) picks the slice and
    centres the view; else the slice with the most disagreement, zoomed on the structure."""

    base: dict[str, Any] = {
        "case": str(row.case),
        "label": str(row.label),
        "dice": float(row.dice),
        "pred_path": str(row.pred_path),
        "gt_path": str(row.gt_path),
        "image_path": image_path,
    }
    try:
        ref, pred, image = _masks(row, region, image_path, options)
    except DiceCliError as e:
        return Overlay(**base, slice_index=None, png_base64=None, problem=str(e))
    index = None
    if ref.ndim == 3:
        wrong = (ref ^ pred).sum(axis=(0, 1))
        index = int(np.argmax(wrong)) if wrong.any() else int(np.argmax(ref.sum(axis=(0, 1))))
        if focus is not None:
            index = min(max(int(focus[2]), 0), ref.shape[2] - 1)
        ref, pred = ref[:, :, index], pred[:, :, index]
        if image is not None and image.ndim == 3 and image.shape[2] > index:
            image = image[:, :, index]
    if image is not None and image.shape != ref.shape:
        image = None
    box = _zoom_box(ref | pred) if focus is None else _centred_box(ref.shape, focus[:2])
    ref, pred = ref[box], pred[box]
    image = image[box] if image is not None else None
    return Overlay(**base, slice_index=index, png_base64=_png(ref, pred, image))


def _masks(
    row: Any, region: Region, image_path: str | None, options: ScoreOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The region in reference and prediction, and the image, all on the reference's grid --
    through the pipeline the engine scores with (``pipeline.load_case``), on the values or
    segments the row was scored on (``ref_values``, ``pred_values``)."""
    from dicecli.geometry import align
    from dicecli.io import load_mask
    from dicecli.models import CasePair, Match
    from dicecli.options import parse_options
    from dicecli.pipeline import load_case, region_masks

    parsed = parse_options(options)
    missing = str(row.pred_path).startswith("(missing")
    pair = CasePair(str(row.case), None if missing else str(row.pred_path), str(row.gt_path))
    case = load_case(pair, options, parsed)
    match = Match(region.key, region.name, _numbers(row.ref_values), _numbers(row.pred_values))
    _, (ref, pred) = next(region_masks(case, [match], options.ignore_label))
    image = None
    if image_path:
        moved, _, _ = align(
            load_mask(image_path, parsed.read), case.gt, "strict", options.geometry_tolerance
        )
        image = moved.array if moved.array.shape == ref.shape else None
    return np.asarray(ref), np.asarray(pred), image


def _numbers(text: Any) -> tuple[int, ...]:
    """``1+2+4`` -> (1, 2, 4); blank (the side lacks the structure) -> ()."""
    return tuple(int(v) for v in str(text).split("+") if v.strip().lstrip("-").isdigit())


def _zoom_box(mask: np.ndarray, margin: int = 8, smallest: int = 48) -> tuple[slice, ...]:
    """The structure's bounding box with a margin, at least ``smallest`` pixels a side."""
    box = []
    for axis in range(mask.ndim):
        hit = np.flatnonzero(mask.any(axis=1 - axis))
        n = mask.shape[axis]
        lo, hi = (int(hit[0]), int(hit[-1]) + 1) if hit.size else (0, n)
        grow = max(margin, (smallest - (hi - lo)) // 2)
        box.append(slice(max(lo - grow, 0), min(hi + grow, n)))
    return tuple(box)


def _centred_box(
    shape: tuple[int, ...], centre: tuple[int, ...], half: int = 24
) -> tuple[slice, ...]:
    """A window of 2 x ``half`` pixels a side around ``centre``, inside the image."""
    box = []
    for n, c in zip(shape, centre, strict=True):
        lo = min(max(int(c) - half, 0), max(n - 2 * half, 0))
        box.append(slice(lo, min(lo + 2 * half, n)))
    return tuple(box)


def _png(ref: np.ndarray, pred: np.ndarray, image: np.ndarray | None) -> str:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    fig = Figure(figsize=(3.4, 3.6), dpi=80, layout="constrained")
    ax = fig.subplots()
    if image is not None:
        ax.imshow(_window(image).T, cmap="gray", interpolation="nearest")
    else:
        ax.imshow(np.zeros(ref.T.shape), cmap="gray", vmin=0, vmax=1)
    colours = np.zeros((*ref.T.shape, 4))
    colours[(pred & ~ref).T] = (*FP_COLOUR, 0.55)
    colours[(ref & ~pred).T] = (*FN_COLOUR, 0.55)
    ax.imshow(colours, interpolation="nearest")
    for mask, colour in ((ref, "#2ca02c"), (pred, "#ffdd00")):
        if mask.any() and not mask.all():
            ax.contour(mask.T.astype(float), levels=[0.5], colors=[colour], linewidths=1.0)
    ax.set_axis_off()
    fig.legend(
        handles=[
            Patch(color="#2ca02c", label="reference"),
            Patch(color="#ffdd00", label="prediction"),
            Patch(color=FP_COLOUR, label="false positive"),
            Patch(color=FN_COLOUR, label="false negative"),
        ],
        loc="outside lower center",
        ncol=2,
        fontsize=7,
        frameon=False,
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _window(image: np.ndarray) -> np.ndarray:
    """CT in Hounsfield units gets a soft-tissue window (W 400, L 40); other images their 1st-99th
    percentiles."""
    values = image.astype(np.float32)
    lo, hi = (
        (-160.0, 240.0)
        if float(values.min()) < -500
        else tuple(float(v) for v in np.percentile(values, [1, 99]))
    )
    return np.asarray(np.clip((values - lo) / max(hi - lo, 1e-6), 0, 1))
