"""Topology of one structure: centreline Dice (clDice) and Betti-number errors, as the vessel
challenges score them (TopCoW 2024).

- ``cldice`` (Shit et al., CVPR 2021): the skeletons S_P, S_R of the two masks (scikit-image's
  ``skeletonize``: Zhang's thinning in 2-D, Lee's in 3-D, on the voxel grid), topology precision
  Tprec = |S_P ∩ R| / |S_P| and sensitivity Tsens = |S_R ∩ P| / |S_R| (0 for an empty
  skeleton), clDice = 2 Tprec Tsens / (Tprec + Tsens), 0 when both are 0. Where the thinning
  erases a non-empty mask whole (a compact blob: scikit-image's Lee thinning leaves nothing of
  an 8×8×8 cube), clDice is NaN (``skeleton_erased``), not the 0 that TopCoW's script gives.
- Betti numbers of a mask: b0 its components (full connectivity: 8 in 2-D, 26 in 3-D), b2 its
  cavities (the background's components, 4/6-connected, that do not reach the border), b1 its
  tunnels (2-D: its holes) from the Euler characteristic chi = b0 - b1 + b2 (scikit-image's
  ``euler_number``). ``betti0_error`` = |b0(P) - b0(R)|, ``betti1_error`` = |b1(P) - b1(R)|.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class TopologyStats:
    """Skeleton voxels of each side and how many lie in the other mask; Betti numbers."""

    skeleton_pred: int
    skeleton_pred_in_ref: int
    skeleton_ref: int
    skeleton_ref_in_pred: int
    betti_ref: tuple[int, int, int]
    betti_pred: tuple[int, int, int]


EMPTY_TOPOLOGY = TopologyStats(0, 0, 0, 0, (0, 0, 0), (0, 0, 0))


def topology_stats(ref: np.ndarray, pred: np.ndarray) -> TopologyStats:
    """Skeletons and Betti numbers of two boolean masks of one grid (a crop that keeps every
    voxel of both: background around them changes neither)."""
    s_ref, s_pred = skeleton(ref), skeleton(pred)
    return TopologyStats(
        int(np.count_nonzero(s_pred)),
        int(np.count_nonzero(s_pred & ref)),
        int(np.count_nonzero(s_ref)),
        int(np.count_nonzero(s_ref & pred)),
        betti_numbers(ref),
        betti_numbers(pred),
    )


def skeleton(mask: np.ndarray) -> np.ndarray:
    from skimage.morphology import skeletonize

    if not mask.any():
        return np.zeros(mask.shape, dtype=bool)
    return np.asarray(skeletonize(mask), dtype=bool)


def betti_numbers(mask: np.ndarray) -> tuple[int, int, int]:
    """(b0, b1, b2) of a 2-D or 3-D boolean mask (b2 is 0 in 2-D)."""
    from scipy import ndimage
    from skimage.measure import euler_number

    if not mask.any():
        return 0, 0, 0
    padded = np.pad(mask, 1)
    ndim = mask.ndim
    b0 = int(ndimage.label(padded, ndimage.generate_binary_structure(ndim, ndim))[1])
    background = int(ndimage.label(~padded, ndimage.generate_binary_structure(ndim, 1))[1])
    if ndim == 2:
        return b0, background - 1, 0
    b2 = background - 1  # the padded border's component is the outside
    chi = int(euler_number(padded, connectivity=ndim))
    return b0, b0 + b2 - chi, b2


def skeleton_erased(stats: TopologyStats) -> bool:
    """Whether the thinning left nothing of one of two non-empty masks (no centreline)."""
    both = stats.betti_ref[0] > 0 and stats.betti_pred[0] > 0
    return both and (stats.skeleton_ref == 0 or stats.skeleton_pred == 0)


def topology_metrics(stats: TopologyStats, empty_value: float) -> dict[str, float]:
    """cldice, betti0_error and betti1_error; clDice of two empty masks is ``empty_value``
    (--empty, as Dice), of one empty mask 0, NaN where a skeleton was erased."""
    if stats.betti_ref[0] == 0 and stats.betti_pred[0] == 0:
        cldice = empty_value
    elif stats.betti_ref[0] == 0 or stats.betti_pred[0] == 0:
        cldice = 0.0  # one side empty: a missed or an invented structure
    elif skeleton_erased(stats):
        cldice = math.nan
    else:
        tprec = stats.skeleton_pred_in_ref / stats.skeleton_pred if stats.skeleton_pred else 0.0
        tsens = stats.skeleton_ref_in_pred / stats.skeleton_ref if stats.skeleton_ref else 0.0
        cldice = 2 * tprec * tsens / (tprec + tsens) if tprec + tsens else 0.0
    return {
        "cldice": cldice,
        "betti0_error": float(abs(stats.betti_pred[0] - stats.betti_ref[0])),
        "betti1_error": float(abs(stats.betti_pred[1] - stats.betti_ref[1])),
    }
