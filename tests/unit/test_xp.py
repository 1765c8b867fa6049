"""Backend dispatch on the CPU with a stand-in CuPy module; real CuPy tests are marked gpu."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from conftest import brute_counts

from dicecli import xp as xp_module
from dicecli.errors import BackendUnavailableError, ExitCode
from dicecli.metrics import joint_histogram, region_counts, soft_tally
from dicecli.models import Region


def stand_in(devices: int, broken: bool = False) -> types.ModuleType:
    """A module shaped like cupy, backed by numpy, with ``devices`` CUDA devices."""
    fake = types.ModuleType("fake_cupy")
    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: devices,
        getDeviceProperties=lambda i: {"name": b"Stand-in GPU"},
    )
    fake.cuda = types.SimpleNamespace(runtime=runtime)

    def asarray(a, dtype=None):
        if broken:
            raise RuntimeError("cudaErrorInsufficientDriver")
        return np.asarray(a, dtype=dtype)

    fake.asarray = asarray
    fake.int64 = np.int64
    return fake


@pytest.fixture
def fake_cupy(monkeypatch):
    def install(module):
        monkeypatch.setitem(sys.modules, "fake_cupy", module)
        monkeypatch.setattr(xp_module, "CUPY_MODULE", "fake_cupy")

    return install


def test_cpu_is_cpu():
    assert xp_module.select_backend("cpu") is xp_module.CPU


def test_gpu_without_cupy_exits_4_with_install_hint(monkeypatch):
    monkeypatch.setattr(xp_module, "CUPY_MODULE", "dicecli_no_such_module")
    with pytest.raises(BackendUnavailableError, match=r'pip install "dicecli\[gpu\]"') as info:
        xp_module.select_backend("gpu")
    assert info.value.exit_code == ExitCode.BACKEND_UNAVAILABLE
    assert xp_module.select_backend("auto") is xp_module.CPU


def test_gpu_without_device(fake_cupy):
    fake_cupy(stand_in(devices=0))
    with pytest.raises(BackendUnavailableError, match="no CUDA device"):
        xp_module.select_backend("gpu")
    assert xp_module.select_backend("auto").name == "cpu"


def test_broken_driver_falls_back_under_auto(fake_cupy):
    fake_cupy(stand_in(devices=1, broken=True))
    with pytest.raises(BackendUnavailableError, match="cudaErrorInsufficientDriver"):
        xp_module.select_backend("gpu")
    assert xp_module.select_backend("auto").name == "cpu"


def test_working_stand_in_is_selected(fake_cupy):
    fake_cupy(stand_in(devices=1))
    backend = xp_module.select_backend("auto")
    assert (backend.name, backend.device) == ("gpu", "Stand-in GPU")


BACKENDS = [
    pytest.param("numpy", id="numpy"),
    pytest.param("cupy", id="cupy", marks=pytest.mark.gpu),
]


@pytest.mark.parametrize("name", BACKENDS)
def test_counting_on_each_backend(name, rng):
    if name == "cupy":
        cp = pytest.importorskip("cupy")
        try:
            cp.cuda.runtime.getDeviceCount()
        except Exception:  # noqa: BLE001
            pytest.skip("no CUDA device")
        xp = cp
    else:
        xp = np
    gt = rng.integers(0, 4, (40, 30, 9)).astype(np.uint8)
    pred = rng.integers(0, 4, (40, 30, 9)).astype(np.uint8)
    hist = joint_histogram(xp.asarray(gt), xp.asarray(pred), xp)
    for label in (1, 2, 3):
        c = region_counts(hist, Region(str(label), (label,)))
        assert (c.tp, c.fp, c.fn, c.tn) == brute_counts(gt, pred, (label,))
    binary = joint_histogram(xp.asarray(gt > 1), xp.asarray(pred > 1), xp)
    c = region_counts(binary, Region("1", (1,)))
    assert (c.tp, c.fp, c.fn, c.tn) == brute_counts(
        (gt > 1).astype(np.uint8), (pred > 1).astype(np.uint8), (1,)
    )
    prob = rng.random(gt.shape)
    soft = region_counts(soft_tally(xp.asarray(gt), xp.asarray(prob), xp), Region("1", (1,)))
    assert soft.tp == pytest.approx(float(prob[gt == 1].sum()), rel=1e-12)


def test_workers_are_not_forked_once_cuda_is_initialised(fake_cupy, monkeypatch):
    import threading

    from dicecli.engine import _pool_context

    # no other thread (a Dask test earlier in the session leaves its event-loop thread)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    fake_cupy(stand_in(devices=1))
    assert _pool_context("auto").get_start_method() in ("forkserver", "spawn")
    assert _pool_context("cpu").get_start_method() == "fork"


def test_cli_verbose_names_the_backend(runner, fake_cupy):
    import os

    from conftest import ROOT

    from dicecli.cli import cli

    png = os.path.join(ROOT, "examples", "png")
    result = runner.invoke(
        cli, ["score", f"{png}/pred", f"{png}/gt", "--device", "cpu", "-v", "--format", "csv"]
    )
    assert result.exit_code == 0
    assert "backend: cpu (cpu)" in result.stderr
    fake_cupy(stand_in(devices=1, broken=True))
    auto = runner.invoke(cli, ["score", f"{png}/pred", f"{png}/gt", "-v", "--format", "csv"])
    assert "backend: cpu (cpu)" in auto.stderr  # a broken GPU falls back silently under auto
