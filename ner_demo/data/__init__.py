"""Data: CoNLL files, tag schemes, dataset sources, statistics."""

from ner_demo.data.conll import DOCSTART, Corpus, Sentence, format_conll, parse_conll, read_conll, write_conll
from ner_demo.data.multinerd import (
    FIVE_TYPES, MULTINERD_LABELS, MULTINERD_TYPES, hf_multinerd_to_corpus, load_multinerd, multinerd_label_names,
    parse_multinerd_jsonl, read_multinerd_jsonl, select_types,
)
from ner_demo.data.schemes import BIOES, IOB1, IOB2, corpus_to_iob2, detect_scheme, to_iob2
from ner_demo.data.fetch import FetchReport, fetch_conll2003
from ner_demo.data.hub import hf_split_to_corpus, hub_reachable
from ner_demo.data.sources import SPLITS, Splits, canonical_split, data_home, dataset_dir, load_split, load_splits
from ner_demo.data.stats import SplitStats, corpus_stats, format_stats_table

__all__ = [
    "BIOES", "DOCSTART", "FIVE_TYPES", "IOB1", "IOB2", "MULTINERD_LABELS", "MULTINERD_TYPES", "SPLITS",
    "Corpus", "FetchReport", "Sentence", "SplitStats", "Splits", "canonical_split", "corpus_stats",
    "corpus_to_dataset", "corpus_to_iob2", "data_home", "dataset_dir", "detect_scheme", "fetch_conll2003",
    "format_conll", "format_stats_table", "hf_multinerd_to_corpus", "hf_split_to_corpus", "hub_reachable",
    "multinerd_label_names", "load_multinerd", "load_split", "load_splits", "parse_conll", "parse_multinerd_jsonl",
    "read_conll", "read_multinerd_jsonl", "select_types", "to_iob2", "write_conll",
]


def __getattr__(name: str):
    # `datasets` (pyarrow, pandas) is slow to import: only code that builds datasets pays for it.
    if name == "corpus_to_dataset":
        from ner_demo.data.hf import corpus_to_dataset

        return corpus_to_dataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
