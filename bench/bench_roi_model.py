"""Time the ROI model: train on N rows, SHAP for M predictions.

    .venv/bin/python bench/bench_roi_model.py                   # 300k rows, SHAP for 10k
    .venv/bin/python bench/bench_roi_model.py --data synthetic  # the tests' known-truth rows

Rows are ad-set-days from the demo simulator (scaled up until there are N of them), or
campaign-days from the known-truth generator of tests/test_roi_model.py; both builders live
in that test file so the benchmarked frames are the ones the tests validate. "train" is all of
`train()`: features, the fit on the earlier 80 %, validation and conformal calibration, and
the refit on all rows. Targets on a 2-core machine: train < 30 s, SHAP for 10k < 5 s.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
# XGBoost's OpenMP threads spin while waiting for each other; on a 2-core box shared with
# other processes that spinning starves the thread being waited for and training runs ~4x
# slower. Passive waiting costs nothing on an idle machine. Must be set before xgboost loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--shap-rows", type=int, default=10_000)
    parser.add_argument("--nthread", type=int, default=2)
    parser.add_argument("--data", choices=["simulator", "synthetic"], default="simulator")
    args = parser.parse_args()

    from test_roi_model import campaign_days, simulator_ad_set_days

    from modeling import roi_model
    from modeling.explain_text import drivers, global_importance

    started = time.perf_counter()
    if args.data == "simulator":  # ~31k ad-set-days per unit of scale over a year
        frame, _ = simulator_ad_set_days(365, seed=7, scale=args.rows / 29_000)
        frame = frame.sort_values("date", kind="stable").head(args.rows)
    else:  # ~24.5 days per campaign
        frame = campaign_days(args.rows // 24 + 1, seed=7).head(args.rows)
    print(f"generate   {len(frame):>9,} rows          {time.perf_counter() - started:6.2f} s")

    started = time.perf_counter()
    model = roi_model.train(frame, config=roi_model.TrainConfig(nthread=args.nthread))
    train_s = time.perf_counter() - started
    print(f"train      {len(frame):>9,} rows          {train_s:6.2f} s   (target < 30 s)")

    latest = frame.tail(args.shap_rows)  # the newest rows, with their history before them
    started = time.perf_counter()
    roi_model.predict(model, latest)
    print(f"predict    {len(latest):>9,} rows          {time.perf_counter() - started:6.2f} s")

    started = time.perf_counter()
    shap = roi_model.explain(model, latest)
    shap_s = time.perf_counter() - started
    print(f"SHAP       {len(latest):>9,} rows          {shap_s:6.2f} s   (target < 5 s)")

    blob = roi_model.to_bytes(model)
    card = model.card
    print(f"model      {len(blob) / 1e6:.2f} MB, {len(model.feature_names)} features, "
          f"verdict: {card['verdict']}")
    print("top drivers:", ", ".join(global_importance(shap)["feature"].head(4)))
    row = latest.index[-1]
    inputs = roi_model.features(model, latest.loc[[row]])
    for sentence in drivers(model, inputs.loc[row], shap.loc[row], top=3):
        print("  ", sentence)


if __name__ == "__main__":
    main()
