"""``rank_submissions``: a challenge leaderboard from results files, or from prediction sets
scored against one reference first."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dicecli.errors import UsageError
from dicecli.models import ScoreOptions
from dicecli.models.rank import RankResult, RankSettings

if TYPE_CHECKING:
    import pandas as pd

#: Results files ``rank`` reads: what ``dicecli score -o`` writes.
RESULT_SUFFIXES = (".json", ".csv")


def rank_submissions(
    paths: Sequence[str | os.PathLike[str]],
    *,
    names: Sequence[str] | None = None,
    settings: RankSettings | None = None,
    options: ScoreOptions | None = None,
    on_case_done: Callable[[Any], None] | None = None,
    on_pairing: Callable[[Any, int], None] | None = None,
    scheduler: str | None = None,
    scheduler_file: str | None = None,
) -> RankResult:
    """Rank submissions: ``paths`` are results files (``dicecli score -o r.json`` or
    ``-o r.csv``), one per submission, or a reference followed by prediction sets, scored with
    ``options`` first (as :func:`dicecli.compare_predictions` does).

    Examples
    --------
    >>> r = rank_submissions(["a.json", "b.json", "c.json"])  # doctest: +SKIP
    >>> r.consensus.sort_values("rank")[["submission", "rank"]]  # doctest: +SKIP
    """
    from dataclasses import replace

    from dicecli.rank import rank_tables

    settings = settings or RankSettings()
    texts = [os.fspath(p) for p in paths]
    errors: list[str] = []
    results = all(p.lower().endswith(RESULT_SUFFIXES) and os.path.isfile(p) for p in texts)
    if results:
        sources = texts
        tables = [load_results(p) for p in texts]
    else:
        if len(texts) < 3:
            raise UsageError(
                "rank needs results files (A.json B.json ...) or a reference and at least two "
                "prediction sets (GT PRED_A PRED_B ...)"
            )
        from dicecli.api.compare import compare_predictions

        compared = compare_predictions(
            texts[0],
            texts[1:],
            names=list(names) if names else None,
            on_case_done=on_case_done,
            on_pairing=on_pairing,
            scheduler=scheduler,
            scheduler_file=scheduler_file,
            options=options,
        )
        sources = texts[1:]
        tables = [compared.runs[n].cases for n in compared.names]
        names = compared.names
        errors = [f"{n}: {e.message.splitlines()[0]}" for n, e in compared.errors]
    chosen = _names(names, sources)
    ranked = rank_tables(dict(zip(chosen, tables, strict=True)), settings, sources)
    return replace(ranked, errors=tuple(errors))


def _names(names: Sequence[str] | None, sources: Sequence[str]) -> list[str]:
    if names:
        if len(names) != len(sources):
            raise UsageError(f"--names gives {len(names)} names for {len(sources)} submissions")
        chosen = list(names)
    else:
        chosen = [_stem(p) for p in sources]
    if len(set(chosen)) != len(chosen):
        raise UsageError(
            f"the submissions' names repeat ({', '.join(chosen)}); name them with --names A,B,C"
        )
    return chosen


def _stem(path: str) -> str:
    name = os.path.basename(os.path.normpath(path))
    for suffix in RESULT_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def load_results(path: str) -> pd.DataFrame:
    """The per-case table of a dicecli JSON report (its ``cases``) or CSV; ``UsageError``
    naming the file for anything else."""
    import json

    import pandas as pd

    try:
        if path.lower().endswith(".json"):
            with open(path, encoding="utf-8") as f:
                report = json.load(f)
            if not isinstance(report, dict) or not isinstance(report.get("cases"), list):
                raise UsageError(
                    f'{path}: not a dicecli score report (no "cases" list); write one with '
                    "dicecli score ... -o results.json"
                )
            table = pd.DataFrame(report["cases"])
        else:
            table = pd.read_csv(path, dtype={"case": str, "label": str}, keep_default_na=True)
    except (OSError, ValueError) as e:
        raise UsageError(f"{path}: cannot read the results ({e})") from e
    missing = [c for c in ("case", "label") if c not in table.columns]
    if missing:
        raise UsageError(f"{path}: the results have no {' or '.join(missing)} column")
    table["case"] = table["case"].astype(str)
    table["label"] = table["label"].astype(str)
    return table
