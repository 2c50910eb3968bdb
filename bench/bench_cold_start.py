"""Cold start: whole-process wall times of what a user waits for, against ``transformers.pipeline``.

    python bench/bench_cold_start.py                # 5 rounds, the shipped default model
    python bench/bench_cold_start.py --rounds 3 --model models/minilm3-conll2003-fast

Each round runs every case once, as a fresh process, in an order that rotates from round to round (so a
burst of load on a shared machine does not land on one case only):

- ``predict``: ``python -m ner_demo predict "Angela Merkel visited Paris."``;
- ``predict --file``: the same command on 1,000 CoNLL-2003 test sentences, one a line (``--lines``);
- ``app``: ``python app.py`` started until its first answer to an ``/entities`` request (polled);
- ``pipeline`` (the baseline): ``transformers.pipeline("token-classification", model=<folder>)`` loaded,
  then one sentence tagged, in a process of its own.

Before the rounds, one ``predict`` run per model is made and not counted: it finds or makes the ONNX
export and indexes it (what any first run on a machine does once). The table gives the median and the
spread (min-max) of each case; the acceptance of issue 19: ``predict`` at most 1.5 s and at most 0.35x
the pipeline baseline, both medians of this run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SENTENCE = "Angela Merkel visited Paris."
DEFAULT_MODEL = REPO / "models" / "minilm-conll2003"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_process(argv: list[str], cwd: Path = REPO, env: dict | None = None) -> float:
    """Wall seconds of one process, start to exit; a failure stops the benchmark with its stderr."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} ... failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def call_entities(url: str, text: str, timeout: float = 30) -> object:
    """One ``/entities`` REST call (submit, then read the event stream): its answer."""
    request = urllib.request.Request(f"{url}gradio_api/call/entities", json.dumps({"data": [text]}).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/entities/{event_id}", timeout=timeout) as response:
        stream = response.read().decode("utf-8")
    if "event: complete" not in stream:
        raise RuntimeError(f"/entities did not complete: {stream[-300:]}")
    return json.loads(stream.rsplit("data:", 1)[1])


def start_app(root: Path, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=root, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}/"


def wait_first_answer(process: subprocess.Popen, url: str, deadline_s: float = 600) -> object:
    """Poll ``/entities`` until it answers (the server is up and its model loaded)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the app exited with status {process.returncode} before answering")
        try:
            return call_entities(url, SENTENCE)
        except (urllib.error.URLError, http.client.HTTPException, OSError, RuntimeError):
            time.sleep(0.05)  # polling for the server to come up, not waiting for a result
    raise SystemExit(f"the app did not answer within {deadline_s:.0f} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def app_to_first_answer(root: Path, env: dict) -> float:
    started = time.perf_counter()
    process, url = start_app(root, env)
    try:
        wait_first_answer(process, url)
        return time.perf_counter() - started
    finally:
        stop(process)


def conll_test_sentences(n: int) -> list[str]:
    sys.path.insert(0, str(REPO))
    from ner_demo.data.sources import load_split

    return [" ".join(s.words) for s in load_split("conll2003", "test").sentences[:n]]


PIPELINE_CODE = """
import sys
from transformers import pipeline
ner = pipeline("token-classification", model=sys.argv[1], aggregation_strategy="first")
ner(sys.argv[2])
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="a shipped model folder (default: the default)")
    parser.add_argument("--sentences", type=int, default=1000, help="CoNLL-2003 test sentences for predict --file")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    lines = work / "sentences.txt"
    lines.write_text("\n".join(conll_test_sentences(args.sentences)) + "\n", encoding="utf-8")
    env = {**os.environ, "NER_DEMO_RUNS": str(work / "runs"), "NER_DEMO_MODEL": str(Path(args.model).resolve()),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    predict = [sys.executable, "-m", "ner_demo", "predict", "--model", args.model]
    cases = {
        "predict": lambda: run_process([*predict, SENTENCE], env=env),
        f"predict --file ({args.sentences:,} sentences)": lambda: run_process([*predict, "--file", str(lines), "--lines"], env=env),
        "app start to first /entities answer": lambda: app_to_first_answer(REPO, env),
        "pipeline load + 1 sentence (baseline)": lambda: run_process([sys.executable, "-c", PIPELINE_CODE, args.model, SENTENCE], env=env),
    }
    run_process([*predict, SENTENCE], env=env)  # not counted: finds or makes the export and indexes it
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(args.rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            times[name].append(cases[name]())
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{n.split(' (')[0]} {times[n][-1]:.2f} s" for n in names),
              file=sys.stderr, flush=True)

    median = {n: statistics.median(t) for n, t in times.items()}
    baseline = median["pipeline load + 1 sentence (baseline)"]
    print(f"\nmodel {Path(args.model).name}, {args.rounds} rounds, load average {os.getloadavg()[0]:.2f} at the end")
    print(f"| {'case':<40} | median s | min-max s   | / pipeline |")
    print(f"|{'-' * 42}|---------:|-------------|-----------:|")
    for name, t in times.items():
        print(f"| {name:<40} | {median[name]:8.2f} | {min(t):5.2f}-{max(t):5.2f} | {median[name] / baseline:9.2f}x |")
    ratio = median["predict"] / baseline
    ok = median["predict"] <= 1.5 and ratio <= 0.35
    print(f"\npredict / pipeline = {ratio:.3f} (acceptance: predict <= 1.5 s and <= 0.35x): {'met' if ok else 'NOT met'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"times": times, "median": median, "ratio": ratio}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
