"""The per-case pipeline and the executor that runs it over many cases.

Per case, in a worker: load both masks -> check geometry -> values to labels (or probabilities) ->
one host->device copy -> one counting pass. The worker returns a CaseTally (small numbers) or a
CaseFailure; one bad case never stops the others.
"""

from __future__ import annotations

import math
import os
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from dicecli.errors import DiceCliError, MaskReadError
from dicecli.models import (
    CaseFailure,
    CaseJob,
    CasePair,
    CaseTally,
    DevicePolicy,
    Mask,
    Outcome,
    Scheduler,
    ScoreOptions,
    Tally,
)

#: Below this many input bytes in all (compressed: a 512x512x200 label map .nii.gz is ~0.3 MiB),
#: starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 1 << 20


def score_case(job: CaseJob) -> Outcome:
    """Run one case; every failure becomes a CaseFailure naming the file."""
    pair = job.pair
    try:
        return _tally_case(pair, job.options)
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


def _tally_case(pair: CasePair, options: ScoreOptions) -> CaseTally:
    import numpy as np

    from dicecli.geometry import align, check_geometry
    from dicecli.io import load_mask
    from dicecli.metrics import joint_histogram, soft_tally
    from dicecli.options import read_options, surface_metrics
    from dicecli.values import label_map, probability_map
    from dicecli.xp import cached_backend

    read = read_options(options)
    gt = load_mask(pair.gt, read)
    if pair.pred is None:
        pred = Mask(
            np.zeros(gt.array.shape, np.uint8),
            gt.spacing,
            gt.origin,
            gt.direction,
            "(missing: scored as empty)",
            gt.format,
            has_geometry=gt.has_geometry,
        )
    else:
        pred = load_mask(pair.pred, read)
    notes = [*gt.warnings, *pred.warnings]
    if options.soft and gt.segments:
        raise MaskReadError(
            f"{gt.path}: --soft scores probability maps against label maps; a DICOM SEG or "
            "RTSTRUCT reference has overlapping segments -- export it as a label map first"
        )
    if options.labels and not gt.segments:
        from dicecli.labels import parse_labels
        from dicecli.regions import check_names

        check_names(gt, parse_labels(options.labels))
    pred, gt, moved = align(pred, gt, options.geometry, options.geometry_tolerance)
    notes += moved + check_geometry(pred, gt, options.geometry, options.geometry_tolerance)
    backend = cached_backend(options.device)
    ref_host = label_map(gt, options.threshold)
    ref = backend.to_device(ref_host)
    tally: Tally
    labels = None
    if options.soft:
        tally = soft_tally(ref, backend.to_device(probability_map(pred)), backend.xp)
    else:
        labels = pred.array if pred.segments else label_map(pred, options.threshold, True)
        tally = joint_histogram(ref, backend.to_device(labels), backend.xp)
    volume = math.prod(gt.spacing) / 1000.0 if gt.ndim == 3 and gt.has_geometry else None
    surfaces: dict[str, Any] = {}
    by_region: dict[str, Any] = {}
    lesions: dict[str, Any] = {}
    if gt.segments and not options.soft:
        by_region, surfaces, lesions = _segment_tallies(gt, pred, labels, options, backend)
    elif not options.soft:
        if surface_metrics(options):
            surfaces = _surfaces(ref_host, labels, gt.spacing, tally, options)
        if options.lesions:
            regions = _case_regions(options, tally)
            lesions = _lesions(
                _label_masks(ref_host, labels, regions, options.ignore_label), gt, options
            )
    return CaseTally(
        pair.case,
        pred.path,
        gt.path,
        tally,
        volume,
        tuple(notes),
        surfaces,
        gt.spacing,
        region_tallies=by_region,
        label_names={s.number: s.label for s in gt.segments or pred.segments},
        meta=dict(gt.meta or pred.meta),
        lesions=lesions,
    )


def _segment_tallies(
    gt: Mask, pred: Mask, labels: Any, options: ScoreOptions, backend: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """One binary joint histogram (and surface statistics, lesions) per region of a SEG/RTSTRUCT
    reference: overlapping segments are never merged into one label map."""
    from dicecli.metrics import joint_histogram
    from dicecli.metrics.surface import surface_stats
    from dicecli.options import nsd_tolerance_of, surface_metrics
    from dicecli.regions import region_masks, segment_regions

    regions = segment_regions(gt, options)
    masks = region_masks(gt, pred, labels, regions)
    tallies = {
        spec: joint_histogram(backend.to_device(r), backend.to_device(p), backend.xp)
        for spec, (r, p) in masks.items()
    }
    surfaces = {}
    if surface_metrics(options):
        tolerance = nsd_tolerance_of(options)
        for region in regions:
            r, p = masks[region.spec]
            surfaces[region.spec] = surface_stats(
                r, p, gt.spacing, options.hd_percentile, tolerance(region)
            )
    lesions = _lesions(masks.items(), gt, options) if options.lesions else {}
    return tallies, surfaces, lesions


def _case_regions(options: ScoreOptions, tally: Tally) -> tuple[Any, ...]:
    """The --labels regions, or every label present in this case (label-map references)."""
    from dicecli.labels import discover_labels, parse_labels, with_background

    if options.labels:
        regions = parse_labels(options.labels)
        return (
            with_background(regions, options.ignore_label)
            if options.include_background
            else regions
        )
    present = {int(v) for v in tally.ref_values}
    present |= {int(v) for v in getattr(tally, "pred_values", ())}
    return discover_labels(present, options.include_background, options.ignore_label)


def _surfaces(
    ref: Any, pred: Any, spacing: tuple[float, ...], tally: Tally, options: ScoreOptions
) -> dict[str, Any]:
    """Surface statistics for the --labels regions, or for every label present in this case."""
    import numpy as np

    from dicecli.metrics.surface import region_surfaces
    from dicecli.options import nsd_tolerance_of

    return region_surfaces(
        np.asarray(ref),
        np.asarray(pred),
        _case_regions(options, tally),
        spacing,
        options.hd_percentile,
        nsd_tolerance_of(options),
        options.ignore_label,
    )


def _lesions(masks: Any, grid: Mask, options: ScoreOptions) -> dict[str, Any]:
    """Lesion-wise results per region spec; ``masks`` yields (spec, (reference, prediction))
    boolean arrays on ``grid``, one region at a time."""
    from dicecli.metrics.lesions import evaluate_lesions
    from dicecli.options import lesion_settings

    settings = lesion_settings(options)
    return {
        spec: evaluate_lesions(
            r, p, grid.spacing, grid.origin, grid.direction, settings, options.empty
        )
        for spec, (r, p) in masks
    }


def _label_masks(ref: Any, pred: Any, regions: Any, ignore: int | None) -> Any:
    """(reference, prediction) boolean arrays of each region of two label maps, lazily."""
    import numpy as np

    from dicecli.metrics.surface import member

    keep = None if ignore is None else np.asarray(ref) != ignore
    for region in regions:
        r, p = member(ref, region.values), member(pred, region.values)
        if keep is not None:
            r, p = r & keep, p & keep
        yield region.spec, (r, p)


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
    jobs = [CaseJob(p, options) for p in pairs]
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
    from concurrent.futures import FIRST_COMPLETED, wait

    context = _pool_context(jobs[0].options.device)
    results: list[Outcome | None] = [None] * len(jobs)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: dict[Future[Outcome], int] = {
            pool.submit(score_case, job): i for i, job in enumerate(jobs)
        }
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            if stop():
                for future in pending:
                    future.cancel()  # queued cases never start; running ones finish
            for future in done:
                if future.cancelled():
                    continue
                i = futures[future]
                results[i] = _result_of(future, jobs[i].pair)
                if on_done:
                    on_done(results[i])  # type: ignore[arg-type]
            pending = {f for f in pending if not f.cancelled()}
    return [r for r in results if r is not None]


def _result_of(future: Future[Outcome], pair: CasePair) -> Outcome:
    try:
        return future.result()
    except BrokenProcessPool:
        return CaseFailure(
            pair.case,
            pair.pred,
            pair.gt,
            "WorkerDied",
            f"case {pair.case}: the worker process died (out of memory?); "
            "lower --jobs or --max-voxels",
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
