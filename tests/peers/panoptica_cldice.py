"""panoptica's clDSC on (ref, pred) pairs saved in an .npz (NAME_ref, NAME_pred); print JSON
{NAME: cldice}. Run by the Python that has panoptica installed (a venv of its own)."""

import json
import sys
import warnings

import numpy as np

warnings.simplefilter("ignore")
from panoptica.metrics.cldice import _compute_centerline_dice_coefficient  # noqa: E402

data = np.load(sys.argv[1])
names = sorted({k.rsplit("_", 1)[0] for k in data.files})
out = {}
for n in names:
    value = _compute_centerline_dice_coefficient(
        reference=data[n + "_ref"].astype(bool), prediction=data[n + "_pred"].astype(bool)
    )
    out[n] = float(value)
print(json.dumps(out))
