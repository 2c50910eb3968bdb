"""Helpers shared by the sub-commands."""

from __future__ import annotations

import json
import re
import sys

from ner_demo.backends import BACKENDS
from ner_demo.errors import NerDemoError
from ner_demo.inference import AGGREGATIONS, INFERENCE_PRECISIONS, Tagger
from ner_demo.models import default_model


class UsageError(NerDemoError):
    """The command line itself is wrong (an empty text, a file that is not there): exit status 2, as for
    argparse's own usage errors. Checked before anything slow, such as loading a model, starts."""

    exit_code = 2


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of tables")


_SURROGATE = re.compile("[\ud800-\udfff]")
# What would break a tab-separated line or cannot be written as UTF-8 at all (lone surrogates).
_NOT_IN_A_FIELD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def print_json(data) -> None:
    """``data`` as JSON on stdout. A lone surrogate (a text read from a JSON ``\\ud800`` escape) has no
    UTF-8 form, so it is written as that escape again: the output stays valid JSON that reads back exact."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    sys.stdout.write(_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def tsv_field(text: str) -> str:
    """``text`` for one field of a tab-separated line: tabs, line breaks, other control characters and
    lone surrogates as Python escapes (offsets elsewhere on the line still count the original characters).

    >>> tsv_field("Acme\\tCorp\\n")
    'Acme\\\\tCorp\\\\n'
    """
    return _NOT_IN_A_FIELD.sub(lambda m: ascii(m.group())[1:-1], text)


def add_data_options(parser) -> None:
    """--data and --split, and the bootstrap's --bootstrap and --seed (evaluate, compare)."""
    parser.add_argument("--data", default="conll2003", help="conll2003, a folder with split files, a CoNLL file, or annotation:<name> "
                        "(an annotation dataset; --split dev, its held-out part, or all)")
    parser.add_argument("--split", default="test", help="train, dev or test (a single file is scored whole)")
    parser.add_argument("--bootstrap", type=int, default=1000,
                        help="bootstrap resamples of the documents (of the sentences when there is one document) "
                             "for the 95%% intervals and p-values; 0: none (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap's draws (default: 0)")
    add_cache_flag(parser)


def add_cache_flag(parser) -> None:
    parser.add_argument("--cache", action="store_true",
                        help="keep the predictions on disk, under $NER_DEMO_HOME/cache/predictions, and reuse them "
                             "when the same model is run the same way on the same data again")


def add_model_options(parser, model: bool = True) -> None:
    """How a model is loaded and run; ``model=False`` leaves out --model (compare names two models)."""
    if model:
        parser.add_argument("--model", default=None,
                            help="a trained model folder or Hub id (default: the shipped offline model)")
    parser.add_argument("--aggregation", choices=AGGREGATIONS, default="first",
                        help="how subword predictions make a word's (default: first subword)")
    parser.add_argument("--precision", choices=INFERENCE_PRECISIONS, default="auto",
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


def load_tagger(args, model: str | None = None):
    """The Tagger of ``model`` (default: ``args.model``, else the shipped model) run as ``args`` say."""
    return Tagger.from_pretrained(
        model or args.model or default_model(), aggregation=args.aggregation, precision=args.precision,
        device=args.device, batch_size=args.batch_size, backend=args.backend,
        context_words=args.context_words, chunk_share=args.chunk_share,
    )
