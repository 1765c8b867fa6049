"""SimpleITK images as dicecli sees them: voxels indexed (x, y, z), LPS geometry."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def sitk_array(image: Any) -> Any:
    """The voxels indexed (x, y, z[, component]): ITK arrays are (z, y, x[, c]); a view."""
    import SimpleITK as sitk

    array = sitk.GetArrayFromImage(image)
    if image.GetNumberOfComponentsPerPixel() == 1:
        return array.T
    axes = (*reversed(range(array.ndim - 1)), array.ndim - 1)
    return array.transpose(axes)


def sitk_geometry(image: Any) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    return (
        tuple(float(v) for v in image.GetSpacing()),
        tuple(float(v) for v in image.GetOrigin()),
        tuple(float(v) for v in image.GetDirection()),
    )


#: ITK warnings that say the voxels were not read as the file claims: the read failed.
_BAD_DATA = ("uncompress", "not read completely", "failed", "error", "corrupt", "truncat", "short")
#: ITK warnings about valid files that dicecli has nothing to add to.
_HARMLESS = ("is analyze file and it's deprecated",)


@contextmanager
def itk_messages() -> Iterator[list[str]]:
    """ITK prints its warnings on the process's stderr (file descriptor 2), where Python never
    sees them: capture them during a read. Yields a list that holds the warnings afterwards, one
    per message, without ITK's source-file prefix."""
    sys.stderr.flush()
    saved = os.dup(2)
    messages: list[str] = []
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield messages
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            messages.extend(_messages(text))


def _messages(text: str) -> list[str]:
    """``WARNING: In .../itkFoo.cxx, line 12\\nFooIO (0x..): the message`` -> the messages."""
    out = []
    for block in re.split(r"(?m)^(?:WARNING|ERROR): In .*?, line \d+\s*$", text):
        body = " ".join(line.strip() for line in block.strip().splitlines() if line.strip())
        body = re.sub(r"^\w+ \(0x[0-9a-f]+\): ", "", body)
        if body:
            out.append(body)
    return out


def bad_data(messages: list[str]) -> str | None:
    """The first captured ITK message that says the data is bad, else None."""
    return next((m for m in messages if any(w in m.lower() for w in _BAD_DATA)), None)


def notes(messages: list[str], path: str) -> tuple[str, ...]:
    """The other captured messages, as warnings naming the file."""
    return tuple(
        f"{path}: {m}"
        for m in messages
        if not any(w in m.lower() for w in (*_BAD_DATA, *_HARMLESS))
    )
