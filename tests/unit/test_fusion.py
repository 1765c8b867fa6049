"""Consensus references (dicecli.fusion) against SimpleITK's own filters on the same inputs, and
against brute-force definitions written here."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from dicecli.fusion import fuse
from dicecli.models import Mask, Segment


def grid_mask(array, path="r", **fields) -> Mask:
    n = array.ndim
    return Mask(
        array,
        (1.0,) * n,
        (0.0,) * n,
        tuple(float(v) for v in np.eye(n).ravel()),
        path,
        "nifti",
        **fields,
    )


def raters_with_boundary_noise(k: int, seed: int, shape=(24, 20, 6)) -> list[np.ndarray]:
    """k readers of one ellipsoid (label 1) with a smaller one inside (label 2), each with its
    own rough boundary."""
    rng = np.random.default_rng(seed)
    grid = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    big = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, (12, 10, 3), (8, 7, 2.5), strict=True))
    small = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, (9, 9, 3), (3, 3, 1.5), strict=True))
    out = []
    for _ in range(k):
        labels = np.zeros(shape, np.uint8)
        labels[big < 1 + 0.3 * rng.standard_normal(shape)] = 1
        labels[small < 1 + 0.4 * rng.standard_normal(shape)] = 2
        out.append(labels)
    return out


def sitk_voting(binaries, undecided=0) -> np.ndarray:
    images = [sitk.GetImageFromArray(b.astype(np.uint8)) for b in binaries]
    return sitk.GetArrayFromImage(sitk.LabelVoting(images, undecided))


def sitk_staple(binaries) -> np.ndarray:
    f = sitk.STAPLEImageFilter()
    f.SetForegroundValue(1.0)
    images = [sitk.GetImageFromArray(b.astype(np.uint8)) for b in binaries]
    return sitk.GetArrayFromImage(f.Execute(images))


@pytest.mark.parametrize("k", [3, 4, 5])
def test_majority_of_each_structure_is_simpleitks_label_voting(k):
    maps = raters_with_boundary_noise(k, seed=k)
    fused = fuse([grid_mask(m) for m in maps], maps, "majority", False).mask.array
    for value in (1, 2):
        # LabelVoting of the structure's binary masks: ties undecided (0), as "more than half"
        expected = sitk_voting([m == value for m in maps])
        np.testing.assert_array_equal(fused == value, expected == 1)


def test_majority_of_label_maps_is_label_voting_of_the_label_maps_for_three_raters():
    # with three raters a plurality is a majority, and three different labels are undecided
    maps = raters_with_boundary_noise(3, seed=11)
    fused = fuse([grid_mask(m) for m in maps], maps, "majority", False).mask.array
    np.testing.assert_array_equal(fused, sitk_voting(maps, undecided=0))


@pytest.mark.parametrize("seed", [1, 2])
def test_staple_of_each_structure_is_simpleitks_staple_at_one_half(seed):
    maps = raters_with_boundary_noise(3, seed=seed)
    result = fuse([grid_mask(m) for m in maps], maps, "staple", False)
    fused = result.mask.array
    probability = {v: sitk_staple([m == v for m in maps]) for v in (1, 2)}
    inside = {v: p >= 0.5 for v, p in probability.items()}
    both = inside[1] & inside[2]
    for value, other in ((1, 2), (2, 1)):
        np.testing.assert_array_equal(fused[inside[value] & ~inside[other]], value)
    np.testing.assert_array_equal(fused[~inside[1] & ~inside[2]], 0)
    # a voxel both claim goes to the higher posterior (ties: the lower label)
    expected = np.where(probability[2] > probability[1], 2, 1)
    np.testing.assert_array_equal(fused[both], expected[both])


def test_all_and_any_are_intersection_and_union():
    maps = raters_with_boundary_noise(3, seed=4)
    masks = [grid_mask(m) for m in maps]
    every = fuse(masks, maps, "all", False).mask.array
    union = fuse(masks, maps, "any", False)
    for value in (1, 2):
        np.testing.assert_array_equal(
            every == value, np.logical_and.reduce([m == value for m in maps])
        )
    # any: a voxel some rater labelled is labelled; it takes the label most raters gave it
    labelled = np.logical_or.reduce([m != 0 for m in maps])
    np.testing.assert_array_equal(union.mask.array != 0, labelled)
    for index in zip(*np.nonzero(labelled), strict=True):
        votes = [m[index] for m in maps if m[index] != 0]
        counts = {v: votes.count(v) for v in votes}
        best = max(counts.values())
        assert union.mask.array[index] == min(v for v, c in counts.items() if c == best)
    conflicts = sum(
        len({m[i] for m in maps if m[i]}) > 1 for i in zip(*np.nonzero(labelled), strict=True)
    )
    assert conflicts > 0
    assert any(f"{conflicts} voxel(s)" in note for note in union.notes)


def test_dissensus_keeps_exactly_the_voxels_every_rater_labels_alike():
    maps = raters_with_boundary_noise(3, seed=6)
    fused = fuse([grid_mask(m) for m in maps], maps, None, True)
    agree = (maps[0] == maps[1]) & (maps[1] == maps[2])
    np.testing.assert_array_equal(fused.keep, agree)
    np.testing.assert_array_equal(fused.mask.array[agree], maps[0][agree])


def test_named_raters_are_fused_by_name_whatever_their_numbers():
    maps = raters_with_boundary_noise(3, seed=8)
    # the second rater numbers its structures the other way round, the third lacks the small one
    masks = []
    for i, m in enumerate(maps):
        names = {1: "Liver", 2: "tumour"} if i != 1 else {2: "liver", 1: "Tumour"}
        values = {1: 1, 2: 2} if i != 1 else {1: 2, 2: 1}
        segments = tuple(
            Segment(values[v], names[values[v]], m == v) for v in (1, 2) if not (i == 2 and v == 2)
        )
        masks.append(grid_mask(np.zeros_like(m), path=f"rater{i}", segments=segments))
    result = fuse(masks, [m.array for m in masks], "majority", False)
    by_name = {s.label.lower(): s.array for s in result.mask.segments}
    assert set(by_name) == {"liver", "tumour"}
    votes_liver = sum((m == 1).astype(int) for m in maps)
    np.testing.assert_array_equal(by_name["liver"], votes_liver >= 2)
    votes_tumour = (maps[0] == 2).astype(int) + (maps[1] == 2)  # the third rater drew none
    np.testing.assert_array_equal(by_name["tumour"], votes_tumour >= 2)
    assert any("not named by rater2" in note for note in result.notes)
    assert not result.mask.numbered  # the raters number them differently


def test_a_rater_that_names_nothing_beside_named_ones_is_an_error():
    from dicecli.errors import MaskReadError

    maps = raters_with_boundary_noise(2, seed=9)
    named = grid_mask(
        np.zeros_like(maps[0]), "named", segments=(Segment(1, "liver", maps[0] == 1),)
    )
    with pytest.raises(MaskReadError, match="names no structures but named does"):
        fuse([named, grid_mask(maps[1], "plain")], [named.array, maps[1]], "majority", False)


def test_staple_of_raters_who_marked_nothing_is_empty():
    empty = [np.zeros((6, 5, 2), np.uint8) for _ in range(3)]
    fused = fuse([grid_mask(m) for m in empty], empty, "staple", False)
    assert not fused.mask.array.any()


def test_staple_ties_between_two_structures_go_to_the_lower_label_and_are_counted():
    # four raters agree everywhere but on a band between the structures, split two against two:
    # STAPLE gives both structures posterior 1 there
    base = np.zeros((20, 20, 4), np.uint8)
    base[2:10, 2:18] = 1
    base[10:18, 2:18] = 2
    maps = []
    for i in range(4):
        m = base.copy()
        m[9:12, 2:18] = 1 if i < 2 else 2
        maps.append(m)
    both = (sitk_staple([m == 1 for m in maps]) >= 0.5) & (
        sitk_staple([m == 2 for m in maps]) >= 0.5
    )
    assert both.sum() == 3 * 16 * 4
    result = fuse([grid_mask(m) for m in maps], maps, "staple", False)
    np.testing.assert_array_equal(result.mask.array[both], 1)
    assert any(f"{both.sum()} voxel(s)" in note for note in result.notes)


@pytest.mark.parametrize(
    ("k", "seed", "flip"), [(2, 0, 0.1), (3, 1, 0.3), (4, 2, 0.05), (5, 3, 0.2)]
)
def test_staple_posteriors_equal_simpleitks_on_every_voxel(k, seed, flip):
    """The EM on vote patterns against SimpleITK's voxel-by-voxel EM, on raters who disagree
    anywhere from a little to a lot (random flips of a shared shape)."""
    from dicecli.fusion import staple

    rng = np.random.default_rng(seed)
    truth = raters_with_boundary_noise(1, seed=seed)[0] == 1
    binaries = [truth ^ (rng.random(truth.shape) < flip * (i + 1) / k) for i in range(k)]
    np.testing.assert_allclose(staple(binaries), sitk_staple(binaries), rtol=0, atol=1e-9)


def test_staple_of_raters_who_marked_everything_is_everything():
    from dicecli.fusion import staple

    full = [np.ones((4, 3, 2), bool) for _ in range(3)]
    assert staple(full).min() == 1.0
