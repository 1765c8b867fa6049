"""seg-metrics write_metrics, overlap metrics only (very slow: run with --slow-peers)."""

import csv
import os
import tempfile

from _common import cases, parse, write
from seg_metrics.seg_metrics import write_metrics

a = parse(__doc__)
rows = []
for case, gt, pred in cases(a.gt_dir, a.pred_dir):
    out = os.path.join(tempfile.mkdtemp(), "m.csv")
    write_metrics(labels=a.labels, gdth_path=gt, pred_path=pred, csv_file=out, metrics=["dice"])
    with open(out) as f:
        for r in csv.DictReader(f):
            rows.append((case, int(float(r["label"])), float(r["dice"])))
write(a.out, rows)
