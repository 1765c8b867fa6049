"""medpy.metric.binary.dc per label on arrays loaded with nibabel."""

import nibabel as nib
import numpy as np
from _common import cases, parse, write
from medpy.metric.binary import dc

a = parse(__doc__)
rows = []
for case, gt, pred in cases(a.gt_dir, a.pred_dir):
    g = np.asanyarray(nib.load(gt).dataobj)
    p = np.asanyarray(nib.load(pred).dataobj)
    rows += [(case, k, float(dc(p == k, g == k))) for k in a.labels]
write(a.out, rows)
