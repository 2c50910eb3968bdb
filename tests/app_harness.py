"""Launch the Gradio app in this process for the API and browser tests, on tiny models and data.

The app reads its model, data and runs folders from the environment (``NER_DEMO_MODEL``,
``NER_DEMO_HOME``, ``NER_DEMO_RUNS``), so a test app never touches the user's cache or ``runs/``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path
from typing import Iterator

from conftest import synthetic_sentences

from ner_demo.app.train_format import DATASET_CONLL, form_fields
from ner_demo.data.conll import Sentence, write_conll

TAG_SENTENCE = "John met Mary in Paris ."  # words the tiny trained model knows: PER, PER, LOC


def write_fake_conll2003(home: Path) -> Path:
    """Synthetic train/dev/test files where the app looks for CoNLL-2003 (``$NER_DEMO_HOME``)."""
    folder = home / "data" / "conll2003"
    folder.mkdir(parents=True, exist_ok=True)
    for split, seed, n in (("train", 1, 120), ("dev", 2, 40), ("test", 3, 40)):
        sentences = [Sentence(tuple(w), tuple(t), doc_id=i // 10) for i, (w, t) in enumerate(synthetic_sentences(n, seed))]
        write_conll(sentences, folder / f"{split}.txt")
    return folder


def write_conll_file(path: Path, n: int = 30, seed: int = 7) -> Path:
    write_conll([Sentence(tuple(w), tuple(t)) for w, t in synthetic_sentences(n, seed)], path)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_runs(runs_dir: Path, timeout: float = 60.0) -> None:
    """Cancel every active run and wait for its process to end (killed if it does not)."""
    from ner_demo.training import background
    from ner_demo.training.runs import ACTIVE_STATES, list_runs

    pids = []
    for info in list_runs(runs_dir):
        if info.state in ACTIVE_STATES:
            status = background.poll(info.run_id, runs_dir)
            if status.get("state") in ACTIVE_STATES:
                with contextlib.suppress(Exception):
                    background.cancel(info.run_id, runs_dir)
                if status.get("pid"):
                    pids.append(int(status["pid"]))
    deadline = time.time() + timeout
    while time.time() < deadline and any(background.process_alive(pid) for pid in pids):
        time.sleep(0.2)
    for pid in pids:
        if background.process_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def train_form(**values) -> list:
    """The inputs of the start_training endpoint: one value per Train form field (TrainConfig's fields,
    in their order: ``train_format.form_names``); the fields not named keep their defaults."""
    defaults = {f.name: f.default for f in form_fields()} | {"dataset": DATASET_CONLL}
    unknown = set(values) - set(defaults)
    assert not unknown, f"not Train form fields: {sorted(unknown)}"
    return [values.get(name, defaults[name]) for name in defaults]


@contextlib.contextmanager
def running_app(root: Path, model: str | None, data_home: Path | None, **launch_kwargs) -> Iterator[str]:
    """The app on a free port of 127.0.0.1; yields its URL. ``None`` keeps the real model / data.
    ``launch_kwargs`` go to ``demo.launch`` (e.g. ``auth``)."""
    env = {"NER_DEMO_RUNS": str(root / "runs"), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    if model is not None:
        env["NER_DEMO_MODEL"] = model
    if data_home is not None:
        env["NER_DEMO_HOME"] = str(data_home)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    import ner_demo.app as app

    demo = app.build()
    port = free_port()
    app.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True, **launch_kwargs)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_runs(root / "runs")
        demo.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
