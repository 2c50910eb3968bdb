"""The login page tells a stranger nothing about the app behind it.

With a password set, gradio (6.31) answers ``GET /`` before sign-in with its login page, but renders
that page from the same template as the app's, with the full API description inlined
(``window.gradio_api_info``): every endpoint, its parameters and defaults, which include server paths
and run ids. :class:`HideApiFromLoginPage` is ASGI middleware that blanks that description in any HTML
page whose inlined config says ``"auth_required": true`` (the login page, and the run-history page
that reuses it). The signed-in app page, which needs it for its API view, is left as it is.
"""

from __future__ import annotations

import re

_API_INFO = re.compile(rb"(<script>\s*window\.gradio_api_info\s*=\s*)(.*?)(;?\s*</script>)", re.S)
_LOGIN = re.compile(rb"window\.gradio_config\s*=\s*\{[^<]*?\"auth_required\"\s*:\s*true")


EMPTY_API_INFO = b'{"named_endpoints":{},"unnamed_endpoints":{}}'  # the shape the page's script reads


def strip_api_info(page: bytes) -> bytes:
    """``page`` with its inlined API description emptied if it is the login page.

    >>> login = b'<script>window.gradio_config = {"auth_required":true};</script>'
    >>> strip_api_info(login + b'<script>window.gradio_api_info = {"named_endpoints":{"/tag":{}}};</script>')
    b'<script>window.gradio_config = {"auth_required":true};</script><script>window.gradio_api_info = {"named_endpoints":{},"unnamed_endpoints":{}};</script>'
    >>> strip_api_info(b'<script>window.gradio_api_info = {"a":1};</script>')  # the signed-in page keeps it
    b'<script>window.gradio_api_info = {"a":1};</script>'
    """
    if not _LOGIN.search(page):
        return page
    return _API_INFO.sub(lambda m: m.group(1) + EMPTY_API_INFO + m.group(3), page)


class HideApiFromLoginPage:
    """ASGI middleware: HTML responses pass through :func:`strip_api_info` (with a corrected length)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET":  # HEAD has no body to show
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        chunks: list[bytes] = []

        async def send_page(message):
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if not headers.get(b"content-type", b"").startswith(b"text/html"):
                    start = None
                    await send(message)  # not a page: passed through as it comes
                    return
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = strip_api_info(b"".join(chunks))
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_page)
