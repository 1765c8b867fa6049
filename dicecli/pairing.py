"""Find cases and pair predictions with references. Paths only: nothing here reads voxels."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dicecli.errors import PairingError, UsageError
from dicecli.io import case_id, format_suffix, is_mask_path
from dicecli.io.dicom import is_dicom_file
from dicecli.models import CasePair


@dataclass(frozen=True, slots=True)
class Pairing:
    """Cases found: ``pairs`` (``pred`` None where the prediction is missing), predictions with no
    reference, and files skipped because no reader knows them or ``--pattern`` did not match."""

    pairs: tuple[CasePair, ...]
    unmatched_predictions: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    #: case id -> why it cannot be scored (several files with that id); the case's error
    conflicts: Mapping[str, str] = field(default_factory=dict)

    @property
    def missing(self) -> tuple[CasePair, ...]:
        return tuple(p for p in self.pairs if p.pred is None)


def pair_cases(pred: str, gt: str, pattern: str | None = None) -> Pairing:
    """Pair two folders by case id, or two files (or two DICOM series folders) as one case."""
    for path, role in ((pred, "prediction"), (gt, "reference")):
        if not os.path.exists(path):
            raise PairingError(f"{path}: {role} path does not exist")
    regex = _compile(pattern)
    folders = [os.path.isdir(p) and not is_series_folder(p) for p in (pred, gt)]
    if not any(folders):
        return Pairing((CasePair(_case_of(gt, regex) or case_id(gt), pred, gt),))
    if not all(folders):
        raise PairingError(
            f"{pred} and {gt}: give two folders of cases or two masks (files or DICOM series "
            "folders), not one of each"
        )
    pred_found, pred_ignored = find_cases(pred, regex)
    gt_found, gt_ignored = find_cases(gt, regex)
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
    return Pairing(pairs, unmatched, pred_ignored + gt_ignored, conflicts)


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
            if entry.name.startswith(".") or not entry.is_file():
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


def find_cases(
    folder: str, regex: re.Pattern[str] | None
) -> tuple[dict[str, list[str]], tuple[str, ...]]:
    """Case id -> paths for every mask (or DICOM series folder) in ``folder`` (several paths
    where ids collide), and the files skipped."""
    found: dict[str, list[str]] = {}
    ignored: list[str] = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.startswith("."):
            continue
        usable = is_series_folder(path) if os.path.isdir(path) else is_mask_path(path)
        case = _case_of(path, regex) if usable else None
        if case is None:
            ignored.append(path)
            continue
        found.setdefault(case, []).append(path)
    return found, tuple(ignored)


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
