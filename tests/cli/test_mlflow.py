"""``--mlflow``: a run logged to a real local MLflow file store, read back with MLflow's own
client."""

from __future__ import annotations

import json
import os

import pytest
from conftest import ROOT

from dicecli.cli import cli

mlflow = pytest.importorskip("mlflow")
NIFTI = os.path.join(ROOT, "examples", "nifti")


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "segmentation")
    return f"file://{tmp_path / 'mlruns'}"


def test_a_run_is_logged_with_metrics_params_and_artifacts(runner, tmp_path, store):
    from mlflow.tracking import MlflowClient

    report, html = tmp_path / "r.json", tmp_path / "r.html"
    result = runner.invoke(cli, ["score", f"{NIFTI}/pred", f"{NIFTI}/gt", "--labels",
                                 "liver=1,spleen=2,kidney=3", "--fail-under", "0.5", "-o",
                                 str(report), "-o", str(html), "--no-progress",
                                 f"--mlflow={store}"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "note: logged to MLflow run" in result.stderr
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("segmentation")
    (run,) = client.search_runs([experiment.experiment_id])
    summary = {r["label"]: r for r in json.loads(report.read_text())["summary"]}
    for label, row in summary.items():
        assert run.data.metrics[f"dice_mean/{label}"] == pytest.approx(row["dice_mean"])
        assert run.data.metrics[f"pooled_dice/{label}"] == pytest.approx(row["pooled_dice"])
    assert run.data.metrics["cases_scored"] == 5
    assert run.data.metrics["gate_passed"] == 1
    assert run.data.params["labels"] == "liver=1,spleen=2,kidney=3"
    assert run.data.params["input_pred"] == f"{NIFTI}/pred"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "dicecli")}
    assert artifacts == {"dicecli/r.json", "dicecli/r.html"}


def test_logging_into_the_run_mlflow_run_id_names(runner, store, monkeypatch):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(store)
    experiment = client.create_experiment("training")
    parent = client.create_run(experiment)
    monkeypatch.setenv("MLFLOW_RUN_ID", parent.info.run_id)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME")  # the run's own experiment
    result = runner.invoke(cli, ["score", f"{NIFTI}/pred", f"{NIFTI}/gt", "--no-progress",
                                 "--summary-only", "--mlflow", store])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "dice_mean/1" in client.get_run(parent.info.run_id).data.metrics


def test_a_path_taken_as_the_uri_is_a_usage_error_before_scoring(runner):
    result = runner.invoke(cli, ["score", "--mlflow", f"{NIFTI}/pred", f"{NIFTI}/gt"])
    assert result.exit_code == 2
    assert f"--mlflow took {NIFTI}/pred as its tracking URI" in result.output
    relative = runner.invoke(cli, ["score", "--mlflow", "pred", "gt", "more"])
    assert relative.exit_code == 2
    assert "--mlflow pred: not a tracking URI" in relative.output
    assert "write --mlflow=URI, or --mlflow last" in relative.output


def test_a_store_that_refuses_is_one_error_line_and_exit_3(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    result = runner.invoke(cli, ["score", f"{NIFTI}/pred", f"{NIFTI}/gt", "--no-progress",
                                 "--summary-only", f"--mlflow=file://{blocked}"])  # fmt: skip
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors
    assert "the run could not be logged" in errors[0]
