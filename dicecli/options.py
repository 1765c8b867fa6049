"""Options: every text option parsed in one place into typed values (``ParsedOptions``).

Each ``parse_*`` function reads one option's text and raises ``UsageError`` (exit 2) naming the
option; the CLI's parameter types (``cli/types.py``) call the same functions, so a bad value stops
before any file is read. ``make_options`` checks a ``ScoreOptions`` as a whole (contradictions);
``parse_options`` turns it into the ``ParsedOptions`` the workers receive.
"""

from __future__ import annotations

import math
import re
from dataclasses import fields
from functools import lru_cache
from typing import Any, Literal, get_args

from dicecli.errors import UsageError
from dicecli.metrics import registry
from dicecli.models import (
    ConsensusMethod,
    DevicePolicy,
    DissensusPolicy,
    EmptyPolicy,
    GeometryPolicy,
    LayoutPolicy,
    LesionSettings,
    MissingPolicy,
    ParsedOptions,
    ReadOptions,
    ScoreOptions,
)

_CHOICES = {
    "empty": get_args(EmptyPolicy),
    "missing": get_args(MissingPolicy),
    "geometry": get_args(GeometryPolicy),
    "device": get_args(DevicePolicy),
    "layout": get_args(LayoutPolicy),
    "dissensus": get_args(DissensusPolicy),
}
_COLOUR = re.compile(
    r"^\s*(?:#(?P<hex>[0-9a-fA-F]{6})|(?P<r>\d+):(?P<g>\d+):(?P<b>\d+))\s*=\s*(?P<label>\d+)\s*$"
)

#: ``--lesion-connectivity``: 6, 18 or 26 neighbours in 3D, 4 or 8 in 2D
CONNECTIVITIES = (6, 18, 26, 4, 8)


def make_options(**kwargs: Any) -> ScoreOptions:
    """ScoreOptions from keyword arguments, rejecting unknown names and contradictions."""
    known = {f.name for f in fields(ScoreOptions)}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise UsageError(
            f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    if isinstance(kwargs.get("lesion_connectivity"), str):  # from the Click choice
        kwargs["lesion_connectivity"] = int(kwargs["lesion_connectivity"])
    options = ScoreOptions(**kwargs)
    for name, choices in _CHOICES.items():
        if getattr(options, name) not in choices:
            raise UsageError(f"{name} must be one of {', '.join(choices)}")
    if not options.beta > 0 or math.isinf(options.beta):
        raise UsageError("--beta must be a positive number")
    if options.worst:
        parse_worst(options.worst)
    if options.consensus is not None and options.consensus not in get_args(ConsensusMethod):
        raise UsageError(f"consensus must be one of {', '.join(get_args(ConsensusMethod))}")
    if options.dissensus == "ignore" and (options.lesions or parse_metrics(options.metrics)):
        raise UsageError(
            "--dissensus ignore leaves voxels out of the counts; surface metrics and lesions "
            "need whole masks: drop --metrics/--lesions or --dissensus ignore"
        )
    if options.soft and options.threshold is not None:
        raise UsageError("--soft scores probabilities as they are; drop --threshold or --soft")
    if options.soft and options.binarize:
        raise UsageError("--soft scores probabilities as they are; drop --binarize or --soft")
    if options.smooth < 0:
        raise UsageError("--smooth must be zero or positive")
    if options.max_voxels < 1 or options.jobs < 0:
        raise UsageError("--max-voxels must be positive and --jobs zero (all cores) or more")
    if options.ci_resamples < 0:
        raise UsageError("--ci-resamples must be zero (no interval) or more")
    if options.geometry_tolerance < 0:
        raise UsageError("--geometry-tolerance must be zero or positive")
    if not 0 < options.hd_percentile <= 100:
        raise UsageError("--hd-percentile must be in (0, 100]")
    parsed = parse_options(options)
    if parsed.surface and options.soft:
        raise UsageError("surface metrics need binary masks; drop --soft or the surface metrics")
    if parsed.calibration and not options.soft:
        raise UsageError(
            f"--metrics {','.join(parsed.calibration)}: calibration metrics score probability "
            "maps; pass --soft (and a map of probabilities in [0, 1])"
        )
    if options.calibration_bins < 1:
        raise UsageError("--calibration-bins must be 1 or more")
    if options.lesion_size_bins and not options.lesions:
        raise UsageError("--lesion-size-bins needs --lesions")
    if options.lesion_size_bins:
        from dicecli.metrics.lesion_bins import parse_size_bins

        parse_size_bins(options.lesion_size_bins)
    if options.lesions and options.soft:
        raise UsageError("--lesions needs binary masks; drop --soft or --lesions")
    return options


@lru_cache(maxsize=64)
def parse_options(options: ScoreOptions) -> ParsedOptions:
    """Every text option of ``options`` as a typed value, parsed once per process."""
    from dicecli.labels import parse_labels

    default, per_label = parse_nsd_tolerance(options.nsd_tolerance)
    surface, calibration = metric_selection(options.metrics, options.soft)
    return ParsedOptions(
        regions=parse_labels(options.labels) if options.labels else None,
        surface=surface,
        nsd_default=default,
        nsd_per_label=per_label,
        empty_distance=parse_empty_distance(options.empty_distance),
        read=ReadOptions(
            color_map=parse_color_map(options.color_map) if options.color_map else {},
            max_voxels=options.max_voxels,
            reference_image=options.reference_image,
            threshold=0.5 if options.threshold is None else options.threshold,
        ),
        lesions=_lesion_settings(options, "hd95" in surface) if options.lesions else None,
        boundary=parse_boundary_distance(options.boundary_distance),
        calibration=calibration,
    )


def _lesion_settings(options: ScoreOptions, hd95: bool) -> LesionSettings:
    if options.lesion_connectivity not in (None, *CONNECTIVITIES):
        raise UsageError("--lesion-connectivity must be 6, 18 or 26 (3D), 4 or 8 (2D)")
    if options.lesion_dilation < 0:
        raise UsageError("--lesion-dilation must be zero or more voxels")
    size, mm3 = parse_lesion_min_size(options.lesion_min_size)
    match, threshold, strict = parse_lesion_match(options.lesion_match)
    return LesionSettings(
        connectivity=options.lesion_connectivity,
        min_size=size,
        min_size_mm3=mm3,
        match=match,
        iou_threshold=threshold,
        strict=strict,
        dilation=options.lesion_dilation,
        missed_distance=options.lesion_missed_distance,
        hd95=hd95,
        percentile=options.hd_percentile,
        surfel=options.surface == "surfel",
    )


def parse_metrics(text: str) -> tuple[str, ...]:
    """``--metrics``: ``overlap`` (no surface metrics), ``all``, ``surface``, or a comma-separated
    list of metric names -> the surface metrics to compute, in registry order (the text is
    checked whole: calibration and overlap names are known too)."""
    return metric_selection(text, soft=False)[0]


def metric_selection(text: str, soft: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``--metrics`` -> (surface metrics, calibration metrics) to compute. ``all`` is every
    metric that applies: the surface metrics for masks, the calibration metrics for --soft
    probability maps."""
    names = {n.strip() for n in text.split(",") if n.strip()}
    surface = registry.names("surface")
    calibration = registry.names("calibration")
    choices = (*registry.names("overlap"), *surface, *calibration)
    unknown = sorted(names - {*choices, "overlap", "surface", "calibration", "all"})
    if unknown:
        raise UsageError(
            f"--metrics: unknown {', '.join(unknown)}; choose from overlap, all, surface, "
            "calibration, " + ", ".join(choices)
        )
    every = "all" in names
    chosen_surface = (
        surface
        if "surface" in names or (every and not soft)
        else tuple(m for m in surface if m in names)
    )
    chosen_calibration = (
        calibration
        if "calibration" in names or (every and soft)
        else tuple(m for m in calibration if m in names)
    )
    return chosen_surface, chosen_calibration


def parse_boundary_distance(text: str) -> tuple[str, float]:
    """``--boundary-distance``: ``2%`` (of the image diagonal), ``2mm`` / ``2`` (mm), ``1vox``."""
    value = str(text).strip().lower().replace(" ", "")
    for suffix, unit in (("%", "pct"), ("vox", "vox"), ("voxels", "vox"), ("mm", "mm")):
        if value.endswith(suffix):
            number, kind = value[: -len(suffix)], unit
            break
    else:
        number, kind = value, "mm"
    try:
        amount = float(number)
    except ValueError:
        amount = math.nan
    if not amount > 0 or math.isinf(amount):
        raise UsageError(
            f"--boundary-distance {text}: give a positive 2% (of the image diagonal), 2mm or 1vox"
        )
    return kind, amount


def parse_worst(text: str) -> dict[str, float]:
    """``--worst hd95=374,assd=100``: per metric the value it takes where it is undefined (both
    or one mask empty), as BraTS (HD95 374 mm), TopCoW (90 mm) and MIST rank with."""
    out: dict[str, float] = {}
    if str(text).strip().isdigit():  # the HTML report's --worst N of earlier versions
        return out
    known = registry.names()
    for item in str(text).split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--worst: write METRIC=VALUE,... (e.g. hd95=374), not {item!r}")
        if name not in known:
            raise UsageError(f"--worst: unknown metric {name!r}; choose from {', '.join(known)}")
        try:
            number = float(value)
        except ValueError:
            raise UsageError(f"--worst {name}: {value!r} is not a number") from None
        if math.isnan(number):
            raise UsageError(f"--worst {name}: give a number, not nan")
        out[name] = number
    return out


def parse_empty_distance(text: str) -> float:
    """``--empty-distance``: nan, inf or a number of millimetres."""
    try:
        return float(text)
    except ValueError:
        raise UsageError("--empty-distance must be nan, inf or a number (mm)") from None


def parse_nsd_tolerance(text: str) -> tuple[float | None, dict[str, float]]:
    """``--nsd-tolerance 2`` or ``liver=2,tumor=1`` -> (default, per label)."""
    default: float | None = None
    per_label: dict[str, float] = {}
    for item in text.split(","):
        name, _, number = item.strip().rpartition("=")
        try:
            value = float(number)
        except ValueError:
            raise UsageError(
                f"--nsd-tolerance: cannot read {item.strip()!r}; write MM or LABEL=MM"
            ) from None
        if value < 0:
            raise UsageError("--nsd-tolerance must not be negative")
        if name.strip():
            per_label[name.strip()] = value
        else:
            default = value
    return default, per_label


def parse_lesion_min_size(text: str) -> tuple[float, bool]:
    """``--lesion-min-size``: ``N`` voxels or ``'N mm3'`` -> (N, in mm³?)."""
    value = str(text).strip().lower()
    mm3 = value.endswith("mm3")
    try:
        size = float(value.removesuffix("mm3").strip())
    except ValueError:
        raise UsageError(f"--lesion-min-size {text}: write N (voxels) or 'N mm3'") from None
    if size < 0:
        raise UsageError("--lesion-min-size must be zero or more")
    return size, mm3


def parse_lesion_match(text: str) -> tuple[Literal["iou", "overlap"], float, bool]:
    """``--lesion-match``: ``iou:T`` (IoU >= T), ``iou>T`` (strictly above), or ``overlap``."""
    from dicecli.metrics.lesions import parse_match

    return parse_match(text)


def parse_color_map(spec: str) -> dict[tuple[int, int, int], int]:
    """``#ff0000=1,#00ff00=2`` or ``255:0:0=1,0:255:0=2`` -> {(r, g, b): label}."""
    table: dict[tuple[int, int, int], int] = {}
    for item in spec.split(","):
        m = _COLOUR.match(item)
        if not m:
            raise UsageError(
                f"--color-map: cannot read {item.strip()!r}; write #rrggbb=LABEL or R:G:B=LABEL"
            )
        if m["hex"]:
            rgb = tuple(int(m["hex"][i : i + 2], 16) for i in (0, 2, 4))
        else:
            rgb = (int(m["r"]), int(m["g"]), int(m["b"]))
        if max(rgb) > 255:
            raise UsageError(f"--color-map: {item.strip()!r} has a channel above 255")
        table[(rgb[0], rgb[1], rgb[2])] = int(m["label"])
    return table
