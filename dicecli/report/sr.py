"""DICOM Structured Report (``-o results.sr.dcm``): a TID 1500 Measurement Report per case,
written with highdicom, for the PACS beside the segmentation it describes.

Per scored structure one measurement group: a volumetric ROI referencing the segment of the DICOM
SEG (its SOP instance, segment number and the image series it was made on) -- or, for an
RTSTRUCT, a group tracked by the ROI's name with the structure set as evidence -- holding the
Dice and Jaccard coefficients against the reference, and the structure's volume in the
segmentation and in the reference (mL). The SEG or RTSTRUCT described is the prediction's when
it is one, else the reference's; a case with neither is an error naming it. Dice, Jaccard and the
reference volume have no code in DICOM's vocabularies: they are coded in a private scheme,
``99DICECLI``, declared in the report.
"""

from __future__ import annotations

import math
from typing import IO, TYPE_CHECKING, Any

from dicecli.errors import DiceCliError

if TYPE_CHECKING:
    import pandas as pd

    from dicecli.models import RunResult

SCHEME = "99DICECLI"

#: Modalities of the objects a report can describe.
SEGMENTATIONS = ("SEG", "RTSTRUCT")


def _codes() -> dict[str, Any]:
    from highdicom.sr import CodedConcept

    return {
        "dice": CodedConcept("DICE", SCHEME, "Dice similarity coefficient"),
        "iou": CodedConcept("JACCARD", SCHEME, "Jaccard index"),
        "ref_volume_ml": CodedConcept("REFVOL", SCHEME, "Volume of the reference segmentation"),
        "ratio": CodedConcept("1", "UCUM", "no units"),
        "ml": CodedConcept("ml", "UCUM", "milliliter"),
    }


def described(row: dict[str, Any]) -> tuple[str, str]:
    """(path, "pred" or "gt") of the SEG or RTSTRUCT a case's report describes."""
    from dicecli.io.dicom import modality

    for side, column in (("pred", "pred_path"), ("gt", "gt_path")):
        path = row.get(column)
        if isinstance(path, str) and path and modality(path) in SEGMENTATIONS:
            return path, side
    raise DiceCliError(
        f"case {row['case']}: -o *.sr.dcm describes a DICOM SEG or RTSTRUCT, and neither "
        f"{row.get('pred_path')} nor {row.get('gt_path')} is one"
    )


def write_sr(result: RunResult, stream: IO[str], case: str | None = None) -> None:
    """The report of ``case`` (the only one, when None) into the binary file under ``stream``."""
    import pydicom

    cases = result.cases
    chosen = case if case is not None else str(cases["case"].iloc[0])
    rows = cases[cases["case"].astype(str) == chosen]
    if rows.empty:
        raise DiceCliError(f"case {chosen}: no rows to report")
    path, side = described({str(k): v for k, v in rows.iloc[0].to_dict().items()})
    source = pydicom.dcmread(path, stop_before_pixels=True)
    report = build_report(rows, source, side)
    stream.flush()
    target = getattr(stream, "buffer", stream)
    pydicom.dcmwrite(target, report, enforce_file_format=True)


def build_report(rows: pd.DataFrame, source: Any, side: str) -> Any:
    """A Comprehensive 3D SR (TID 1500) on ``source`` (the SEG or RTSTRUCT's header) from the
    case's rows; ``side`` says which column holds the source's segment numbers."""
    import highdicom as hd
    from pydicom.dataset import Dataset
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    from dicecli._version import __version__

    source = _with_type2(source)
    code = _codes()
    algorithm = hd.sr.AlgorithmIdentification(name="dicecli", version=__version__)
    device = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=generate_uid(), name="dicecli", manufacturer_name="dicecli developers"
        ),
    )
    groups = []
    is_seg = str(getattr(source, "Modality", "")) == "SEG"
    series = _source_series(source) if is_seg else None
    numbers_column = "pred_values" if side == "pred" else "ref_values"
    for row in rows.to_dict(orient="records"):
        own, other = ("pred_volume_ml", "ref_volume_ml")[:: 1 if side == "pred" else -1]
        wanted = (
            ("dice", code["dice"], code["ratio"]),
            ("iou", code["iou"], code["ratio"]),
            (own, codes.SCT.Volume, code["ml"]),
            (other, code["ref_volume_ml"], code["ml"]),
        )
        measurements = [
            hd.sr.Measurement(name=name, value=float(row[key]), unit=unit, algorithm_id=algorithm)
            for key, name, unit in wanted
            if _finite(row.get(key))
        ]
        tracking = hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=str(row["label"]))
        numbers = _numbers(row.get(numbers_column))
        if is_seg and len(numbers) == 1 and series is not None:
            segment = hd.sr.ReferencedSegment(
                sop_class_uid=source.SOPClassUID,
                sop_instance_uid=source.SOPInstanceUID,
                segment_number=numbers[0],
                source_series=hd.sr.SourceSeriesForSegmentation(series),
            )
            groups.append(
                hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
                    tracking_identifier=tracking,
                    referenced_segment=segment,
                    measurements=measurements,
                    algorithm_id=algorithm,
                )
            )
        else:  # an RTSTRUCT ROI, or a union of segments: tracked by its name
            groups.append(
                hd.sr.MeasurementsAndQualitativeEvaluations(
                    tracking_identifier=tracking, measurements=measurements, algorithm_id=algorithm
                )
            )
    content = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=device),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion
        if str(getattr(source, "Modality", "")) != "MR"
        else codes.LN.MRUnspecifiedBodyRegion,
        imaging_measurements=groups,
    )
    report = hd.sr.Comprehensive3DSR(
        evidence=[source],
        content=content,
        series_instance_uid=generate_uid(),
        series_number=9901,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="dicecli",
        series_description="dicecli: segmentation quality",
    )
    scheme = Dataset()
    scheme.CodingSchemeDesignator = SCHEME
    scheme.CodingSchemeName = "dicecli segmentation metrics"
    scheme.CodingSchemeResponsibleOrganization = "dicecli developers"
    report.CodingSchemeIdentificationSequence = [scheme]
    return report


#: Patient and study attributes a report copies from its evidence: present, if empty, in any
#: valid object (Type 2), but some writers leave them out altogether.
_TYPE2 = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
)


def _with_type2(source: Any) -> Any:
    import copy

    missing = [name for name in _TYPE2 if name not in source]
    if not missing:
        return source
    filled = copy.deepcopy(source)
    for name in missing:
        setattr(filled, name, "")
    return filled


def _source_series(source: Any) -> str | None:
    referenced = getattr(source, "ReferencedSeriesSequence", None)
    if referenced:
        return str(referenced[0].SeriesInstanceUID)
    return None


def _numbers(text: Any) -> list[int]:
    if not isinstance(text, str) or not text.strip():
        return []
    try:
        return [int(v) for v in text.split("+")]
    except ValueError:
        return []


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
