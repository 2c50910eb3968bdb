"""Atomic checkpoints: complete ones round-trip every state; incomplete ones are never loaded."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from transformers import get_linear_schedule_with_warmup

from ner_demo.training.checkpoints import (
    MARKER,
    CheckpointError,
    TrainState,
    is_complete,
    latest_complete,
    load_checkpoint,
    load_newest_verified,
    prune,
    save_checkpoint,
    verify,
)

torch.set_num_threads(1)


def _parts(seed: int = 0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = get_linear_schedule_with_warmup(optimizer, 2, 10)
    return model, optimizer, scheduler


def _train_steps(model, optimizer, scheduler, n: int) -> None:
    for _ in range(n):
        loss = model(torch.randn(5, 4)).pow(2).mean()
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()


def test_round_trip_restores_model_optimizer_scheduler_rng_and_state(tmp_path):
    model, optimizer, scheduler = _parts()
    _train_steps(model, optimizer, scheduler, 3)
    state = TrainState(step=3, epoch=1, batch_in_epoch=1, best_f1=0.5, tokens_seen=99)
    path = save_checkpoint(tmp_path, state, model, optimizer, scheduler, config={"seed": 1})
    expected = (torch.rand(3), np.random.rand(), random.random())  # what the RNGs give after the save
    _train_steps(model, optimizer, scheduler, 2)  # move everything on

    model2, optimizer2, scheduler2 = _parts(seed=1)
    restored = load_checkpoint(path, model2, optimizer2, scheduler2)
    assert restored == state
    assert (torch.rand(3).tolist(), np.random.rand(), random.random()) == (expected[0].tolist(), *expected[1:])
    model3, optimizer3, scheduler3 = _parts(seed=2)
    load_checkpoint(path, model3, optimizer3, scheduler3)
    assert scheduler3.get_last_lr() == scheduler2.get_last_lr()
    # Both restored copies continue identically: the optimizer moments came back too.
    torch.manual_seed(5)
    _train_steps(model2, optimizer2, scheduler2, 2)
    torch.manual_seed(5)
    _train_steps(model3, optimizer3, scheduler3, 2)
    for a, b in zip(model2.parameters(), model3.parameters()):
        assert torch.equal(a, b)
    assert json.loads((path / "config.json").read_text()) == {"seed": 1}


def test_no_pickle_files_are_written(tmp_path):
    model, optimizer, scheduler = _parts()
    _train_steps(model, optimizer, scheduler, 1)
    path = save_checkpoint(tmp_path, TrainState(step=1), model, optimizer, scheduler)
    assert sorted(p.suffix for p in path.iterdir()) == sorted([".safetensors", ".safetensors"] + [".json"] * 4 + [""])


def test_latest_complete_skips_folders_without_marker(tmp_path):
    model, optimizer, scheduler = _parts()
    save_checkpoint(tmp_path, TrainState(step=2), model, optimizer, scheduler)
    half = tmp_path / "step-0000009"  # a crash mid-write (as if renamed by hand): no marker
    half.mkdir()
    (half / "model.safetensors").write_bytes(b"truncated")
    (tmp_path / ".tmp-step-0000010").mkdir()
    assert latest_complete(tmp_path).name == "step-0000002"


def test_marker_with_wrong_sizes_is_not_complete(tmp_path):
    model, optimizer, scheduler = _parts()
    path = save_checkpoint(tmp_path, TrainState(step=4), model, optimizer, scheduler)
    assert is_complete(path)
    with open(path / "model.safetensors", "r+b") as fh:
        fh.truncate(10)  # the bytes behind the marker are gone
    assert not is_complete(path)
    assert latest_complete(tmp_path) is None
    with pytest.raises(ValueError, match="model.safetensors has 10 bytes, its manifest says"):
        load_checkpoint(path, model)


def test_prune_keeps_the_newest_complete(tmp_path):
    model, optimizer, scheduler = _parts()
    for step in (1, 2, 3):
        save_checkpoint(tmp_path, TrainState(step=step), model, optimizer, scheduler)
    (tmp_path / "step-0000099").mkdir()  # incomplete: removed as well
    prune(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-0000002", "step-0000003"]
    assert (tmp_path / "step-0000003" / MARKER).is_file()


def _scribble(path, offset_from_end: int = 64) -> None:
    """Random bytes over the end of a file, its size unchanged (a safetensors header stays readable)."""
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.seek(size - offset_from_end)
        fh.write(bytes(random.Random(1).randrange(256) for _ in range(offset_from_end)))
    assert path.stat().st_size == size


def _strip_sha256(folder) -> None:
    """The marker as checkpoints written before sha256 was recorded had it."""
    manifest = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    del manifest["sha256"]
    (folder / MARKER).write_text(json.dumps(manifest), encoding="utf-8")


def _garble_state(folder) -> None:
    size = (folder / "state.json").stat().st_size
    (folder / "state.json").write_bytes(b"\x00garbage" + b"#" * (size - 8))
    assert (folder / "state.json").stat().st_size == size


def test_manifest_records_the_sha256_of_every_file(tmp_path):
    model, optimizer, scheduler = _parts()
    path = save_checkpoint(tmp_path, TrainState(step=4), model, optimizer, scheduler)
    manifest = json.loads((path / MARKER).read_text(encoding="utf-8"))
    assert set(manifest["sha256"]) == set(manifest["files"]) and "model.safetensors" in manifest["sha256"]
    assert verify(path) == (None, "sha256")


def test_same_size_random_bytes_in_the_weights_fail_verification_and_are_not_loaded(tmp_path):
    model, optimizer, scheduler = _parts()
    path = save_checkpoint(tmp_path, TrainState(step=4), model, optimizer, scheduler)
    _scribble(path / "model.safetensors")
    assert is_complete(path)  # sizes match: only the sha256 sees it
    assert verify(path)[0] == "model.safetensors does not match its recorded sha256 (changed on disk after it was written)"
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(CheckpointError, match="step-0000004: model.safetensors does not match its recorded sha256"):
        load_checkpoint(path, model)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_resume_falls_back_past_a_checkpoint_whose_weights_do_not_verify(tmp_path):
    model, optimizer, scheduler = _parts()
    for step in (2, 4):
        _train_steps(model, optimizer, scheduler, 2)  # the optimizer has state to save
        save_checkpoint(tmp_path, TrainState(step=step), model, optimizer, scheduler)
    _scribble(tmp_path / "step-0000004" / "optimizer.safetensors")
    said = []
    found, state, skipped, note = load_newest_verified(tmp_path, lambda f: load_checkpoint(f, model, optimizer),
                                                       say=said.append)
    assert (found.name, state.step, note) == ("step-0000002", 2, "sha256")
    reason = "optimizer.safetensors does not match its recorded sha256 (changed on disk after it was written)"
    assert skipped == [{"checkpoint": "step-0000004", "reason": reason}]
    assert said == [f"skipped checkpoint step-0000004: {reason}"]


def test_an_old_manifest_without_sha256_still_loads_checked_by_size_only(tmp_path):
    model, optimizer, scheduler = _parts()
    path = save_checkpoint(tmp_path, TrainState(step=4), model, optimizer, scheduler)
    _strip_sha256(path)
    assert verify(path) == (None, "sizes only")
    assert load_checkpoint(path, model, optimizer, scheduler).step == 4


def test_a_garbled_state_json_of_an_old_checkpoint_is_skipped_not_a_json_error(tmp_path):
    model, optimizer, scheduler = _parts()
    for step in (2, 4):
        save_checkpoint(tmp_path, TrainState(step=step), model, optimizer, scheduler)
        _strip_sha256(tmp_path / f"step-{step:07d}")  # no sha256: only loading it can tell
    _garble_state(tmp_path / "step-0000004")
    found, state, skipped, note = load_newest_verified(tmp_path, lambda f: load_checkpoint(f, model), say=lambda m: None)
    assert (found.name, state.step, note) == ("step-0000002", 2, "sizes only")
    assert [s["checkpoint"] for s in skipped] == ["step-0000004"]
    assert skipped[0]["reason"].startswith("state.json cannot be read (")


def test_no_checkpoint_that_verifies_gives_none_and_says_why_for_each(tmp_path):
    model, optimizer, scheduler = _parts()
    path = save_checkpoint(tmp_path, TrainState(step=4), model, optimizer, scheduler)
    _garble_state(path)
    found, state, skipped, _ = load_newest_verified(tmp_path, lambda f: load_checkpoint(f, model), say=lambda m: None)
    assert (found, state) == (None, None)
    assert skipped == [{"checkpoint": "step-0000004",
                        "reason": "state.json does not match its recorded sha256 (changed on disk after it was written)"}]
