"""Array backend: numpy, or CuPy when a CUDA device answers. The only module that imports cupy."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from dicecli.errors import BackendUnavailableError
from dicecli.models import DevicePolicy

#: Module name imported for the GPU backend (tests put a stand-in under this name).
CUPY_MODULE = "cupy"

INSTALL_HINT = (
    'install the GPU extra: pip install "dicecli[gpu]" (CuPy for CUDA 12; for CUDA 11 use '
    "pip install cupy-cuda11x), or run with --device cpu"
)


@dataclass(frozen=True, slots=True)
class Backend:
    """``xp`` is numpy or cupy; ``name`` is ``cpu`` or ``gpu``; ``device`` names the hardware."""

    name: str
    xp: Any
    device: str

    def to_device(self, array: Any) -> Any:
        """One host -> device copy (none on the CPU)."""
        return array if self.xp is np else self.xp.asarray(array)


CPU = Backend("cpu", np, "cpu")


def select_backend(device: DevicePolicy = "auto") -> Backend:
    """The backend for ``--device``: ``auto`` falls back to the CPU silently, ``gpu`` raises
    BackendUnavailableError (exit 4) saying what is missing."""
    if device == "cpu":
        return CPU
    try:
        return _gpu_backend()
    except BackendUnavailableError:
        if device == "gpu":
            raise
        return CPU


_CACHE: dict[tuple[str, str], Backend] = {}


def cached_backend(device: DevicePolicy) -> Backend:
    """``select_backend`` once per process (and per CuPy module name): workers ask per case."""
    key = (device, CUPY_MODULE)
    if key not in _CACHE:
        _CACHE[key] = select_backend(device)
    return _CACHE[key]


def _gpu_backend() -> Backend:
    try:
        cp = importlib.import_module(CUPY_MODULE)
    except ImportError as e:
        raise BackendUnavailableError(f"--device gpu: CuPy is not installed; {INSTALL_HINT}") from e
    try:
        count = int(cp.cuda.runtime.getDeviceCount())
        if count < 1:
            raise BackendUnavailableError(
                "--device gpu: CuPy found no CUDA device; check the driver (nvidia-smi) or run "
                "with --device cpu"
            )
        props = cp.cuda.runtime.getDeviceProperties(0)
        name = props["name"]
        name = name.decode() if isinstance(name, bytes) else str(name)
        int(cp.asarray([1], dtype=cp.int64).sum())  # a kernel actually runs
    except BackendUnavailableError:
        raise
    except Exception as e:
        raise BackendUnavailableError(
            f"--device gpu: CuPy is installed but CUDA is not usable ({e}); {INSTALL_HINT}"
        ) from e
    return Backend("gpu", cp, name)
