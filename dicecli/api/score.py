"""``score_cases``, ``score_pair`` and ``apply_gate``: scoring runs through the Python API."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dicecli.errors import DiceCliError, NoCasesError, UsageError
from dicecli.models import (
    CaseFailure,
    CasePair,
    CaseTally,
    GateSettings,
    RunResult,
    ScoreOptions,
)

if TYPE_CHECKING:
    from dicecli.pairing import Pairing


def score_cases(
    pred: str | os.PathLike[str] | None = None,
    gt: str | os.PathLike[str] | None = None,
    *,
    pairs: str | os.PathLike[str] | None = None,
    on_case_done: Callable[[Any], None] | None = None,
    on_pairing: Callable[[Pairing, int], None] | None = None,
    journal: str | os.PathLike[str] | None = None,
    resume: bool = False,
    should_stop: Callable[[], bool] | None = None,
    scheduler: str | None = None,
    scheduler_file: str | None = None,
    options: ScoreOptions | None = None,
    **settings: Any,
) -> RunResult:
    """Score every case of two folders (paired by case id), two masks, or a pairs manifest.

    Parameters
    ----------
    pred, gt
        Folders of cases, two mask files, or two DICOM series folders.
    pairs
        A CSV manifest with columns ``case,pred,gt`` instead of ``pred`` and ``gt``.
    on_case_done, on_pairing
        Called with each case's outcome as it finishes, and once with the pairing and the
        number of cases that will be scored (missing predictions under ``missing="skip"`` or
        ``"error"`` and duplicate case ids are not).
    journal, resume
        Append each finished case to this JSON-lines journal; with ``resume``, reuse the cases
        it holds whose inputs are unchanged (``dicecli.journal``).
    should_stop
        Polled between cases: when it returns True no further case starts, and the result holds
        the cases finished so far with ``complete=False``.
    scheduler, scheduler_file
        Run each case as a task on a Dask distributed cluster: ``tcp://host:port``, ``local``
        or ``local:N`` (a LocalCluster of N worker processes for this run), or a scheduler file
        (``pip install "dicecli[dask]"``).
    options, **settings
        The scoring options: a :class:`dicecli.models.ScoreOptions`, or its fields as keywords
        (``labels="liver=1,tumor=2"``, ``empty="one"``, ``soft=True``, ``jobs=1`` ...); not both.

    Returns
    -------
    RunResult
        ``.cases`` and ``.summary`` DataFrames, ``.errors`` for cases that failed.

    Examples
    --------
    >>> result = score_cases("examples/nifti/pred", "examples/nifti/gt", jobs=1)  # doctest: +SKIP
    >>> result.summary[["label", "dice_mean"]]  # doctest: +SKIP
    """
    from dicecli.cluster import parse_scheduler
    from dicecli.pairing import pair_cases, pairs_from_manifest
    from dicecli.xp import cached_backend

    opts = checked_options(options, settings)
    cluster = parse_scheduler(scheduler, scheduler_file)
    if cluster is None:  # --device gpu without a GPU fails here, before any work
        backend = cached_backend(opts.device)
        backend_text = f"{backend.name} ({backend.device})"
    else:  # the workers choose (a CPU-only login node may submit to GPU workers)
        backend_text = f"chosen by each Dask worker (--device {opts.device})"
    if pairs is not None:
        if pred is not None or gt is not None:
            raise UsageError("give either PRED and GT or --pairs, not both")
        pairing = pairs_from_manifest(os.fspath(pairs))
    elif pred is None or gt is None:
        raise UsageError("give PRED and GT (folders or files), or --pairs manifest.csv")
    else:
        pairing = pair_cases(os.fspath(pred), os.fspath(gt), opts.pattern, opts.layout)
    pairing, notes = _tables(pairing, opts)
    todo, failures, skipped = _apply_missing(pairing.pairs, opts)
    if on_pairing:
        on_pairing(pairing, len(todo))  # the cases that will be scored: a progress bar's total
    failures += [
        CaseFailure(case, None, None, "PairingError", message)
        for case, message in sorted(pairing.conflicts.items())
    ]
    if not todo and not pairing.conflicts:
        raise NoCasesError(_nothing_to_score(pred, gt, pairs, pairing))
    outcomes, reused, complete = _run(
        todo, opts, on_case_done, journal, resume, should_stop, cluster
    )
    tallies = [o for o in outcomes if isinstance(o, CaseTally)]
    failures += [o for o in outcomes if isinstance(o, CaseFailure)]
    result = _result(tallies, failures, opts, pairing, skipped, backend_text)
    inputs = {"pred": pred, "gt": gt, "pairs": pairs}
    return replace(
        result,
        inputs={k: os.fspath(v) for k, v in inputs.items() if v is not None},
        complete=complete,
        resumed=reused,
        finished=len(outcomes),
        total=len(todo),
        notes=notes,
    )


def _tables(pairing: Pairing, opts: ScoreOptions) -> tuple[Pairing, tuple[str, ...]]:
    """The label tables given are read once here (a bad one stops the run, exit 2); for a side
    without one, each case's table found beside its files."""
    from dicecli.io.label_table import read_table
    from dicecli.pairing import with_found_tables

    for table in (opts.label_table, opts.ref_label_table, opts.pred_label_table):
        if table is not None:
            read_table(table)
    find = opts.find_label_tables and opts.label_table is None
    return with_found_tables(
        pairing,
        find_pred=find and not opts.pred_label_table,
        find_gt=find and not opts.ref_label_table,
    )


def checked_options(options: ScoreOptions | None, settings: dict[str, Any]) -> ScoreOptions:
    """The run's options, checked as a whole: given typed, or as keywords."""
    from dataclasses import asdict

    from dicecli.options import make_options

    if options is None:
        return make_options(**settings)
    if settings:
        raise UsageError(
            f"give options=ScoreOptions(...) or keyword options ({', '.join(sorted(settings))}), "
            "not both"
        )
    return make_options(**asdict(options))


def apply_gate(
    result: RunResult, settings: GateSettings, baseline: dict[str, Any] | None = None
) -> RunResult:
    """``result`` with the CI gate evaluated (``result.gate.passed``); ``baseline`` is a JSON
    report of an earlier run (``dicecli.gate.load_baseline``) for ``max_drop`` rules."""
    from dicecli.gate import evaluate_gate

    return replace(result, gate=evaluate_gate(result.cases, result.regions, settings, baseline))


def _run(
    todo: list[CasePair],
    opts: ScoreOptions,
    on_case_done: Callable[[Any], None] | None,
    journal: str | os.PathLike[str] | None,
    resume: bool,
    should_stop: Callable[[], bool] | None,
    cluster: Any = None,
) -> tuple[list[Any], int, bool]:
    """The outcomes in the order of ``todo`` (those journalled reused), how many were reused,
    and whether every case finished."""
    from dicecli.engine import run_cases
    from dicecli.journal import Journal

    if resume and journal is None:
        raise UsageError("--resume needs --journal PATH (the journal of the interrupted run)")
    book = Journal(os.fspath(journal), opts, resume) if journal is not None else None
    try:
        known = {p.case: book.done(p) for p in todo} if book else {}
        fresh = [p for p in todo if known.get(p.case) is None]
        by_case = {p.case: p for p in todo}

        def done(outcome: Any) -> None:
            # a dead worker (killed, out of memory) says nothing about the case: rescored later
            transient = isinstance(outcome, CaseFailure) and outcome.error == "WorkerDied"
            if book is not None and not transient:
                book.record(by_case[outcome.case], outcome)
            if on_case_done:
                on_case_done(outcome)

        for outcome in known.values():
            if outcome is not None and on_case_done:
                on_case_done(outcome)
        scored = {o.case: o for o in run_cases(fresh, opts, done, should_stop, cluster)}
    finally:
        if book is not None:
            book.close()
    outcomes = [known.get(p.case) or scored.get(p.case) for p in todo]
    finished = [o for o in outcomes if o is not None]
    return finished, len(todo) - len(fresh), len(finished) == len(todo)


def score_pair(
    pred: str | os.PathLike[str], gt: str | os.PathLike[str], **options: Any
) -> RunResult:
    """Score one prediction against one reference; raises the case's error if it fails.

    >>> r = score_pair("pred/case_01.png", "gt/case_01.png")  # doctest: +SKIP
    """
    result = score_cases(pred, gt, **{"jobs": 1, **options})
    if result.errors:
        raise _reraise(result.errors[0])
    return result


def _reraise(failure: CaseFailure) -> DiceCliError:
    from dicecli import errors

    cls = getattr(errors, failure.error, DiceCliError)
    if not (isinstance(cls, type) and issubclass(cls, DiceCliError)):
        cls = DiceCliError
    return cls(failure.message)


def _apply_missing(
    pairs: tuple[CasePair, ...], opts: ScoreOptions
) -> tuple[list[CasePair], list[CaseFailure], tuple[str, ...]]:
    todo = [p for p in pairs if p.pred is not None or opts.missing == "zero"]
    missing = [p for p in pairs if p.pred is None]
    if opts.missing == "skip":
        return todo, [], tuple(p.case for p in missing)
    failures = (
        [
            CaseFailure(
                p.case,
                None,
                p.gt,
                "PairingError",
                f"{p.gt}: no prediction for case {p.case!r}; add it, or pass "
                "--missing zero (score as empty) or --missing skip",
            )
            for p in missing
        ]
        if opts.missing == "error"
        else []
    )
    return todo, failures, ()


def _nothing_to_score(pred: Any, gt: Any, pairs: Any, pairing: Pairing) -> str:
    if pairs is not None:
        return f"{pairs}: the manifest lists no case with a prediction"
    if not pairing.pairs:
        return f"{gt}: no reference masks found (is it the right folder?)"
    return (
        f"no prediction in {pred} matches any of the {len(pairing.pairs)} references in {gt} "
        "(case ids must match: file name without its format suffix, or set --pattern)"
    )


def _erased_skeletons(tallies: list[CaseTally], regions: Any) -> tuple[str, ...]:
    """One warning naming the structures whose skeleton the thinning erased (clDice NaN)."""
    from dicecli.metrics.topology import skeleton_erased

    names = {r.key: r.name for r in regions}
    hits = [
        (t.case, names.get(key, key))
        for t in tallies
        for key, stats in t.surfaces.items()
        if getattr(stats, "topology", None) is not None and skeleton_erased(stats.topology)
    ]
    if not hits:
        return ()
    shown = ", ".join(f"{case} {name}" for case, name in hits[:5])
    more = f" and {len(hits) - 5} more" if len(hits) > 5 else ""
    return (
        f"cldice is NaN for {len(hits)} structure(s) whose skeleton the thinning erases "
        f"(compact blobs: {shown}{more}): clDice scores tubular structures",
    )


def _one_sided(cases: Any) -> tuple[str, ...]:
    """One warning per side naming the structures that side lacks in some cases: scored there
    as an empty mask (a missed or an invented structure), which the rows say (``absent``)."""
    out = []
    for side in ("prediction", "reference"):
        rows = cases[cases["absent"] == side]
        if rows.empty:
            continue
        counts = rows.groupby("label", sort=False)["case"].nunique()
        listed = ", ".join(f"{label} ({n} case{'s' * (n != 1)})" for label, n in counts.items())
        example = str(counts.index[0]).replace(" ", "_")
        out.append(
            f"the {side} names no structure {listed}: scored as an empty {side} mask there; if "
            f"it names it otherwise, pair the two names with --labels {example}={example}"
            "+OtherName"
        )
    return tuple(out)


def _one_kind(
    tallies: list[CaseTally], failures: list[CaseFailure], discovered: bool
) -> tuple[list[CaseTally], list[CaseFailure]]:
    """A run's rows are structures by name or label values, not both: where some cases name
    their structures and the regions are discovered, a case of two label maps that name
    nothing cannot be scored by name."""
    named = [t for t in tallies if t.matches]
    if not discovered or not named or len(named) == len(tallies):
        return tallies, failures
    example = named[0]
    unnamed = [
        CaseFailure(
            t.case,
            t.pred_path,
            t.gt_path,
            "MaskReadError",
            f"case {t.case}: {t.pred_path} and {t.gt_path} name no structures, but the other "
            f"cases do (case {example.case}: {example.gt_path}); pass --label-table naming "
            "their values, or score them in a run of their own",
        )
        for t in tallies
        if not t.matches
    ]
    return named, failures + unnamed


def _result(
    tallies: list[CaseTally],
    failures: list[CaseFailure],
    opts: ScoreOptions,
    pairing: Pairing,
    skipped: tuple[str, ...],
    backend: str,
) -> RunResult:
    from dicecli.aggregate import calibration_bins, case_rows, lesion_rows, run_values, summarise
    from dicecli.metrics.lesion_bins import bin_rows, parse_size_bins
    from dicecli.options import parse_options
    from dicecli.regions import scored_regions

    parsed = parse_options(opts)
    bins = parse_size_bins(opts.lesion_size_bins) if opts.lesions else None
    tallies, failures = _one_kind(tallies, failures, parsed.regions is None)
    matches = [m for t in tallies for m in t.matches]
    regions = scored_regions(opts, parsed, present=run_values(tallies), matches=matches)
    cases = case_rows(tallies, regions, opts)
    one_sided = _one_sided(cases) + _erased_skeletons(tallies, regions)
    return RunResult(
        cases=cases,
        summary=summarise(cases, regions, opts.ci_resamples),
        errors=tuple(failures),
        regions=regions,
        options=opts,
        backend=backend,
        warnings=tuple(w for t in tallies for w in t.warnings) + one_sided,
        skipped=skipped,
        unmatched_predictions=pairing.unmatched_predictions,
        spacings={t.case: t.spacing for t in tallies},
        lesions=lesion_rows(tallies, regions, bins) if opts.lesions else None,
        calibration=calibration_bins(tallies, regions) if parsed.calibration else None,
        lesion_bins=bin_rows(tallies, regions, bins) if bins is not None else None,
    )
