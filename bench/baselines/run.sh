#!/usr/bin/env bash
# Held-out ROC AUC of Kiln's example models, run on a Temporal dev server, next to scikit-learn
# baselines fit on the rows Kiln's final model was trained on and scored on the same held-out rows.
# Creates bench/.venv (python3 -m venv) and installs scikit-learn from PyPI on first use.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="$(bash "$repo/bench/python.sh" "$repo/bench/baselines/requirements.txt")"
cd "$repo"
exec npx tsx bench/baselines/baselines.ts --python "$python" "$@"
