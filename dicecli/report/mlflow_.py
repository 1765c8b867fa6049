"""``--mlflow [URI]`` (extra ``dicecli[mlflow]``): a score run logged to MLflow -- the summary's
means per structure as metrics (``dice_mean/liver``), the pooled Dice, the cases scored and
failed and the gate; every option as a param, and the inputs; the ``-o`` files as artifacts
(under ``dicecli/``); into the run ``MLFLOW_RUN_ID`` names (or the active one, from Python), else
a new run of the experiment ``MLFLOW_EXPERIMENT_NAME`` (default ``dicecli``)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dicecli.errors import UsageError

if TYPE_CHECKING:
    from dicecli.models import RunResult

_KEY = re.compile(r"[^\w\-. /]")
#: MLflow's longest param value.
_PARAM_LIMIT = 6000


def check_mlflow(uri: str | None) -> None:
    """Before any work: mlflow importable and the URI one MLflow can mean (``--mlflow`` takes
    the next word as its URI: a path or folder given right after it is a mistake to say)."""
    import importlib.util

    if importlib.util.find_spec("mlflow") is None:
        raise UsageError('--mlflow needs MLflow: pip install "dicecli[mlflow]"')
    if uri and not (":" in uri or uri == "databricks" or uri.startswith(("/", "./", "~"))):
        raise UsageError(
            f"--mlflow {uri}: not a tracking URI (file:///path/mlruns, http://host:5000, "
            "sqlite:///mlflow.db, databricks); write --mlflow=URI, or --mlflow last"
        )


def metric_key(*parts: str) -> str:
    """An MLflow metric key: letters, digits, _ - . space and / kept, anything else _."""
    return "/".join(_KEY.sub("_", p) for p in parts)


def metrics_of(result: RunResult) -> dict[str, float]:
    from dicecli.metrics import registry

    out: dict[str, float] = {}
    summary = result.summary
    for row in summary.to_dict(orient="records"):
        label = str(row["label"])
        for metric in (*registry.names(), "pooled_dice"):
            column = metric if metric == "pooled_dice" else f"{metric}_mean"
            value = row.get(column)
            if value is not None and math.isfinite(float(value)):
                out[metric_key(column, label)] = float(value)
    scored = int(result.cases["case"].nunique()) if not result.cases.empty else 0
    out["cases_scored"] = float(scored)
    out["cases_failed"] = float(len(result.errors))
    if result.gate is not None:
        out["gate_passed"] = float(result.gate.passed)
    return out


def params_of(result: RunResult) -> dict[str, str]:
    import dataclasses

    values = dataclasses.asdict(result.options)
    out = {k: str(v)[:_PARAM_LIMIT] for k, v in values.items() if v is not None}
    for key, path in result.inputs.items():
        out[f"input_{key}"] = str(path)[:_PARAM_LIMIT]
    return out


def log_run(result: RunResult, uri: str | None, artifacts: Sequence[str] = ()) -> str:
    """Log ``result`` (and the files ``artifacts``) to MLflow at ``uri`` (None: MLflow's own
    default or ``MLFLOW_TRACKING_URI``); returns the run id."""
    import logging

    import mlflow

    from dicecli._version import __version__

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # dicecli says which run, once
    if uri:
        if uri.startswith(("file:", "/", "./", "~")):
            # MLflow 3 asks file stores to opt in; the user chose one by naming it
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        mlflow.set_tracking_uri(uri)
    active = mlflow.active_run()
    run_id = os.environ.get("MLFLOW_RUN_ID") or (active.info.run_id if active else None)
    if run_id is None:
        mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME", "dicecli"))
    elif active is None:  # the named run's own experiment, whatever was set before
        experiment = mlflow.MlflowClient().get_run(run_id).info.experiment_id
        mlflow.set_experiment(experiment_id=experiment)
    started = active is None
    run: Any = mlflow.start_run(run_id=run_id) if started else active
    try:
        mlflow.log_metrics(metrics_of(result))
        mlflow.log_params(params_of(result))
        mlflow.set_tags({"dicecli.version": __version__, "dicecli.backend": result.backend})
        for path in artifacts:
            mlflow.log_artifact(path, artifact_path="dicecli")
    finally:
        if started:
            mlflow.end_run()
    return str(run.info.run_id)
