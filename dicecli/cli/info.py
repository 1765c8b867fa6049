"""``dicecli info MASK...``: what a mask holds."""

from __future__ import annotations

import click


@click.command()
@click.argument("masks", nargs=-1, required=True, type=click.Path())
@click.option(
    "--max-voxels",
    type=int,
    default=4_000_000_000,
    show_default=True,
    help="Refuse files whose header claims more voxels.",
)
def info(masks: tuple[str, ...], max_voxels: int) -> None:
    """Shape, dtype, spacing, orientation and each label with voxel count and volume."""
    from dicecli.api import describe_mask
    from dicecli.errors import DiceCliError, ExitCode

    failed = False
    for path in masks:
        try:
            d = describe_mask(path, max_voxels=max_voxels)
        except DiceCliError as e:
            click.echo(f"error: {e}", err=True)
            failed = True
            continue
        spacing = " x ".join(f"{s:g}" for s in d["spacing"])
        shape = " x ".join(str(n) for n in d["shape"])
        click.echo(f"{d['path']}  ({d['format']})")
        click.echo(
            f"  shape {shape}  dtype {d['dtype']}  spacing {spacing} mm"
            + (f"  orientation {d['orientation']}" if d["orientation"] else "")
        )
        for w in d["warnings"]:
            click.echo(f"warning: {w}", err=True)
        for label in d["labels"]:
            volume = f"  {label['volume_ml']:.3f} mL" if label["volume_ml"] is not None else ""
            name = f" {label['name']}" if label["name"] else ""
            click.echo(f"  label {label['value']:>6}{name}: {label['voxels']:>12,} voxels{volume}")
    if failed:
        raise SystemExit(int(ExitCode.INPUT_ERROR))
