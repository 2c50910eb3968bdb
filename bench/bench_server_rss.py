"""The app's resident memory after warm-up: started, answering, and having tagged with each shipped model.

    python bench/bench_server_rss.py                       # this checkout
    python bench/bench_server_rss.py --root /tmp/base      # another checkout (e.g. `git archive` of main)

The app runs as ``python app.py`` in ``--root``; once ``/entities`` answers (the default model loaded),
one text is tagged through the Tag tab's ``/tag`` route with the default model and with every other
shipped model in ``<root>/models``; then ``VmRSS`` and ``VmHWM`` (peak) are read from
``/proc/<pid>/status``, and ``/proc/<pid>/maps`` says whether libtorch is mapped into the process.
``--rounds`` starts that many fresh app processes and reports the median. The acceptance of issue 19:
after warm-up, at most 60% of the RSS measured the same way on main before the change.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

from bench_cold_start import REPO, start_app, stop, wait_first_answer

TEXT = "Angela Merkel met Emmanuel Macron in Brussels on Tuesday ."
DEFAULT_CHOICE = "(default)"  # ner_demo.app.model_cache.DEFAULT_CHOICE (not imported: the app under test may be another checkout)


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(line.split()[1]) / 1024
    return out


def maps_torch(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def tag(url: str, model: str) -> None:
    request = urllib.request.Request(f"{url}gradio_api/call/tag", json.dumps({"data": [TEXT, model, "first", 0]}).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/tag/{event_id}", timeout=600) as response:
        stream = response.read().decode("utf-8")
    if "event: complete" not in stream:
        raise SystemExit(f"/tag with {model} did not complete: {stream[-300:]}")


def measure(root: Path, env: dict) -> dict:
    process, url = start_app(root, env)
    try:
        wait_first_answer(process, url)
        started = proc_status(process.pid)
        models = [DEFAULT_CHOICE] + [str(p.resolve()) for p in sorted((root / "models").iterdir())
                                     if (p / "config.json").is_file() and p.name != "minilm-conll2003"]
        for model in models:
            tag(url, model)
        return {"after_first_answer": started, "after_warm_up": proc_status(process.pid),
                "libtorch_mapped": maps_torch(process.pid), "models": [Path(m).name for m in models]}
    finally:
        stop(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(REPO), help="the checkout whose app.py runs (default: this one)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    work = Path(tempfile.mkdtemp(prefix="bench-rss-"))
    env = {**os.environ, "NER_DEMO_RUNS": str(work / "runs"), "GRADIO_ANALYTICS_ENABLED": "False",
           "PYTHONPATH": str(root)}
    env.pop("NER_DEMO_MODEL", None)
    results = []
    for r in range(args.rounds):
        results.append(measure(root, env))
        last = results[-1]
        print(f"round {r + 1}: RSS {last['after_warm_up']['VmRSS']:.0f} MB after warm-up "
              f"({last['after_first_answer']['VmRSS']:.0f} MB at the first answer), libtorch mapped: "
              f"{last['libtorch_mapped']}", file=sys.stderr, flush=True)
    rss = statistics.median(r["after_warm_up"]["VmRSS"] for r in results)
    first = statistics.median(r["after_first_answer"]["VmRSS"] for r in results)
    peak = statistics.median(r["after_warm_up"]["VmHWM"] for r in results)
    print(f"\napp in {root} ({args.rounds} rounds, load average {os.getloadavg()[0]:.2f}; models tagged: "
          f"{', '.join(results[0]['models'])})")
    print(f"RSS at the first /entities answer {first:.0f} MB; after warm-up {rss:.0f} MB (peak {peak:.0f} MB); "
          f"libtorch mapped: {results[0]['libtorch_mapped']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
