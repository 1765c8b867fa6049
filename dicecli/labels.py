"""Which structures are scored: parse ``--labels`` and discover the label set of a run."""

from __future__ import annotations

import re
from collections.abc import Iterable

from dicecli.errors import UsageError
from dicecli.models import Region

_INT = re.compile(r"^-?\d+$")

_ITEM = re.compile(r"^(?:(?P<name>[^=]+?)\s*=\s*)?(?P<values>[^=+]+(?:\s*\+\s*[^=+]+)*)$")


def parse_labels(spec: str) -> tuple[Region, ...]:
    """Parse ``1,2,3`` · ``liver=1,tumor=2`` · ``whole_tumor=1+2+4`` into regions.

    >>> parse_labels("liver=1, whole_tumor=1+2+4")
    (Region(name='liver', values=(1,), names=()),
     Region(name='whole_tumor', values=(1, 2, 4), names=()))
    >>> parse_labels("liver=Liver")[0].names
    ('Liver',)
    """
    regions: list[Region] = []
    for raw in spec.split(","):
        item = raw.strip()
        match = _ITEM.match(item)
        if not match:
            raise UsageError(
                f"--labels: cannot read {item!r}; write values (1,2), names (liver=1) "
                "or unions (whole_tumor=1+2+4)"
            )
        tokens = [t.strip() for t in match["values"].split("+")]
        values = tuple(dict.fromkeys(int(t) for t in tokens if _INT.match(t)))
        names = tuple(dict.fromkeys(t for t in tokens if not _INT.match(t)))
        if names and not match["name"]:
            raise UsageError(
                f"--labels: {item!r} names a segment without a label name; write "
                f"name={'+'.join(names)} (segment names match DICOM SEG/RTSTRUCT labels)"
            )
        name = match["name"] or "+".join(str(v) for v in values)
        regions.append(Region(name.strip(), values, names))
    seen = [r.name for r in regions]
    dupes = sorted({n for n in seen if seen.count(n) > 1})
    if dupes:
        raise UsageError(f"--labels: the name(s) {', '.join(dupes)} appear more than once")
    return tuple(regions)


def discover_labels(
    values: Iterable[int], include_background: bool = False, ignore: int | None = None
) -> tuple[Region, ...]:
    """One region per distinct non-zero value present anywhere in the run (sorted), plus 0 when
    ``include_background``; the ignored value is never a region."""
    present = {int(v) for v in values} - {ignore} - {0}
    if include_background and ignore != 0:
        present.add(0)
    return tuple(Region(str(v), (v,)) for v in sorted(present))


def with_background(regions: tuple[Region, ...], ignore: int | None) -> tuple[Region, ...]:
    """Add label 0 in front when it is not already scored (``--include-background``)."""
    if ignore == 0 or any(r.values == (0,) for r in regions):
        return regions
    return (Region("0", (0,)), *regions)
