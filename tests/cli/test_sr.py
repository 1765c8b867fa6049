"""``-o results.sr.dcm``: a TID 1500 measurement report read back with highdicom (and checked by
dicom3tools' dciodvfy where it is installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import highdicom as hd
import numpy as np
import pydicom
import pytest
from conftest import ROOT, write_dicom_series, write_nifti
from make_examples import write_rtstruct, write_seg

from dicecli.cli import cli

EXAMPLE = os.path.join(ROOT, "examples", "dicom-seg")


def seg_prediction_case(tmp_path, name: str = "case1") -> tuple[str, str]:
    """A CT series, a SEG prediction of two segments made on it, and a NIfTI reference."""
    shape = (16, 12, 4)
    series = write_dicom_series(str(tmp_path / "ct" / name), np.zeros(shape, np.int16))
    liver = np.zeros(shape, bool)
    liver[2:12, 2:10, 1:3] = True
    tumour = np.zeros(shape, bool)
    tumour[4:7, 4:7, 1:3] = True
    (tmp_path / "pred").mkdir(exist_ok=True)
    (tmp_path / "gt").mkdir(exist_ok=True)
    pred = write_seg(str(tmp_path / "pred" / f"{name}.dcm"), series,
                     np.stack([liver, tumour], axis=-1), ["Liver", "Tumour"])  # fmt: skip
    reference = np.zeros(shape, np.uint8)
    reference[3:12, 2:10, 1:3] = 1
    reference[4:8, 4:7, 1:3] = 2
    image = pydicom.dcmread(os.path.join(series, sorted(os.listdir(series))[0]))
    spacing = (float(image.PixelSpacing[1]), float(image.PixelSpacing[0]), 3.0)
    write_nifti(str(tmp_path / "gt" / f"{name}.nii.gz"), reference, spacing)
    return pred, series


def test_the_report_references_each_segment_and_holds_the_scores(runner, tmp_path):
    pred, _ = seg_prediction_case(tmp_path)
    table = tmp_path / "names.json"
    table.write_text(json.dumps({"1": "liver", "2": "tumour"}))
    out, report = tmp_path / "r.sr.dcm", tmp_path / "r.json"
    result = runner.invoke(cli, ["score", str(tmp_path / "pred"), str(tmp_path / "gt"),
                                 "--ref-label-table", str(table), "--geometry", "warn",
                                 "-o", str(out), "-o", str(report), "--no-progress"])  # fmt: skip
    assert result.exit_code == 0, result.output
    sr = hd.sr.srread(str(out))
    seg = pydicom.dcmread(pred, stop_before_pixels=True)
    assert sr.StudyInstanceUID == seg.StudyInstanceUID
    assert sr.PatientID == seg.PatientID
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    assert evidence.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == seg.SOPInstanceUID
    rows = {r["label"]: r for r in json.loads(report.read_text())["cases"]}
    groups = sr.content.get_volumetric_roi_measurement_groups()
    assert len(groups) == 2
    for group in groups:
        label = str(group.tracking_identifier)
        segment = group.referenced_segment
        assert segment.referenced_sop_instance_uid == seg.SOPInstanceUID
        assert segment.referenced_segment_numbers == [int(rows[label]["pred_values"])]
        values = {m.name.meaning: m.value for m in group.get_measurements()}
        assert values["Dice similarity coefficient"] == pytest.approx(rows[label]["dice"])
        assert values["Jaccard index"] == pytest.approx(rows[label]["iou"])
        assert values["Volume"] == pytest.approx(rows[label]["pred_volume_ml"])
        assert values["Volume of the reference segmentation"] == pytest.approx(
            rows[label]["ref_volume_ml"]
        )
    if shutil.which("dciodvfy"):
        check = subprocess.run(["dciodvfy", str(out)], capture_output=True, text=True)
        errors = [line for line in (check.stdout + check.stderr).splitlines() if "Error" in line]
        assert errors == []


def test_several_cases_write_one_report_each(runner, tmp_path):
    for name in ("c1", "c2"):
        seg_prediction_case(tmp_path, name)
    table = tmp_path / "names.json"
    table.write_text(json.dumps({"1": "liver", "2": "tumour"}))
    out = tmp_path / "reports" / "quality.sr.dcm"
    result = runner.invoke(cli, ["score", str(tmp_path / "pred"), str(tmp_path / "gt"),
                                 "--ref-label-table", str(table), "--geometry", "warn",
                                 "-o", str(out), "--no-progress"])  # fmt: skip
    assert result.exit_code == 0, result.output
    written = sorted(os.listdir(tmp_path / "reports"))
    assert written == ["quality.c1.sr.dcm", "quality.c2.sr.dcm"]
    patients = {hd.sr.srread(str(tmp_path / "reports" / n)).SOPInstanceUID for n in written}
    assert len(patients) == 2


def test_a_reference_seg_is_described_when_the_prediction_is_not_dicom(runner, tmp_path):
    out = tmp_path / "r.sr.dcm"
    result = runner.invoke(cli, ["score", f"{EXAMPLE}/pred", f"{EXAMPLE}/gt", "-o", str(out),
                                 "--no-progress"])  # fmt: skip
    assert result.exit_code == 0, result.output
    sr = hd.sr.srread(str(out))
    seg = pydicom.dcmread(f"{EXAMPLE}/gt/case1.dcm", stop_before_pixels=True)
    segments = [g.referenced_segment for g in sr.content.get_volumetric_roi_measurement_groups()]
    assert {s.referenced_sop_instance_uid for s in segments} == {seg.SOPInstanceUID}


def test_an_rtstruct_is_reported_by_roi_name(runner, tmp_path):
    shape = (16, 12, 4)
    series = write_dicom_series(str(tmp_path / "ct"), np.zeros(shape, np.int16))
    square = [(2, 2), (10, 2), (10, 9), (2, 9)]
    rois = {"GTV": [(1, square), (2, square)]}
    pred = write_rtstruct(str(tmp_path / "pred.dcm"), series, rois)
    gt = write_rtstruct(str(tmp_path / "gt.dcm"), series, rois)
    out = tmp_path / "r.sr.dcm"
    result = runner.invoke(cli, ["score", pred, gt, "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    sr = hd.sr.srread(str(out))
    groups = sr.content.get_planar_roi_measurement_groups() + list(
        sr.content.get_volumetric_roi_measurement_groups()
    )
    assert groups == []  # an RTSTRUCT has no segment to point at: a group tracked by name
    text = str(sr)
    assert "GTV" in text
    assert "Dice similarity coefficient" in text


def test_a_report_needs_a_dicom_segmentation(runner, tmp_path):
    nifti = os.path.join(ROOT, "examples", "nifti")
    result = runner.invoke(cli, ["score", f"{nifti}/pred", f"{nifti}/gt", "-o",
                                 str(tmp_path / "r.sr.dcm"), "--no-progress"])  # fmt: skip
    assert result.exit_code == 3
    assert "describes a DICOM SEG or RTSTRUCT, and neither" in result.output
    assert not list(tmp_path.glob("*.sr.dcm"))
