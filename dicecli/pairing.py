"""Find cases and pair predictions with references. Paths only: nothing here reads voxels."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dicecli.errors import PairingError, UsageError
from dicecli.io import case_id, format_suffix, is_mask_path, reader_for
from dicecli.io.dicom import is_dicom_file
from dicecli.io.folder import is_structure_folder
from dicecli.io.label_table import is_label_table
from dicecli.models import CasePair, LayoutPolicy


@dataclass(frozen=True, slots=True)
class Pairing:
    """Cases found: ``pairs`` (``pred`` None where the prediction is missing), predictions with no
    reference, and files skipped because no reader knows them or ``--pattern`` did not match."""

    pairs: tuple[CasePair, ...]
    unmatched_predictions: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    #: entries that could not even be looked at (a symbolic link loop, no permission)
    unreadable: tuple[str, ...] = ()
    #: case id -> why it cannot be scored (several files with that id); the case's error
    conflicts: Mapping[str, str] = field(default_factory=dict)
    #: the folder of predictions paired (empty for a manifest): named in the warnings
    predictions: str = ""

    @property
    def missing(self) -> tuple[CasePair, ...]:
        return tuple(p for p in self.pairs if p.pred is None)


def pair_cases(
    pred: str, gt: str, pattern: str | None = None, layout: LayoutPolicy = "auto"
) -> Pairing:
    """Pair two folders of cases by case id, or take two masks as one case.

    A case is a mask file, a DICOM series folder or a folder of per-structure masks. Two
    folders are folders of cases (``layout="auto"`` or ``"cases"``), whose entries are cases;
    a folder against a mask file is that case's structure folder (``"auto"``);
    ``layout="structures"`` takes PRED and GT as one case whatever they are.
    """
    for path, role in ((pred, "prediction"), (gt, "reference")):
        if not os.path.exists(path):
            raise PairingError(f"{path}: {role} path does not exist")
    regex = _compile(pattern)
    one_case = Pairing((CasePair(_case_of(gt, regex) or case_id(gt), pred, gt),))
    if layout == "structures":
        return one_case
    folders = [os.path.isdir(p) and not is_series_folder(p) for p in (pred, gt)]
    if not any(folders):
        return one_case
    if not all(folders):
        folder = pred if folders[0] else gt
        if layout == "auto" and is_structure_folder(folder):
            return one_case  # a structure folder against a multilabel file or a SEG
        raise PairingError(
            f"{pred} and {gt}: give two folders of cases, or two masks (files, DICOM series "
            "folders or folders of per-structure masks), not one of each"
        )
    pred_found, pred_ignored, pred_unreadable = _cases(pred, regex)
    gt_found, gt_ignored, gt_unreadable = _cases(gt, regex)
    conflicts = {
        case: _duplicates(case, paths)
        for found in (pred_found, gt_found)
        for case, paths in found.items()
        if len(paths) > 1 and case in gt_found
    }
    pairs = tuple(
        CasePair(c, pred_found[c][0] if c in pred_found else None, gt_found[c][0])
        for c in sorted(gt_found)
        if c not in conflicts
    )
    unmatched = tuple(p for c in sorted(set(pred_found) - set(gt_found)) for p in pred_found[c])
    unreadable = pred_unreadable + gt_unreadable
    return Pairing(
        pairs,
        unmatched,
        pred_ignored + gt_ignored,
        unreadable=unreadable,
        conflicts=conflicts,
        predictions=pred,
    )


def _duplicates(case: str, paths: list[str]) -> str:
    return (
        f"{', '.join(paths)}: several files share the case id {case!r}; keep one file per case "
        "or set --pattern"
    )


def pairs_from_manifest(manifest: str) -> Pairing:
    """Read ``case,pred,gt`` rows; relative paths are relative to the manifest's folder."""
    base = os.path.dirname(os.path.abspath(manifest))
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
            columns = set(rows[0]) if rows else set()
    except OSError as e:
        raise PairingError(f"{manifest}: cannot read the pairs manifest ({e.strerror})") from e
    if not rows:
        return Pairing(())
    if not {"case", "pred", "gt"} <= columns:
        raise PairingError(
            f"{manifest}: the pairs manifest needs the columns case,pred,gt "
            f"(found {','.join(sorted(c for c in columns if c))})"
        )
    pairs: dict[str, CasePair] = {}
    for line, row in enumerate(rows, start=2):
        case, pred, gt = ((row.get(k) or "").strip() for k in ("case", "pred", "gt"))
        if not case or not gt:
            raise PairingError(f"{manifest}:{line}: every row needs a case id and a gt path")
        if case in pairs:
            raise PairingError(f"{manifest}:{line}: case {case!r} is listed twice")
        pairs[case] = CasePair(
            case, os.path.join(base, pred) if pred else None, os.path.join(base, gt)
        )
    return Pairing(tuple(pairs.values()))


def is_series_folder(path: str) -> bool:
    """A folder that directly holds DICOM image files is one DICOM series (one case); a folder of
    SEG or RTSTRUCT files is a folder of cases."""
    if not os.path.isdir(path):
        return False
    from dicecli.io.dicom import NOT_IMAGES, modality

    with os.scandir(path) as entries:
        for entry in entries:
            if entry.name.startswith(".") or not _is_file(entry):
                continue
            dicom = entry.name.lower().endswith((".dcm", ".dicom")) or (
                format_suffix(entry.name) is None and is_dicom_file(entry.path)
            )
            if dicom:
                return modality(entry.path) not in NOT_IMAGES
    return False


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        regex = re.compile(pattern)
    except re.error as e:
        raise UsageError(f"--pattern: not a valid regular expression ({e})") from e
    if "case" not in regex.groupindex:
        raise UsageError("--pattern needs a named group 'case', e.g. '(?P<case>\\d+)_pred'")
    return regex


def _case_of(path: str, regex: re.Pattern[str] | None) -> str | None:
    if regex is None:
        return case_id(path)
    match = regex.search(os.path.basename(os.path.normpath(path)))
    return match["case"] if match else None


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:  # a symbolic link loop, a file that went away: not a file to read here
        return False


def find_cases(
    folder: str, regex: re.Pattern[str] | None
) -> tuple[dict[str, list[str]], tuple[str, ...]]:
    """Case id -> paths for every mask (or DICOM series folder, or folder of per-structure
    masks) in ``folder`` (several paths where ids collide), and the files skipped."""
    found, ignored, unreadable = _cases(folder, regex)
    return found, ignored + unreadable


def _cases(
    folder: str, regex: re.Pattern[str] | None
) -> tuple[dict[str, list[str]], tuple[str, ...], tuple[str, ...]]:
    """``find_cases``, with the entries that could not be looked at apart."""
    found: dict[str, list[str]] = {}
    ignored: list[str] = []
    unreadable: list[str] = []
    try:
        names = sorted(os.listdir(folder))
    except OSError as e:
        raise PairingError(f"{folder}: cannot list the folder ({e.strerror})") from e
    for name in names:
        path = os.path.join(folder, name)
        if name.startswith("."):
            continue
        try:
            os.stat(path)
        except OSError:  # a symbolic link loop or to nothing, no permission
            unreadable.append(path)
            continue
        if os.path.isdir(path):
            usable = is_series_folder(path) or is_structure_folder(path)
        else:
            usable = is_mask_path(path)
        case = _case_of(path, regex) if usable else None
        if case is None:
            if not is_label_table(path):  # a dataset.json or dseg.tsv names the masks
                ignored.append(path)
            continue
        found.setdefault(case, []).append(path)
    return found, tuple(ignored), tuple(unreadable)


def index_folder(
    folder: str, regex: re.Pattern[str] | None
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Case id -> path for every mask in ``folder``, and the files skipped; duplicate ids are an
    error (the image folder of a report: no case to attach the error to)."""
    found, ignored = find_cases(folder, regex)
    dupes = {c: ps for c, ps in found.items() if len(ps) > 1}
    if dupes:
        listed = "; ".join(f"{c}: {', '.join(ps)}" for c, ps in sorted(dupes.items()))
        raise PairingError(
            f"{folder}: several files share a case id ({listed}); keep one file per case "
            "or set --pattern"
        )
    return {c: ps[0] for c, ps in found.items()}, ignored


#: Readers whose files are label maps a table may name (not DICOM, not a structure folder).
_TABLE_READERS = ("nifti", "itk", "nibabel", "numpy", "raster")


def with_found_tables(
    pairing: Pairing, find_pred: bool, find_gt: bool
) -> tuple[Pairing, tuple[str, ...]]:
    """Each case's label tables found beside its files (``io.label_table.find_table``) for the
    sides whose tables were not given, and one note per table (or per kind of table) found."""
    from dataclasses import replace

    from dicecli.io.label_table import find_table

    def found(path: str | None, wanted: bool) -> str | None:
        if not wanted or path is None or os.path.isdir(path):
            return None
        reader = reader_for(path)
        if (
            reader is None
            or reader.name not in _TABLE_READERS
            or path.lower().endswith((".seg.nrrd", ".seg.nhdr"))
        ):
            return None
        return find_table(path)

    pairs = tuple(
        replace(p, pred_table=found(p.pred, find_pred), gt_table=found(p.gt, find_gt))
        for p in pairing.pairs
    )
    notes = []
    for role, flag, tables in (
        ("reference", "--ref-label-table", [p.gt_table for p in pairs]),
        ("prediction", "--pred-label-table", [p.pred_table for p in pairs]),
    ):
        named = [t for t in tables if t]
        distinct = sorted(set(named))
        if len(distinct) == 1:
            notes.append(
                f"{distinct[0]} names the values of the {role} label maps (found beside them; "
                f"{flag} gives another, --no-find-label-tables none)"
            )
        elif distinct:
            notes.append(
                f"{len(named)} {role} label maps are named by the label tables found beside them "
                f"({len(distinct)} tables, e.g. {distinct[0]}; {flag} gives one for all)"
            )
    return replace(pairing, pairs=pairs), tuple(notes)
