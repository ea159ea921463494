"""scikit-learn's side of bench/training/logistic.ts: LogisticRegression (lbfgs) on standardized
features, fitted on the same training rows Kiln fits, scored on the same held-out rows.
Usage: python sklearn_fit.py TRAIN.csv TEST.csv C REPEAT  -> one JSON line on stdout."""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

train_path, test_path, c, repeat = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
train, test = pd.read_csv(train_path), pd.read_csv(test_path)
features = [name for name in train.columns if name != "label"]
y_train = (train["label"] == "yes").to_numpy(dtype=np.int64)
y_test = (test["label"] == "yes").to_numpy(dtype=np.int64)

fit_s, scaled_fit_s = float("inf"), float("inf")
for _ in range(repeat):
    started = time.perf_counter()
    scaler = StandardScaler().fit(train[features].to_numpy())
    x_train = scaler.transform(train[features].to_numpy())
    scaled = time.perf_counter()
    model = LogisticRegression(C=c, solver="lbfgs").fit(x_train, y_train)
    done = time.perf_counter()
    fit_s = min(fit_s, done - scaled)
    scaled_fit_s = min(scaled_fit_s, done - started)

score = model.predict_proba(scaler.transform(test[features].to_numpy()))[:, 1]
print(
    json.dumps(
        {
            "fitSeconds": fit_s,
            "scaleAndFitSeconds": scaled_fit_s,
            "iterations": int(model.n_iter_[0]),
            "auc": float(roc_auc_score(y_test, score)),
            "coef": model.coef_[0].tolist(),
            "intercept": float(model.intercept_[0]),
        }
    )
)
