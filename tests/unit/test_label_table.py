"""Label tables as the field writes them, each transcribed in its published layout: nnU-Net v2
``dataset.json`` (a region as a list), the Medical Segmentation Decathlon's v1 form, BIDS
``dseg.tsv``, ITK-SNAP label descriptions, FreeSurfer's colour LUT, a 3D Slicer colour table, a
plain JSON object either way; and finding one beside the data."""

from __future__ import annotations

import pytest

from dicecli.errors import UsageError
from dicecli.io.label_table import find_table, read_table
from dicecli.models import Structure


def table(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_table(str(path))


def test_nnunet_v2_dataset_json_with_a_region(tmp_path):
    got = table(
        tmp_path,
        "dataset.json",
        '{"channel_names": {"0": "T2"}, "labels": {"background": 0, "PZ": 1, "TZ": 2,'
        ' "whole_prostate": [1, 2]}, "numTraining": 32, "file_ending": ".nii.gz"}',
    )
    assert got == (
        Structure("background", (0,)),
        Structure("PZ", (1,)),
        Structure("TZ", (2,)),
        Structure("whole_prostate", (1, 2)),
    )


def test_decathlon_v1_dataset_json_value_to_name(tmp_path):
    got = table(
        tmp_path,
        "dataset.json",
        '{"labels": {"0": "background", "1": "Anterior", "2": "Posterior"}}',
    )
    assert [s.name for s in got] == ["background", "Anterior", "Posterior"]
    assert got[2].values == (2,)


def test_plain_json_either_way(tmp_path):
    assert table(tmp_path, "a.json", '{"5": "liver", "1": "spleen"}') == (
        Structure("spleen", (1,)),
        Structure("liver", (5,)),
    )
    assert table(tmp_path, "b.json", '{"liver": 5, "spleen": "1"}')[0] == Structure("spleen", (1,))


def test_bids_dseg_tsv_with_extra_columns(tmp_path):
    got = table(
        tmp_path,
        "sub-01_dseg.tsv",
        "index\tname\tabbreviation\tcolor\tmapping\n"
        "0\tBackground\tBG\t#000000\t0\n1\tGray Matter\tGM\t#ff53bb\t1\n"
        "2\tWhite Matter\tWM\t#2f8bbe\t2\n",
    )
    assert [(s.name, s.values) for s in got] == [
        ("Background", (0,)),
        ("Gray Matter", (1,)),
        ("White Matter", (2,)),
    ]


def test_itk_snap_label_description_file(tmp_path):
    text = (
        "################################################\n"
        "# ITK-SnAP Label Description File\n"
        "# File format: \n"
        "# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL\n"
        "# Fields: \n"
        "################################################\n"
        '    0     0    0    0        0  0  0    "Clear Label"\n'
        '    1   255    0    0        1  1  1    "Left Hippocampus"\n'
        '   12     0  255    0        1  1  1    "Label 12"\n'
    )
    got = table(tmp_path, "labels.txt", text)
    assert [(s.name, s.values) for s in got] == [
        ("Clear Label", (0,)),
        ("Left Hippocampus", (1,)),
        ("Label 12", (12,)),
    ]


def test_freesurfer_colour_lut_and_slicer_colour_table(tmp_path):
    lut = table(
        tmp_path,
        "FreeSurferColorLUT.txt",
        "#$Id: FreeSurferColorLUT.txt,v 1.105 2015/07/29 18:28:23 greve Exp $\n\n"
        "#No. Label Name:                            R   G   B   A\n\n"
        "0   Unknown                                 0   0   0   0\n"
        "4   Left-Lateral-Ventricle                  120 18  134 0\n"
        "1000    ctx-lh-unknown                      25  5   25  0\n",
    )
    assert [(s.name, s.values) for s in lut][1:] == [
        ("Left-Lateral-Ventricle", (4,)),
        ("ctx-lh-unknown", (1000,)),
    ]
    slicer = table(
        tmp_path,
        "GenericColors.ctbl",
        "# Color table file\n# 2 values\n0 Background 0 0 0 0\n1 tissue 128 174 128 255\n",
    )
    assert slicer[1] == Structure("tissue", (1,))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        pytest.param("t.json", '{"labels": {"a": "x"}}', "give a whole number", id="json-value"),
        pytest.param("t.json", "[1, 2]", "a JSON label table is an object", id="json-list"),
        pytest.param("t.json", '{"labels": {"a": 1, "a_": 2, "A": 3}}', "two labels", id="names"),
        pytest.param("t.tsv", "index\tname\nx\tliver\n", ":2: needs a whole-number", id="tsv"),
        pytest.param("t.txt", '1 "unclosed\n', "cannot read this line", id="quote"),
        pytest.param("t.txt", "# only comments\n", "names no label", id="empty"),
    ],
)
def test_malformed_tables_are_usage_errors_naming_the_file(tmp_path, name, text, message):
    with pytest.raises(UsageError, match=message) as raised:
        table(tmp_path, name, text)
    assert str(tmp_path / name) in str(raised.value)


def test_find_table_beside_the_data(tmp_path):
    data = tmp_path / "Dataset001_Liver" / "labelsTr"
    data.mkdir(parents=True)
    (data / "liver_001.nii.gz").write_bytes(b"x")
    assert find_table(str(data / "liver_001.nii.gz")) is None
    (tmp_path / "Dataset001_Liver" / "dataset.json").write_text('{"labels": {"liver": 1}}')
    found = find_table(str(data / "liver_001.nii.gz"))
    assert found is not None
    assert found.endswith("Dataset001_Liver/dataset.json")
    (data / "dataset.json").write_text('{"name": "not a label table"}')  # no "labels": passed
    assert find_table(str(data / "liver_001.nii.gz")) == found
    (data / "sub-01_dseg.nii.gz").write_bytes(b"x")
    (data / "sub-01_dseg.tsv").write_text("index\tname\n1\tliver\n")
    assert find_table(str(data / "sub-01_dseg.nii.gz")).endswith("sub-01_dseg.tsv")


def test_freesurfer_home_names_mgz_files(tmp_path, monkeypatch):
    (tmp_path / "fs").mkdir()
    (tmp_path / "fs" / "FreeSurferColorLUT.txt").write_text(
        "0 Unknown 0 0 0 0\n17 Left-Hippocampus 1 2 3 0\n"
    )
    (tmp_path / "aseg.mgz").write_bytes(b"x")
    (tmp_path / "seg.nii.gz").write_bytes(b"x")
    monkeypatch.delenv("FREESURFER_HOME", raising=False)
    assert find_table(str(tmp_path / "aseg.mgz")) is None
    monkeypatch.setenv("FREESURFER_HOME", str(tmp_path / "fs"))
    assert find_table(str(tmp_path / "aseg.mgz")) == str(tmp_path / "fs" / "FreeSurferColorLUT.txt")
    assert find_table(str(tmp_path / "seg.nii.gz")) is None  # not a FreeSurfer volume
