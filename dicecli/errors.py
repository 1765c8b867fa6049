"""The dicecli error hierarchy and the process exit codes it maps to (no click here)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, a contract for CI pipelines (README, "Exit codes")."""

    OK = 0
    GATE_FAILED = 1
    USAGE = 2
    INPUT_ERROR = 3
    BACKEND_UNAVAILABLE = 4
    NO_CASES = 5


class DiceCliError(Exception):
    """Base of every expected dicecli failure; the message names the file and the remedy."""

    exit_code: ExitCode = ExitCode.INPUT_ERROR


class UsageError(DiceCliError):
    """Options that contradict each other or cannot be parsed (a label spec, a colour map)."""

    exit_code = ExitCode.USAGE


class UnsupportedFormatError(DiceCliError):
    """A file whose format no reader handles."""


class MaskReadError(DiceCliError):
    """A file that exists but cannot be read: corrupt, truncated, empty or of unusable content."""


class GeometryError(DiceCliError):
    """Prediction and reference do not share a grid (shape, spacing, origin or direction)."""


class PairingError(DiceCliError):
    """Cases cannot be paired: duplicate or ambiguous case ids, a bad manifest, a missing path."""


class NoCasesError(DiceCliError):
    """Nothing to score: no case was found or paired."""

    exit_code = ExitCode.NO_CASES


class BackendUnavailableError(DiceCliError):
    """The GPU backend was requested but CuPy or a CUDA device is not usable."""

    exit_code = ExitCode.BACKEND_UNAVAILABLE


#: What pydicom and highdicom raise on a header whose values cannot be what DICOM says (text
#: where a number goes, a sequence too short, an element of an unknown value representation):
#: the readers turn these into one-line errors naming the file.
MALFORMED_HEADER: tuple[type[Exception], ...] = (
    AttributeError,
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    OverflowError,
    NotImplementedError,
)


def first_line(error: BaseException) -> str:
    """The first line of a library exception's message (its type's name when it has none), for
    the ``(reason)`` part of a one-line error."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
