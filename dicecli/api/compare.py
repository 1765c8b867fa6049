"""``compare_predictions``: several prediction sets scored against one reference, compared."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dicecli.api.score import checked_options, score_cases
from dicecli.errors import UsageError
from dicecli.models import CompareResult, ScoreOptions

if TYPE_CHECKING:
    from dicecli.pairing import Pairing


def compare_predictions(
    reference: str | os.PathLike[str],
    predictions: Sequence[str | os.PathLike[str]],
    *,
    names: Sequence[str] | None = None,
    all_pairs: bool = False,
    on_case_done: Callable[[Any], None] | None = None,
    on_pairing: Callable[[Pairing, int], None] | None = None,
    scheduler: str | None = None,
    scheduler_file: str | None = None,
    options: ScoreOptions | None = None,
    **settings: Any,
) -> CompareResult:
    """Score each prediction set against ``reference`` and compare them pairwise.

    Every later set is compared with the first (B − A), or every pair with ``all_pairs``; cases
    are paired by case id. ``options``/``settings`` and the scheduler are those of
    :func:`score_cases`.

    Returns
    -------
    CompareResult
        ``.runs`` (one RunResult per set, by name) and ``.comparisons`` (one row per label ×
        metric × pair: n, means, mean_diff, median_diff, ci_low/ci_high, wilcoxon_p, p_holm,
        wins/ties/losses).

    Examples
    --------
    >>> r = compare_predictions("gt", ["model_a", "model_b"], jobs=1)  # doctest: +SKIP
    >>> r.comparisons.query("metric == 'dice'")[["label", "mean_diff", "p_holm"]]  # doctest: +SKIP
    """
    from dicecli.compare import compare_tables, metrics_of, set_pairs

    paths = [os.fspath(p) for p in predictions]
    if len(paths) < 2:
        raise UsageError("compare needs at least two prediction sets: REFERENCE PRED_A PRED_B")
    names = list(names) if names else [_set_name(p) for p in paths]
    if len(names) != len(paths):
        raise UsageError(f"--names gives {len(names)} names for {len(paths)} prediction sets")
    if len(set(names)) != len(names):
        raise UsageError(
            f"the prediction sets' names repeat ({', '.join(names)}); name them with --names A,B"
        )
    opts = checked_options(options, settings)
    runs = {
        name: score_cases(
            path,
            reference,
            on_case_done=on_case_done,
            on_pairing=on_pairing,
            scheduler=scheduler,
            scheduler_file=scheduler_file,
            options=opts,
        )
        for name, path in zip(names, paths, strict=True)
    }
    labels = list(dict.fromkeys(r.name for run in runs.values() for r in run.regions))
    first = runs[names[0]]
    pairs = set_pairs(names, all_pairs)
    comparisons = compare_tables(
        {n: run.cases for n, run in runs.items()},
        pairs,
        labels,
        metrics_of(first.cases, opts.metrics),
        first.options.ci_resamples,
    )
    return CompareResult(tuple(names), tuple(paths), os.fspath(reference), runs, comparisons, pairs)


def _set_name(path: str) -> str:
    return os.path.basename(os.path.normpath(path)) or path
