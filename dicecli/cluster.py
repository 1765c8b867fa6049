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
from contextlib import ExitStack, suppress
from typing import Any

from dicecli.errors import UsageError
from dicecli.models import CaseFailure, CaseJob, Outcome, Scheduler

INSTALL = 'pip install "dicecli[dask]"'


def run_on_dask(
    jobs: list[CaseJob],
    scheduler: Scheduler,
    score_case: Callable[[CaseJob], Outcome],
    on_done: Callable[[Outcome], None] | None,
    stop: Callable[[], bool],
) -> list[Outcome]:
    """Submit ``score_case`` of every case (the engine's, passed in: a task must be a function
    the workers can import), gather them as they complete (in the order of ``jobs``)."""
    distributed = _import()

    results: list[Outcome | None] = [None] * len(jobs)
    with ExitStack() as stack:
        client = stack.enter_context(_client(distributed, scheduler))

        def submit(i: int, attempt: int = 0) -> Any:
            key = f"dicecli-case-{i}-{jobs[i].pair.case}-{attempt}"
            return client.submit(score_case, jobs[i], key=key, pure=False)

        index = {submit(i): i for i in range(len(jobs))}
        unresolved = set(index)
        stopping = False
        while unresolved:
            if not any(f.done() for f in unresolved):
                # nothing finished within 0.2 s: look at the stop flag, then wait again
                with suppress(TimeoutError):
                    distributed.wait(unresolved, timeout=0.2, return_when="FIRST_COMPLETED")
            if stop() and not stopping:
                stopping = True
                client.cancel([f for f in unresolved if not f.done()])  # no case starts
            # fetch every finished result in one round trip, before anything else happens; a
            # result lost with its worker meanwhile is computed again by Dask: wait for it
            ready = [f for f in unresolved if f.status == "finished"]
            try:
                values = client.gather(ready) if ready else []
            except Exception:  # noqa: BLE001 - one got lost while fetching: try again
                continue
            outcomes = list(zip(ready, values, strict=True))
            outcomes += [
                (f, _outcome(f, jobs[index[f]])) for f in unresolved if f.status == "error"
            ]
            for future, outcome in outcomes:
                unresolved.discard(future)
                results[index[future]] = outcome
                if on_done:
                    on_done(outcome)
            for future in [f for f in unresolved if f.status == "cancelled"]:
                unresolved.discard(future)
                if not stopping:  # dropped by the cluster, not by us: submit the case again
                    i = index[future]
                    again = submit(i, attempt=sum(1 for v in index.values() if v == i))
                    index[again] = i
                    unresolved.add(again)
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
                # a random free port: None still tries 8787 (dask/distributed#8136) and warns
                # when another cluster on this machine holds it
                dashboard_address=":0",
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
