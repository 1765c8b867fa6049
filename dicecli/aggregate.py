"""Per-case rows and per-label summaries (pandas), all derived from the case tallies."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dicecli import exact
from dicecli.metrics import (
    dice_from_totals,
    empty_situation,
    overlap_metrics,
    region_counts,
    registry,
)
from dicecli.metrics.overlap import match_counts
from dicecli.metrics.registry import LESION_COUNTS
from dicecli.models import (
    EMPTY_VALUE,
    CaseTally,
    Counts,
    Match,
    Region,
    ScoreOptions,
    SoftTally,
)

if TYPE_CHECKING:
    from dicecli.metrics.lesion_bins import SizeBins


def case_columns(
    surface: Sequence[str] = (), lesions: Sequence[str] = (), calibration: Sequence[str] = ()
) -> tuple[str, ...]:
    """Columns of the per-case table, in order (the CSV contract; README "CSV columns"); the
    surface and calibration metric columns appear only when ``--metrics`` asks for them, the
    lesion columns (``lesion_columns``) at the end with ``--lesions``."""
    return (
        "case",
        "label",
        "values",
        *registry.names("overlap"),
        *surface,
        *calibration,
        "tp",
        "fp",
        "fn",
        "tn",
        "pred_volume_ml",
        "ref_volume_ml",
        "volume_diff_ml",
        "empty",
        "pred_path",
        "gt_path",
        "ref_values",
        "pred_values",
        "absent",
        *lesions,
    )


def lesion_columns(options: ScoreOptions) -> tuple[str, ...]:
    """The lesion counts and metrics of ``--lesions`` (lesion_hd95 with ``--metrics`` hd95)."""
    from dicecli.options import parse_options

    if not options.lesions:
        return ()
    hd95 = "hd95" in parse_options(options).surface
    lesion = registry.names("lesion")
    return (*LESION_COUNTS, *(m for m in lesion if hd95 or m != "lesion_hd95"))


#: Pooled lesion detection per label in the summary, with ``--lesions``.
LESION_POOLED = ("lesion_tp_total", "lesion_fp_total", "lesion_fn_total", "lesion_f1_pooled")


#: DICOM identifiers, appended to the per-case columns when any input is DICOM.
DICOM_COLUMNS = {
    "PatientID": "patient_id",
    "StudyInstanceUID": "study_uid",
    "SeriesInstanceUID": "series_uid",
}

#: Statistics reported for every metric in the summary, in order.
STATS = ("n_valid", "mean", "std", "median", "q1", "q3", "min", "max", "ci_low", "ci_high")

#: Seed of the bootstrap, so that a report is reproducible.
BOOTSTRAP_SEED = 0


def summary_columns(surface: Sequence[str] = (), lesions: bool = False) -> tuple[str, ...]:
    """Columns of the per-label summary, in order; ``surface`` lists the extra metrics (surface
    and lesion-wise) summarised like the overlap metrics."""
    return (
        "label",
        "values",
        "n",
        "pooled_dice",
        "n_both_empty",
        "n_ref_empty",
        "n_pred_empty",
        *(f"{m}_{s}" for m in (*registry.names("overlap"), *surface) for s in STATS),
        *(LESION_POOLED if lesions else ()),
    )


def run_values(tallies: Sequence[CaseTally]) -> set[int]:
    """Every label value present in any reference or (hard) prediction of the run."""
    present: set[int] = set()
    for t in tallies:
        present.update(int(v) for v in t.tally.ref_values)
        if not isinstance(t.tally, SoftTally):
            present.update(int(v) for v in t.tally.pred_values)
    return present


def case_rows(
    tallies: Sequence[CaseTally], regions: Sequence[Region], options: ScoreOptions
) -> pd.DataFrame:
    """One row per (case, region) with counts, metrics, volumes and the empty situation."""
    from dicecli.options import parse_options, parse_worst

    parsed = parse_options(options)
    surface = parsed.surface
    lesions = lesion_columns(options)
    worst = parse_worst(options.worst) if options.worst else {}
    rows: list[dict[str, Any]] = []
    for t in sorted(tallies, key=lambda t: t.case):  # by case id: the order given changes nothing
        matched = {m.key: m for m in t.matches}
        for region in regions:
            counts, sides = _region_counts(t, region, matched, options.ignore_label)
            vol = t.voxel_volume_ml
            metrics = overlap_metrics(
                counts, options.empty, options.smooth, beta=options.beta, voxel_ml=vol
            )
            if surface:
                metrics |= _surface_values(t, region, options, parsed.empty_distance, surface)
            if parsed.calibration:
                metrics |= _calibration_values(t, region, parsed.calibration)
            lesion = _lesion_values(t, region, options) if lesions else {}
            for name, value in worst.items():  # --worst: the value where it is undefined
                for values in (metrics, lesion):
                    if name in values and _undefined(values[name]):
                        values[name] = value
            pred_ml = counts.pred * vol if vol is not None else math.nan
            ref_ml = counts.ref * vol if vol is not None else math.nan
            rows.append(
                {
                    "case": t.case,
                    "label": region.name,
                    "values": region.spec,
                    **metrics,
                    "tp": counts.tp,
                    "fp": counts.fp,
                    "fn": counts.fn,
                    "tn": counts.tn,
                    "pred_volume_ml": pred_ml,
                    "ref_volume_ml": ref_ml,
                    "volume_diff_ml": pred_ml - ref_ml,
                    "empty": empty_situation(counts),
                    "pred_path": t.pred_path,
                    "gt_path": t.gt_path,
                    **sides,
                    **{column: t.meta.get(key, "") for key, column in DICOM_COLUMNS.items()},
                    **lesion,
                }
            )
    dicom = any(any(t.meta.values()) for t in tallies)
    columns = [
        *case_columns(surface, lesions, parsed.calibration),
        *(DICOM_COLUMNS.values() if dicom else ()),
    ]
    frame = pd.DataFrame(rows, columns=columns)
    if not options.soft:
        frame = frame.astype(dict.fromkeys(("tp", "fp", "fn", "tn"), "int64"))
    if lesions:
        frame = frame.astype(dict.fromkeys(LESION_COUNTS, "int64"))
    return frame


def _undefined(value: Any) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _region_counts(
    tally: CaseTally, region: Region, matched: dict[str, Match], ignore: int | None
) -> tuple[Counts, dict[str, str]]:
    """A region's counts in one case, and the values (or segment numbers) it was on each side:
    the case's match of that structure (none: neither mask names it), else by label value."""
    if not tally.matches:
        spec = region.spec
        counts = region_counts(tally.tally, region, ignore)
        return counts, {"ref_values": spec, "pred_values": spec, "absent": ""}
    match = matched.get(region.key)
    if match is None:  # the run scores a structure that neither mask of this case names
        empty = match_counts(tally.tally, (), (), ignore)
        return empty, {"ref_values": "", "pred_values": "", "absent": "both"}
    return tally.counts[region.key], {
        "ref_values": "+".join(map(str, match.ref)),
        "pred_values": "+".join(map(str, match.pred)),
        "absent": match.absent,
    }


def _lesion_values(tally: CaseTally, region: Region, options: ScoreOptions) -> dict[str, Any]:
    result = tally.lesions.get(region.key)
    if result is None:  # the region is absent from both masks of this case
        from dicecli.metrics.lesions import LesionResult

        empty = EMPTY_VALUE[options.empty]
        result = LesionResult(0, 0, 0, 0, 0, empty, empty, empty, empty, math.nan, (), empty)
    return {
        "lesions_ref": result.n_ref,
        "lesions_pred": result.n_pred,
        "lesion_tp": result.tp,
        "lesion_fp": result.fp,
        "lesion_fn": result.fn,
        "lesion_f1": result.f1,
        "lesion_sq": result.sq,
        "lesion_pq": result.pq,
        "lesion_dice": result.dice,
        "lesion_region_dice": result.region_dice,
        "lesion_hd95": result.hd95,
    }


def lesion_rows(
    tallies: Sequence[CaseTally], regions: Sequence[Region], bins: SizeBins | None = None
) -> pd.DataFrame:
    """One row per lesion (``--lesion-table``): where it is, how big, what it matched, its
    size bin (``--lesion-size-bins``; blank without, and for a dropped lesion)."""
    rows = []
    for t in tallies:
        for region in regions:
            result = t.lesions.get(region.key)
            for lesion in result.lesions if result is not None else ():
                ndim = len(lesion.centroid_mm)
                rows.append(
                    {
                        "case": t.case,
                        "label": region.name,
                        "side": lesion.side,
                        "lesion": lesion.id,
                        "status": lesion.status,
                        "voxels": lesion.voxels,
                        "volume_ml": lesion.volume_ml,
                        **{
                            f"centroid_{a}_mm": c
                            for a, c in zip("xyz", lesion.centroid_mm, strict=False)
                        },
                        "bbox_low": " ".join(map(str, lesion.bbox[:ndim])),
                        "bbox_high": " ".join(map(str, lesion.bbox[ndim:])),
                        "matched": " ".join(map(str, lesion.match_ids)),
                        "iou": lesion.iou,
                        "dice": lesion.dice,
                        "region_dice": lesion.region_dice,
                        "size_bin": (
                            bins.names[bins.index(lesion)]
                            if bins is not None and lesion.status != "dropped"
                            else ""
                        ),
                    }
                )
    return pd.DataFrame(rows, columns=list(LESION_TABLE_COLUMNS))


#: Columns of the per-lesion table (centroid in LPS millimetres; bbox in voxel indices).
LESION_TABLE_COLUMNS = (
    "case",
    "label",
    "side",
    "lesion",
    "status",
    "voxels",
    "volume_ml",
    "centroid_x_mm",
    "centroid_y_mm",
    "centroid_z_mm",
    "bbox_low",
    "bbox_high",
    "matched",
    "iou",
    "dice",
    "region_dice",
    "size_bin",
)


def _surface_values(
    tally: CaseTally,
    region: Region,
    options: ScoreOptions,
    empty_distance: float,
    surface: Sequence[str],
) -> dict[str, float]:
    from dicecli.metrics.surface import empty_stats, surface_metrics

    stats = tally.surfaces.get(region.key) or empty_stats(0, 0, math.nan)  # absent: both empty
    empty_nsd = EMPTY_VALUE[options.empty]
    values = surface_metrics(stats, options.hd95_mode, empty_distance, empty_nsd)
    return {m: values[m] for m in surface}


def _calibration_values(tally: CaseTally, region: Region, names: Sequence[str]) -> dict[str, float]:
    from dicecli.metrics.calibration import calibration_metrics

    stats = tally.calibration.get(region.key)
    if stats is None:  # the structure is in neither mask of this case
        return dict.fromkeys(names, math.nan)
    values = calibration_metrics(stats)
    return {m: values[m] for m in names}


def calibration_bins(tallies: Sequence[CaseTally], regions: Sequence[Region]) -> pd.DataFrame:
    """Per structure and bin, summed over the cases: voxels, mean p and the share of them in the
    structure (a reliability diagram); empty without calibration statistics."""
    from dicecli.metrics.calibration import pooled_bins

    rows = []
    for region in regions:
        stats = [t.calibration[region.key] for t in tallies if region.key in t.calibration]
        if not stats:
            continue
        count, confidence, hits = pooled_bins(stats)
        bins = len(count)
        for b in range(bins):
            n = float(count[b])
            rows.append(
                {
                    "label": region.name,
                    "bin": b,
                    "low": b / bins,
                    "high": (b + 1) / bins,
                    "voxels": int(n),
                    "confidence": float(confidence[b]) / n if n else math.nan,
                    "accuracy": float(hits[b]) / n if n else math.nan,
                }
            )
    columns = ["label", "bin", "low", "high", "voxels", "confidence", "accuracy"]
    return pd.DataFrame(rows, columns=columns)


def summarise(
    cases: pd.DataFrame, regions: Sequence[Region], resamples: int = 1000
) -> pd.DataFrame:
    """Per region: n, pooled (micro) Dice, empty-situation counts, and for every metric the
    count of valid values and mean, std (ddof=1), median, quartiles, min, max (NaN excluded) and
    the percentile-bootstrap 95% confidence interval of the mean (``resamples`` resamples of the
    valid values with replacement, seed 0; none when ``resamples`` is 0)."""
    metrics = [m for m in registry.names() if m in cases.columns]
    lesions = "lesion_tp" in cases.columns
    out: list[dict[str, Any]] = []
    for region in regions:
        part = cases[cases["label"] == region.name]
        row: dict[str, Any] = {
            "label": region.name,
            "values": region.spec,
            "n": len(part),
            "pooled_dice": dice_from_totals(*(_total(part[c]) for c in ("tp", "fp", "fn"))),
            "n_both_empty": int((part["empty"] == "both").sum()),
            "n_ref_empty": int((part["empty"] == "reference").sum()),
            "n_pred_empty": int((part["empty"] == "prediction").sum()),
        }
        for metric in metrics:
            row.update(_stats(metric, part[metric].to_numpy(dtype=float), resamples))
        if lesions:
            tp, fp, fn = (int(part[c].sum()) for c in ("lesion_tp", "lesion_fp", "lesion_fn"))
            row |= {
                "lesion_tp_total": tp,
                "lesion_fp_total": fp,
                "lesion_fn_total": fn,
                "lesion_f1_pooled": tp / (tp + fp / 2 + fn / 2) if tp + fp + fn else math.nan,
            }
        out.append(row)
    extra = [m for m in metrics if registry.metric(m).family != "overlap"]
    return pd.DataFrame(out, columns=list(summary_columns(extra, lesions)))


def _total(column: pd.Series) -> float:
    """A count column's total: an integer sum, or (soft counts) an exactly rounded one."""
    if column.dtype.kind in "iu":
        return float(sum(int(v) for v in column))
    return exact.fsum(column.to_numpy(dtype=float))


def _stats(metric: str, values: np.ndarray, resamples: int) -> dict[str, float]:
    """Every statistic exact and independent of the values' order (``dicecli.exact``)."""
    valid = values[~np.isnan(values)]
    if valid.size == 0:
        stats = dict.fromkeys(STATS[1:], math.nan)
    else:
        low, high = bootstrap_ci(valid, resamples)
        q1, median, q3 = exact.quantiles(valid, [0.25, 0.5, 0.75])
        stats = {
            "mean": exact.mean(valid),
            "std": exact.std(valid, ddof=1),
            "median": median,
            "q1": q1,
            "q3": q3,
            "min": float(valid.min()),
            "max": float(valid.max()),
            "ci_low": low,
            "ci_high": high,
        }
    return {f"{metric}_n_valid": valid.size, **{f"{metric}_{k}": v for k, v in stats.items()}}


def bootstrap_ci(values: np.ndarray, resamples: int, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean: the (1-level)/2 and (1+level)/2 quantiles of
    the exact means of ``resamples`` resamples with replacement of the sorted finite values
    (seeded, so reports are reproducible, and independent of the values' order)."""
    finite = values[np.isfinite(values)]
    if resamples <= 0 or finite.size < 2:
        return math.nan, math.nan
    return exact.bootstrap_interval(finite, resamples, BOOTSTRAP_SEED, level)
