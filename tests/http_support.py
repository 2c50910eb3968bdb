"""Plain-HTTP helpers for tests against a running app on 127.0.0.1 (no gradio_client in between).

The REST route is what a browser or a script speaks: ``POST /gradio_api/call/<api>`` gives an event id,
``GET /gradio_api/call/<api>/<event_id>`` streams the result. Uploads go to ``/gradio_api/upload``
first. Raw requests (:func:`raw_get`) send the path byte for byte, so ``..`` and ``%2F`` reach the
server as written instead of being normalised by a client library.
"""

from __future__ import annotations

import http.client
import json
import uuid
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


def port_of(url: str) -> int:
    return urllib.parse.urlsplit(url).port


def call(url: str, api: str, data: list, timeout: float = 120, headers: dict | None = None,
         session: str | None = None) -> tuple[str, object]:
    """(event, payload) of one call: ``complete`` and the outputs, or ``error`` and ``{"error": message}``.
    ``session``: a session hash, so that calls share a session (its state); else each call has its own.

    ``json.dumps`` escapes lone surrogates, as a browser's ``JSON.stringify`` does.
    """
    body = {"data": data, **({"session_hash": session} if session else {})}
    request = urllib.request.Request(f"{url}gradio_api/call/{api}", json.dumps(body).encode("ascii"),
                                     {"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        event_id = json.load(response)["event_id"]
    stream_request = urllib.request.Request(f"{url}gradio_api/call/{api}/{event_id}", headers=headers or {})
    with urllib.request.urlopen(stream_request, timeout=timeout) as response:
        stream = response.read().decode("utf-8")
    event, payload = "", None
    for line in stream.splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            payload = json.loads(line.split(":", 1)[1])
    return event, payload


def multipart(name: str, content: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with one file in the ``files`` field, and its content type."""
    boundary = uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(url: str, path: Path) -> dict:
    """Upload a file as the page does; the FileData value to pass to an event that takes a file."""
    body, content_type = multipart(path.name, path.read_bytes())
    request = urllib.request.Request(f"{url}gradio_api/upload", body, {"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=60) as response:
        (server_path,) = json.load(response)
    return {"path": server_path, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def upload_status(url: str, name: str, content: bytes) -> tuple[int, str]:
    """(HTTP status, body) of an upload, for the size cap."""
    body, content_type = multipart(name, content)
    request = urllib.request.Request(f"{url}gradio_api/upload", body, {"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def raw_request(url: str, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, bytes, dict]:
    """(status, body, headers) of one request whose path is sent exactly as given."""
    connection = http.client.HTTPConnection("127.0.0.1", port_of(url), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        headers: dict[str, str] = {}
        for key, value in response.getheaders():  # repeated headers (Set-Cookie) joined with ", "
            headers[key.lower()] = f"{headers[key.lower()]}, {value}" if key.lower() in headers else value
        return response.status, response.read(), headers
    finally:
        connection.close()


def raw_get(url: str, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    status, body, _ = raw_request(url, "GET", path, headers=headers)
    return status, body
