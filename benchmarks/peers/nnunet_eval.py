"""nnU-Net v2's evaluation (compute_metrics_on_folder with SimpleITKIO), one worker process."""

import json
import os
import tempfile

from _common import parse, write


def main() -> None:
    from nnunetv2.evaluation.evaluate_predictions import compute_metrics_on_folder
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO

    a = parse(__doc__)
    summary = os.path.join(tempfile.mkdtemp(), "summary.json")
    compute_metrics_on_folder(
        a.gt_dir, a.pred_dir, summary, SimpleITKIO(), ".nii.gz", a.labels, None, 1
    )
    with open(summary) as f:
        report = json.load(f)
    rows = []
    for item in report["metric_per_case"]:
        case = os.path.basename(item["prediction_file"])[: -len(".nii.gz")]
        for k in a.labels:
            m = item["metrics"][str(k)]
            rows.append((case, k, float(m["Dice"]), int(m["TP"]), int(m["FP"]), int(m["FN"])))
    write(a.out, rows, "case,label,dice,tp,fp,fn")


if __name__ == "__main__":  # nnU-Net starts its workers with spawn, which re-imports this file
    main()
