"""Cases as Dask tasks: a LocalCluster, a killed worker, an external `dask scheduler`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, write_nifti

from dicecli.api import score_cases
from dicecli.cli import cli

distributed = pytest.importorskip("distributed")

COLUMNS = ["case", "label", "dice", "tp", "fp", "fn", "tn", "hd95", "nsd"]


def local_cluster(workers: int):
    """A LocalCluster of worker processes, quiet, its dashboard on a free port (not 8787, which
    another cluster on this machine may hold: a warning, an error under this suite's filters)."""
    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=50,
    )


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    root = tmp_path_factory.mktemp("cohort")
    rng = np.random.default_rng(13)
    for side in ("pred", "gt"):
        (root / side).mkdir()
    for i in range(12):
        gt = np.zeros((40, 36, 16), np.uint8)
        c = rng.integers(12, 24, 3)
        gt[c[0] - 8 : c[0] + 8, c[1] - 7 : c[1] + 7, 3:13] = 1
        gt[5:12, 5:12, 2:6] = 2
        pred = np.roll(gt, int(rng.integers(0, 3)), axis=0)
        write_nifti(str(root / "gt" / f"c{i:02d}.nii.gz"), gt)
        write_nifti(str(root / "pred" / f"c{i:02d}.nii.gz"), pred)
    return root / "pred", root / "gt"


@pytest.fixture(scope="module")
def local_rows(cases):
    pred, gt = cases
    return score_cases(pred, gt, jobs=1, metrics="all").cases[COLUMNS]


def test_local_cluster_gives_the_rows_of_the_local_pool(cases, local_rows):
    """A real process: the LocalCluster's worker processes need real standard streams."""
    pred, gt = cases
    argv = [sys.executable, "-m", "dicecli", "score", str(pred), str(gt), "--metrics", "all"]
    argv += ["--scheduler", "local:2", "--format", "json", "--no-progress"]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["cases"]
    assert [r["case"] for r in rows] == list(local_rows["case"])
    for column in ("tp", "fp", "fn", "tn"):
        assert [r[column] for r in rows] == list(local_rows[column])
    assert [r["hd95"] for r in rows] == list(local_rows["hd95"])  # distances equal, not close


def test_a_worker_killed_mid_run_loses_no_case(cases, local_rows):
    pred, gt = cases
    with local_cluster(2) as cluster, distributed.Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        killed = []

        def kill_one(outcome):
            if not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(outcome.case)

        result = score_cases(
            pred, gt, metrics="all", scheduler=cluster.scheduler_address, on_case_done=kill_one
        )
    assert killed
    assert result.complete
    assert not result.errors
    assert result.cases[COLUMNS].equals(local_rows)


def test_external_scheduler_and_workers(cases, local_rows, tmp_path):
    """`dask scheduler` and two `dask worker` processes, found through a scheduler file."""
    pred, gt = cases
    bin_dir = os.path.dirname(sys.executable)
    file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen(
            [
                os.path.join(bin_dir, "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(file),
            ],
            **quiet,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        os.path.join(bin_dir, "dask"),
                        "worker",
                        address,
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                    ],
                    cwd=ROOT,
                    **quiet,
                )
            )
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        by_address = score_cases(pred, gt, metrics="all", scheduler=address)
        by_file = score_cases(pred, gt, metrics="all", scheduler_file=str(file))
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    assert by_address.cases[COLUMNS].equals(local_rows)
    assert by_file.cases[COLUMNS].equals(local_rows)


def test_without_distributed_the_scheduler_is_a_usage_error(runner, cases, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    pred, gt = cases
    result = runner.invoke(cli, ["score", str(pred), str(gt), "--scheduler", "local:2"])
    assert result.exit_code == 2
    assert 'pip install "dicecli[dask]"' in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--scheduler", "local:0"], "write local or local:N", id="local-0"),
        pytest.param(["--scheduler", "local", "--scheduler-file", "x.json"], "not both", id="both"),
    ],
)
def test_bad_scheduler_arguments(runner, cases, args, message):
    pred, gt = cases
    result = runner.invoke(cli, ["score", str(pred), str(gt), *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_importing_dicecli_and_scoring_locally_does_not_import_dask(cases):
    pred, gt = cases
    code = (
        "import sys, dicecli; dicecli.score_cases(sys.argv[1], sys.argv[2], jobs=1); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(pred), str(gt)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_device_gpu_is_the_workers_choice_on_a_cluster(cases):
    """A CPU-only submitting machine may send --device gpu cases to GPU workers: the check runs
    on each worker. These workers have no GPU either: every case fails saying so, none is lost."""
    from dicecli.xp import select_backend

    if select_backend("auto").name == "gpu":
        pytest.skip("this machine's workers have a GPU")
    pred, gt = cases
    with local_cluster(1) as cluster:
        result = score_cases(pred, gt, device="gpu", scheduler=cluster.scheduler_address)
    assert result.backend == "chosen by each Dask worker (--device gpu)"
    assert len(result.errors) == 12
    assert all(e.error == "BackendUnavailableError" for e in result.errors)
    assert "--device gpu" in result.errors[0].message


def test_a_local_cluster_does_not_need_port_8787(cases):
    """Another Dask cluster on this machine holds the default dashboard port: no warning, and
    the tests' own clusters do not collide with it either."""
    import socket

    pred, gt = cases
    holder = socket.socket()
    try:
        holder.bind(("", 8787))
        holder.listen()
    except OSError:
        pass  # something already holds it: the condition of this test
    try:
        argv = [sys.executable, "-m", "dicecli", "score", str(pred), str(gt), "--no-progress"]
        argv += ["--scheduler", "local:1", "--format", "csv"]
        result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert "8787" not in result.stderr
        with local_cluster(1):
            pass  # under this suite's filterwarnings=error a port warning would raise here
    finally:
        holder.close()
