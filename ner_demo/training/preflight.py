"""Warnings before a run trains, and a hint after it scored nothing: numbers, not verdicts.

A run of a few optimizer steps ends with a head that still predicts "O" everywhere, so its dev F1 is
0.0000, and without a word that looks like a bug. :func:`small_run_warning` says so before launch (the
Train tab at Start, ``train`` on the command line) and again in the run's log, with the counts;
:func:`zero_f1_hint` says what may explain a 0.0000 at the end. Neither stops a run.
"""

from __future__ import annotations

from ner_demo.training.config import TrainConfig

# Below this many optimizer steps, a fresh head rarely gets past predicting "O" everywhere (the tiny
# test runs of 20-30 steps learn only with a learning rate far above a real model's).
MIN_STEPS = 100


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def planned_steps(config: TrainConfig, examples: int) -> tuple[int, int]:
    """(steps per epoch, steps in all) for ``examples`` train windows in one process: the last partial
    batch counts as a step (``data_prep.epoch_batches``) and ``max_steps`` wins over ``epochs``.

    >>> planned_steps(TrainConfig(batch_size=16, epochs=3), 12)
    (1, 3)
    """
    per_epoch = -(-examples // config.batch_size)
    return per_epoch, (config.max_steps if config.max_steps else config.epochs * per_epoch)


def small_run_warning(config: TrainConfig, examples: int | None, unit: str = "train sentence",
                      steps: tuple[int, int] | None = None) -> str | None:
    """A warning when the run takes fewer than :data:`MIN_STEPS` optimizer steps, else None.

    ``examples``: how many train sentences (or windows, with ``unit``) there are; None when unknown
    (a full dataset that was not read): only a small ``max_steps`` is then worth a warning. ``steps``:
    (per epoch, in all) as an engine counted them (several processes split the batches), else planned here.

    >>> print(small_run_warning(TrainConfig(batch_size=16, epochs=3), 12))
    12 train sentences with batch_size 16: 1 step per epoch, 3 steps in all (3 epochs). With so few steps dev F1 will likely be 0.0000: use more data, a smaller batch_size or more epochs.
    """
    if examples is None:
        if config.max_steps and config.max_steps < MIN_STEPS:
            return (f"max_steps={config.max_steps}: {_plural(config.max_steps, 'step')} in all. With so few steps "
                    "dev F1 will likely be 0.0000: raise max_steps (or leave it unset to train whole epochs).")
        return None
    per_epoch, total = steps or planned_steps(config, examples)
    if total >= MIN_STEPS:
        return None
    why = f"max_steps={config.max_steps}" if config.max_steps else _plural(config.epochs, "epoch")
    advice = "raise max_steps" if config.max_steps else "use more data, a smaller batch_size or more epochs"
    return (f"{_plural(examples, unit)} with batch_size {config.batch_size}: {_plural(per_epoch, 'step')} per epoch, "
            f"{_plural(total, 'step')} in all ({why}). With so few steps dev F1 will likely be 0.0000: {advice}.")


def prelaunch_warning(config: TrainConfig) -> str | None:
    """:func:`small_run_warning` before launch. The train split is read only when it can be small (an
    upload, or ``limit_train_sentences``): a full dataset is not read twice just to count it."""
    if not (config.train_file or config.limit_train_sentences):
        return small_run_warning(config, None)
    from ner_demo.training.data_prep import load_splits_for

    return small_run_warning(config, len(load_splits_for(config).train))


def zero_f1_hint(status: dict) -> str | None:
    """What may explain a finished run's best dev F1 of 0.0000 (None for any other result)."""
    best = status.get("best") or {}
    f1 = best.get("strict_f1")
    if status.get("state") != "finished" or f1 is None or f1 > 0:
        return None
    steps = int(status.get("total_steps") or status.get("step") or 0)
    accuracy = best.get("token_accuracy")
    seen = f" (token accuracy {accuracy:.4f}: it may tag every word O)" if accuracy is not None else ""
    return (f"dev F1 is 0.0000: no dev entity was found exactly{seen}. Possible reasons: too little training "
            f"({_plural(steps, 'step')} in all; see the warning above, if any), a learning rate too low for so few "
            "steps, or dev entity types that the train data does not have. Try more data or epochs, a smaller "
            "batch_size, or a higher learning_rate.")
