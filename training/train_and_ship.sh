#!/usr/bin/env bash
# Train one config from scratch, offline, then store its best dev epoch as fp16 with its model card
# (dev and test scores of exactly what ships). Used by train_default_model.sh and train_fast_model.sh.
# Usage: bash training/train_and_ship.sh CONFIG RUNS_DIR MODEL_DIR "COMMAND TO RECORD" [ship options]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
config="$1" runs="$2" out="$3" command="$4"
shift 4
"$PY" -m ner_demo fetch-data conll2003
"$PY" -m ner_demo train --config "$config" --set "runs_dir=$runs"
run_dir="$(ls -td "$runs"/*/ | head -n 1)"
"$PY" -m ner_demo ship "$run_dir" --to "$out" --command "$command" --recipe "$config" "$@"
