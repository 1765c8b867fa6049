"""Cases as tasks on a Dask distributed cluster (``--scheduler``, ``--scheduler-file``).

Each case is one task: the workers get the case's paths and the typed options, read the files
themselves (they must see the same paths: a shared file system), and send back the small
outcome (counts, statistics, or the case's error), never voxels. Dask reruns the task of a worker
that died elsewhere, so no case is lost; each case's result is taken once. dask is imported here
only, and only when a scheduler is asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from dicecli.errors import UsageError
from dicecli.models import CaseFailure

if TYPE_CHECKING:
    from dicecli.engine import CaseJob, Outcome, Scheduler

INSTALL = 'pip install "dicecli[dask]"'


def run_on_dask(
    jobs: list[CaseJob],
    scheduler: Scheduler,
    on_done: Callable[[Outcome], None] | None,
    stop: Callable[[], bool],
) -> list[Outcome]:
    """Submit every case, gather them as they complete (in the order of ``jobs``)."""
    distributed = _import()
    from dicecli.engine import score_case

    results: list[Outcome | None] = [None] * len(jobs)
    with ExitStack() as stack:
        client = stack.enter_context(_client(distributed, scheduler))
        futures = {
            client.submit(score_case, job, key=f"dicecli-case-{i}-{job.pair.case}", pure=False): i
            for i, job in enumerate(jobs)
        }
        pending = set(futures)
        while pending:
            try:
                done, pending = distributed.wait(
                    pending, timeout=0.2, return_when="FIRST_COMPLETED"
                )
            except TimeoutError:  # nothing finished yet: look at the stop flag, wait again
                done = set()
            if stop() and pending:
                client.cancel(list(pending))  # queued cases never start
                pending = set()
            # a finished result held by a worker that died since is "lost": Dask computes it
            # again, so wait for it once more; fetch the others before anything else happens
            finished = [f for f in done if f.status == "finished"]
            try:
                values = client.gather(finished) if finished else []
            except Exception:  # noqa: BLE001 - one got lost while fetching: wait for them again
                pending |= set(finished)
                continue
            pending |= {f for f in done if f.status not in ("finished", "error", "cancelled")}
            outcomes = list(zip(finished, values, strict=True))
            outcomes += [(f, _outcome(f, jobs[futures[f]])) for f in done if f.status == "error"]
            for future, outcome in outcomes:
                results[futures[future]] = outcome
                if on_done:
                    on_done(outcome)
    return [r for r in results if r is not None]


def _outcome(future: Any, job: CaseJob) -> Outcome:
    """A task that failed (a worker killed too often, or an error outside the case pipeline)
    as that case's error."""
    pair = job.pair
    error = future.exception() if future.status == "error" else None
    why = f"{type(error).__name__}: {error}" if error else future.status
    return CaseFailure(
        pair.case,
        pair.pred,
        pair.gt,
        "WorkerDied",
        f"case {pair.case}: the Dask task failed ({why}); the workers may be out of memory, or "
        "unable to read the files (paths must be the same on every worker)",
    )


def _import() -> Any:
    try:
        import distributed
    except ImportError:
        raise UsageError(f"--scheduler needs Dask distributed: {INSTALL}") from None
    return distributed


def _client(distributed: Any, scheduler: Scheduler) -> Any:
    """A client of the cluster asked for; closing it also closes a LocalCluster started here."""
    address = scheduler.address
    try:
        if scheduler.scheduler_file:
            return distributed.Client(scheduler_file=scheduler.scheduler_file, timeout="10s")
        if address and (address == "local" or address.startswith("local:")):
            n = int(address.partition(":")[2] or 0) or os.cpu_count() or 1
            cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            )
            return _Closing(distributed.Client(cluster), cluster)
        return distributed.Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as e:
        where = scheduler.scheduler_file or address
        raise UsageError(
            f"--scheduler {where}: cannot reach the Dask scheduler ({e}); start it with "
            "`dask scheduler` and give its tcp:// address"
        ) from e


class _Closing:
    """A client that also closes the LocalCluster it was started with."""

    def __init__(self, client: Any, cluster: Any) -> None:
        self.client, self.cluster = client, cluster

    def __enter__(self) -> Any:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.cluster.close()


def parse_scheduler(address: str | None, scheduler_file: str | None) -> Scheduler | None:
    """``--scheduler`` / ``--scheduler-file`` as one value (checked), or None for the local pool."""
    from dicecli.engine import Scheduler

    if address and scheduler_file:
        raise UsageError("give --scheduler or --scheduler-file, not both")
    if not address and not scheduler_file:
        return None
    _import()
    if address and address.startswith("local:"):
        count = address.partition(":")[2]
        if not count.isdigit() or int(count) < 1:
            raise UsageError(f"--scheduler {address}: write local or local:N (N workers, N >= 1)")
    return Scheduler(address, scheduler_file)
