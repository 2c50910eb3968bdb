"""Load-test a running Gradio app through its REST route, on this machine's loopback only.

    python bench/load_test.py --api noop tag --payload 'tag=["{text}", "default", "first", 0.5]'
    python bench/load_test.py --url http://127.0.0.1:7860 --clients 16 --seconds 60 --api noop --json out.json

Each of ``--clients`` asyncio tasks loops for ``--seconds``: ``POST /gradio_api/call/<api>`` with
``{"data": payload}`` gives an event id, then ``GET /gradio_api/call/<api>/<event_id>`` streams
server-sent events until ``event: complete`` (success) or ``event: error``. Latency is the time from
the POST to the ``complete`` event, what a user of the API waits. Endpoints are measured one after the
other in the same run, so the first (by default ``noop``) is the framework floor for the others.

httpx, not ``gradio_client``: the latter costs ~75 ms a call and caps near 24 requests/s on a 2-core
box, so it would measure itself. Targets other than loopback are refused: this is a benchmark, not a
tool to load someone else's server.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import math
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Sequence
from urllib.parse import urlsplit

DEFAULT_TEXTS = (
    "John Smith lives in Paris .",
    "Angela Merkel met Emmanuel Macron in Brussels on Tuesday .",
    "Reuters reported that Siemens will open a plant in Lagos .",
    "SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .",
)


@dataclass
class LoadResult:
    api: str
    clients: int
    seconds: float  # measured window (warm-up excluded)
    requests: int  # completed successfully inside the window
    errors: int
    requests_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    error_samples: list[str] = field(default_factory=list)


def require_loopback(url: str) -> str:
    """``url`` if its host is this machine (every address it resolves to is loopback), else ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r}: give an http://host:port URL")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 80)}
    except socket.gaierror as exc:
        raise ValueError(f"{url!r}: cannot resolve {parts.hostname!r} ({exc})") from None
    outside = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback)
    if outside:
        raise ValueError(f"{url!r}: {parts.hostname} is not loopback ({', '.join(outside)}); "
                         "this load tester only targets 127.0.0.1 / ::1 / localhost")
    return url.rstrip("/")


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of already sorted values (None when there are none)."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def fill(template: list, text: str) -> list:
    """The payload with every ``"{text}"`` string replaced by ``text``."""
    return [text if item == "{text}" else item for item in template]


async def call_once(client, base: str, api: str, data: list) -> None:
    """One API call through Gradio's two-step REST route; raises RuntimeError on an error event."""
    response = await client.post(f"{base}/gradio_api/call/{api}", json={"data": data})
    response.raise_for_status()
    event_id = response.json()["event_id"]
    event = None
    async with client.stream("GET", f"{base}/gradio_api/call/{api}/{event_id}") as stream:
        stream.raise_for_status()
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                if event == "error":
                    raise RuntimeError(f"error event: {line[5:].strip()[:200]}")
                return
    raise RuntimeError(f"stream ended without a complete event (last event {event!r})")


async def load(base: str, api: str, template: list, clients: int, seconds: float, warmup: float,
               texts: Sequence[str], timeout: float = 60.0) -> LoadResult:
    """``clients`` concurrent loops of calls for ``warmup + seconds``; only calls that start after the
    warm-up and finish inside the window count (so a slow tail cannot stretch the window)."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    start = time.perf_counter() + warmup
    stop = start + seconds
    limits = httpx.Limits(max_connections=2 * clients, max_keepalive_connections=2 * clients)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as client:

        async def worker(k: int) -> None:
            n = k
            while time.perf_counter() < stop:
                began = time.perf_counter()
                try:
                    await call_once(client, base, api, fill(template, texts[n % len(texts)]))
                except Exception as exc:  # every failure is a data point, never a crash of the run
                    if began >= start:
                        errors.append(f"{type(exc).__name__}: {exc}"[:300])
                else:
                    ended = time.perf_counter()
                    if began >= start and ended <= stop:
                        latencies.append(ended - began)
                n += clients

        await asyncio.gather(*(worker(k) for k in range(clients)))
    latencies.sort()
    ms = [1000 * v for v in latencies]
    return LoadResult(
        api=api, clients=clients, seconds=seconds, requests=len(latencies), errors=len(errors),
        requests_per_s=round(len(latencies) / seconds, 2),
        p50_ms=_round(percentile(ms, 50)), p95_ms=_round(percentile(ms, 95)), p99_ms=_round(percentile(ms, 99)),
        error_samples=errors[:5],
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def format_table(results: Sequence[LoadResult]) -> str:
    """One line per endpoint; ratios against the first (the no-op floor when it is listed first)."""
    base = results[0] if results else None
    lines = [f"{'endpoint':<16}{'clients':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
             f"{'req/s vs ' + base.api if base else '':>18}{'p95 vs ' + base.api if base else '':>16}"]
    for r in results:
        rate = f"{r.requests_per_s / base.requests_per_s:.2f}x" if base.requests_per_s else "-"
        p95 = f"{r.p95_ms / base.p95_ms:.2f}x" if r.p95_ms and base.p95_ms else "-"
        lines.append(f"{r.api:<16}{r.clients:>8}{r.requests_per_s:>9.1f}{_ms(r.p50_ms):>9}{_ms(r.p95_ms):>9}"
                     f"{_ms(r.p99_ms):>9}{r.errors:>8}{rate:>18}{p95:>16}")
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def parse_payloads(specs: Sequence[str]) -> dict[str, list]:
    """``NAME=JSON-list`` pairs; ``"{text}"`` items in the list become the sentence sent."""
    payloads = {}
    for spec in specs:
        name, sep, raw = spec.partition("=")
        try:
            value = json.loads(raw) if sep else None
        except json.JSONDecodeError as exc:
            raise ValueError(f"--payload {spec!r}: not JSON ({exc.msg})") from None
        if not isinstance(value, list):
            raise ValueError(f"--payload {spec!r}: give NAME=[...], a JSON list of the endpoint's inputs")
        payloads[name.strip()] = value
    return payloads


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="the app (loopback only)")
    parser.add_argument("--api", nargs="+", default=["noop"], help="api_name(s), measured one after the other")
    parser.add_argument("--payload", action="append", default=[], metavar="API=JSON",
                        help='inputs of an endpoint as a JSON list, "{text}" marks the sentence (default ["{text}"])')
    parser.add_argument("--text", action="append", default=[], help="sentence(s) to send, in turn (default: 4 built in)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of calls not counted, per endpoint")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds one call may take before it is an error")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    try:
        base = require_loopback(args.url)
        payloads = parse_payloads(args.payload)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.clients < 1 or args.seconds <= 0:
        print("error: --clients must be >= 1 and --seconds > 0", file=sys.stderr)
        return 2
    texts = args.text or list(DEFAULT_TEXTS)
    results = []
    for api in args.api:
        template = payloads.get(api, ["{text}"])
        print(f"{api}: {args.clients} clients, {args.warmup:g} s warm-up + {args.seconds:g} s ...", file=sys.stderr)
        results.append(asyncio.run(load(base, api, template, args.clients, args.seconds, args.warmup, texts, args.timeout)))
        for sample in results[-1].error_samples:
            print(f"  {api} error: {sample}", file=sys.stderr)
    print(format_table(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"url": base, "results": [asdict(r) for r in results]}, fh, indent=2)
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
