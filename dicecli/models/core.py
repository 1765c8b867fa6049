"""Values that cross module boundaries: masks, label regions, tallies, per-case outcomes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

EmptyPolicy = Literal["nan", "one", "zero"]

#: The value of a metric undefined for two empty masks under each ``--empty`` policy.
EMPTY_VALUE: Mapping[str, float] = {"nan": float("nan"), "one": 1.0, "zero": 0.0}
MissingPolicy = Literal["error", "zero", "skip"]
GeometryPolicy = Literal["strict", "warn", "ignore", "resample"]
DevicePolicy = Literal["auto", "cpu", "gpu"]
Hd95Mode = Literal["max", "pooled"]
#: ``--surface``: surface voxels counted once (MONAI, Metrics Reloaded) or surface elements
#: weighted by area (DeepMind surface-distance)
SurfaceMode = Literal["voxel", "surfel"]
LayoutPolicy = Literal["auto", "cases", "structures"]
#: ``--consensus``: how several raters' masks become one reference, per case and structure
ConsensusMethod = Literal["staple", "majority", "all", "any"]
#: ``--dissensus``: the voxels the raters disagree on are kept (scored against the consensus)
#: or left out of every count of the consensus rows
DissensusPolicy = Literal["keep", "ignore"]
#: Which side lacks a structure: its table has no structure of that name.
Absent = Literal["", "reference", "prediction", "both"]

_SEPARATORS = re.compile(r"[\s_\-]+")


def structure_key(name: str) -> str:
    """How structure names are compared: case- and separator-insensitive (``Kidney_Left``,
    ``kidney left`` and ``kidney-left`` are one structure).

    >>> structure_key(" Kidney_Left ")
    'kidney left'
    """
    return _SEPARATORS.sub(" ", name.casefold()).strip()


#: ``Mask.grid`` of a DICOM SEG read without its image series: the frames' own geometry, which
#: may cover only some slices of the scan; such a grid may be embedded in a larger one.
SEG_OWN_GRID = "the SEG's own frames (plane positions, orientation, pixel spacing)"
#: ``Mask.grid`` of a 3D Slicer segmentation, which Slicer crops to its segments' extent.
SLICER_GRID = "the segmentation's own extent (3D Slicer crops it to its segments)"
#: Grids that may cover part of the scan and be embedded in a larger one of the same lattice.
PARTIAL_GRIDS = frozenset({SEG_OWN_GRID, SLICER_GRID})


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment of a DICOM SEG or one ROI of an RT Structure Set, as a boolean volume indexed
    like ``Mask.array``. Segments may overlap; each is scored as its own binary mask."""

    number: int
    label: str
    array: npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Structure:
    """One named structure of a label map: its name and the label values whose union it is
    (one value, or several for a region of an nnU-Net ``dataset.json``)."""

    name: str
    values: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Mask:
    """A mask as read from disk, on the host.

    ``array`` is indexed (x, y[, z]) like nibabel and ITK's physical axes, so ``spacing[i]`` is the
    size of a step along axis ``i``. ``origin`` and ``direction`` are in DICOM/ITK LPS millimetres;
    ``direction`` is the row-major ndim x ndim matrix whose columns are the axis directions.
    """

    array: npt.NDArray[np.generic]
    spacing: tuple[float, ...]
    origin: tuple[float, ...]
    direction: tuple[float, ...]
    path: str
    format: str
    meta: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    #: SEG segments or RTSTRUCT ROIs; ``array`` then holds the segment numbers (first one wins)
    segments: tuple[Segment, ...] = ()
    #: where the grid came from, when a reader chose among several (DICOM SEG)
    grid: str = ""
    #: False for formats without spacing or position (PNG): never compared by geometry
    has_geometry: bool = True
    #: the names of a label map's values (3D Slicer header keys, a per-structure folder, a label
    #: table); empty when the file does not name them. Segments carry their own names.
    structures: tuple[Structure, ...] = ()
    #: whether the values or segment numbers mean something outside this file (False for a
    #: per-structure folder, whose values only number its files): never matched by number
    numbered: bool = True
    #: where the names came from (a label table's path, "file names"...), for messages
    named_by: str = ""

    @property
    def named(self) -> bool:
        """Whether the mask names its structures (segments, or a table of its values)."""
        return bool(self.segments or self.structures)

    @property
    def ndim(self) -> int:
        return len(self.spacing)


@dataclass(frozen=True, slots=True)
class Region:
    """A scored structure: a name and the label values whose union it is (``whole_tumor=1+2+4``)."""

    name: str
    values: tuple[int, ...]
    #: segment or ROI names (DICOM SEG, RTSTRUCT), matched case-insensitively: ``liver=Liver``
    names: tuple[str, ...] = ()

    @property
    def spec(self) -> str:
        return "+".join([*(str(v) for v in self.values), *self.names])

    @property
    def key(self) -> str:
        """What identifies the region's per-case results: its values and normalised names."""
        return "+".join([*(str(v) for v in self.values), *map(structure_key, self.names)])


@dataclass(frozen=True, slots=True)
class Match:
    """One scored structure of one case, resolved on each side: label values of a label map or
    segment numbers of a SEG/RTSTRUCT/Slicer file (empty where that side lacks it: ``absent``).
    ``key`` is the run's region key (``Region.key``)."""

    key: str
    name: str
    ref: tuple[int, ...]
    pred: tuple[int, ...]
    absent: Absent = ""


@dataclass(frozen=True, slots=True)
class JointHistogram:
    """How many voxels hold each (reference value, prediction value) pair; zero pairs left out."""

    ref_values: npt.NDArray[np.int64]
    pred_values: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SoftTally:
    """For soft Dice: per reference value, its voxel count and the sum of probabilities there."""

    ref_values: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]
    prob_sums: npt.NDArray[np.float64]


Tally = JointHistogram | SoftTally


@dataclass(frozen=True, slots=True)
class Counts:
    """Confusion counts of one region in one case (floats for soft Dice)."""

    tp: float
    fp: float
    fn: float
    tn: float

    @property
    def ref(self) -> float:
        return self.tp + self.fn

    @property
    def pred(self) -> float:
        return self.tp + self.fp


@dataclass(frozen=True, slots=True)
class CasePair:
    """One case to score: its id and the two paths (``pred`` is None for a missing prediction)."""

    case: str
    pred: str | None
    gt: str
    #: label tables found beside the data (``*_dseg.tsv``, ``dataset.json``) for each side
    pred_table: str | None = None
    gt_table: str | None = None
    #: a consensus case: every rater's reference (``gt`` is the first), fused in the worker
    #: under ``ScoreOptions.consensus``, and the label tables found beside each
    raters: tuple[str | None, ...] = ()
    rater_tables: tuple[str | None, ...] = ()
    #: a job of a panel of raters: ``case`` then names the comparison too ("case01 [r2]"), and
    #: this is the case id itself
    panel_case: str = ""


@dataclass(frozen=True, slots=True)
class CaseTally:
    """What a worker sends back for one case: small numbers, never arrays of voxels."""

    case: str
    pred_path: str
    gt_path: str
    tally: Tally
    voxel_volume_ml: float | None
    warnings: tuple[str, ...] = ()
    #: surface statistics per region spec ("1", "1+2+4") when surface metrics were asked for
    surfaces: Mapping[str, Any] = field(default_factory=dict)
    spacing: tuple[float, ...] = ()
    #: confusion counts per region key, for the structures matched in the worker
    counts: Mapping[str, Counts] = field(default_factory=dict)
    #: the structures matched by name (or segment number) in this case; empty when the case's
    #: regions are label values (two label maps that name nothing)
    matches: tuple[Match, ...] = ()
    #: PatientID, StudyInstanceUID, SeriesInstanceUID of DICOM inputs
    meta: Mapping[str, str] = field(default_factory=dict)
    #: lesion-wise results (``metrics.lesions.LesionResult``) per region spec, with --lesions
    lesions: Mapping[str, Any] = field(default_factory=dict)
    #: calibration statistics (``metrics.calibration.CalibrationStats``) per region key, with
    #: --soft and calibration metrics
    calibration: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CaseFailure:
    """A case that could not be scored, with the one-line reason."""

    case: str
    pred_path: str | None
    gt_path: str | None
    error: str
    message: str


@dataclass(frozen=True, slots=True)
class ScoreOptions:
    """Every option that changes what is scored; recorded verbatim in the JSON report."""

    labels: str | None = None
    include_background: bool = False
    ignore_label: int | None = None
    threshold: float | None = None
    soft: bool = False
    smooth: float = 0.0
    empty: EmptyPolicy = "nan"
    pattern: str | None = None
    missing: MissingPolicy = "error"
    geometry: GeometryPolicy = "strict"
    geometry_tolerance: float = 1e-3
    color_map: str | None = None
    max_voxels: int = 4_000_000_000
    jobs: int = 0
    device: DevicePolicy = "auto"
    metrics: str = "overlap"
    hd_percentile: float = 95.0
    hd95_mode: Hd95Mode = "max"
    surface: SurfaceMode = "voxel"
    nsd_tolerance: str = "1"
    empty_distance: str = "nan"
    ci_resamples: int = 1000
    reference_image: str | None = None
    lesions: bool = False
    lesion_connectivity: int | None = None
    lesion_min_size: str = "0"
    lesion_match: str = "iou:0.5"
    lesion_dilation: int = 0
    lesion_missed_distance: float = 374.0
    lesion_size_bins: str | None = None
    label_table: str | None = None
    pred_label_table: str | None = None
    ref_label_table: str | None = None
    find_label_tables: bool = True
    binarize: bool = False
    layout: LayoutPolicy = "auto"
    consensus: ConsensusMethod | None = None
    dissensus: DissensusPolicy = "keep"
    #: F-beta's beta (``--beta``)
    beta: float = 2.0
    #: boundary IoU's band (``--boundary-distance``): ``2%`` of the image diagonal (Cheng et
    #: al.), ``2mm``, or ``1vox`` (Metrics Reloaded's voxels)
    boundary_distance: str = "2%"
    #: equal bins of the probabilities for ECE, ACE and MCE
    calibration_bins: int = 20
    #: ``--worst hd95=374,...``: the value a metric takes where it is undefined (empty masks)
    worst: str | None = None
    #: a folder where each case's consensus reference is written
    write_consensus: str | None = None


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """``color_map`` maps RGB triples to labels; ``max_voxels`` refuses decompression bombs."""

    color_map: Mapping[tuple[int, int, int], int] = field(default_factory=dict)
    max_voxels: int = 4_000_000_000
    #: the image series a DICOM SEG or RTSTRUCT refers to (else searched beside it)
    reference_image: str | None = None
    #: fractional SEG segments become value > threshold
    threshold: float = 0.5


@dataclass(frozen=True, slots=True)
class LesionSettings:
    """``--lesion-*`` options. ``connectivity`` None: full (26 in 3D, 8 in 2D)."""

    connectivity: int | None = None
    min_size: float = 0.0
    min_size_mm3: bool = False
    match: Literal["iou", "overlap"] = "iou"
    iou_threshold: float = 0.5
    strict: bool = False
    dilation: int = 0
    missed_distance: float = 374.0
    hd95: bool = False
    percentile: float = 95.0
    #: lesion HD95 between surface elements (``--surface surfel``)
    surfel: bool = False


@dataclass(frozen=True, slots=True)
class ParsedOptions:
    """``ScoreOptions`` parsed once into typed values (``options.parse_options``): what the
    workers and the aggregation use, never the option text again."""

    #: the ``--labels`` regions, or None to score the labels present
    regions: tuple[Region, ...] | None
    #: the surface metrics ``--metrics`` asks for, in registry order
    surface: tuple[str, ...]
    #: ``--nsd-tolerance``: the default (mm, or None) and per label name or value spec
    nsd_default: float | None
    nsd_per_label: Mapping[str, float]
    #: ``--empty-distance`` (mm; nan or inf allowed)
    empty_distance: float
    #: what every reader needs: the colour map, the voxel limit, the SEG threshold...
    read: ReadOptions
    #: the ``--lesion-*`` options, with ``--lesions``
    lesions: LesionSettings | None
    #: ``--boundary-distance``: (``pct`` of the image diagonal | ``mm`` | ``vox``, amount)
    boundary: tuple[str, float] = ("pct", 2.0)
    #: the calibration metrics ``--metrics`` asks for (with --soft), in registry order
    calibration: tuple[str, ...] = ()

    def boundary_band(
        self, shape: tuple[int, ...], spacing: tuple[float, ...]
    ) -> tuple[float, tuple[float, ...]]:
        """Boundary IoU's band width and the sampling it is measured in, on this grid: mm on the
        spacing, or voxels (sampling 1)."""
        unit, amount = self.boundary
        if unit == "vox":
            return amount, (1.0,) * len(spacing)
        if unit == "mm":
            return amount, tuple(spacing)
        diagonal = sum((n * s) ** 2 for n, s in zip(shape, spacing, strict=True)) ** 0.5
        return amount / 100.0 * diagonal, tuple(spacing)

    def nsd_tolerance(self, region: Region | Match) -> float:
        """A structure's NSD tolerance (mm): its own (by name or key), else the default; NaN when
        neither is given."""
        key = region.key if isinstance(region, Match) else region.spec
        value = self.nsd_per_label.get(region.name, self.nsd_per_label.get(key))
        value = self.nsd_default if value is None else value
        return float("nan") if value is None else value
