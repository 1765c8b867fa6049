"""Run panoptica's defaults on (ref, pred) pairs saved in an .npz (NAME_ref, NAME_pred); print
JSON {NAME: {tp, fp, fn, rq, sq, pq}}. Run by the Python that has panoptica installed (its pins
conflict with dicecli's numpy, pandas and rich, so it lives in a venv of its own)."""

import json
import sys
import warnings

import numpy as np

warnings.simplefilter("ignore")
from panoptica import (  # noqa: E402
    ConnectedComponentsInstanceApproximator,
    InputType,
    NaiveThresholdMatching,
    Panoptica_Evaluator,
)

out = {}
data = np.load(sys.argv[1])
names = sorted({k.rsplit("_", 1)[0] for k in data.files})
ev = Panoptica_Evaluator(
    expected_input=InputType.SEMANTIC,
    instance_approximator=ConnectedComponentsInstanceApproximator(),
    instance_matcher=NaiveThresholdMatching(),
)
for n in names:
    ref = data[n + "_ref"].astype(np.uint8)
    pred = data[n + "_pred"].astype(np.uint8)
    res = ev.evaluate(pred, ref, verbose=False)
    r = res["ungrouped"] if isinstance(res, dict) else res
    r = getattr(r, "result", r)
    if isinstance(r, tuple):
        r = r[0]
    d = {k: getattr(r, k) for k in ("tp", "fp", "fn", "rq", "sq", "pq")}
    out[n] = {
        k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v))
        for k, v in d.items()
    }
print(json.dumps(out))
