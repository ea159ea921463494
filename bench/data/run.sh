#!/usr/bin/env bash
# data.readCsv against pandas.read_csv in one run (bench/data/ingest.ts). Installs pandas from PyPI
# into bench/.venv on first use; it is benchmark-only, never a dependency of Kiln.
#   bash bench/data/run.sh --rows 500000,2000000 --repeat 3
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="$(bash "$repo/bench/python.sh" "$repo/bench/data/requirements.txt")"
cd "$repo"
exec npx tsx bench/data/ingest.ts --python "$python" "$@"
