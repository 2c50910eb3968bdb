"""Atomic checkpoints: a crash never leaves a half-written checkpoint that resume would pick up.

A checkpoint is written into a hidden temporary sibling (``checkpoints/.tmp-step-000120``), every file
is fsynced, the completion marker ``COMPLETE`` (a manifest of each file's size and sha256) is written
last, and only then is the folder renamed to ``checkpoints/step-000120``. A folder is *complete* when
its marker is present and its files have the recorded sizes (a cheap check, for listing and pruning);
resume also *verifies* the sha256 of every file (``verify``), so bytes changed in place (a bad disk, a
stray write) are caught, and takes the newest checkpoint that verifies and loads. Manifests written
before sha256 was recorded verify by size only, and ``verify`` says so.

Everything is stored without pickle: weights and optimizer tensors in safetensors, the rest (step,
scheduler, RNG states, config) in JSON. So loading a checkpoint never runs ``torch.load``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

MARKER = "COMPLETE"
PREFIX = "step-"
TMP_PREFIX = ".tmp-"


@dataclass
class TrainState:
    """Where training stands; saved in every checkpoint (nanoGPT keeps its config there too)."""

    step: int = 0  # optimizer steps done
    epoch: int = 0  # epochs completed
    batch_in_epoch: int = 0  # batches of the current epoch done by each process
    best_f1: float = -1.0  # best dev strict F1 so far (-1: not evaluated yet)
    best_step: int = 0
    best_epoch: int = 0
    bad_epochs: int = 0  # evaluations in a row without improvement (early stopping)
    last_eval_step: int = -1
    tokens_seen: int = 0  # real (non-padding) subword tokens trained on, all processes
    averaged: int = 0  # weight snapshots in the running mean (average_from); 0: none yet

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainState":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# ---- RNG states as JSON ----------------------------------------------------------------------------


def capture_rng() -> dict:
    import numpy as np
    import torch

    version, keys, gauss = random.getstate()
    name, np_keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": [version, list(keys), gauss],
        "numpy": [name, np_keys.tolist(), int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state().tolist(),
    }
    if torch.cuda.is_available():
        state["cuda"] = [s.tolist() for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng(state: dict) -> None:
    import numpy as np
    import torch

    version, keys, gauss = state["python"]
    random.setstate((version, tuple(keys), gauss))
    name, np_keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(np_keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([torch.tensor(s, dtype=torch.uint8) for s in state["cuda"]])


# ---- optimizer state without pickle -------------------------------------------------------------


def _optimizer_to_files(state_dict: dict) -> tuple[dict, dict]:
    """Split an optimizer state dict into tensors (for safetensors) and JSON-able rest."""
    import torch

    tensors, scalars = {}, {}
    for index, per_param in state_dict["state"].items():
        for name, value in per_param.items():
            key = f"{index}.{name}"
            if isinstance(value, torch.Tensor):
                tensors[key] = value.detach().cpu().contiguous()
            else:
                scalars[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def _optimizer_from_files(tensors: dict, meta: dict) -> dict:
    state: dict[int, dict] = {}
    for key, value in list(tensors.items()) + list(meta["scalars"].items()):
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}


# ---- writing --------------------------------------------------------------------------------------


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data) + "\n", encoding="utf-8")


def checkpoint_name(step: int) -> str:
    return f"{PREFIX}{step:07d}"


def save_checkpoint(
    root: str | Path,
    state: TrainState,
    model,
    optimizer,
    scheduler,
    scaler=None,
    config: dict | None = None,
    rank: int = 0,
    barrier: Callable[[], None] = lambda: None,
    average: dict | None = None,
) -> Path:
    """Write a complete checkpoint under ``root`` and return its final path.

    ``average`` holds the running weight mean (``averaging.WeightAverage.tensors()``), when there is one.

    Every process calls this: each writes its own RNG state (dropout streams differ per process); the
    main process (rank 0) writes the shared weights and optimizer, then commits with marker + rename.
    """
    from safetensors.torch import save_file, save_model

    root = Path(root)
    final = root / checkpoint_name(state.step)
    tmp = root / (TMP_PREFIX + final.name)
    if rank == 0:
        root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)  # left over by a crash during an earlier write
        tmp.mkdir()
    barrier()
    try:
        _write_json(tmp / f"rng-{rank}.json", capture_rng())
        if rank == 0:
            save_model(model, str(tmp / "model.safetensors"))  # handles tied weights, unlike save_file
            tensors, meta = _optimizer_to_files(optimizer.state_dict())
            save_file(tensors, str(tmp / "optimizer.safetensors"))
            _write_json(tmp / "optimizer.json", meta)
            _write_json(tmp / "scheduler.json", scheduler.state_dict())
            if scaler is not None:
                _write_json(tmp / "scaler.json", scaler.state_dict())
            if average is not None:
                from ner_demo.training.averaging import FILE

                save_file(average, str(tmp / FILE))
            _write_json(tmp / "state.json", state.to_dict())
            if config is not None:
                _write_json(tmp / "config.json", config)
    except BaseException:
        # A write failed (a full disk, most likely): the half-written folder goes, so that its space is
        # free for the status that reports the failure. It was never complete, so nothing is lost.
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    barrier()
    if rank == 0:
        try:
            files = sorted(p for p in tmp.iterdir() if p.is_file())
            for p in files:
                _fsync(p)
            # The last file written: its presence means the rest is there.
            _write_json(tmp / MARKER, _manifest(tmp, files, state.step))
            _fsync(tmp / MARKER)
            _fsync(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if final.exists():  # e.g. a cancel at the step of a periodic checkpoint
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync(root)
    barrier()
    return final


# ---- finding and loading -----------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(folder: Path, files: list[Path], step: int) -> dict:
    names = [str(p.relative_to(folder)) for p in files]
    return {"step": step, "files": {n: p.stat().st_size for n, p in zip(names, files)},
            "sha256": {n: sha256_of(p) for n, p in zip(names, files)}}


def mark_complete(folder: str | Path, step: int) -> None:
    """Write the marker into a checkpoint folder written by someone else (the HF Trainer)."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MARKER)
    for p in files:
        _fsync(p)
    _write_json(folder / MARKER, _manifest(folder, files, step))
    _fsync(folder / MARKER)
    _fsync(folder)


def is_complete(folder: str | Path) -> bool:
    """The marker is there and every file it lists exists with the recorded size."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        return all((folder / name).stat().st_size == size for name, size in manifest["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def verify(folder: str | Path) -> tuple[str | None, str]:
    """(problem, note): ``problem`` says why the checkpoint must not be loaded (None: it verifies);
    ``note`` is "sha256" or, for a manifest written before sha256 was recorded, "sizes only"."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        sizes, digests = manifest["files"], manifest.get("sha256")
        sizes = dict(sizes)  # not a mapping: a broken marker
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return f"no valid {MARKER} marker", ""
    for name, size in sizes.items():
        try:
            actual = (folder / name).stat().st_size
        except OSError:
            return f"{name} is missing", ""
        if actual != size:
            return f"{name} has {actual} bytes, its manifest says {size}", ""
    if not isinstance(digests, dict):
        return None, "sizes only"
    for name in sizes:
        if digests.get(name) != sha256_of(folder / name):
            return f"{name} does not match its recorded sha256 (changed on disk after it was written)", ""
    return None, "sha256"


def _step_of(folder: Path, prefix: str) -> int:
    try:
        return int(folder.name[len(prefix) :])
    except ValueError:
        return -1


def complete_checkpoints(root: str | Path, prefix: str = PREFIX) -> list[Path]:
    """Complete checkpoint folders under ``root``, newest (highest step) first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(prefix) and _step_of(p, prefix) >= 0]
    return [p for p in sorted(found, key=lambda p: -_step_of(p, prefix)) if is_complete(p)]


def latest_complete(root: str | Path, prefix: str = PREFIX) -> Path | None:
    found = complete_checkpoints(root, prefix)
    return found[0] if found else None


def prune(root: str | Path, keep: int) -> None:
    """Keep the ``keep`` newest complete checkpoints; remove older ones, incomplete ones and temp folders."""
    root = Path(root)
    keep_set = set(complete_checkpoints(root)[:keep])
    for p in root.iterdir() if root.is_dir() else []:
        if p.is_dir() and p not in keep_set and (p.name.startswith(PREFIX) or p.name.startswith(TMP_PREFIX)):
            shutil.rmtree(p, ignore_errors=True)


class CheckpointError(ValueError):
    """A checkpoint that does not verify or does not load; resume falls back to an older one."""


def load_checkpoint(
    folder: str | Path, model, optimizer=None, scheduler=None, scaler=None, rank: int = 0, verified: bool = False
) -> TrainState:
    """Restore model, optimizer, scheduler, scaler and this process's RNG state; return the TrainState."""
    from safetensors.torch import load_file, load_model

    folder = Path(folder)
    problem = None if verified else verify(folder)[0]  # verified: the caller has just run verify()
    if problem:
        raise CheckpointError(f"checkpoint {folder.name}: {problem}; refusing to load it")

    def read(name: str):
        try:
            return json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"checkpoint {folder.name}: {name} cannot be read ({exc})") from None

    # Every JSON part is parsed before anything is restored: a bad one leaves the model as it was.
    state = read("state.json")
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {folder.name}: state.json is not a mapping")
    meta = read("optimizer.json") if optimizer is not None else None
    sched = read("scheduler.json") if scheduler is not None else None
    scale = read("scaler.json") if scaler is not None and (folder / "scaler.json").is_file() else None
    # absent when resuming with more processes than were saved: fresh streams then
    rng = read(f"rng-{rank}.json") if (folder / f"rng-{rank}.json").is_file() else None
    try:
        load_model(model, str(folder / "model.safetensors"))
        if optimizer is not None:
            optimizer.load_state_dict(_optimizer_from_files(load_file(str(folder / "optimizer.safetensors")), meta))
        if scheduler is not None:
            scheduler.load_state_dict(sched)
        if scale is not None:
            scaler.load_state_dict(scale)
        if rng is not None:
            restore_rng(rng)
        return TrainState.from_dict(state)
    except Exception as exc:  # safetensors' SafetensorError is none of OSError/ValueError; a torn file raises it
        raise CheckpointError(f"checkpoint {folder.name}: cannot be loaded ({type(exc).__name__}: {exc})") from None


SET_ASIDE_PREFIX = "corrupt-"


def load_newest_verified(root: str | Path, load: Callable[[Path], object], prefix: str = PREFIX,
                         say: Callable[[str], None] = print, set_aside: bool = False):
    """Try the complete checkpoints under ``root``, newest first: the first that verifies (sha256) and
    loads (``load(folder)``) wins. Returns (folder or None, what load returned, skipped, note): skipped
    lists {"checkpoint", "reason"} for every newer one passed over (each also said through ``say``);
    note is ``verify``'s ("sha256", or "sizes only" for an old manifest).

    ``set_aside`` (the main process): each skipped folder is renamed ``corrupt-<name>``, kept for a look
    but out of the way: left under its name it would count as the newest checkpoint when old ones are
    pruned (and the HF Trainer's rotation would delete the fresh checkpoint instead of it).
    """
    skipped: list[dict] = []
    found = result = None
    note = ""
    for folder in complete_checkpoints(root, prefix):
        problem, note = verify(folder)
        if problem is None:
            try:
                found, result = folder, load(folder)
                break
            except CheckpointError as exc:
                problem = str(exc).removeprefix(f"checkpoint {folder.name}: ")
            except Exception as exc:  # the averaged weights (safetensors) and whatever ``load`` reads
                problem = f"cannot be loaded ({type(exc).__name__}: {exc})"
        skipped.append({"checkpoint": folder.name, "reason": problem})
        aside = ""
        if set_aside:
            target = folder.with_name(SET_ASIDE_PREFIX + folder.name)
            shutil.rmtree(target, ignore_errors=True)  # an older set-aside copy of the same step
            os.replace(folder, target)
            aside = f"; set aside as {target.name}"
        say(f"skipped checkpoint {folder.name}: {problem}{aside}")
    return found, result, skipped, note if found else ""
