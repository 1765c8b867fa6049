"""Outputs read back by their consumers' own libraries: OpenMetrics by prometheus_client's
parser (GitLab metrics reports), Parquet by pandas/pyarrow against the CSV."""

from __future__ import annotations

import importlib.util
import io
import json
import math
import os

import pandas as pd
import pytest
from conftest import ROOT

from dicecli.cli import cli

NIFTI = os.path.join(ROOT, "examples", "nifti")


def score(runner, *args):
    return runner.invoke(cli, ["score", f"{NIFTI}/pred", f"{NIFTI}/gt", *map(str, args),
                               "--no-progress"])  # fmt: skip


def test_openmetrics_parses_and_holds_the_summary_means(runner, tmp_path):
    parser = pytest.importorskip("prometheus_client.openmetrics.parser")
    prom, report = tmp_path / "metrics.prom", tmp_path / "r.json"
    result = score(runner, "--labels", "liver=1,spleen=2,kidney=3", "--fail-under", "0.5",
                   "-o", prom, "-o", report)  # fmt: skip
    assert result.exit_code == 0, result.output
    text = prom.read_text()
    assert text.endswith("# EOF\n")
    families = {f.name: f for f in parser.text_string_to_metric_families(text)}
    summary = {r["label"]: r for r in json.loads(report.read_text())["summary"]}
    for metric in ("dice", "iou", "precision", "recall", "specificity"):
        family = families[f"dicecli_{metric}_mean"]
        assert family.type == "gauge"
        got = {s.labels["label"]: s.value for s in family.samples}
        assert got == pytest.approx({k: v[f"{metric}_mean"] for k, v in summary.items()})
    cases = {s.labels["status"]: s.value for s in families["dicecli_cases"].samples}
    assert cases == {"scored": 5, "failed": 0}
    assert families["dicecli_gate_passed"].samples[0].value == 1


def test_openmetrics_escapes_label_values_and_writes_nan(runner, tmp_path):
    parser = pytest.importorskip("prometheus_client.openmetrics.parser")
    table = tmp_path / "names.json"
    table.write_text(json.dumps({"1": 'liver "left"\\part', "2": "spleen", "3": "kidney"}))
    result = score(runner, "--label-table", table, "--format", "openmetrics", "--metrics", "hd95",
                   "--empty-distance", "nan")  # fmt: skip
    assert result.exit_code == 0, result.output
    families = {f.name: f for f in parser.text_string_to_metric_families(result.stdout)}
    labels = {s.labels["label"] for s in families["dicecli_dice_mean"].samples}
    assert labels == {'liver "left"\\part', "spleen", "kidney"}
    hd95 = {s.labels["label"]: s.value for s in families["dicecli_hd95_mean"].samples}
    assert any(math.isnan(v) for v in hd95.values()) or all(v >= 0 for v in hd95.values())


def test_parquet_reads_back_equal_to_the_csv(runner, tmp_path):
    pytest.importorskip("pyarrow")
    parquet, csv = tmp_path / "r.parquet", tmp_path / "r.csv"
    result = score(runner, "--metrics", "hd95", "-o", parquet, "-o", csv)
    assert result.exit_code == 0, result.output
    typed = pd.read_parquet(parquet)
    text_columns = typed.select_dtypes(exclude="number").columns
    plain = pd.read_csv(csv, dtype=dict.fromkeys(text_columns, str))  # "1+2" stays text
    assert list(typed.columns) == list(plain.columns)
    assert typed["tp"].dtype.kind == "i"
    assert typed["dice"].dtype == "float64"
    text = typed.select_dtypes(exclude="number").replace("", float("nan"))
    pd.testing.assert_frame_equal(text, plain[text.columns], check_dtype=False)
    numbers = typed.select_dtypes(include="number")
    pd.testing.assert_frame_equal(
        numbers, plain[numbers.columns], check_dtype=False, rtol=0, atol=0
    )


def test_parquet_without_pyarrow_is_a_usage_error_before_scoring(runner, tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    result = score(runner, "-o", tmp_path / "r.parquet")
    assert result.exit_code == 2
    assert 'needs pyarrow: pip install "dicecli[parquet]"' in result.output
    assert not (tmp_path / "r.parquet").exists()


def test_parquet_is_a_file_format_not_a_stdout_one(runner):
    result = score(runner, "--format", "parquet")
    assert result.exit_code == 2
    assert "'parquet' is not one of" in result.output


def test_openmetrics_is_refused_for_comparisons_with_the_formats_that_are(runner, tmp_path):
    compare = os.path.join(ROOT, "examples", "compare")
    result = runner.invoke(cli, ["compare", f"{compare}/gt", f"{compare}/model_a",
                                 f"{compare}/model_b", "-o", str(tmp_path / "c.prom")])  # fmt: skip
    assert result.exit_code == 2
    assert "unknown output extension .prom" in result.output


def test_the_openmetrics_writer_alone_on_an_empty_run():
    from dicecli.models import RunResult, ScoreOptions
    from dicecli.report.openmetrics import write_openmetrics

    empty = RunResult(pd.DataFrame(columns=["case"]), pd.DataFrame(), (), (), ScoreOptions(), "cpu")
    stream = io.StringIO()
    write_openmetrics(empty, stream)
    assert stream.getvalue().endswith('dicecli_cases{status="failed"} 0\n# EOF\n')
