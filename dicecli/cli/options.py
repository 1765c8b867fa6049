"""Click options that change what is scored, shared as decorators (the names are a contract)."""

from __future__ import annotations

import click

from dicecli.cli.types import Checked, F, RegistryHelpOption, apply, metrics_help

_PAIRS_OPTION: F = click.option(
    "--pairs",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV manifest with columns case,pred,gt (instead of PRED GT).",
)

_WORST_OPTION: F = click.option(
    "--worst",
    type=Checked("dicecli.options.parse_worst"),
    metavar="METRIC=VALUE,...",
    help="The value a metric takes where it is undefined (empty masks), per metric: "
    "hd95=374,assd=100 (BraTS ranks HD95 with 374 mm); in the rows, the summary and the gates.",
)

_LABELS_OPTION: F = click.option(
    "--labels",
    type=Checked("dicecli.labels.parse_labels"),
    metavar="SPEC",
    help="Labels to score: 1,2,3 | liver=1,tumor=2 | whole_tumor=1+2+4 | by name "
    "liver=Liver. Default: every structure the masks name (matched by name), else every "
    "non-zero label present in the run.",
)

_MISSING_OPTION: F = click.option(
    "--missing",
    type=click.Choice(["error", "zero", "skip"]),
    default="error",
    show_default=True,
    help="A reference without prediction: error (exit 3), "
    "score as an empty prediction, or skip with a warning.",
)

#: what changes how each case is scored: shared by every command that scores cases
_SCORE_OPTIONS: list[F] = [
    _LABELS_OPTION,
    click.option("--include-background", is_flag=True, help="Also score label 0."),
    click.option(
        "--ignore-label",
        type=int,
        metavar="N",
        help="Reference voxels equal to N are left out of every count.",
    ),
    click.option(
        "--threshold",
        type=float,
        metavar="T",
        help="Binarise the prediction (and floating-point references) as value > T; integer "
        "references keep their labels (--binarize makes both sides binary).",
    ),
    click.option(
        "--binarize",
        is_flag=True,
        help="Any non-zero voxel is foreground, on both sides: instance maps, 0/255 against "
        "0/1, a multilabel map against a whole-organ mask.",
    ),
    click.option(
        "--label-table",
        type=click.Path(exists=True, dir_okay=False),
        metavar="FILE",
        help="Names of the label maps' values, both sides: nnU-Net dataset.json, BIDS "
        "dseg.tsv, ITK-SNAP labels, FreeSurferColorLUT.txt, or a JSON object value -> name. "
        "Default: a dataset.json or *_dseg.tsv found beside the data.",
    ),
    click.option(
        "--ref-label-table",
        type=click.Path(exists=True, dir_okay=False),
        metavar="FILE",
        help="Names of the reference label maps' values (when the two sides differ).",
    ),
    click.option(
        "--pred-label-table",
        type=click.Path(exists=True, dir_okay=False),
        metavar="FILE",
        help="Names of the prediction label maps' values (when the two sides differ).",
    ),
    click.option(
        "--find-label-tables/--no-find-label-tables",
        default=True,
        show_default=True,
        help="Name label maps by a dataset.json (in their folder or its parent) or *_dseg.tsv "
        "found beside them, and say so on stderr.",
    ),
    click.option(
        "--layout",
        type=click.Choice(["auto", "cases", "structures"]),
        default="auto",
        show_default=True,
        help="auto: two folders are folders of cases (each a file, a DICOM series or a folder "
        "of per-structure masks), a folder against a file is that case's structure folder; "
        "structures: PRED and GT are one case, folders of per-structure masks; cases: folders "
        "are folders of cases.",
    ),
    click.option("--soft", is_flag=True, help="Soft Dice on probability maps (no threshold)."),
    click.option(
        "--smooth",
        type=float,
        default=0.0,
        show_default=True,
        metavar="S",
        help="Laplace smoothing of Dice: (2TP+S)/(2TP+FP+FN+S).",
    ),
    click.option(
        "--beta",
        type=float,
        default=2.0,
        show_default=True,
        metavar="B",
        help="The fbeta column: recall weighted B times precision (2: F2).",
    ),
    click.option(
        "--calibration-bins",
        type=click.IntRange(min=1),
        default=20,
        show_default=True,
        metavar="N",
        help="ECE, ACE, MCE (--soft, --metrics ece,...): N equal bins of the probabilities, "
        "[k/N, (k+1)/N), the last closed at 1.",
    ),
    click.option(
        "--boundary-distance",
        type=Checked("dicecli.options.parse_boundary_distance"),
        default="2%",
        show_default=True,
        metavar="D",
        help="Boundary IoU (--metrics biou): the band's width, 2% of the image diagonal "
        "(Cheng et al.), 2mm, or 1vox (Metrics Reloaded's voxels).",
    ),
    _WORST_OPTION,
    click.option(
        "--empty",
        type=click.Choice(["nan", "one", "zero"]),
        default="nan",
        show_default=True,
        help="Dice/IoU when reference and prediction are both empty for a label.",
    ),
    click.option(
        "--pattern",
        metavar="REGEX",
        help="Regex whose named group 'case' extracts the case id from file names.",
    ),
    _MISSING_OPTION,
    click.option(
        "--geometry",
        type=click.Choice(["strict", "warn", "ignore", "resample"]),
        default="strict",
        show_default=True,
        help="Spacing/origin/direction mismatch: error, warning, or ignored; resample: the "
        "prediction onto the reference grid (nearest neighbour). A shape mismatch is an error "
        "unless resampling. Grids stored in another axis order or direction are reoriented.",
    ),
    click.option(
        "--reference-image",
        type=click.Path(exists=True, file_okay=False),
        help="DICOM SEG/RTSTRUCT: the folder of the image series they refer to (default: "
        "searched beside them by series UID).",
    ),
    click.option(
        "--geometry-tolerance",
        type=float,
        default=1e-3,
        show_default=True,
        help="Relative tolerance for spacing, origin (x spacing) and direction.",
    ),
    click.option(
        "--color-map",
        type=Checked("dicecli.options.parse_color_map"),
        metavar="MAP",
        help="RGB masks: colour to label, e.g. '#ff0000=1,#00ff00=2'.",
    ),
    click.option(
        "--max-voxels",
        type=int,
        default=4_000_000_000,
        show_default=True,
        help="Refuse files whose header claims more voxels (decompression bombs).",
    ),
    click.option(
        "-j",
        "--jobs",
        type=int,
        default=0,
        show_default=True,
        help="Cases scored in parallel; 0 = one per CPU core.",
    ),
    click.option(
        "--device",
        type=click.Choice(["auto", "cpu", "gpu"]),
        default="auto",
        show_default=True,
        help="Array backend: CuPy on a GPU when available.",
    ),
    click.option(
        "--metrics",
        type=Checked("dicecli.options.parse_metrics"),
        default="overlap",
        show_default=True,
        metavar="LIST",
        cls=RegistryHelpOption,
        help_text=metrics_help,
    ),
    click.option(
        "--hd-percentile",
        type=float,
        default=95.0,
        show_default=True,
        help="Percentile of the hd95 column.",
    ),
    click.option(
        "--hd95-mode",
        type=click.Choice(["max", "pooled"]),
        default="max",
        show_default=True,
        help="max: larger of the two directed percentiles (MONAI, DeepMind, Metrics Reloaded); "
        "pooled: percentile of both directions together (medpy, seg-metrics).",
    ),
    click.option(
        "--surface",
        type=click.Choice(["voxel", "surfel"]),
        default="voxel",
        show_default=True,
        help="Surface metrics between surface voxels, each counted once (MONAI, Metrics "
        "Reloaded), or between surface elements weighted by area (DeepMind surface-distance).",
    ),
    click.option(
        "--nsd-tolerance",
        type=Checked("dicecli.options.parse_nsd_tolerance"),
        default="1",
        show_default=True,
        metavar="MM",
        help="Normalised surface Dice tolerance in mm: one value, or per label liver=2,tumor=1.",
    ),
    click.option(
        "--ci-resamples",
        type=click.IntRange(min=0),
        default=1000,
        show_default=True,
        help="Bootstrap resamples of the 95% confidence interval of each mean (0: none).",
    ),
    click.option(
        "--lesions",
        is_flag=True,
        help="Lesion-wise evaluation: connected components matched between reference and "
        "prediction (lesions_ref, lesion_tp/fp/fn, lesion_f1/sq/pq/dice columns).",
    ),
    click.option(
        "--lesion-connectivity",
        type=click.Choice(["4", "8", "6", "18", "26"]),
        default=None,
        help="Lesions: neighbours that join voxels (default: 26 in 3D, 8 in 2D).",
    ),
    click.option(
        "--lesion-min-size",
        type=Checked("dicecli.options.parse_lesion_min_size"),
        default="0",
        show_default=True,
        metavar="N|'N mm3'",
        help="Lesions: drop components smaller than N voxels (or N mm3) before matching "
        "(with --lesion-match overlap: reference lesions only, as BraTS).",
    ),
    click.option(
        "--lesion-size-bins",
        type=Checked("dicecli.metrics.lesion_bins.parse_size_bins"),
        default=None,
        metavar="E1,E2,...|'E1,E2,... mm3'",
        help="Lesions: recall, precision and F1 per lesion size bin [0, E1), [E1, E2), ..., "
        "sizes in voxels (or mm3), in the summary and the JSON (lesion_bins).",
    ),
    click.option(
        "--lesion-match",
        type=Checked("dicecli.options.parse_lesion_match"),
        default="iou:0.5",
        show_default=True,
        metavar="iou:T|iou>T|overlap",
        help="Lesions: one-to-one by IoU >= T (panoptica), IoU > T (Metrics Reloaded), or "
        "overlap (BraTS 2023: any touching component detects a reference lesion).",
    ),
    click.option(
        "--lesion-dilation",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        metavar="K",
        help="Lesions, overlap rule: dilate reference lesions by K voxels (BraTS uses 3).",
    ),
    click.option(
        "--lesion-missed-distance",
        type=float,
        default=374.0,
        show_default=True,
        metavar="MM",
        help="Lesion-wise HD95 (with --metrics hd95) of a missed or false lesion.",
    ),
    click.option(
        "--empty-distance",
        type=Checked("dicecli.options.parse_empty_distance"),
        default="nan",
        show_default=True,
        metavar="nan|inf|MM",
        help="hd, hd95, assd and masd when either mask is empty.",
    ),
]


scheduler_options: F = apply(
    [
        click.option(
            "--scheduler",
            metavar="ADDRESS",
            help="Run each case as a task on Dask distributed: tcp://HOST:PORT of a running "
            "scheduler, or local[:N] for N local worker processes (pip install "
            "'dicecli[dask]'). Workers read the files: the paths must be the same for them.",
        ),
        click.option(
            "--scheduler-file",
            type=click.Path(dir_okay=False),
            help="Connect to the Dask scheduler that wrote this file (dask scheduler "
            "--scheduler-file), as on HPC clusters.",
        ),
    ]
)

journal_options: F = apply(
    [
        click.option(
            "--journal",
            type=click.Path(dir_okay=False),
            help="Append each finished case to this JSON-lines journal (flushed per case), so "
            "that an interrupted run can be resumed.",
        ),
        click.option(
            "--resume",
            is_flag=True,
            help="With --journal: reuse the journalled cases whose inputs are unchanged and score "
            "the rest (the options that change numbers must be the same).",
        ),
    ]
)

pairs_option = _PAIRS_OPTION
score_options = apply(_SCORE_OPTIONS)
#: ``agreement``'s: raters are never missing a prediction
agreement_score_options = apply([o for o in _SCORE_OPTIONS if o is not _MISSING_OPTION])
#: ``rank``'s: its own ``--labels`` takes bare structure names too, and its own ``--missing``
#: and ``--worst`` say what a missing or undefined case is worth
ranking_score_options = apply(
    [o for o in _SCORE_OPTIONS if o not in (_MISSING_OPTION, _LABELS_OPTION, _WORST_OPTION)]
)
