"""The options of ``dicecli rank``, parsed and checked (each raises ``UsageError`` naming the
option, so a bad value exits 2 before any file is read)."""

from __future__ import annotations

import math
from typing import Any, get_args

from dicecli.errors import UsageError
from dicecli.models.rank import PAdjust, RankSettings, Scheme, Ties


def parse_aggregate(text: str) -> str:
    """``mean``, ``median``, ``min``, ``max`` or a quantile ``qP``, P in [0, 1] (``q0.05``)."""
    value = str(text).strip().lower()
    if value in ("mean", "median", "min", "max"):
        return value
    try:
        fraction = float(value[1:]) if value.startswith("q") else math.nan
    except ValueError:
        fraction = math.nan
    if not 0.0 <= fraction <= 1.0:
        raise UsageError(f"--aggregate {text}: write mean, median, min, max or a quantile q0.05")
    return value


def label_spec(text: str) -> str:
    """``rank --labels``: structure names as the results spell them (``liver,tumor``, ``1,2``)
    or score's SPEC items (``liver=1``, ``kidney=2+3``); as score's SPEC, where a bare name is
    the structure of that name (``liver`` is ``liver=liver``)."""
    items = [item.strip() for item in str(text).split(",") if item.strip()]
    if not items:
        raise UsageError("--labels: name at least one structure")
    spec = ",".join(
        item if "=" in item or item.replace("+", "").strip().isdigit() else f"{item}={item}"
        for item in items
    )
    from dicecli.labels import parse_labels

    parse_labels(spec)
    return spec


def label_names(text: str) -> tuple[str, ...]:
    """The structures ``rank --labels`` ranks, as the results' label column spells them."""
    from dicecli.labels import parse_labels

    return tuple(region.name for region in parse_labels(label_spec(text)))


def parse_missing(text: str) -> str:
    """``worst``, ``drop`` or a number (the value a missing case takes)."""
    value = str(text).strip().lower()
    if value in ("worst", "drop"):
        return value
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise UsageError(f"--missing {text}: write worst, drop or a number")
    return value


def parse_metric_values(text: str, option: str = "--worst") -> dict[str, float]:
    """``hd95=374,assd=100`` -> {metric: value}; every metric a registered one."""
    from dicecli.metrics import registry

    out: dict[str, float] = {}
    for item in str(text).split(","):
        if not item.strip():
            continue
        name, eq, number = item.partition("=")
        try:
            value = float(number)
        except ValueError:
            value = math.nan
        if not eq or not math.isfinite(value):
            raise UsageError(f"{option}: cannot read {item.strip()!r}; write METRIC=NUMBER")
        if name.strip() not in registry.names():
            raise UsageError(
                f"{option}: unknown metric {name.strip()!r}; choose from "
                + ", ".join(registry.names())
            )
        out[name.strip()] = value
    return out


def parse_weights(text: str) -> dict[str, float]:
    weights = parse_metric_values(text, "--weights")
    if any(w < 0 for w in weights.values()) or (weights and not any(weights.values())):
        raise UsageError("--weights: weights must be zero or more, not all zero")
    return weights


def make_settings(**kwargs: Any) -> RankSettings:
    """RankSettings from the options, checked as a whole."""
    from dicecli.metrics import registry

    settings = RankSettings(**kwargs)
    for metric in settings.metrics:
        if metric not in registry.names():
            raise UsageError(
                f"--metric {metric}: unknown; choose from {', '.join(registry.names())}"
            )
    for name, choices in (
        ("scheme", get_args(Scheme)),
        ("ties", get_args(Ties)),
        ("p_adjust", get_args(PAdjust)),
    ):
        if getattr(settings, name) not in choices:
            raise UsageError(f"--{name.replace('_', '-')} must be one of {', '.join(choices)}")
    parse_aggregate(settings.aggregate)
    parse_missing(settings.missing)
    if not 0 < settings.alpha < 1:
        raise UsageError("--alpha must lie between 0 and 1")
    if settings.bootstrap < 0:
        raise UsageError("--bootstrap must be zero (none) or more")
    unknown = sorted(set(settings.weights) - set(settings.metrics))
    if unknown:
        raise UsageError(f"--weights names metrics that are not ranked: {', '.join(unknown)}")
    return settings
