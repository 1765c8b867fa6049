"""The executor that runs the per-case work over many cases, and the per-case counting.

Per case, in a worker: the case's masks (``pipeline.load_case``: load, name, check, align, label
maps) -> one host->device copy -> one counting pass -> which structure is which
(``pipeline.case_matches``) -> per-structure counts (from the joint histogram, or each
structure's masks where a side is segmented), surface metrics and lesions. The worker returns
a CaseTally (small numbers) or a CaseFailure; one bad case never stops the others. The options
arrive parsed (``CaseJob.parsed``).
"""

from __future__ import annotations

import math
import os
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from dicecli.errors import DiceCliError
from dicecli.models import (
    CaseFailure,
    CaseJob,
    CasePair,
    CaseTally,
    Counts,
    DevicePolicy,
    LesionSettings,
    Mask,
    Match,
    Outcome,
    ParsedOptions,
    Scheduler,
    ScoreOptions,
    Tally,
)

if TYPE_CHECKING:
    from dicecli.pipeline import CaseMasks

#: Below this many input bytes in all (compressed: a 512x512x200 label map .nii.gz is ~0.3 MiB),
#: starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 1 << 20


def score_case(job: CaseJob) -> Outcome:
    """Run one case; every failure becomes a CaseFailure naming the file."""
    pair = job.pair
    try:
        return _tally_case(pair, job.options, job.parsed)
    except DiceCliError as e:
        return CaseFailure(pair.case, pair.pred, pair.gt, type(e).__name__, str(e))
    except MemoryError:
        return CaseFailure(
            pair.case,
            pair.pred,
            pair.gt,
            "MemoryError",
            f"case {pair.case}: out of memory; lower --jobs or free memory",
        )
    except Exception as e:  # noqa: BLE001 - a bug or an unforeseen file; keep the other cases
        detail = "".join(traceback.format_exception(e)).strip()
        return CaseFailure(
            pair.case,
            pair.pred,
            pair.gt,
            type(e).__name__,
            f"case {pair.case}: unexpected {type(e).__name__}: {e} (please report; "
            f"--debug shows the traceback)\n{detail}",
        )


def _tally_case(pair: CasePair, options: ScoreOptions, parsed: ParsedOptions) -> CaseTally:
    import numpy as np

    from dicecli.metrics import joint_histogram, soft_tally
    from dicecli.pipeline import case_matches, check_threshold, load_case
    from dicecli.values import probability_map
    from dicecli.xp import cached_backend

    case = load_case(pair, options, parsed)
    gt = case.gt
    backend = cached_backend(options.device)
    ref = backend.to_device(case.ref)
    tally: Tally
    kept = case.keep if case.keep is not None and not isinstance(case.keep, dict) else None
    if case.labels is None:
        probability = probability_map(case.pred)
        if kept is not None:  # --dissensus ignore: only the voxels the raters agree on
            ref, probability = backend.to_device(case.ref[kept]), probability[kept]
        tally = soft_tally(ref, backend.to_device(probability), backend.xp)
    else:
        labels = case.labels
        if kept is not None:
            ref, labels = backend.to_device(case.ref[kept]), np.asarray(labels)[kept]
        tally = joint_histogram(ref, backend.to_device(labels), backend.xp)
    check_threshold(case, tally, options)
    matches = case_matches(case, tally, options, parsed)
    volume = math.prod(gt.spacing) / 1000.0 if gt.ndim == 3 and gt.has_geometry else None
    counts: dict[str, Counts] = {}
    surfaces: dict[str, Any] = {}
    lesions: dict[str, Any] = {}
    if matches is not None:
        counts, surfaces, lesions = _per_match(case, tally, matches, options, parsed, backend)
    elif case.labels is not None and (parsed.surface or parsed.lesions):
        surfaces, lesions = _by_value(case, tally, options, parsed)
    calibration = _calibration(case, tally, matches, options, parsed) if parsed.calibration else {}
    return CaseTally(
        pair.case,
        case.pred.path,
        gt.path,
        tally,
        volume,
        case.notes,
        surfaces,
        gt.spacing,
        counts=counts,
        matches=matches or (),
        meta=dict(gt.meta or case.pred.meta),
        lesions=lesions,
        calibration=calibration,
    )


def _per_match(
    case: CaseMasks,
    tally: Tally,
    matches: tuple[Match, ...],
    options: ScoreOptions,
    parsed: ParsedOptions,
    backend: Any,
) -> tuple[dict[str, Counts], dict[str, Any], dict[str, Any]]:
    """Counts, surface statistics and lesions of each structure matched in the case. Two label
    maps are counted from their joint histogram (no further pass over the voxels); a segmented
    side (overlapping segments are never merged into one label map) from each structure's own
    boolean masks."""
    from dicecli.metrics import joint_histogram
    from dicecli.metrics.overlap import match_counts
    from dicecli.pipeline import region_masks

    segmented = bool(case.gt.segments or case.pred.segments)
    ignore = None if case.gt.segments else options.ignore_label
    counts: dict[str, Counts] = {}
    surfaces: dict[str, Any] = {}
    lesions: dict[str, Any] = {}
    if not segmented:
        counts = {m.key: match_counts(tally, m.ref, m.pred, ignore) for m in matches}
        if case.labels is None or not (parsed.surface or parsed.lesions):
            return counts, surfaces, lesions
        if parsed.surface:
            surfaces = _surfaces(case, matches, options, parsed)
        if parsed.lesions is None:
            return counts, surfaces, lesions
    by_key = {m.key: m for m in matches}
    for key, (r, p) in region_masks(case, matches, ignore):
        if segmented:
            kept = _kept(case, by_key[key])
            if kept is not None:  # --dissensus ignore: the voxels the raters agree on
                r, p = r[kept], p[kept]
            binary = joint_histogram(backend.to_device(r), backend.to_device(p), backend.xp)
            counts[key] = match_counts(binary, (1,), (1,))
            if parsed.surface:
                tolerance = parsed.nsd_tolerance(by_key[key])
                surfaces[key] = _surface_stats(r, p, case.gt, options, parsed, tolerance)
        if parsed.lesions is not None:
            lesions[key] = _lesions(r, p, case.gt, parsed.lesions, options)
    return counts, surfaces, lesions


def _calibration(
    case: CaseMasks,
    tally: Tally,
    matches: tuple[Match, ...] | None,
    options: ScoreOptions,
    parsed: ParsedOptions,
) -> dict[str, Any]:
    """Calibration statistics of each scored structure of a probability map (``--soft``): its
    voxels' outcomes against the map, the --ignore-label (and --dissensus) voxels left out."""
    import numpy as np

    from dicecli.metrics.calibration import calibration_stats
    from dicecli.metrics.surface import member
    from dicecli.pipeline import as_matches
    from dicecli.regions import scored_regions

    if matches is None:
        present = {int(v) for v in tally.ref_values}
        matches = as_matches(scored_regions(options, parsed, present=present))
    ref = np.asarray(case.ref)
    probability = np.asarray(case.pred.array)  # checked by the soft counting (probability_map)
    keep = None
    if options.ignore_label is not None:
        keep = ref != options.ignore_label
    if case.keep is not None and not isinstance(case.keep, dict):
        keep = case.keep if keep is None else keep & case.keep
    if keep is not None:
        ref, probability = ref[keep], probability[keep]
    return {
        m.key: calibration_stats(member(ref, m.ref), probability, options.calibration_bins)
        for m in matches
    }


def _kept(case: CaseMasks, match: Match) -> Any:
    """The voxels a structure of a segmented consensus counts on (``--dissensus ignore``): where
    the raters agree on each of the structure's segments; None: every voxel."""
    if not isinstance(case.keep, dict):
        return None
    arrays = [case.keep[n] for n in match.ref if case.keep.get(n) is not None]
    if not arrays:
        return None
    kept = arrays[0]
    for other in arrays[1:]:
        kept = kept & other
    return kept


def _by_value(
    case: CaseMasks, tally: Tally, options: ScoreOptions, parsed: ParsedOptions
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Surface statistics and lesions of two label maps scored by value: every region of the
    case's values (``regions.scored_regions``)."""
    from dicecli.pipeline import as_matches, region_masks
    from dicecli.regions import scored_regions

    present = {int(v) for v in tally.ref_values}
    present |= {int(v) for v in getattr(tally, "pred_values", ())}
    matches = as_matches(scored_regions(options, parsed, present=present))
    surfaces = _surfaces(case, matches, options, parsed) if parsed.surface else {}
    lesions: dict[str, Any] = {}
    if parsed.lesions is not None:
        for key, (r, p) in region_masks(case, matches, options.ignore_label):
            lesions[key] = _lesions(r, p, case.gt, parsed.lesions, options)
    return surfaces, lesions


def _surface_stats(
    r: Any, p: Any, grid: Mask, options: ScoreOptions, parsed: ParsedOptions, tolerance: float
) -> Any:
    from dicecli.metrics.surface import surface_stats

    band = _band(grid, parsed)
    topology = _topology(parsed)
    surfel = options.surface == "surfel"
    return surface_stats(
        r, p, grid.spacing, options.hd_percentile, tolerance, band, topology, surfel
    )


def _topology(parsed: ParsedOptions) -> bool:
    """Whether ``--metrics`` asks for clDice or a Betti-number error."""
    from dicecli.metrics.surface import TOPOLOGY

    return any(m in parsed.surface for m in TOPOLOGY)


def _band(grid: Mask, parsed: ParsedOptions) -> tuple[float, tuple[float, ...]] | None:
    """Boundary IoU's band on this case's grid, when ``--metrics`` asks for biou."""
    if "biou" not in parsed.surface:
        return None
    return parsed.boundary_band(tuple(grid.array.shape), tuple(grid.spacing))


def _surfaces(
    case: CaseMasks, matches: Sequence[Match], options: ScoreOptions, parsed: ParsedOptions
) -> dict[str, Any]:
    """Surface statistics of every structure of two label maps (cropped to the foreground)."""
    import numpy as np

    from dicecli.metrics.surface import region_surfaces

    return region_surfaces(
        np.asarray(case.ref),
        np.asarray(case.labels),
        matches,
        case.gt.spacing,
        options.hd_percentile,
        parsed.nsd_tolerance,
        options.ignore_label,
        _band(case.gt, parsed),
        _topology(parsed),
        options.surface == "surfel",
    )


def _lesions(r: Any, p: Any, grid: Mask, settings: LesionSettings, options: ScoreOptions) -> Any:
    """Lesion-wise results of one region's (reference, prediction) boolean arrays."""
    from dicecli.metrics.lesions import evaluate_lesions

    return evaluate_lesions(
        r, p, grid.spacing, grid.origin, grid.direction, settings, options.empty
    )


def run_cases(
    pairs: Sequence[CasePair],
    options: ScoreOptions,
    on_done: Callable[[Outcome], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    scheduler: Scheduler | None = None,
) -> list[Outcome]:
    """Score every case, in worker processes when that pays, or as tasks on a Dask cluster
    (``scheduler``); results keep the order of ``pairs``. When ``should_stop()`` turns true (a
    signal), no further case starts: the cases running finish, and only the finished ones are
    returned."""
    from dicecli.options import parse_options

    parsed = parse_options(options)  # once: the workers receive typed values
    jobs = [CaseJob(p, options, parsed) for p in pairs]
    stop = should_stop or (lambda: False)
    if scheduler is not None and jobs:
        from dicecli.cluster import run_on_dask

        return run_on_dask(jobs, scheduler, score_case, on_done, stop)
    workers = min(options.jobs or os.cpu_count() or 1, len(jobs))
    if workers <= 1 or _input_bytes(pairs) < PARALLEL_MIN_BYTES:
        results = []
        for job in jobs:
            if stop():
                break
            results.append(score_case(job))
            if on_done:
                on_done(results[-1])
        return results
    return _run_pool(jobs, workers, on_done, stop)


def _run_pool(
    jobs: list[CaseJob],
    workers: int,
    on_done: Callable[[Outcome], None] | None,
    stop: Callable[[], bool],
) -> list[Outcome]:
    """The jobs on a pool of worker processes, in rounds: a worker that dies (a crash in a C
    library, the out-of-memory killer) breaks its pool, and the jobs it took with it run again
    in a fresh one; when a round finishes none, they run one by one, so that only the job that
    kills its worker is lost (a ``WorkerDied`` failure) and every other case is scored."""
    results: list[Outcome | None] = [None] * len(jobs)

    def finished(i: int, outcome: Outcome) -> None:
        results[i] = outcome
        if on_done:
            on_done(outcome)

    todo, alone = list(range(len(jobs))), False
    while todo and not stop():
        broken = _pool_round(jobs, todo, 1 if alone else workers, finished, stop)
        if alone and broken:  # one at a time: the first still unfinished killed its worker
            culprit, *broken = broken
            finished(culprit, _worker_died(jobs[culprit].pair))
            alone = False
        else:
            alone = len(broken) == len(todo)  # no progress: isolate the culprit
        todo = broken
    return [r for r in results if r is not None]


def _pool_round(
    jobs: list[CaseJob],
    todo: list[int],
    workers: int,
    finished: Callable[[int, Outcome], None],
    stop: Callable[[], bool],
) -> list[int]:
    """One pool over the jobs ``todo``; the indices of those its broken pool took with it."""
    from concurrent.futures import FIRST_COMPLETED, wait

    context = _pool_context(jobs[0].options.device)
    broken: list[int] = []
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_quiet_worker
    ) as pool:
        futures: dict[Future[Outcome], int] = {pool.submit(score_case, jobs[i]): i for i in todo}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            if stop():
                for future in pending:
                    future.cancel()  # queued cases never start; running ones finish
            for future in done:
                if future.cancelled():
                    continue
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    broken.append(futures[future])
                    continue
                finished(futures[future], outcome)
            pending = {f for f in pending if not f.cancelled()}
    return sorted(broken)


def _quiet_worker() -> None:
    """Workers leave SIGINT and SIGTERM to the submitting process, which stops starting cases
    and lets the running ones finish (a terminal's Ctrl-C and GNU ``timeout`` signal the whole
    process group)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _worker_died(pair: CasePair) -> CaseFailure:
    return CaseFailure(
        pair.case,
        pair.pred,
        pair.gt,
        "WorkerDied",
        f"case {pair.case}: the worker process died reading or scoring it (a crash in a "
        "library, or out of memory); lower --jobs or --max-voxels, or check its files",
    )


def _pool_context(device: DevicePolicy) -> Any:
    """``fork`` where it is safe (POSIX, no other thread running, no CUDA context in this
    process): workers start at once with everything imported. Else ``forkserver`` preloading the
    pipeline's modules, or ``spawn``."""
    import multiprocessing
    import threading

    from dicecli.xp import cached_backend

    methods = multiprocessing.get_all_start_methods()
    cuda = device != "cpu" and cached_backend(device).name == "gpu"  # CUDA does not survive fork
    if "fork" in methods and threading.active_count() == 1 and not cuda:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["dicecli.engine", "dicecli.io.nifti", "dicecli.metrics"])
        return context
    return multiprocessing.get_context("spawn")


def _input_bytes(pairs: Sequence[CasePair]) -> int:
    total = 0
    for pair in pairs:
        for path in (pair.pred, pair.gt):
            if path and os.path.isfile(path):
                total += os.path.getsize(path)
            elif path and os.path.isdir(path):
                total += PARALLEL_MIN_BYTES  # a DICOM series is worth a worker
    return total
