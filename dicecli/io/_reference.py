"""Find the image series that a DICOM SEG or RT Structure Set refers to."""

from __future__ import annotations

import os

from dicecli.errors import MaskReadError


def find_series(
    owner: str,
    series_uid: str | None,
    frame_of_reference: str | None,
    reference_dir: str | None,
    what: str,
    optional: bool = False,
) -> str | None:
    """The folder holding the referenced image series: ``reference_dir`` (or one of its
    sub-folders), else the owner's folder, its sub-folders, its sibling folders and their
    sub-folders. Matched by SeriesInstanceUID, or by FrameOfReferenceUID when the owner names no
    series. Not found: None when ``optional`` (and no ``reference_dir`` was given), else an
    error."""
    for folder in _candidates(owner, reference_dir):
        uid, frame = _series_of(folder, owner)
        if uid is None:
            continue
        if (series_uid and uid == series_uid) or (
            not series_uid and frame_of_reference and frame == frame_of_reference
        ):
            return folder
    if optional and not reference_dir:
        return None
    where = f"--reference-image {reference_dir}" if reference_dir else "the folders beside it"
    wanted = f"series {series_uid}" if series_uid else f"frame of reference {frame_of_reference}"
    raise MaskReadError(
        f"{owner}: the {what} refers to image {wanted}, which is not in {where}; "
        "pass --reference-image DIR (the folder of that series)"
    )


def _candidates(owner: str, reference_dir: str | None) -> list[str]:
    if reference_dir:
        return [reference_dir, *_subfolders(reference_dir)]
    here = os.path.dirname(os.path.abspath(owner))
    siblings = _subfolders(os.path.dirname(here))
    nephews = [child for sibling in siblings for child in _subfolders(sibling)]
    seen: list[str] = []
    for folder in (here, *_subfolders(here), *siblings, *nephews):
        if folder not in seen:
            seen.append(folder)
    return seen


def _subfolders(folder: str) -> list[str]:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [
        os.path.join(folder, n)
        for n in names
        if not n.startswith(".") and os.path.isdir(os.path.join(folder, n))
    ]


def _series_of(folder: str, owner: str) -> tuple[str | None, str | None]:
    """SeriesInstanceUID and FrameOfReferenceUID of the first image file in ``folder``."""
    from dicecli.io.dicom import NOT_IMAGES, header, is_dicom_file

    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None, None
    for name in names:
        path = os.path.join(folder, name)
        if os.path.samefile(path, owner) if os.path.exists(path) else False:
            continue
        if not os.path.isfile(path) or not (is_dicom_file(path) or name.lower().endswith(".dcm")):
            continue
        ds = header(path)
        if ds is None or str(getattr(ds, "Modality", "")) in NOT_IMAGES:
            continue
        return str(getattr(ds, "SeriesInstanceUID", "")), str(
            getattr(ds, "FrameOfReferenceUID", "")
        )
    return None, None
