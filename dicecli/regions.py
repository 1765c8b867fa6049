"""Which regions a run scores (``scored_regions``, the one place that decides).

By label value, for label maps that name nothing: the ``--labels`` regions, or one region per
value present in the run. By name, for masks that name their structures (``structures.py``
matches them in each case): the ``--labels`` regions, or every structure matched in any case,
in the order the cases met them (reference first), label 0 in front with
``--include-background``.
"""

from __future__ import annotations

from collections.abc import Iterable

from dicecli.labels import discover_labels, with_background
from dicecli.models import Match, ParsedOptions, Region, ScoreOptions


def scored_regions(
    options: ScoreOptions,
    parsed: ParsedOptions,
    *,
    present: Iterable[int] = (),
    matches: Iterable[Match] = (),
) -> tuple[Region, ...]:
    """The regions a run or a case scores: the ``--labels`` regions (label 0 in front with
    ``--include-background``); else the structures of ``matches`` (a run whose masks name
    them); else one region per label value ``present``, never the ``--ignore-label``."""
    if parsed.regions is not None:
        if options.include_background:
            return with_background(parsed.regions, options.ignore_label)
        return parsed.regions
    found: dict[str, Region] = {}
    for match in matches:
        if match.key not in found:
            found[match.key] = match_region(match)
    if found:
        background = [r for r in found.values() if r.values == (0,)]
        return (*background, *(r for r in found.values() if r.values != (0,)))
    return discover_labels(present, options.include_background, options.ignore_label)


def match_region(match: Match) -> Region:
    """The run's region of a structure matched in a case: by name, or label 0 (background)."""
    if match.key == "0":
        return Region(match.name, (0,))
    return Region(match.name, (), (match.name,))
