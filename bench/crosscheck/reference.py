"""Computes the reference metrics for the Kiln cross-check with scikit-learn and fairlearn.

Usage: reference.py MANIFEST.json  ->  prints {"versions": {...}, "values": {"<key>": number|null}} on stdout.
The manifest names CSV files written by crosscheck.ts; keys match the ones crosscheck.ts computes.
"""

import json
import sys
import warnings

import numpy as np
import pandas as pd
import fairlearn
import sklearn
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

THRESHOLD = 0.5


def expected_calibration_error(y_true, y_prob, n_bins, strategy):
    # Per-bin means from scikit-learn's calibration_curve; the bin sizes that weight them come
    # from the same binning calibration_curve does internally.
    prob_true, prob_pred = calibration_curve(y_true, y_prob, n_bins=n_bins, strategy=strategy)
    if strategy == "quantile":
        bins = np.percentile(y_prob, np.linspace(0, 1, n_bins + 1) * 100)
    else:
        bins = np.linspace(0.0, 1.0, n_bins + 1)
    counts = np.bincount(np.searchsorted(bins[1:-1], y_prob), minlength=n_bins)
    counts = counts[counts != 0]
    return float(np.sum(counts / len(y_prob) * np.abs(prob_true - prob_pred)))


def number(x):
    x = float(x)
    return None if np.isnan(x) else x


def classification(case, values):
    frame = pd.read_csv(case["csv"], dtype={a: str for a in case["attributes"]}, keep_default_na=False)
    y_true = frame["y_true"].to_numpy(dtype=int)
    y_score = frame["y_score"].to_numpy(dtype=float)
    y_pred = (y_score >= THRESHOLD).astype(int)
    name = case["name"]
    values[f"{name}.accuracy"] = accuracy_score(y_true, y_pred)
    values[f"{name}.precision"] = precision_score(y_true, y_pred, zero_division=0)
    values[f"{name}.recall"] = recall_score(y_true, y_pred, zero_division=0)
    values[f"{name}.f1"] = f1_score(y_true, y_pred, zero_division=0)
    values[f"{name}.roc_auc"] = roc_auc_score(y_true, y_score)
    values[f"{name}.log_loss"] = log_loss(y_true, y_score, labels=[0, 1])
    values[f"{name}.average_precision"] = average_precision_score(y_true, y_score)
    values[f"{name}.brier"] = brier_score_loss(y_true, y_score)
    values[f"{name}.ece_uniform_10"] = expected_calibration_error(y_true, y_score, 10, "uniform")
    values[f"{name}.ece_quantile_10"] = expected_calibration_error(y_true, y_score, 10, "quantile")
    for attribute in case["attributes"]:
        sensitive = frame[attribute].to_numpy()
        key = f"{name}.{attribute}"
        values[f"{key}.demographic_parity_difference"] = demographic_parity_difference(y_true, y_pred, sensitive_features=sensitive)
        values[f"{key}.demographic_parity_ratio"] = demographic_parity_ratio(y_true, y_pred, sensitive_features=sensitive)
        values[f"{key}.equalized_odds_difference"] = equalized_odds_difference(y_true, y_pred, sensitive_features=sensitive)
        by_group = MetricFrame(
            metrics={"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=sensitive,
        ).by_group
        for group, row in by_group.iterrows():
            for metric in ("selection_rate", "tpr", "fpr"):
                values[f"{key}.{metric}[{group}]"] = row[metric]


def regression(case, values):
    frame = pd.read_csv(case["csv"])
    y_true = frame["y_true"].to_numpy(dtype=float)
    y_pred = frame["y_pred"].to_numpy(dtype=float)
    name = case["name"]
    values[f"{name}.mae"] = mean_absolute_error(y_true, y_pred)
    values[f"{name}.rmse"] = root_mean_squared_error(y_true, y_pred)
    values[f"{name}.r2"] = r2_score(y_true, y_pred)


def main():
    with open(sys.argv[1]) as f:
        manifest = json.load(f)
    values = {}
    # fairlearn warns about groups without positives (the case this check is about); stdout stays JSON.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in manifest["classification"]:
            classification(case, values)
        for case in manifest["regression"]:
            regression(case, values)
    versions = {"python": sys.version.split()[0], "scikit-learn": sklearn.__version__, "fairlearn": fairlearn.__version__, "numpy": np.__version__, "pandas": pd.__version__}
    json.dump({"versions": versions, "values": {k: number(v) for k, v in values.items()}}, sys.stdout)


if __name__ == "__main__":
    main()
