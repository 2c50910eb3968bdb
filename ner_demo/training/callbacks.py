"""Small plugins around the training loop (in the manner of Flair's trainer plugins).

Progress reporting, periodic checkpoints, cancellation and crash simulation live here rather than
inline in the loop, so the loop stays a readable sequence of forward / backward / step.
Every process runs every callback (some of them take part in collective reductions); only the main
process writes files.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

from ner_demo.training.runs import Run

CRASH_ENV = "NER_DEMO_CRASH_AT_STEP"  # "K" raises after step K; "K:kill" sends SIGKILL to itself (tests)


class Callback:
    """Hooks; ``loop`` is the running :class:`ner_demo.training.loop.CustomLoop`."""

    def on_train_begin(self, loop) -> None: ...

    def on_step_end(self, loop) -> None: ...

    def on_epoch_end(self, loop, record: dict) -> None: ...


class Progress:
    """Windowed loss and throughput, written to metrics.jsonl and status.json (engine-agnostic).

    Throughput counts real subword tokens (attention mask ones), never padding. The ETA covers the
    whole run: the steps left at this process's pace, plus every dev evaluation and epoch-end
    checkpoint still to come. An evaluation is timed once it has run; before the first one its time is
    estimated from the dev split's size in tokens and the training throughput (see ``eval_seconds``).
    """

    STATUS_EVERY_S = 2.0  # status.json refresh for pollers, between metric lines
    # A forward pass costs about a third of a training step's forward + backward, so the Tagger reads
    # about three times the training tokens/s; the first evaluation's own time replaces this guess.
    EVAL_SPEEDUP = 3.0

    def __init__(self, run: Run, total_steps: int, steps_per_epoch: int, start_step: int, is_main: bool,
                 dev_tokens: int = 0, checkpoint_every: int = 0):
        self.run = run
        self.total_steps = total_steps
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.epochs = max(1, -(-total_steps // self.steps_per_epoch))
        self.is_main = is_main
        self.start_step = start_step
        self.dev_tokens = dev_tokens  # an estimate of what one dev evaluation reads (0: unknown)
        self.checkpoint_every = checkpoint_every
        self.t_start = self.t_window = self.t_status = time.time()
        self.paused_s = 0.0  # evaluations and checkpoint writes in this process: not step time
        self.tokens_total = 0  # real tokens trained on in this process
        self.evals_done = start_step // self.steps_per_epoch  # a resume starts after its epoch's evaluation
        self.eval_s: float | None = None  # the last evaluation's measured time
        self.checkpoint_s: float | None = None  # the last checkpoint write's measured time
        # Elapsed time adds up over the processes of a resumed run (the ETA uses this process's pace only),
        # and counts this process's set-up (data, model) from when run_training marked it running.
        status = run.read_status() if is_main else {}
        self.elapsed_before = float(status.get("elapsed_s") or 0)
        began = status.get("process_started_s") if status.get("pid") == os.getpid() else None
        self.t_clock = min(self.t_start, float(began)) if isinstance(began, (int, float)) else self.t_start
        self.loss_sum = 0.0
        self.n = 0
        self.tokens = 0

    @contextlib.contextmanager
    def paused(self):
        """Time spent inside (dev evaluation, checkpoint writes) is not training time: tokens/s skips it."""
        t0 = time.time()
        try:
            yield
        finally:
            self.pause_for(time.time() - t0)

    def pause_for(self, seconds: float) -> None:
        self.t_window += seconds
        self.paused_s += seconds

    def note_eval(self, seconds: float) -> None:
        """A dev evaluation ended after ``seconds``: one less to come, and the next ones' expected time."""
        self.evals_done += 1
        self.eval_s = seconds

    def note_checkpoint(self, seconds: float) -> None:
        self.checkpoint_s = seconds

    def eval_seconds(self) -> float | None:
        """One dev evaluation's expected time: the last one's, else dev tokens at the evaluation speed
        estimated from training throughput; None while neither is known."""
        if self.eval_s is not None:
            return self.eval_s
        trained_s = time.time() - self.t_start - self.paused_s
        if not self.dev_tokens or self.tokens_total <= 0 or trained_s <= 0:
            return None
        return self.dev_tokens / (self.EVAL_SPEEDUP * self.tokens_total / trained_s)

    def add(self, loss, tokens: int) -> None:
        """``loss``: a float or a 0-d tensor (summed on its device; read at report time)."""
        self.loss_sum = self.loss_sum + loss
        self.n += 1
        self.tokens += tokens
        self.tokens_total += tokens

    def eta(self, step: int) -> float | None:
        """Seconds to the end of the run: steps left, evaluations and checkpoints left (None until a
        step has been timed, or while an evaluation's time cannot be estimated yet)."""
        done = step - self.start_step
        if done <= 0:
            return None
        step_s = max(0.0, time.time() - self.t_start - self.paused_s) / done
        evals_left = max(0, self.epochs - self.evals_done)
        eval_s = self.eval_seconds()
        if evals_left and eval_s is None:
            return None
        checkpoints_left = evals_left  # one after each evaluation
        if self.checkpoint_every:  # periodic ones, inside epochs (epoch ends are counted above)
            every, spe = self.checkpoint_every, self.steps_per_epoch
            checkpoints_left += sum(1 for m in range((step // every + 1) * every, self.total_steps, every) if m % spe)
        return (step_s * (self.total_steps - step) + evals_left * (eval_s or 0.0)
                + checkpoints_left * (self.checkpoint_s or 0.0))

    def report(self, step: int, lr: float, loss: float | None = None, tokens: int | None = None) -> dict:
        """Write one ``train`` record for the window since the last report and reset the window.

        ``loss``/``tokens`` override the local window sums (the loop passes values reduced over all processes).
        """
        now = time.time()
        loss = loss if loss is not None else float(self.loss_sum) / max(1, self.n)
        tokens = tokens if tokens is not None else self.tokens
        record = {
            "kind": "train", "step": step, "epoch": round(step / self.steps_per_epoch, 4), "loss": loss,
            "lr": lr, "tokens_per_s": round(tokens / max(now - self.t_window, 1e-9), 1),
            "elapsed_s": round(self.elapsed_before + now - self.t_clock, 2),
        }
        if self.is_main:
            self.run.log_metrics(record)
            self.status(step, lr, record)
        self.t_window, self.loss_sum, self.n, self.tokens = now, 0.0, 0, 0
        return record

    def status(self, step: int, lr: float, record: dict | None = None) -> None:
        """Refresh status.json's progress fields (cheap; called often)."""
        if not self.is_main:
            return
        self.t_status = time.time()
        fields = {
            "step": step,
            "total_steps": self.total_steps,
            "epoch": round(step / self.steps_per_epoch, 4),
            "lr": lr,
            "eta_s": _round(self.eta(step)),
            "elapsed_s": round(self.elapsed_before + self.t_status - self.t_clock, 1),
            "phase": self.training_phase(step),
        }
        if record is not None:
            fields.update(loss=record["loss"], tokens_per_s=record["tokens_per_s"])
        self.run.write_status(**fields)

    def training_phase(self, step: int) -> str:
        """status.json's ``phase`` while steps run: "training, epoch k of n"."""
        epoch = min(self.epochs, step // self.steps_per_epoch + 1)
        return f"training, epoch {epoch} of {self.epochs}"

    def phase(self, text: str, step: int | None = None) -> None:
        """Say what the run does between steps (evaluating dev, saving), so a bar at 100 % is not a mystery;
        with ``step``, the ETA is refreshed too (it still counts the evaluation that starts now)."""
        if self.is_main:
            eta = {"eta_s": _round(self.eta(step))} if step is not None else {}
            self.run.write_status(phase=text, elapsed_s=round(self.elapsed_before + time.time() - self.t_clock, 1),
                                  **eta)

    def status_due(self) -> bool:
        return time.time() - self.t_status >= self.STATUS_EVERY_S


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


class ProgressCallback(Callback):
    def __init__(self, progress: Progress, log_every: int):
        self.progress = progress
        self.log_every = log_every

    def on_step_end(self, loop) -> None:
        step = loop.state.step
        self.progress.add(loop.last_loss, loop.last_tokens)
        if step % self.log_every == 0 or step == loop.total_steps:
            loss, tokens = loop.reduce_sum([float(self.progress.loss_sum), self.progress.tokens])
            n = self.progress.n * loop.setup.world
            record = self.progress.report(step, loop.lr, loss / max(1, n), int(tokens))
            loop.setup.say(
                f"step {step}/{loop.total_steps}  loss {record['loss']:.4f}  lr {record['lr']:.2e}  "
                f"{record['tokens_per_s']:.0f} tokens/s"
            )
        elif self.progress.status_due():
            self.progress.status(step, loop.lr)


class CheckpointCallback(Callback):
    """Checkpoint every ``every`` steps inside an epoch (epoch ends are checkpointed by the loop)."""

    def __init__(self, every: int):
        self.every = every

    def on_step_end(self, loop) -> None:
        if self.every and loop.state.step % self.every == 0 and not loop.at_epoch_end:
            loop.save_checkpoint()


class CancelCallback(Callback):
    """Stops the loop at a step boundary when the run's CANCEL flag file appears."""

    def on_step_end(self, loop) -> None:
        if loop.any_process(loop.setup.run.cancel_requested()):
            loop.request_stop("cancelled")


class CrashAt(Callback):
    """Simulates a crash after step ``step``: an exception, or ``kill=True`` for a hard SIGKILL."""

    def __init__(self, step: int, kill: bool = False):
        self.step = step
        self.kill = kill

    def on_step_end(self, loop) -> None:
        self.check(loop.state.step)

    def check(self, steps_done: int) -> None:
        if steps_done == self.step:
            if self.kill:
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError(f"simulated crash after step {self.step}")


def crash_from_env() -> list[Callback]:
    """A CrashAt from ``$NER_DEMO_CRASH_AT_STEP`` ("K" or "K:kill"), for tests of subprocess runs."""
    value = os.environ.get(CRASH_ENV, "").strip()
    if not value:
        return []
    step, _, mode = value.partition(":")
    return [CrashAt(int(step), kill=mode == "kill")]
