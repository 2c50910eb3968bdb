"""Data preparation shared by every engine: splits, label set, examples, batches, padding.

Examples are built with :func:`ner_demo.encoding.training_examples`, the same windowing the Tagger
uses at inference, so a model is trained on exactly the inputs it will later see.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ner_demo.data.conll import Corpus, read_conll
from ner_demo.data.schemes import corpus_to_iob2
from ner_demo.encoding import InputFeatures, training_examples
from ner_demo.errors import ConfigError
from ner_demo.labels import IGNORE_INDEX, LabelSet
from ner_demo.training.config import TrainConfig

# Batches of similar length are drawn from shuffled "mega-batches" of this many batches: enough to
# cut padding, small enough that batch order stays random (the HF LengthGroupedSampler uses 50 too).
MEGABATCH = 50


@dataclass
class TrainingData:
    train: Corpus
    dev: Corpus
    labels: LabelSet
    source: str  # where the data came from, for the model card

    def summary(self) -> dict:
        return {
            "source": self.source,
            "train_sentences": len(self.train),
            "dev_sentences": len(self.dev),
            "labels": list(self.labels.names),
        }


def _read_file(path: str, subset: str) -> Corpus:
    if Path(path).suffix.lower() == ".jsonl":  # MultiNERD's own format
        from ner_demo.data.multinerd import read_multinerd_jsonl

        return read_multinerd_jsonl(path, subset)
    corpus, _ = corpus_to_iob2(read_conll(path))
    return keep_types(corpus, subset)


def keep_types(corpus: Corpus, subset: str) -> Corpus:
    """Map entity types outside ``subset`` (``all`` or ``"PER,LOC"``) to ``O``.

    Whole spans go together (B- and I- of a type), so the tags stay valid IOB2.
    """
    if subset == "all":
        return corpus
    if subset == "five":
        raise ConfigError("label_subset='five' is MultiNERD's subset; for other data list types, e.g. 'PER,LOC'")
    wanted = {t.strip() for t in subset.split(",") if t.strip()}
    sentences = [s.with_tags([t if t == "O" or t[2:] in wanted else "O" for t in s.tags]) for s in corpus]
    return Corpus(sentences, corpus.name)


def load_splits_for(config: TrainConfig) -> TrainingData:
    """Train and dev corpora (IOB2), cut to the configured limits, and the label set."""
    subset = config.label_subset
    multinerd = config.dataset.lower() == "multinerd"
    if config.train_file or config.dev_file:
        if not (config.train_file and config.dev_file):
            raise ConfigError("train_file and dev_file go together: set both (or neither, to use `dataset`)")
        train, dev = _read_file(config.train_file, subset), _read_file(config.dev_file, subset)
        source = f"train {config.train_file}, dev {config.dev_file}"
    elif multinerd:
        from ner_demo.data.multinerd import load_multinerd

        splits = load_multinerd(subset)
        train, dev, source = splits["train"], splits["dev"], f"MultiNERD (en, subset {subset})"
    elif config.dataset.startswith("annotation:"):
        # Deferred: only this source needs SQLAlchemy and the annotation database.
        from ner_demo.annotation.source import load_annotation_splits

        splits, source = load_annotation_splits(config.dataset, config.seed)
        train, dev = keep_types(splits["train"], subset), keep_types(splits["dev"], subset)
    else:
        from ner_demo.data.sources import load_splits

        splits = load_splits(config.dataset)
        missing = [s for s in ("train", "dev") if s not in splits]
        if missing:
            raise ConfigError(f"dataset={config.dataset!r}: has no {' or '.join(missing)} split; training needs both")
        train, dev = keep_types(splits["train"], subset), keep_types(splits["dev"], subset)
        source = getattr(splits, "source", config.dataset)
    if config.limit_train_sentences:
        train = Corpus(train.sentences[: config.limit_train_sentences], train.name)
    if config.limit_dev_sentences:
        dev = Corpus(dev.sentences[: config.limit_dev_sentences], dev.name)
    if not len(train) or not len(dev):
        raise ConfigError(f"{source}: the train and dev splits must not be empty (train {len(train)}, dev {len(dev)})")
    labels = _label_set(train, subset, multinerd or str(config.train_file).endswith(".jsonl"))
    return TrainingData(train, dev, labels, source)


def _label_set(train: Corpus, subset: str, multinerd: bool) -> LabelSet:
    if multinerd:  # the dataset's fixed label order, so models trained on its subsets line up
        from ner_demo.data.multinerd import multinerd_label_names

        return LabelSet(tuple(multinerd_label_names(subset)))
    labels = LabelSet.from_tags(s.tags for s in train)
    if len(labels) < 2:
        raise ConfigError(f"{train.name or 'train split'}: no entity tags at all; nothing to learn")
    return labels


def encode(tokenizer, corpus: Corpus, labels: LabelSet, features: InputFeatures, config: TrainConfig,
           teacher_words: bool = False) -> list[dict]:
    """Model-ready examples of one corpus (``input_ids``, ``token_type_ids``, ``labels``).

    With ``context_dropout``, a seeded share of the sentences is predicted without document context
    (each read on its own); the others keep their context, which still includes the dropped ones' words.
    With ``teacher_words``, each example also has ``teacher_word``: per position, the index of its word
    in the corpus (its sentences' words one after the other) at each labelled word's first subword, -1
    elsewhere; a distillation run reads the teacher's distribution of that word there.
    """
    sentences = corpus.sentences
    label_ids = [labels.encode(s.tags, s.source, s.line) for s in sentences]
    starts = _starts([len(s.words) for s in sentences])
    word_ids = [list(range(start, start + len(s.words))) for start, s in zip(starts, sentences)]

    def examples(chosen: Sequence[int], with_context: bool, labelled: Sequence[list[int]]) -> list[dict]:
        def windows(ids: Sequence[list[int]], all_subwords: bool) -> list[dict]:
            return training_examples(
                tokenizer, [sentences[i].words for i in chosen], [ids[i] for i in chosen], features,
                config.max_length, doc_ids=[sentences[i].doc_id for i in chosen] if with_context else None,
                all_subwords=all_subwords, inside_ids=labels.inside_ids() if all_subwords else None,
            )

        out = windows(labelled, config.all_subwords)
        if teacher_words:
            # The same words and features give the same windows; word indices in place of label ids land on
            # each target word's first piece (all_subwords off), where the labels sit.
            for ex, located in zip(out, windows(word_ids, False)):
                ex["teacher_word"] = [w if lab != IGNORE_INDEX and w != IGNORE_INDEX else -1
                                      for w, lab in zip(located["labels"], ex["labels"])]
        return out

    everything = range(len(sentences))
    if not config.context_dropout:
        return examples(everything, True, label_ids)
    rng = random.Random(config.seed)
    alone = [i for i in everything if rng.random() < config.context_dropout]
    unlabelled = set(alone)
    # Dropped sentences stay in their documents as context, with every label ignored there.
    masked = [[IGNORE_INDEX] * len(ids) if i in unlabelled else ids for i, ids in enumerate(label_ids)]
    in_context = [ex for ex in examples(everything, True, masked) if any(lab != IGNORE_INDEX for lab in ex["labels"])]
    return in_context + examples(alone, False, label_ids)


def _starts(lengths: Sequence[int]) -> list[int]:
    """Where each sentence's words start in the corpus's words one after the other.

    >>> _starts([3, 1, 2])
    [0, 3, 4]
    """
    out, total = [], 0
    for n in lengths:
        out.append(total)
        total += n
    return out


def features_for(config: TrainConfig, decoding: str | None = None) -> InputFeatures:
    """The inference features a run trains with and saves in ``best/ner_demo.json``, as the shipped models
    record theirs: casing bit, document context, window length, decoding and chunk share.

    ``decoding``: the one dev chose when the config says "auto" (until a dev evaluation has chosen, argmax).

    >>> f = features_for(TrainConfig(casing=True, context_words=64, decoding="bio", chunk_share=1.0))
    >>> f.casing, f.context_words, f.max_length, f.decoding, f.chunk_share
    (True, 64, 128, 'bio', 1.0)
    """
    chosen = decoding or (config.decoding if config.decoding != "auto" else "argmax")
    return InputFeatures(casing=config.casing, context_words=config.context_words, max_length=config.max_length,
                         decoding=chosen, chunk_share=config.chunk_share)


def epoch_batches(
    lengths: Sequence[int],
    batch_size: int,
    seed: int,
    epoch: int,
    group_by_length: bool = True,
    rank: int = 0,
    world: int = 1,
) -> list[list[int]]:
    """This process's batches (lists of example indices) for one epoch, the same on every call.

    The order depends only on ``(seed, epoch)``, so a resumed run replays exactly the batches it
    would have seen. With ``world`` processes, process ``rank`` takes every ``world``-th batch and all
    processes get the same number of batches (DDP needs every rank to step together).

    >>> epoch_batches([5, 1, 4, 2], 2, seed=0, epoch=0, group_by_length=False)
    [[2, 0], [1, 3]]
    """
    rng = random.Random(seed * 100_003 + epoch)  # an own generator: never touches the global RNGs
    order = list(range(len(lengths)))
    rng.shuffle(order)
    if group_by_length:
        mega = batch_size * MEGABATCH
        order = [i for k in range(0, len(order), mega)
                 for i in sorted(order[k : k + mega], key=lambda j: -lengths[j])]
    batches = [order[k : k + batch_size] for k in range(0, len(order), batch_size)]
    if group_by_length:
        # Shuffle, else every mega-batch would start with its longest batch; a short batch stays last,
        # so the flat order re-chunks into the same batches (EpochSampler relies on it).
        short = batches[-1:] if len(batches[-1]) < batch_size else []
        batches = batches[: len(batches) - len(short)]
        rng.shuffle(batches)
        batches += short
    per_rank = len(batches) // world if world > 1 else len(batches)
    if world > 1 and per_rank == 0:
        raise ConfigError(
            f"only {len(batches)} batches for {world} processes: use fewer processes or a smaller batch_size"
        )
    return batches[rank::world][:per_rank]


def collate(examples: Sequence[dict], pad_id: int, token_types: bool) -> dict:
    """Pad a batch to its longest example (dynamic padding).

    Returns tensors ``input_ids``, ``attention_mask``, ``labels`` (B, T), ``token_type_ids`` when the
    model takes them (DistilBERT does not) and ``teacher_word`` when the examples have it (distillation).
    """
    import torch

    width = max(len(e["input_ids"]) for e in examples)
    n = len(examples)
    ids = torch.full((n, width), pad_id, dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    labels = torch.full((n, width), IGNORE_INDEX, dtype=torch.long)
    types = torch.zeros((n, width), dtype=torch.long)
    for row, e in enumerate(examples):
        k = len(e["input_ids"])
        ids[row, :k] = torch.tensor(e["input_ids"])
        mask[row, :k] = 1
        labels[row, :k] = torch.tensor(e["labels"])
        types[row, :k] = torch.tensor(e["token_type_ids"])
    batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    if token_types:
        batch["token_type_ids"] = types
    if "teacher_word" in examples[0]:  # a distillation run: (B, T) corpus word indices, -1 where none
        batch["teacher_word"] = torch.full((n, width), -1, dtype=torch.long)
        for row, e in enumerate(examples):
            batch["teacher_word"][row, : len(e["teacher_word"])] = torch.tensor(e["teacher_word"])
    return batch


class EpochSampler:
    """The custom loop's batch order as a torch Sampler, for the HF Trainer.

    It yields the indices of :func:`epoch_batches` back to back; the DataLoader cuts them into the same
    batches. The order depends only on ``(seed, epoch)``, so a resumed Trainer replays exactly the
    batches of an uninterrupted run (the Trainer calls ``set_epoch`` at every epoch).
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int, group_by_length: bool):
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.group_by_length = group_by_length
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        batches = epoch_batches(self.lengths, self.batch_size, self.seed, self.epoch, self.group_by_length)
        return iter([i for batch in batches for i in batch])


class Collator:
    """``collate`` as a picklable callable, for the HF Trainer's DataLoader."""

    def __init__(self, pad_id: int, token_types: bool):
        self.pad_id = pad_id
        self.token_types = token_types

    def __call__(self, examples: Sequence[dict]) -> dict:
        return collate(examples, self.pad_id, self.token_types)
