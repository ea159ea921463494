"""scikit-learn baselines on rows Kiln wrote: train.csv, test.csv and meta.json in one folder.

train.csv holds the rows Kiln's final model was trained on, test.csv the held-out rows it was scored on.

Fits LogisticRegression and HistGradientBoostingClassifier behind the same preprocessing Kiln's
features.fit does (numeric columns standardized, the others one-hot; missing values imputed),
and prints their held-out ROC AUC as JSON. Called by baselines.ts.
"""
import csv
import json
import platform
import sys
from pathlib import Path

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SEED = 0


def load(path, meta):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    numeric = np.array([[float(r[c]) if r[c] != "" else np.nan for c in meta["numeric"]] for r in rows], dtype=float).reshape(len(rows), -1)
    categorical = np.array([[r[c] if r[c] != "" else np.nan for c in meta["categorical"]] for r in rows], dtype=object).reshape(len(rows), -1)
    y = np.array([1 if r[meta["label"]] == meta["positive"] else 0 for r in rows])
    return numeric, categorical, y


class Preprocessing:
    """Numeric columns imputed with the mean and standardized; the others imputed with the mode and one-hot encoded."""

    def fit(self, numeric, categorical):
        self.numeric = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()).fit(numeric) if numeric.shape[1] else None
        self.categorical = (
            make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore", sparse_output=False)).fit(categorical)
            if categorical.shape[1] else None
        )
        return self

    def transform(self, numeric, categorical):
        parts = [self.numeric.transform(numeric)] if self.numeric else []
        parts += [self.categorical.transform(categorical)] if self.categorical else []
        return np.hstack(parts)


def main(folder):
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text())
    *train, y_train = load(folder / "train.csv", meta)
    *test, y_test = load(folder / "test.csv", meta)
    prep = Preprocessing().fit(*train)
    x_train, x_test = prep.transform(*train), prep.transform(*test)
    models = {
        "logistic_regression": LogisticRegression(max_iter=5000),
        "hist_gradient_boosting": HistGradientBoostingClassifier(random_state=SEED),
    }
    auc = {}
    for name, model in models.items():
        model.fit(x_train, y_train)
        auc[name] = float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))
    json.dump({"sklearn": auc, "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__, "python": platform.python_version()}}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
