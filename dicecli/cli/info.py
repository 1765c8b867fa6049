"""``dicecli info MASK...``: what a mask holds."""

from __future__ import annotations

from typing import Any

import click

from dicecli.cli.types import FormatsCommand


@click.command(cls=FormatsCommand)
@click.argument("masks", nargs=-1, required=True, type=click.Path())
@click.option(
    "--max-voxels",
    type=int,
    default=4_000_000_000,
    show_default=True,
    help="Refuse files whose header claims more voxels.",
)
@click.option(
    "--reference-image",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="DICOM SEG/RTSTRUCT: the image series they refer to (default: found beside them).",
)
@click.option(
    "--label-table",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    metavar="FILE",
    help="Names of a label map's values (dataset.json, dseg.tsv, ITK-SNAP, FreeSurfer LUT, JSON); "
    "default: one found beside the file.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def info(
    masks: tuple[str, ...],
    max_voxels: int,
    reference_image: str | None,
    label_table: str | None,
    debug: bool,
) -> None:
    """Shape, dtype, spacing, orientation and each label or structure with voxel count and
    volume; for a DICOM SEG, its segments and where its grid came from; for a folder of
    per-structure masks, its structures. MASK may be a file or a folder.

    Exit codes: 0 every file read; 3 a file could not be read (the others are still shown)."""
    from dicecli.api import describe_mask
    from dicecli.cli.funnel import one_line
    from dicecli.errors import ExitCode

    failed = False
    for path in masks:
        try:
            d = describe_mask(
                path,
                max_voxels=max_voxels,
                reference_image=reference_image,
                label_table=label_table,
            )
        except Exception as e:  # noqa: BLE001 - one line per file; the other files still shown
            if debug:
                import traceback

                traceback.print_exc()
            click.echo(f"error: {one_line(e, path)}", err=True)
            failed = True
            continue
        _show(d)
    if failed:
        raise SystemExit(int(ExitCode.INPUT_ERROR))


def _show(d: dict[str, Any]) -> None:
    spacing = " x ".join(f"{s:g}" for s in d["spacing"])
    shape = " x ".join(str(n) for n in d["shape"])
    click.echo(f"{d['path']}  ({d['format']})")
    click.echo(
        f"  shape {shape}  dtype {d['dtype']}  spacing {spacing} mm"
        + (f"  orientation {d['orientation']}" if d["orientation"] else "")
    )
    if d["grid"]:
        click.echo(f"  grid from {d['grid']}")
    if d["named_by"]:
        click.echo(f"  structures named by {d['named_by']}")
    if d["not_structures"]:
        shown = ", ".join(d["not_structures"][:5]) + (
            " ..." if len(d["not_structures"]) > 5 else ""
        )
        click.echo(f"  not structures: {shown}")
    if d["image_like"]:
        click.echo(
            f"  {d['distinct']:,} distinct values: this looks like an image, not a mask; "
            f"the first {len(d['labels'])}:"
        )
    for w in d["warnings"]:
        click.echo(f"warning: {w}", err=True)
    kind = "segment" if d["segments"] else "structure" if d["structures"] else "label"
    if d["image_like"]:
        kind = "value"
    width = max((len(str(label["name"])) for label in d["labels"]), default=0)
    value_width = max((len(str(label["value"])) for label in d["labels"]), default=0)
    for label in d["labels"]:
        volume = f"  {label['volume_ml']:.3f} mL" if label["volume_ml"] is not None else ""
        name = f" {label['name'] + ':':<{width + 1}}" if width else ":"
        note = f"  ({label['note']})" if label["note"] else ""
        if d["segments"] and label["value"] == 0:
            note = "  (background: not scored unless --include-background)"
        click.echo(
            f"  {kind} {label['value']:>{max(6, value_width)}}{name} {label['voxels']:>12,} "
            f"voxels{volume}{note}"
        )
