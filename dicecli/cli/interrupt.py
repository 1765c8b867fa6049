"""SIGINT and SIGTERM during scoring: stop starting cases, keep what finished."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Interrupt:
    """The first SIGINT or SIGTERM received while scoring (``signal`` is None until then)."""

    signal: int | None = None

    def stopped(self) -> bool:
        return self.signal is not None

    @property
    def exit_code(self) -> int:
        return 128 + (self.signal or 0)

    @property
    def name(self) -> str:
        return signal.Signals(self.signal).name if self.signal else ""


@contextmanager
def interrupt_guard() -> Iterator[Interrupt]:
    """While scoring, SIGINT and SIGTERM only record themselves: the cases running finish, no
    further case starts, and the caller writes the outputs for the cases done. A second signal
    ends the process at once (the outputs are written atomically: never half a file)."""
    state = Interrupt()
    handled = (signal.SIGINT, signal.SIGTERM)

    def record(signum: int, _frame: object) -> None:
        if state.signal is not None:  # a second signal: give up at once
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)
        state.signal = signum

    try:
        previous = {s: signal.signal(s, record) for s in handled}
    except ValueError:  # not the main thread: signals cannot be caught here
        yield state
        return
    try:
        yield state
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
