"""Helpers shared by the sub-commands."""

from __future__ import annotations

import json
import sys


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of tables")


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def add_model_options(parser) -> None:
    from ner_demo.backends import BACKENDS
    from ner_demo.inference import AGGREGATIONS, PRECISIONS

    parser.add_argument("--model", default=None,
                        help="a trained model folder or Hub id (default: the shipped offline model)")
    parser.add_argument("--aggregation", choices=AGGREGATIONS, default="first",
                        help="how subword predictions make a word's (default: first subword)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="auto = bf16 autocast where the CPU/GPU supports it, else fp32")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument("--backend", default="auto", choices=["auto", *BACKENDS],
                        help="what runs the network (auto: from --precision, or an export folder's own)")
    parser.add_argument("--batch-size", type=int, default=None, help="windows per forward pass (default: the backend's)")
    parser.add_argument("--context-words", type=int, default=None,
                        help="words of neighbouring document text read on each side of a sentence (default: the "
                             "model's own; 0 reads each sentence alone: fewer tokens, faster)")
    parser.add_argument("--chunk-share", type=float, default=None,
                        help="share of each window a long document's chunk predicts, the rest being its context "
                             "(default: the model's own, 0.5 unless its ner_demo.json says otherwise; 0.9 reads "
                             "fewer windows: faster, a little less accurate)")


def load_tagger(args):
    from ner_demo.inference import Tagger
    from ner_demo.models import default_model

    return Tagger.from_pretrained(
        args.model or default_model(), aggregation=args.aggregation, precision=args.precision,
        device=args.device, batch_size=args.batch_size, backend=args.backend,
        context_words=args.context_words, chunk_share=args.chunk_share,
    )
