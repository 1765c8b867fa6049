"""Check ScoreOptions as a whole and derive what the readers need from them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any, get_args

from dicecli.errors import UsageError
from dicecli.io._limits import ReadOptions

if TYPE_CHECKING:
    from dicecli.metrics.lesions import LesionSettings

from dicecli.metrics import registry
from dicecli.models import (
    DevicePolicy,
    EmptyPolicy,
    GeometryPolicy,
    MissingPolicy,
    Region,
    ScoreOptions,
)

_CHOICES = {
    "empty": get_args(EmptyPolicy),
    "missing": get_args(MissingPolicy),
    "geometry": get_args(GeometryPolicy),
    "device": get_args(DevicePolicy),
}
_COLOUR = re.compile(
    r"^\s*(?:#(?P<hex>[0-9a-fA-F]{6})|(?P<r>\d+):(?P<g>\d+):(?P<b>\d+))\s*=\s*(?P<label>\d+)\s*$"
)


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
    if options.soft and options.threshold is not None:
        raise UsageError("--soft scores probabilities as they are; drop --threshold or --soft")
    if options.smooth < 0:
        raise UsageError("--smooth must be zero or positive")
    if options.max_voxels < 1 or options.jobs < 0:
        raise UsageError("--max-voxels must be positive and --jobs zero (all cores) or more")
    if options.ci_resamples < 0:
        raise UsageError("--ci-resamples must be zero (no interval) or more")
    if options.geometry_tolerance < 0:
        raise UsageError("--geometry-tolerance must be zero or positive")
    if options.color_map:
        parse_color_map(options.color_map)
    surface = surface_metrics(options)
    if surface and options.soft:
        raise UsageError("surface metrics need binary masks; drop --soft or the surface metrics")
    if not 0 < options.hd_percentile <= 100:
        raise UsageError("--hd-percentile must be in (0, 100]")
    empty_distance(options)
    nsd_tolerances(options)
    if options.lesions:
        if options.soft:
            raise UsageError("--lesions needs binary masks; drop --soft or --lesions")
        lesion_settings(options)
    return options


def lesion_settings(options: ScoreOptions) -> LesionSettings:
    """The ``--lesion-*`` options as one value (checked)."""
    from dicecli.metrics.lesions import LesionSettings, parse_match

    if options.lesion_connectivity not in (None, 4, 8, 6, 18, 26):
        raise UsageError("--lesion-connectivity must be 6, 18 or 26 (3D), 4 or 8 (2D)")
    if options.lesion_dilation < 0:
        raise UsageError("--lesion-dilation must be zero or more voxels")
    text = str(options.lesion_min_size).strip().lower()
    mm3 = text.endswith("mm3")
    try:
        size = float(text.removesuffix("mm3").strip())
    except ValueError:
        raise UsageError(
            f"--lesion-min-size {options.lesion_min_size}: write N (voxels) or 'N mm3'"
        ) from None
    if size < 0:
        raise UsageError("--lesion-min-size must be zero or more")
    match, threshold, strict = parse_match(options.lesion_match)
    return LesionSettings(
        connectivity=options.lesion_connectivity,
        min_size=size,
        min_size_mm3=mm3,
        match=match,
        iou_threshold=threshold,
        strict=strict,
        dilation=options.lesion_dilation,
        missed_distance=options.lesion_missed_distance,
        hd95="hd95" in surface_metrics(options),
        percentile=options.hd_percentile,
    )


def surface_metrics(options: ScoreOptions) -> tuple[str, ...]:
    """The surface metrics ``--metrics`` asks for: ``overlap`` (none), ``all``, ``surface``, or a
    comma-separated list of metric names."""
    names = {n.strip() for n in options.metrics.split(",") if n.strip()}
    surface = registry.names("surface")
    choices = (*registry.names("overlap"), *surface)
    unknown = sorted(names - {*choices, "overlap", "surface", "all"})
    if unknown:
        raise UsageError(
            f"--metrics: unknown {', '.join(unknown)}; choose from overlap, all, surface, "
            + ", ".join(choices)
        )
    if names & {"all", "surface"}:
        return surface
    return tuple(m for m in surface if m in names)


def empty_distance(options: ScoreOptions) -> float:
    """``--empty-distance``: nan, inf or a number of millimetres."""
    try:
        value = float(options.empty_distance)
    except ValueError:
        raise UsageError("--empty-distance must be nan, inf or a number (mm)") from None
    return value


def nsd_tolerances(options: ScoreOptions) -> tuple[float | None, dict[str, float]]:
    """``--nsd-tolerance 2`` or ``liver=2,tumor=1`` -> (default, per label name)."""
    default: float | None = None
    per_label: dict[str, float] = {}
    for item in options.nsd_tolerance.split(","):
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


def nsd_tolerance_of(options: ScoreOptions) -> Callable[[Region], float]:
    """The NSD tolerance (mm) of a region: its own (by name or value spec), else the default;
    NaN when neither is given."""
    default, per_label = nsd_tolerances(options)

    def tolerance(region: Region) -> float:
        value = per_label.get(region.name, per_label.get(region.spec, default))
        return float("nan") if value is None else value

    return tolerance


def read_options(options: ScoreOptions) -> ReadOptions:
    colours = parse_color_map(options.color_map) if options.color_map else {}
    return ReadOptions(
        color_map=colours,
        max_voxels=options.max_voxels,
        reference_image=options.reference_image,
        threshold=0.5 if options.threshold is None else options.threshold,
    )
