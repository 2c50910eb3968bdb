"""bench/load_test.py against a tiny Gradio app on 127.0.0.1 (a no-op and an upper-casing endpoint)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import sys
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")
pytest.importorskip("httpx")

_PATH = Path(__file__).resolve().parent.parent / "bench" / "load_test.py"
_spec = importlib.util.spec_from_file_location("load_test", _PATH)
load_test = importlib.util.module_from_spec(_spec)
sys.modules["load_test"] = load_test  # dataclasses look their module up there
_spec.loader.exec_module(load_test)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tiny_app():
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

    def shout(text: str, suffix: str) -> str:
        if text == "fail":
            raise gr.Error("asked to fail")
        return text.upper() + suffix

    with gr.Blocks() as demo:
        text, suffix, out = gr.Textbox(), gr.Textbox(), gr.Textbox()
        text.submit(lambda t: t, text, out, api_name="noop")
        suffix.submit(shout, [text, suffix], out, api_name="shout")
    port = _free_port()
    demo.queue(default_concurrency_limit=4).launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, show_error=True,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.close()


def test_no_op_endpoint_under_two_clients(tiny_app):
    result = asyncio.run(load_test.load(tiny_app, "noop", ["{text}"], clients=2, seconds=2.5, warmup=0.5,
                                        texts=["John lives in Paris"]))
    assert result.errors == 0, result.error_samples
    assert result.requests > 0 and result.requests_per_s > 0
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms


def test_payload_template_fills_the_text_and_keeps_other_inputs(tiny_app):
    import httpx

    async def call():
        async with httpx.AsyncClient(trust_env=False) as client:
            await load_test.call_once(client, tiny_app, "shout", load_test.fill(["{text}", "!"], "hi"))

    asyncio.run(call())  # completes without an error event


def test_error_events_are_counted_not_raised(tiny_app):
    result = asyncio.run(load_test.load(tiny_app, "shout", ["{text}", "!"], clients=2, seconds=1.0, warmup=0.0,
                                        texts=["fail"]))
    assert result.requests == 0 and result.errors > 0
    assert "error event" in result.error_samples[0]


def test_main_prints_a_table_with_ratios(tiny_app, capsys, tmp_path):
    code = load_test.main(["--url", tiny_app, "--api", "noop", "shout", "--payload", 'shout=["{text}", "?"]',
                           "--clients", "2", "--seconds", "1", "--warmup", "0.2", "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert code == 0
    assert "req/s vs noop" in out and "shout" in out
    assert (tmp_path / "r.json").is_file()


@pytest.mark.parametrize("url", ["http://10.0.0.1:7860", "http://8.8.8.8", "ftp://127.0.0.1", "127.0.0.1:7860"])
def test_non_loopback_or_malformed_urls_are_refused(url):
    with pytest.raises(ValueError):
        load_test.require_loopback(url)


def test_main_refuses_a_non_loopback_url(capsys):
    assert load_test.main(["--url", "http://192.0.2.1:7860", "--seconds", "1"]) == 2
    assert "not loopback" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["http://127.0.0.1:7860", "http://localhost:7860/", "http://[::1]:7860"])
def test_loopback_urls_are_accepted(url):
    assert load_test.require_loopback(url) == url.rstrip("/")


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert (load_test.percentile(values, 50), load_test.percentile(values, 95), load_test.percentile(values, 99)) == (50, 95, 99)
    assert load_test.percentile([], 50) is None
