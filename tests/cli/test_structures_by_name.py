"""Structures by name, in the layouts the field writes. Every file is written here with the traits
of the real ones in ../shared/conformance (which .ci/run checks as well): a highdicom SEG numbered
1..n against a label map with TotalSegmentator's own values and a table; per-structure folders with
non-mask files beside them; a two-layer 3D Slicer .seg.nrrd (SimpleITK); a dataset.json region
given as a list; a BIDS dseg.tsv. Expected counts are computed here from the arrays."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from conftest import brute_counts, write_dicom_series
from make_examples import write_seg
from PIL import Image

from dicecli.cli import cli

SPACING, ORIGIN = (0.7, 0.8, 2.0), (-12.0, 5.0, 40.0)
SHAPE = (24, 20, 6)
#: TotalSegmentator's own values for three structures (its class map)
TOTALSEG = {"spleen": 1, "liver": 5, "aorta": 52}


def affine() -> np.ndarray:
    """The RAS affine of the LPS series grid below."""
    a = np.diag([-SPACING[0], -SPACING[1], SPACING[2], 1.0])
    a[:3, 3] = (-ORIGIN[0], -ORIGIN[1], ORIGIN[2])
    return a


def save(path, array) -> str:
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    nib.save(nib.Nifti1Image(np.asarray(array, np.uint8), affine()), str(path))
    return str(path)


def organs() -> dict[str, np.ndarray]:
    masks = {name: np.zeros(SHAPE, bool) for name in TOTALSEG}
    masks["spleen"][2:8, 2:8, 1:4] = True
    masks["liver"][9:18, 3:12, 1:5] = True
    masks["aorta"][4:7, 12:16, 0:6] = True
    return masks


def label_map(masks: dict[str, np.ndarray], values: dict[str, int]) -> np.ndarray:
    out = np.zeros(SHAPE, np.uint8)
    for name, mask in masks.items():
        out[mask] = values[name]
    return out


def rows_of(result) -> dict[str, dict[str, str]]:
    assert result.exit_code == 0, result.output
    return {r["label"]: r for r in csv.DictReader(io.StringIO(result.stdout))}


def counts(row) -> tuple[int, int, int, int]:
    return tuple(int(row[k]) for k in ("tp", "fp", "fn", "tn"))


def score(runner, *args):
    return runner.invoke(cli, ["score", *map(str, args), "--format", "csv", "-j", "1"])


def test_seg_numbered_1_to_n_against_a_label_map_with_other_values(runner, tmp_path):
    """A SEG made by a writer that numbers segments 1..n against the label map it came from
    (values 1, 5, 52): refused without a table (it used to score 1 of 3 right, exit 0); with a
    table, every structure is matched by name -- "Liver" to "liver" -- and counted exactly."""
    write_dicom_series(str(tmp_path / "study" / "ct"), np.zeros(SHAPE, np.int16), SPACING, ORIGIN)
    reference = organs()
    names = ["Spleen", "Liver", "Aorta"]
    stack = np.stack([reference[n.lower()] for n in names], axis=-1)
    seg = write_seg(
        str(tmp_path / "study" / "seg.dcm"), str(tmp_path / "study" / "ct"), stack, names
    )
    predicted = organs()
    predicted["liver"][9:12] = False  # the model misses part of the liver
    labels = label_map(predicted, TOTALSEG)
    pred = save(tmp_path / "pred" / "case.nii.gz", labels)

    guessed = score(runner, pred, seg)
    assert guessed.exit_code == 3
    error = next(line for line in guessed.stderr.splitlines() if line.startswith("error:"))
    assert "names nothing (values 1, 5, 52)" in error
    assert "numbered 1-3" in error
    assert "--pred-label-table" in error

    table = tmp_path / "totalseg.json"
    table.write_text(json.dumps({"labels": {"background": 0, **TOTALSEG}}))
    rows = rows_of(score(runner, pred, seg, "--pred-label-table", table))
    assert list(rows) == names
    for name in names:
        expected = brute_counts(reference[name.lower()], predicted[name.lower()], (True,))
        assert counts(rows[name]) == expected, name
        assert rows[name]["ref_values"] == str(names.index(name) + 1)  # the segment number
        assert rows[name]["pred_values"] == str(TOTALSEG[name.lower()])  # the label value
    assert float(rows["Liver"]["dice"]) < 1.0 == float(rows["Aorta"]["dice"])


def test_a_label_map_whose_values_are_exactly_the_segment_numbers_needs_no_table(runner, tmp_path):
    write_dicom_series(str(tmp_path / "study" / "ct"), np.zeros(SHAPE, np.int16), SPACING, ORIGIN)
    reference = organs()
    names = ["spleen", "liver", "aorta"]
    stack = np.stack([reference[n] for n in names], axis=-1)
    seg = write_seg(
        str(tmp_path / "study" / "seg.dcm"), str(tmp_path / "study" / "ct"), stack, names
    )
    labels = label_map(reference, {n: i + 1 for i, n in enumerate(names)})
    rows = rows_of(score(runner, save(tmp_path / "p.nii.gz", labels), seg))
    assert [float(rows[n]["dice"]) for n in names] == [1.0, 1.0, 1.0]
    # an empty prediction names nothing and guesses nothing: every structure missed
    rows = rows_of(score(runner, save(tmp_path / "e.nii.gz", np.zeros(SHAPE)), seg))
    assert [float(rows[n]["dice"]) for n in names] == [0.0, 0.0, 0.0]


def structure_folder(folder, masks, extras=True) -> str:
    """TotalSegmentator's default output: one binary NIfTI per structure, with its
    statistics.json and preview PNG beside them."""
    for name, mask in masks.items():
        save(os.path.join(folder, f"{name}.nii.gz"), mask)
    if extras:
        with open(os.path.join(folder, "statistics.json"), "w") as f:
            json.dump({n: {"volume": 1.0} for n in masks}, f)
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(os.path.join(folder, "preview_total.png"))
    return str(folder)


def test_structure_folder_against_a_multilabel_file_named_by_its_dataset_json(runner, tmp_path):
    """dataset.json beside the label map names it (said on stderr); a region given as a list is
    the union of its values on the label map's side, and a row "not in prediction" where the
    structure folder has no file of that name; the folder's brain.nii.gz has no reference."""
    reference = organs()
    gt = save(tmp_path / "gt" / "s01.nii.gz", label_map(reference, TOTALSEG))
    (tmp_path / "gt" / "dataset.json").write_text(
        json.dumps({"labels": {"background": 0, **TOTALSEG, "abdomen": [1, 5]}})
    )
    predicted = {**organs(), "brain": np.zeros(SHAPE, bool)}
    predicted["spleen"][2:4] = False
    pred = structure_folder(tmp_path / "pred" / "s01", predicted)
    result = score(runner, pred, gt)
    rows = rows_of(result)
    assert list(rows) == ["spleen", "liver", "aorta", "abdomen", "brain"]
    for name in TOTALSEG:
        assert counts(rows[name]) == brute_counts(reference[name], predicted[name], (True,))
    union = reference["spleen"] | reference["liver"]
    assert counts(rows["abdomen"]) == brute_counts(union, np.zeros(SHAPE, bool), (True,))
    assert (rows["abdomen"]["ref_values"], rows["abdomen"]["absent"]) == ("1+5", "prediction")
    assert (rows["brain"]["absent"], rows["brain"]["empty"]) == ("reference", "both")
    assert "dataset.json names the values of the reference label maps" in result.stderr
    assert "the prediction names no structure abdomen (1 case)" in result.stderr
    assert "statistics.json" not in result.stderr
    assert "preview" not in result.stderr


def test_folders_of_case_folders_against_folders_of_multilabel_files(runner, tmp_path):
    reference = organs()
    table = tmp_path / "totalseg.json"
    table.write_text(json.dumps({str(v): k for k, v in TOTALSEG.items()}))  # value -> name
    expected = {}
    for i, case in enumerate(("s01", "s02", "s03")):
        predicted = organs()
        predicted["liver"][9 : 10 + i] = False
        structure_folder(tmp_path / "pred" / case, predicted, extras=i == 0)
        save(tmp_path / "gt" / f"{case}.nii.gz", label_map(reference, TOTALSEG))
        expected[case] = brute_counts(reference["liver"], predicted["liver"], (True,))
    result = score(runner, tmp_path / "pred", tmp_path / "gt", "--ref-label-table", table)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    liver = {r["case"]: counts(r) for r in rows if r["label"] == "liver"}
    assert liver == expected
    # the mixed layout, the other way round: case folders as the reference
    swapped = score(runner, tmp_path / "gt", tmp_path / "pred", "--pred-label-table", table)
    assert swapped.exit_code == 0, swapped.output


def test_one_case_folder_against_another_needs_layout_structures(runner, tmp_path):
    """Two folders are folders of cases; --layout structures says they are one case each."""
    reference = organs()
    predicted = organs()
    predicted["aorta"][:, :, :3] = False
    gt = structure_folder(tmp_path / "gt", reference, extras=False)
    pred = structure_folder(tmp_path / "pred", predicted, extras=False)
    rows = rows_of(score(runner, pred, gt, "--layout", "structures"))
    assert list(rows) == sorted(TOTALSEG)  # natural order of the file names
    assert {r["case"] for r in rows.values()} == {"gt"}
    for name in TOTALSEG:
        assert counts(rows[name]) == brute_counts(reference[name], predicted[name], (True,))
    as_cases = rows_of(score(runner, pred, gt))  # each file a case of one label
    assert set(as_cases) == {"1"}


def test_overlapping_structures_of_a_folder_are_each_their_own_mask(runner, tmp_path):
    body = np.zeros(SHAPE, bool)
    body[1:22, 1:19, :] = True
    masks = {"body": body, **organs()}
    gt = structure_folder(tmp_path / "gt", masks, extras=False)
    labels = label_map(organs(), TOTALSEG)
    labels[body & (labels == 0)] = 9
    table = tmp_path / "t.json"
    table.write_text(json.dumps({"labels": {"body": [1, 5, 9, 52], **TOTALSEG}}))
    rows = rows_of(score(runner, save(tmp_path / "p.nii.gz", labels), gt, "--label-table", table))
    assert [float(rows[n]["dice"]) for n in ("body", *TOTALSEG)] == [1.0] * 4
    assert int(rows["body"]["tp"]) == int(body.sum())


def slicer_file(path, layers, segments) -> str:
    """A 3D Slicer .seg.nrrd: ``layers`` (x, y, z, k) label layers and the header keys
    Segment<i>_Name / _LabelValue / _Layer of each (name, value, layer)."""
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    stacked = np.asarray(layers, np.uint8)
    if stacked.shape[-1] == 1:
        image = sitk.GetImageFromArray(np.ascontiguousarray(stacked[..., 0].T))
    else:  # ITK's vector image: components last, axes (z, y, x)
        image = sitk.GetImageFromArray(np.ascontiguousarray(stacked.transpose(2, 1, 0, 3)), True)
    image.SetSpacing((SPACING[0], SPACING[1], SPACING[2]))
    image.SetOrigin(ORIGIN)
    for i, (name, value, layer) in enumerate(segments):
        image.SetMetaData(f"Segment{i}_ID", f"Segment_{i + 1}")
        image.SetMetaData(f"Segment{i}_Name", name)
        image.SetMetaData(f"Segment{i}_LabelValue", str(value))
        image.SetMetaData(f"Segment{i}_Layer", str(layer))
    sitk.WriteImage(image, str(path), True)
    return str(path)


def test_slicer_two_layer_segmentation_scores_each_segment(runner, tmp_path):
    reference = organs()
    sphere = np.zeros(SHAPE, bool)
    sphere[6:14, 4:12, 1:5] = True  # overlaps spleen and liver
    layer0 = label_map(reference, {"spleen": 1, "liver": 2, "aorta": 3})
    layer1 = sphere.astype(np.uint8)  # value 1 again, on the second layer
    segments = [("Spleen", 1, 0), ("Liver", 2, 0), ("Aorta", 3, 0), ("Sphere", 1, 1)]
    seg = slicer_file(tmp_path / "case.seg.nrrd", np.stack([layer0, layer1], -1), segments)
    rows = rows_of(score(runner, seg, seg))
    assert list(rows) == ["Spleen", "Liver", "Aorta", "Sphere"]
    assert int(rows["Sphere"]["tp"]) == int(sphere.sum())
    assert int(rows["Spleen"]["tp"]) == int(reference["spleen"].sum())
    # against per-organ NIfTI files of the same grid, named by their files
    folder = structure_folder(tmp_path / "organs", {**organs(), "sphere": sphere}, extras=False)
    rows = rows_of(score(runner, folder, seg))
    assert all(float(rows[n]["dice"]) == 1.0 for n in ("Spleen", "Liver", "Aorta", "Sphere"))
    info = runner.invoke(cli, ["info", seg])
    assert info.exit_code == 0, info.output
    assert "Sphere" in info.stdout
    assert f"{int(sphere.sum()):>12,} voxels" in info.stdout


def test_slicer_single_layer_names_pair_with_a_nifti_of_the_same_case(runner, tmp_path):
    reference = organs()
    layer = label_map(reference, {"spleen": 1, "liver": 2, "aorta": 3})
    segments = [("spleen", 1, 0), ("liver", 2, 0), ("aorta", 3, 0)]
    slicer_file(tmp_path / "gt" / "case.seg.nrrd", layer[..., None], segments)
    save(tmp_path / "pred" / "case.nii.gz", label_map(reference, TOTALSEG))
    table = tmp_path / "t.tsv"
    table.write_text("index\tname\n" + "".join(f"{v}\t{k}\n" for k, v in TOTALSEG.items()))
    rows = rows_of(score(runner, tmp_path / "pred", tmp_path / "gt", "--pred-label-table", table))
    assert {r["case"] for r in rows.values()} == {"case"}  # case.seg.nrrd is case "case"
    assert [float(rows[n]["dice"]) for n in TOTALSEG] == [1.0, 1.0, 1.0]


def test_a_bids_dseg_tsv_beside_each_file_names_it(runner, tmp_path):
    reference = organs()
    for side in ("pred", "gt"):
        save(tmp_path / side / "sub-01_dseg.nii.gz", label_map(reference, TOTALSEG))
        (tmp_path / side / "sub-01_dseg.tsv").write_text(
            "index\tname\tabbreviation\n"
            + "".join(f"{v}\t{k.title()}\t{k[:3]}\n" for k, v in TOTALSEG.items())
        )
    result = score(runner, tmp_path / "pred", tmp_path / "gt")
    rows = rows_of(result)
    assert list(rows) == ["Spleen", "Liver", "Aorta"]
    assert {r["case"] for r in rows.values()} == {"sub-01"}
    assert "sub-01_dseg.tsv names the values of the reference label maps" in result.stderr
    quiet = score(runner, tmp_path / "pred", tmp_path / "gt", "--no-find-label-tables")
    assert set(rows_of(quiet)) == {"1", "5", "52"}


def test_two_named_sides_are_matched_by_name_whatever_their_numbers(runner, tmp_path):
    reference, predicted = organs(), organs()
    predicted["spleen"][:, :, 1] = False
    ref_table = tmp_path / "ref.json"
    ref_table.write_text(json.dumps({"1": "Spleen", "5": "Liver", "52": "Aorta"}))
    pred_table = tmp_path / "pred.txt"  # ITK-SNAP label descriptions, other numbers
    pred_table.write_text(
        "################################################\n# ITK-SnAP Label Description File\n"
        '    0     0    0    0        0  0  0    "Clear Label"\n'
        '    1   255    0    0        1  1  1    "liver"\n'
        '    2     0  255    0        1  1  1    "SPLEEN"\n'
    )
    gt = save(tmp_path / "g.nii.gz", label_map(reference, TOTALSEG))
    pred = save(
        tmp_path / "p.nii.gz",
        label_map({k: predicted[k] for k in ("spleen", "liver")}, {"liver": 1, "spleen": 2}),
    )
    result = score(
        runner, pred, gt, "--ref-label-table", ref_table, "--pred-label-table", pred_table
    )
    rows = rows_of(result)
    assert list(rows) == ["Spleen", "Liver", "Aorta"]
    assert counts(rows["Spleen"]) == brute_counts(reference["spleen"], predicted["spleen"], (True,))
    assert (rows["Spleen"]["ref_values"], rows["Spleen"]["pred_values"]) == ("1", "2")
    assert (rows["Aorta"]["absent"], rows["Aorta"]["dice"]) == ("prediction", "0.0")
    # no name in common: an error, never a table of zeros
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"1": "hepar", "2": "lien"}))
    clash = score(runner, pred, gt, "--ref-label-table", ref_table, "--pred-label-table", other)
    assert clash.exit_code == 3
    assert "name no structure alike" in clash.stderr
    paired = score(
        runner,
        pred,
        gt,
        "--ref-label-table",
        ref_table,
        "--pred-label-table",
        other,
        "--labels",
        "liver=Liver+hepar",
    )
    assert float(rows_of(paired)["liver"]["dice"]) == 1.0


def test_a_table_that_misses_a_value_present_is_an_error(runner, tmp_path):
    gt = save(tmp_path / "g.nii.gz", label_map(organs(), TOTALSEG))
    table = tmp_path / "t.json"
    table.write_text(json.dumps({"spleen": 1, "liver": 5}))
    result = score(runner, gt, gt, "--label-table", table)
    assert result.exit_code == 3
    assert "values 52 have no name" in result.stderr


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        pytest.param('{"labels": {"a": 1, "b": 1}}', "t.json", "value 1 is named twice", id="dup"),
        pytest.param('{"labels": {"a": 1, "A": 2}}', "t.json", "two labels are named", id="name"),
        pytest.param("{nope", "t.json", "not valid JSON", id="json"),
        pytest.param("value\tlabel\n", "t.tsv", "'index' and a 'name' column", id="tsv"),
        pytest.param("1 liver\nx y\n", "t.txt", ":2: not a label line", id="lut"),
    ],
)
def test_a_bad_label_table_exits_2_naming_it(runner, tmp_path, content, name, message):
    table = tmp_path / name
    table.write_text(content)
    gt = save(tmp_path / "g.nii.gz", label_map(organs(), TOTALSEG))
    result = score(runner, gt, gt, "--label-table", table)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert str(table) in result.stderr


def test_binarize_takes_every_non_zero_voxel_on_both_sides(runner, tmp_path):
    instances = np.zeros(SHAPE, np.uint8)
    instances[2:6, 2:6, 1:3] = 1
    instances[10:14, 10:14, 2:5] = 7
    instances[16:20, 3:6, 0:2] = 51
    mask = (instances > 0).astype(np.uint8) * 255  # 0/255 against instance ids
    mask[16:20, 3:6, 0] = 0
    gt, pred = save(tmp_path / "g.nii.gz", instances), save(tmp_path / "p.nii.gz", mask)
    rows = rows_of(score(runner, pred, gt, "--binarize"))
    assert list(rows) == ["1"]
    assert counts(rows["1"]) == brute_counts(instances > 0, mask > 0, (True,))
    # --threshold makes only the prediction binary: an instance reference is refused, not
    # scored as 51 missed labels
    refused = score(runner, gt, gt, "--threshold", "0")
    assert refused.exit_code == 3
    assert "--binarize" in refused.stderr
    assert rows_of(score(runner, gt, gt, "--threshold", "0", "--binarize"))["1"]["dice"] == "1.0"


def test_nifti2_reads_print_nothing(tmp_path):
    """nibabel logs "sizeof_hdr should be 348" when a NIfTI-2 header is parsed as NIfTI-1: a
    real process's stderr shows it (pytest would capture the logger)."""
    labels = label_map(organs(), TOTALSEG)
    paths = [str(tmp_path / "n2.nii.gz"), str(tmp_path / "n2.nii")]
    for path in paths:
        nib.save(nib.Nifti2Image(labels, affine()), path)
    for path in paths:
        for command in (["score", path, path, "-j", "1"], ["info", path]):
            run = subprocess.run(
                [sys.executable, "-m", "dicecli", *command], capture_output=True, text=True
            )
            assert run.returncode == 0, run.stderr
            assert run.stderr == ""


def test_info_on_an_intensity_image_says_so_and_lists_20_values(runner, tmp_path, rng):
    ct = rng.integers(-1000, 1500, SHAPE).astype(np.int16)
    path = str(tmp_path / "ct.nii.gz")
    nib.save(nib.Nifti1Image(ct, affine()), path)
    result = runner.invoke(cli, ["info", path])
    assert result.exit_code == 0, result.output
    distinct = len(np.unique(ct))
    assert f"{distinct:,} distinct values: this looks like an image" in result.stdout
    assert result.stdout.count(" value ") == 20


def test_info_lists_a_structure_folder(runner, tmp_path):
    masks = organs()
    folder = structure_folder(tmp_path / "s01", masks)
    result = runner.invoke(cli, ["info", folder])
    assert result.exit_code == 0, result.output
    assert "not structures: preview_total.png, statistics.json" in result.stdout
    for name, mask in masks.items():
        line = next(line for line in result.stdout.splitlines() if f" {name}:" in line)
        assert f"{int(mask.sum()):,} voxels" in line
