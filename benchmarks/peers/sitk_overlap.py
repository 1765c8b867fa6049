"""SimpleITK LabelOverlapMeasuresImageFilter, per case, all labels."""

import SimpleITK as sitk
from _common import cases, parse, write

a = parse(__doc__)
rows = []
for case, gt, pred in cases(a.gt_dir, a.pred_dir):
    f = sitk.LabelOverlapMeasuresImageFilter()
    f.Execute(sitk.ReadImage(gt), sitk.ReadImage(pred))
    rows += [(case, k, f.GetDiceCoefficient(k)) for k in a.labels]
write(a.out, rows)
