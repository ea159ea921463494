"""Evidently's drift on the data bench/monitor/drift.ts wrote: the same computation Kiln's monitor/drift does.

Usage: evidently_drift.py DATA_DIR OUT_JSON. DATA_DIR holds meta.json and one raw little-endian file per column and
side (float64 for numeric, uint16 codes with 0xffff for missing for categorical). For each scenario in meta.json it
times (wall clock and this process's CPU time) (1) an Evidently Report with DataDriftPreset() and its defaults, the way a user runs it, and (2) Evidently's
stattests alone (drop missing values, get_stattest, call), the least Evidently does for the same numbers; then, untimed,
computes every applicable test on every column, and SciPy's KS statistic D, for the cross-check.
"""

import json
import sys
import time

import numpy as np
import pandas as pd
import scipy
import evidently
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset
from evidently.legacy.calculations.stattests import get_stattest
from evidently.legacy.calculations.stattests.registry import get_registered_stattest
from evidently.legacy.core import ColumnType
from scipy.stats import ks_2samp

MISSING = 0xFFFF
# Evidently's display names, as its Report prints them, to the names Kiln and Evidently's registry use.
METHODS = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "PSI": "psi",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
}


def load(data_dir, meta, side, rows):
    columns = {}
    for col in meta["columns"]:
        path = f"{data_dir}/{col['name']}.{side}"
        if col["kind"] == "numeric":
            columns[col["name"]] = np.fromfile(path, dtype="<f8", count=rows)
        else:
            codes = np.fromfile(path, dtype="<u2", count=rows).astype(np.int64)
            names = np.array(col["categories"] + [None], dtype=object)
            codes[codes == MISSING] = len(col["categories"])
            columns[col["name"]] = names[codes]
    return pd.DataFrame(columns)


def clean(series):
    return series.replace([-np.inf, np.inf], np.nan).dropna()


def column_type(kind):
    return ColumnType.Numerical if kind == "numeric" else ColumnType.Categorical


def run_report(meta, reference, current):
    definition = DataDefinition(
        numerical_columns=[c["name"] for c in meta["columns"] if c["kind"] == "numeric"],
        categorical_columns=[c["name"] for c in meta["columns"] if c["kind"] == "categorical"],
    )
    start, cpu = time.perf_counter(), time.process_time()
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    out = {"seconds": time.perf_counter() - start, "cpuSeconds": time.process_time() - cpu, "columns": {}}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("DriftedColumnsCount"):
            out["count"] = metric["value"]["count"]
            out["share"] = metric["value"]["share"]
        elif config["type"].endswith("ValueDrift"):
            out["columns"][config["column"]] = {
                "test": METHODS[config["method"]],
                "score": float(metric["value"]),
                "threshold": config["threshold"],
            }
    return out


def run_stattests(meta, reference, current):
    start, cpu = time.perf_counter(), time.process_time()
    columns = {}
    for col in meta["columns"]:
        kind = column_type(col["kind"])
        ref = clean(reference[col["name"]])
        cur = clean(current[col["name"]])
        test = get_stattest(ref, cur, kind, None)
        result = test(ref, cur, kind, None)
        columns[col["name"]] = {"test": test.name, "score": float(result.drift_score), "drifted": bool(result.drifted)}
    return {"seconds": time.perf_counter() - start, "cpuSeconds": time.process_time() - cpu, "columns": columns}


def run_all(meta, reference, current):
    """Every test Kiln offers for each column, each through Evidently's own implementation."""
    out = {}
    for col in meta["columns"]:
        ref = clean(reference[col["name"]])
        cur = clean(current[col["name"]])
        distinct = pd.concat([ref, cur]).nunique()
        tests = ["psi", "jensenshannon"]
        if col["kind"] == "numeric":
            tests += ["ks", "wasserstein"]
        if distinct <= 20 or col["kind"] == "categorical":
            tests.append("chisquare")
        if distinct <= 2:
            tests.append("z")
        scores = {}
        for name in tests:
            # Evidently registers chi-square and Z for categorical columns only, and runs them on numeric columns
            # with few values by default; they count values, so the categorical entry computes the same.
            kind = ColumnType.Categorical if name in ("chisquare", "z") else column_type(col["kind"])
            result = get_registered_stattest(name, kind)(ref, cur, kind, None)
            scores[name] = float(result.drift_score)
        if col["kind"] == "numeric":
            scores["ks_statistic"] = float(ks_2samp(ref, cur).statistic)
        out[col["name"]] = scores
    return out


def main():
    data_dir, out_path = sys.argv[1], sys.argv[2]
    with open(f"{data_dir}/meta.json") as f:
        meta = json.load(f)
    current = load(data_dir, meta, "current", meta["currentRows"])
    result = {"versions": {"evidently": evidently.__version__, "scipy": scipy.__version__, "pandas": pd.__version__,
                           "numpy": np.__version__}, "scenarios": {}}
    for scenario in meta["scenarios"]:
        reference = load(data_dir, meta, "reference", scenario["referenceRows"])
        print(f"evidently: {scenario['name']} ({len(reference)} reference rows)", file=sys.stderr)
        result["scenarios"][scenario["name"]] = {
            "report": run_report(meta, reference, current),
            "stattests": run_stattests(meta, reference, current),
            "all": run_all(meta, reference, current),
        }
    with open(out_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
