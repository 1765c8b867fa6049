"""A toy metric, reader and writer, each registered in one place, appear everywhere with no other
edit: the CLI's choices and checks, the outputs, and the lists in ``--help``."""

from __future__ import annotations

import csv
import io
import json
import math
import os

import numpy as np
import pytest
from conftest import ROOT

from dicecli.cli import cli
from dicecli.io import Reader, readers, register_reader, unregister_reader
from dicecli.metrics.registry import Metric, register_metric, unregister_metric
from dicecli.models import Mask
from dicecli.report import Writer, register_writer, unregister_writer, writers

PNG = os.path.join(ROOT, "examples", "png")


def f2(tp: float, fp: float, fn: float) -> float:
    """F-beta with beta = 2 (recall weighs four times precision), by its textbook formula."""
    return 5 * tp / (5 * tp + 4 * fn + fp) if tp + fp + fn else math.nan


@pytest.fixture
def toy_metric():
    register_metric(
        Metric("f2", "overlap", "F-beta, beta 2", compute=lambda c, e, s: f2(c.tp, c.fp, c.fn))
    )
    yield
    unregister_metric("f2")


def score(runner, *args):
    return runner.invoke(cli, ["score", f"{PNG}/pred", f"{PNG}/gt", *args])


def test_a_toy_metric_appears_in_every_output_and_choice(runner, toy_metric, tmp_path):
    result = score(runner, "--format", "csv", "-o", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows
    for row in rows:  # the column is there and holds F2 of the row's own counts
        expected = f2(float(row["tp"]), float(row["fp"]), float(row["fn"]))
        assert float(row["f2"]) == pytest.approx(expected, rel=1e-12, nan_ok=True)
    report = json.loads((tmp_path / "r.json").read_text())
    assert all("f2" in case for case in report["cases"])
    assert all("f2_mean" in label for label in report["summary"])
    table = score(runner).stdout.splitlines()
    header = next(line for line in table if line.split()[:2] == ["case", "label"])
    assert header.split()[2:8] == ["dice", "iou", "precision", "recall", "specificity", "f2"]
    markdown = score(runner, "--format", "markdown").stdout
    assert "| specificity | f2 | pred mL |" in markdown
    # the gate accepts it, reads its direction and names it in the failure
    gated = score(runner, "--gate-metric", "f2", "--fail-under", "0.999")
    assert gated.exit_code == 1
    assert "f2" in gated.stderr
    helped = runner.invoke(cli, ["score", "--help"]).stdout
    assert "f2" in helped.split("--gate-metric")[1].split("--gate-empty")[0]
    assert "f2" in helped.split("Metrics: dice")[1]
    compared = runner.invoke(
        cli, ["compare", f"{PNG}/gt", f"{PNG}/pred", f"{PNG}/gt", "--format", "csv"]
    )
    assert compared.exit_code == 0, compared.output
    assert {r["metric"] for r in csv.DictReader(io.StringIO(compared.stdout))} >= {"dice", "f2"}


def test_without_the_toy_the_metric_is_refused(runner):
    result = score(runner, "--gate-metric", "f2")
    assert result.exit_code == 2
    assert "f2" in result.stderr


def read_toy(path: str, options) -> Mask:
    """A raw NumPy array saved under another suffix (dicecli reads .npy itself)."""
    with open(path, "rb") as f:
        array = np.load(f)
    n = array.ndim
    eye = tuple(float(i == j) for i in range(n) for j in range(n))
    return Mask(array, (1.0,) * n, (0.0,) * n, eye, path, "toy")


@pytest.fixture
def toy_reader():
    register_reader(Reader("toy", (".toyarr",), read_toy, has_geometry=False, title="Toy arrays"))
    yield
    unregister_reader("toy")


def save_toy(path, array) -> None:
    with open(path, "wb") as f:
        np.save(f, array)


def test_a_toy_reader_is_paired_read_and_listed(runner, toy_reader, tmp_path):
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 3, (20, 30, 4)).astype(np.uint8)
    pred = gt.copy()
    pred[:5] = 0
    for side, array in (("gt", gt), ("pred", pred)):
        (tmp_path / side).mkdir()
        save_toy(tmp_path / side / "case1.toyarr", array)
    result = runner.invoke(
        cli, ["score", str(tmp_path / "pred"), str(tmp_path / "gt"), "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    rows = {r["label"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    for label in (1, 2):
        g, p = gt == label, pred == label
        assert int(rows[str(label)]["tp"]) == int((g & p).sum())
        assert int(rows[str(label)]["fn"]) == int((g & ~p).sum())
        assert rows[str(label)]["pred_volume_ml"] == ""  # no geometry: no volumes
    info = runner.invoke(cli, ["info", str(tmp_path / "gt" / "case1.toyarr")])
    assert info.exit_code == 0, info.output
    helped = runner.invoke(cli, ["score", "--help"]).stdout
    assert "Toy arrays (.toyarr)" in helped.replace("\n", " ")


def test_without_the_toy_reader_the_format_is_unknown(runner, tmp_path):
    save_toy(tmp_path / "a.toyarr", np.zeros((3, 3), np.uint8))
    result = runner.invoke(cli, ["info", str(tmp_path / "a.toyarr")])
    assert result.exit_code == 3
    assert "unknown mask format" in result.stderr


def write_tsv(result, stream) -> None:
    result.cases.to_csv(stream, sep="\t", index=False)


@pytest.fixture
def toy_writer():
    register_writer(Writer("tsv", (".tsv",), write_tsv, title="tab-separated"))
    yield
    unregister_writer("tsv")


def test_a_toy_writer_is_a_format_an_extension_and_listed(runner, toy_writer, tmp_path):
    out = tmp_path / "r.tsv"
    result = score(runner, "--format", "tsv", "-o", str(out))
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split("\t")
    assert header[:4] == ["case", "label", "values", "dice"]
    assert out.read_text().splitlines()[0].split("\t") == header
    helped = runner.invoke(cli, ["score", "--help"]).stdout
    assert "tsv" in helped.split("--format")[1].split("\n")[0]
    assert ".tsv" in helped.split("--output")[1].split("--format")[0]
    # it writes no comparisons: compare neither offers nor accepts it
    compared = runner.invoke(
        cli, ["compare", f"{PNG}/gt", f"{PNG}/pred", f"{PNG}/gt", "-o", "x.tsv"]
    )
    assert compared.exit_code == 2
    assert ".tsv" in compared.stderr


def test_without_the_toy_writer_the_format_is_refused(runner):
    assert score(runner, "--format", "tsv").exit_code == 2
    assert score(runner, "-o", "r.tsv").exit_code == 2


def test_a_suffix_or_extension_belongs_to_one_entry():
    with pytest.raises(ValueError, match=r"\.nii\.gz already taken by nifti"):
        register_reader(Reader("other", (".nii.gz",), read_toy))
    with pytest.raises(ValueError, match=r"\.csv already taken by csv"):
        register_writer(Writer("other", (".csv",), write_tsv))
    with pytest.raises(ValueError, match="needs compute"):
        register_metric(Metric("f3", "overlap", "no formula"))
    assert "other" not in {w.name for w in writers()}
    assert "other" not in {r.name for r in readers()}
