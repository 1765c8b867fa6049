"""SIGINT and SIGTERM during scoring: stop starting cases, keep what finished."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: A second signal this soon after the first is the same stop delivered twice (seconds).
REPEAT_S = 1.0


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
    ends the process at once (the outputs are written atomically: never half a file) -- unless
    it comes within ``REPEAT_S`` of the first: GNU ``timeout`` sends its signal to the command
    and then to its whole process group, so one stop arrives twice."""
    state = Interrupt()
    handled = (signal.SIGINT, signal.SIGTERM)
    first = [0.0]

    def record(signum: int, _frame: object) -> None:
        now = time.monotonic()
        if state.signal is not None:
            if now - first[0] < REPEAT_S:
                return  # the same stop, delivered twice
            signal.signal(signum, signal.SIG_DFL)  # a second stop: give up at once
            signal.raise_signal(signum)
        state.signal = signum
        first[0] = now

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
