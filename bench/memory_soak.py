"""Memory soak: the app's RSS over many REST calls of mixed kinds, on this machine's loopback only.

    python bench/memory_soak.py                      # 1,000 calls on the shipped model and CoNLL-2003
    python bench/memory_soak.py --calls 300 --every 50 --model DIR --data-home HOME

The app runs as a subprocess (``python app.py``), so its RSS is read from ``/proc/<pid>/status``
(``VmRSS``). The calls cycle through :data:`MIX`: ``/noop`` and ``/entities``, each in a session of
its own (as a script calling the REST route gets one per call), and Data-tab visits, each a new
session that loads CoNLL-2003 or an uploaded CoNLL file (``/load_data``) and then steps to, shows and
searches for sentences. ``--clients`` threads send them at once, so ``/entities`` requests meet in
batches.

The figure that matters is RSS after all calls minus RSS after the first ``--baseline`` calls (the
acceptance bound of issue 14: within 150 MB after 1,000). Exit status 1 when ``--bound`` is given and
exceeded. Figures before and after the fix of issue 14: +2,365 MB and +115 MB after 1,000 calls.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the REST client the tests use: one copy of it
from http_support import call, upload  # noqa: E402
TEXTS = (
    "John Smith lives in Paris .",
    "Angela Merkel met Emmanuel Macron in Brussels on Tuesday .",
    "Reuters reported that Siemens will open a plant in Lagos .",
    "SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .",
)
# One cycle of 40 calls: what a mix of scripts and people on the Data tab send. A browse is 3 calls in a
# new session: load a dataset (CoNLL-2003, or an uploaded file), then step, jump or search in it.
MIX = ("noop",) * 18 + ("entities",) * 16 + ("browse_conll2003", "browse_upload")
CALLS = {"browse_conll2003": 3, "browse_upload": 3}  # REST calls per job; 1 when not listed


def rss_mb(pid: int) -> float:
    """Resident set size of process ``pid`` in MB (``VmRSS`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@contextlib.contextmanager
def app_process(port: int, env: dict[str, str] | None = None, args: tuple[str, ...] = (),
                ready_timeout: float = 300) -> Iterator[tuple[str, subprocess.Popen]]:
    """``python app.py`` on 127.0.0.1:``port``; yields (url, process) once ``/config`` answers."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "OMP_NUM_THREADS": "1",
                **(env or {})}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, str(REPO / "app.py"), "--port", str(port), *args], cwd=REPO,
                               env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"the app exited ({process.returncode}):\n{log.read().decode(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{url}config", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not answer on {url} within {ready_timeout:.0f} s") from None
                time.sleep(0.2)  # polling for the server to come up, not waiting for a result
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@dataclass
class SoakResult:
    calls: int
    errors: list[str] = field(default_factory=list)
    rss: list[tuple[int, float]] = field(default_factory=list)  # (calls done, RSS MB)

    def growth(self) -> float:
        """RSS after all calls minus RSS after the first checkpoint (the baseline), in MB."""
        return self.rss[-1][1] - self.rss[0][1]


def _split_of(outputs: list) -> str:
    """The split a ``/load_data`` call selected: the value of its split picker's update."""
    return next(o["value"] for o in outputs if isinstance(o, dict) and "choices" in o)


def browse(url: str, kind: str, upload_file: dict) -> list[tuple[str, str, object]]:
    """A person opening the Data tab (a new session): load, then browse; (call, event, payload) of each."""
    session = uuid.uuid4().hex
    choice = ["conll2003", None] if kind == "browse_conll2003" else ["uploaded file", upload_file]
    event, outputs = call(url, "load_data", choice, timeout=300, session=session)
    if event != "complete":
        return [("load_data", event, outputs)]
    split = _split_of(outputs)
    second = ("next_sentence", [split, 3]) if kind == "browse_conll2003" else ("show_sentence", [split, 7])
    return [("load_data", event, outputs), (second[0], *call(url, second[0], second[1], timeout=300, session=session)),
            ("find_sentence", *call(url, "find_sentence", [split, 1, "Paris"], timeout=300, session=session))]


def soak(url: str, pid: int, calls: int, upload_path: Path, every: int = 100, baseline: int = 10,
         clients: int = 4, texts: tuple[str, ...] = TEXTS) -> SoakResult:
    """About ``calls`` REST calls cycling through :data:`MIX`; RSS recorded once ``baseline`` calls and
    then every ``every`` calls have completed (a browse is 3 calls, so a checkpoint may be passed by 2).
    A call that does not complete is recorded in ``errors`` (the soak goes on)."""
    result = SoakResult(calls)
    upload_file = upload(url, upload_path)
    checkpoints = sorted({baseline, *range(every, calls + 1, every), calls})
    jobs = itertools.cycle(MIX)
    text_cycle = itertools.cycle(texts)
    done = 0

    def one(kind: str, text: str) -> None:
        if kind in ("noop", "entities"):
            answers = [(kind, *call(url, kind, [text], timeout=300))]
        else:
            answers = browse(url, kind, upload_file)
        result.errors += [f"{api}: {event} {str(payload)[:200]}" for api, event, payload in answers if event != "complete"]

    with ThreadPoolExecutor(clients) as pool:
        for checkpoint in checkpoints:
            if done >= checkpoint:
                continue
            batch = []
            while done < checkpoint:
                kind = next(jobs)
                batch.append((kind, next(text_cycle)))
                done += CALLS.get(kind, 1)
            list(pool.map(lambda job: one(*job), batch))  # every call of the stretch has completed
            result.rss.append((done, rss_mb(pid)))
    result.calls = done
    return result


def _small_upload(folder: Path, data_home: Path | None) -> Path:
    """The file the browsing session uploads: the first 2,000 lines of CoNLL-2003 dev."""
    home = data_home or Path(os.environ.get("NER_DEMO_HOME") or Path.home() / ".cache" / "ner_demo")
    dev = home / "data" / "conll2003" / "dev.txt"
    lines = dev.read_text(encoding="utf-8").splitlines()[:2000]
    path = folder / "dev-head.conll"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=10, help="RSS after this many calls is the reference")
    parser.add_argument("--every", type=int, default=100, help="record RSS every this many calls")
    parser.add_argument("--clients", type=int, default=4, help="threads sending calls at once")
    parser.add_argument("--port", type=int, default=7871)
    parser.add_argument("--model", help="NER_DEMO_MODEL for the app (default: the shipped model)")
    parser.add_argument("--data-home", type=Path, help="NER_DEMO_HOME for the app (default: ~/.cache/ner_demo)")
    parser.add_argument("--bound", type=float, help="fail (exit 1) when the growth exceeds this many MB")
    parser.add_argument("--app-arg", action="append", default=[], help="extra argument for app.py (repeatable)")
    args = parser.parse_args(argv)
    env = {}
    if args.model:
        env["NER_DEMO_MODEL"] = args.model
    if args.data_home:
        env["NER_DEMO_HOME"] = str(args.data_home)
    with tempfile.TemporaryDirectory() as scratch:
        env["NER_DEMO_RUNS"] = str(Path(scratch) / "runs")
        upload_path = _small_upload(Path(scratch), args.data_home)
        with app_process(args.port, env, tuple(args.app_arg)) as (url, process):
            start = rss_mb(process.pid)
            began = time.monotonic()
            result = soak(url, process.pid, args.calls, upload_path, args.every, args.baseline, args.clients)
            seconds = time.monotonic() - began
    base_calls, base = result.rss[0]
    print(f"RSS after start-up: {start:,.0f} MB; {result.calls:,} calls in {seconds:.0f} s, "
          f"{len(result.errors)} not completed")
    print(f"{'calls':>7}  {'RSS MB':>8}  {'vs ' + str(base_calls):>8}")
    for n, mb in result.rss:
        print(f"{n:>7,}  {mb:>8,.0f}  {mb - base:>+8,.0f}")
    for error in result.errors[:5]:
        print("error:", error[:300])
    growth = result.growth()
    print(f"growth after {result.calls:,} calls: {growth:+,.0f} MB (RSS after {base_calls} calls: {base:,.0f} MB)")
    return 1 if args.bound is not None and growth > args.bound else 0


if __name__ == "__main__":
    sys.exit(main())
