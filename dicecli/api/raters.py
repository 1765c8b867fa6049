"""``score_panel`` and ``rater_agreement``: a prediction against several raters (each, their
consensus, their inter-rater band), and the raters against each other."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dicecli.errors import NoCasesError, UsageError
from dicecli.models import CaseFailure, CasePair, CaseTally, GateSettings, RunResult, ScoreOptions
from dicecli.models.raters import PanelResult

#: The key of the consensus run in ``PanelResult.runs``.
CONSENSUS = "consensus"


@dataclass(frozen=True)
class PanelCase:
    """One case of a panel: the prediction (None: missing, or no model) and each rater's
    reference (None where that rater lacks the case), with the label tables found beside."""

    case: str
    pred: str | None
    refs: tuple[str | None, ...]
    pred_table: str | None = None
    ref_tables: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class _Job:
    role: str  # a rater's name, CONSENSUS, or "band"
    pair: CasePair
    band: tuple[str, str] | None = None


def score_panel(
    pred: str | os.PathLike[str] | None,
    references: Sequence[str | os.PathLike[str]],
    *,
    names: Sequence[str] | None = None,
    pairs: str | os.PathLike[str] | None = None,
    gate: GateSettings | None = None,
    below_raters: bool = False,
    on_case_done: Callable[[Any], None] | None = None,
    on_pairing: Callable[[Any, int], None] | None = None,
    journal: str | os.PathLike[str] | None = None,
    resume: bool = False,
    should_stop: Callable[[], bool] | None = None,
    scheduler: str | None = None,
    scheduler_file: str | None = None,
    options: ScoreOptions | None = None,
    **settings: Any,
) -> PanelResult:
    """Score ``pred`` against each of ``references`` (folders or masks, one per rater, paired
    by case id; or a ``pairs`` manifest with ``gt`` columns per rater), against their consensus
    (``options.consensus``; ``dissensus="ignore"`` leaves out the voxels they disagree on), and
    every rater against every other (the inter-rater band, the earlier rater as reference).

    ``gate`` (score's rules) and ``below_raters`` (the model worse than the band's worst pair)
    are checked on the model's per-case mean over the raters, or on the consensus rows.

    Examples
    --------
    >>> r = score_panel("pred", ["rater1", "rater2", "rater3"], jobs=1)  # doctest: +SKIP
    >>> r.summary[["label", "model_mean", "band_min", "band_max", "position"]]  # doctest: +SKIP
    """
    opts = _checked(options, settings)
    rater_names, cases, found = _panel(pred, references, names, pairs, opts, model=True)
    if len(rater_names) < 2:
        raise UsageError("several raters need at least two references: PRED GT1 GT2 [GT3 ...]")
    if opts.dissensus == "ignore" and opts.consensus is None:
        consensus: str | None = "agreement"
    else:
        consensus = opts.consensus
    return _score(
        rater_names,
        [os.fspath(r) for r in references] if references else list(rater_names),
        cases,
        os.fspath(pred) if pred is not None else (os.fspath(pairs) if pairs else None),
        consensus,
        opts,
        gate,
        below_raters,
        found,
        _callbacks(
            on_case_done, on_pairing, journal, resume, should_stop, scheduler, scheduler_file
        ),
    )


def rater_agreement(
    references: Sequence[str | os.PathLike[str]],
    *,
    names: Sequence[str] | None = None,
    pairs: str | os.PathLike[str] | None = None,
    on_case_done: Callable[[Any], None] | None = None,
    on_pairing: Callable[[Any, int], None] | None = None,
    journal: str | os.PathLike[str] | None = None,
    resume: bool = False,
    should_stop: Callable[[], bool] | None = None,
    scheduler: str | None = None,
    scheduler_file: str | None = None,
    options: ScoreOptions | None = None,
    **settings: Any,
) -> PanelResult:
    """Every rater of ``references`` against every other (the earlier one as the reference),
    per case and structure, and Fleiss' kappa over all of them."""
    opts = _checked(options, settings)
    if opts.consensus is not None or opts.dissensus != "keep":
        raise UsageError("agreement scores the raters against each other; drop --consensus")
    rater_names, cases, found = _panel(None, references, names, pairs, opts, model=False)
    if len(rater_names) < 2:
        raise UsageError("agreement needs at least two raters: R1 R2 [R3 ...]")
    return _score(
        rater_names,
        [os.fspath(r) for r in references] if references else list(rater_names),
        cases,
        None,
        None,
        opts,
        None,
        False,
        found,
        _callbacks(
            on_case_done, on_pairing, journal, resume, should_stop, scheduler, scheduler_file
        ),
    )


def _callbacks(
    on_case_done: Any,
    on_pairing: Any,
    journal: Any,
    resume: bool,
    should_stop: Any,
    scheduler: Any,
    scheduler_file: Any,
) -> dict[str, Any]:
    return {
        "on_case_done": on_case_done,
        "on_pairing": on_pairing,
        "journal": journal,
        "resume": resume,
        "should_stop": should_stop,
        "scheduler": scheduler,
        "scheduler_file": scheduler_file,
    }


def _checked(options: ScoreOptions | None, settings: dict[str, Any]) -> ScoreOptions:
    from dicecli.api.score import checked_options

    opts = checked_options(options, settings)
    if opts.write_consensus and opts.consensus is None:
        raise UsageError("--write-consensus needs --consensus staple|majority|all|any")
    return opts


def rater_names(references: Sequence[str], names: Sequence[str] | None) -> list[str]:
    """``names``, or each reference's folder or file name (numbered where they repeat)."""
    if names:
        if len(names) != len(references):
            raise UsageError(f"--rater-names gives {len(names)} names for {len(references)} raters")
        chosen = [n.strip() for n in names]
        if len(set(chosen)) != len(chosen) or not all(chosen):
            raise UsageError(f"--rater-names must be distinct and not empty ({', '.join(chosen)})")
        return chosen
    stems = [os.path.basename(os.path.normpath(r)) or r for r in references]
    if len(set(stems)) == len(stems):
        return stems
    return [f"{s} ({i + 1})" for i, s in enumerate(stems)]


def _panel(
    pred: Any,
    references: Sequence[Any],
    names: Sequence[str] | None,
    pairs: Any,
    opts: ScoreOptions,
    model: bool,
) -> tuple[list[str], list[PanelCase], list[str]]:
    if pairs is not None:
        if references or pred is not None:
            raise UsageError("give either PRED GT1 GT2 ... or --pairs, not both")
        return (*_from_manifest(os.fspath(pairs), names, model), [])
    refs = [os.fspath(r) for r in references]
    chosen = rater_names(refs, names)
    cases, notes = _from_folders(os.fspath(pred) if pred is not None else None, refs, opts)
    return chosen, cases, notes


def _from_folders(
    pred: str | None, refs: list[str], opts: ScoreOptions
) -> tuple[list[PanelCase], list[str]]:
    """Each rater paired with the prediction (or with itself, without one) by case id; the
    notes of the label tables found beside them."""
    from dicecli.io.label_table import read_table
    from dicecli.pairing import pair_cases, with_found_tables

    for table in (opts.label_table, opts.ref_label_table, opts.pred_label_table):
        if table is not None:
            read_table(table)  # a bad table stops the run here (exit 2)
    find = opts.find_label_tables and opts.label_table is None
    by_case: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for i, ref in enumerate(refs):
        pairing, found = with_found_tables(
            pair_cases(pred or ref, ref, opts.pattern, opts.layout),
            find_pred=find and pred is not None and not opts.pred_label_table,
            find_gt=find and not opts.ref_label_table,
        )
        notes += found
        for p in pairing.pairs:
            entry = by_case.setdefault(p.case, {"pred": None, "pred_table": None, "refs": {}})
            if pred is not None and p.pred is not None:
                entry["pred"], entry["pred_table"] = p.pred, p.pred_table
            entry["refs"][i] = (p.gt, p.gt_table)
    cases = [
        PanelCase(
            case,
            entry["pred"],
            tuple(entry["refs"].get(i, (None, None))[0] for i in range(len(refs))),
            entry["pred_table"],
            tuple(entry["refs"].get(i, (None, None))[1] for i in range(len(refs))),
        )
        for case, entry in sorted(by_case.items())
    ]
    return cases, list(dict.fromkeys(notes))


def _from_manifest(
    manifest: str, names: Sequence[str] | None, model: bool
) -> tuple[list[str], list[PanelCase]]:
    """``case,pred,gt1,gt2,...`` (every column whose name starts with gt is a rater, named by
    its column unless ``names``); relative paths are relative to the manifest."""
    import csv

    from dicecli.errors import PairingError

    base = os.path.dirname(os.path.abspath(manifest))
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or [])
            rows = list(reader)
    except OSError as e:
        raise PairingError(f"{manifest}: cannot read the pairs manifest ({e.strerror})") from e
    raters = [c for c in columns if c.strip().lower().startswith("gt")]
    if "case" not in columns or (model and "pred" not in columns) or len(raters) < 2:
        raise PairingError(
            f"{manifest}: a manifest of several raters needs the columns case,pred and two or "
            f"more gt columns (gt1,gt2,...); found {','.join(columns)}"
        )
    chosen = rater_names(raters, names) if names else raters
    cases: list[PanelCase] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        case = (row.get("case") or "").strip()
        if not case:
            raise PairingError(f"{manifest}:{line}: every row needs a case id")
        if case in seen:
            raise PairingError(f"{manifest}:{line}: case {case!r} is listed twice")
        seen.add(case)
        pred = (row.get("pred") or "").strip()
        refs = tuple(os.path.join(base, v) if (v := (row.get(c) or "").strip()) else None
                     for c in raters)  # fmt: skip
        cases.append(PanelCase(case, os.path.join(base, pred) if pred else None, refs))
    return chosen, cases


def _jobs(
    names: Sequence[str], cases: Sequence[PanelCase], scored: set[str], consensus: str | None
) -> tuple[list[_Job], list[str]]:
    """Every comparison to score (the model's only for the cases in ``scored``), and a note per
    rater that lacks cases."""
    jobs: list[_Job] = []
    notes: list[str] = []
    for i, name in enumerate(names):
        lacking = [c.case for c in cases if c.refs[i] is None]
        if lacking:
            shown = ", ".join(lacking[:5]) + (" ..." if len(lacking) > 5 else "")
            notes.append(f"rater {name} has no reference for {len(lacking)} case(s): {shown}")
    for c in cases:
        tables = c.ref_tables or (None,) * len(names)
        present = [i for i, r in enumerate(c.refs) if r is not None]
        refs = [str(r) for r in c.refs if r is not None]
        if c.case in scored:
            for i, ref in zip(present, refs, strict=True):
                key = f"{c.case} [vs {names[i]}]"
                pair = CasePair(key, c.pred, ref, c.pred_table, tables[i], panel_case=c.case)
                jobs.append(_Job(names[i], pair))
            if consensus is not None and len(present) >= 2:
                pair = CasePair(
                    f"{c.case} [vs {consensus}]",
                    c.pred,
                    refs[0],
                    c.pred_table,
                    tables[present[0]],
                    raters=tuple(refs),
                    rater_tables=tuple(tables[i] for i in present),
                    panel_case=c.case,
                )
                jobs.append(_Job(CONSENSUS, pair))
        for a, (i, ref_i) in enumerate(zip(present, refs, strict=True)):
            for j, ref_j in zip(present[a + 1 :], refs[a + 1 :], strict=True):
                key = f"{c.case} [{names[j]} vs {names[i]}]"
                pair = CasePair(key, ref_j, ref_i, tables[j], tables[i], panel_case=c.case)
                jobs.append(_Job("band", pair, (names[i], names[j])))
    return jobs, notes


def _score(
    names: list[str],
    references: list[str],
    cases: list[PanelCase],
    prediction: str | None,
    consensus: str | None,
    opts: ScoreOptions,
    gate: GateSettings | None,
    below_raters: bool,
    found: list[str],
    run: dict[str, Any],
) -> PanelResult:
    from dicecli.api.score import _result, _run
    from dicecli.cluster import parse_scheduler
    from dicecli.pairing import Pairing
    from dicecli.raters import panel_tables
    from dicecli.xp import cached_backend

    model = prediction is not None
    if not cases:
        raise NoCasesError(f"{references[0]}: no reference masks found (is it the right folder?)")
    cluster = parse_scheduler(run["scheduler"], run["scheduler_file"])
    backend = (
        "chosen by each Dask worker" if cluster else _backend_text(cached_backend(opts.device))
    )
    failures, skipped, scored = _missing_predictions(cases, opts) if model else ([], [], set())
    todo, notes = _jobs(names, cases, scored, consensus)
    notes = [*found, *notes]
    notes += [f"case {case}: no prediction; skipped (--missing skip)" for case in skipped]
    if run["on_pairing"]:
        firsts = tuple(CasePair(c.case, c.pred, next(r for r in c.refs if r)) for c in cases)
        run["on_pairing"](Pairing(firsts if model else (), predictions=prediction or ""), len(todo))
    outcomes, _, complete = _run(
        [j.pair for j in todo], opts, run["on_case_done"], run["journal"], run["resume"],
        run["should_stop"], cluster,
    )  # fmt: skip
    by_key = {j.pair.case: j for j in todo}
    grouped: dict[Any, tuple[list[CaseTally], list[CaseFailure]]] = {}
    for outcome in outcomes:
        job = by_key[outcome.case]
        group = grouped.setdefault(job.band or job.role, ([], []))
        if isinstance(outcome, CaseTally):
            group[0].append(replace(outcome, case=job.pair.panel_case))
        else:  # say which comparison failed
            message = outcome.message
            if not message.startswith(f"case {job.pair.case}"):
                message = f"case {job.pair.case}: {message}"
            group[1].append(replace(outcome, case=job.pair.panel_case, message=message))
    none = Pairing(())
    results: dict[Any, RunResult] = {
        key: _result(tallies, errs, opts, none, (), backend)
        for key, (tallies, errs) in grouped.items()
    }
    runs = {n: results[n] for n in [*names, CONSENSUS] if n in results}
    band = {key: results[key] for key in results if isinstance(key, tuple)}
    errors = (*failures, *(e for r in results.values() for e in r.errors))
    warnings = tuple(dict.fromkeys(w for r in results.values() for w in r.warnings))
    tables = panel_tables(names, runs, band, prediction, opts, gate, below_raters, consensus)
    return PanelResult(
        raters=tuple(names),
        references=tuple(references),
        model=_model_name(prediction) if prediction is not None else None,
        prediction=prediction,
        consensus=consensus,
        runs=runs,
        band=band,
        cases=tables.cases,
        per_case=tables.per_case,
        summary=tables.summary,
        agreement=tables.agreement,
        metric=tables.metric,
        options=opts,
        errors=errors,
        warnings=warnings,
        notes=tuple(notes),
        gate=tables.gate,
        complete=complete,
        finished=len(outcomes),
        total=len(todo),
        backend=backend,
    )


def _missing_predictions(
    cases: Sequence[PanelCase], opts: ScoreOptions
) -> tuple[list[CaseFailure], list[str], set[str]]:
    """Score's ``--missing`` per case: the failures, the cases skipped, the cases to score."""
    lacking = [c for c in cases if c.pred is None]
    scored = {c.case for c in cases if c.pred is not None or opts.missing == "zero"}
    if opts.missing == "skip":
        return [], [c.case for c in lacking], scored
    if opts.missing == "zero":
        return [], [], scored
    failures = []
    for c in lacking:
        ref = next(r for r in c.refs if r)
        failures.append(CaseFailure(c.case, None, ref, "PairingError",
            f"{ref}: no prediction for case {c.case!r}; add it, or pass --missing zero (score "
            "as empty) or --missing skip"))  # fmt: skip
    return failures, [], scored


def _backend_text(backend: Any) -> str:
    return f"{backend.name} ({backend.device})"


def _model_name(prediction: str) -> str:
    return os.path.basename(os.path.normpath(prediction)) or prediction
