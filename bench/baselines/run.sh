#!/usr/bin/env bash
# Held-out ROC AUC of Kiln's example models next to scikit-learn baselines on the same split.
# Creates bench/.venv (python3 -m venv) and installs scikit-learn from PyPI on first use.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$repo/bench/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$repo/bench/baselines/requirements.txt"
cd "$repo"
exec npx tsx bench/baselines/baselines.ts --python "$venv/bin/python" "$@"
