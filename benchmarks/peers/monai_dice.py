"""MONAI DiceMetric and get_confusion_matrix on CPU torch tensors (one-hot, batch of one)."""

import nibabel as nib
import numpy as np
import torch
from _common import cases, parse, write
from monai.metrics import DiceMetric, get_confusion_matrix
from monai.networks.utils import one_hot

a = parse(__doc__)
n_classes = max(a.labels) + 1
rows = []
for case, gt, pred in cases(a.gt_dir, a.pred_dir):
    g = torch.from_numpy(np.asanyarray(nib.load(gt).dataobj).astype(np.int64))[None, None]
    p = torch.from_numpy(np.asanyarray(nib.load(pred).dataobj).astype(np.int64))[None, None]
    g1, p1 = one_hot(g, n_classes), one_hot(p, n_classes)
    dice = DiceMetric(include_background=True, reduction="none")(p1, g1)[0]
    cm = get_confusion_matrix(p1, g1, include_background=True)[0]  # (classes, [tp, fp, tn, fn])
    for k in a.labels:
        tp, fp, _, fn = (round(float(v)) for v in cm[k])
        rows.append((case, k, float(dice[k]), tp, fp, fn))
write(a.out, rows, "case,label,dice,tp,fp,fn")
