"""Score the NIfTI example from Python and look at the results with pandas.

python examples/api/score_api.py
"""

from __future__ import annotations

import os

import dicecli

HERE = os.path.dirname(os.path.abspath(__file__))
NIFTI = os.path.join(os.path.dirname(HERE), "nifti")


def main() -> None:
    result = dicecli.score_cases(
        os.path.join(NIFTI, "pred"),
        os.path.join(NIFTI, "gt"),
        labels="liver=1,spleen=2,kidney=3",
    )
    print(result.summary[["label", "n", "dice_mean", "dice_std", "pooled_dice"]].round(4))
    worst = result.cases.nsmallest(3, "dice")[["case", "label", "dice", "empty"]]
    print(worst.to_string(index=False))
    assert result.ok, result.errors


if __name__ == "__main__":
    main()
