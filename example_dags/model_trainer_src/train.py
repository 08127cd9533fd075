"""A tiny but real training script: least-squares linear regression by gradient descent.

It runs the way SageMaker runs a ModelTrainer entry script: data in ``SM_CHANNEL_TRAIN`` (CSV files
with a header ``x,y``), hyperparameters as ``--name value`` arguments (or ``SM_HPS``), the model
written to ``SM_MODEL_DIR``. Metrics are printed as ``train:loss=<value>`` lines for the job's metric
definitions. Only the standard library is used, so it runs in any Python container.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import math
import os


def load_rows(folder: str) -> list[tuple[float, float]]:
    rows: list[tuple[float, float]] = []
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.csv"), recursive=True)):
        with open(path, newline="") as handle:
            for record in csv.DictReader(handle):
                rows.append((float(record["x"]), float(record["y"])))
    if not rows:
        raise SystemExit(f"no training rows found under {folder}")
    return rows


def main() -> None:
    hps = json.loads(os.environ.get("SM_HPS", "{}"))
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=int(hps.get("epochs", 200)))
    parser.add_argument("--learning-rate", "--learning_rate", type=float, default=float(hps.get("learning_rate", 0.05)))
    args, _ = parser.parse_known_args()

    rows = load_rows(os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    weight, bias = 0.0, 0.0
    loss = float("inf")
    for epoch in range(1, args.epochs + 1):
        grad_w = grad_b = loss = 0.0
        for x, y in rows:
            error = weight * x + bias - y
            grad_w += 2 * error * x / len(rows)
            grad_b += 2 * error / len(rows)
            loss += error * error / len(rows)
        weight -= args.learning_rate * grad_w
        bias -= args.learning_rate * grad_b
        if epoch % max(args.epochs // 5, 1) == 0:
            print(f"epoch={epoch} train:loss={loss:.6f}", flush=True)

    print(f"train:loss={loss:.6f}", flush=True)
    print(f"train:rmse={math.sqrt(loss):.6f}", flush=True)
    model_dir = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "model.json"), "w") as handle:
        json.dump({"weight": weight, "bias": bias, "epochs": args.epochs}, handle)
    print(f"model saved: weight={weight:.4f} bias={bias:.4f}", flush=True)


if __name__ == "__main__":
    main()
