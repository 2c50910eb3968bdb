"""Security: where the app listens, who may use it, what it serves, what it loads, which gradio it runs.

Server tests talk to an app on 127.0.0.1 only. File-route requests are sent with raw paths
(``http.client``), so ``..``, ``%2F`` and backslashes reach the server exactly as an attacker types them.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.parse
from pathlib import Path

import pytest
from app_harness import TAG_SENTENCE, running_app
from http_support import call, port_of, raw_get, raw_request, upload_status

from ner_demo.errors import ModelLoadError
from ner_demo.models import load_trained, resolve_backbone

REPO = Path(__file__).resolve().parent.parent
PASSWD_MARK = b"root:"
APP_MARK = b"def build() -> gr.Blocks"
README_MARK = b"A named-entity-recognition workbench"

# Advisory -> first gradio release that fixes it (GitHub advisory / OSV / CVE records, checked 2026).
GRADIO_ADVISORIES = {
    "CVE-2023-51449 (/file route path traversal)": "4.11.0",
    "CVE-2024-47164 (is_in_or_equal bypass with ..)": "5.0.0",
    "GHSA-j2jg-fq62-7c3h / CVE-2025-23042 (blocked-path ACL bypass by case)": "5.11.0",
    "CVE-2026-28416 / GHSA-jmh7-g254-2cq9 (SSRF via proxy_url in gr.load)": "6.6.0",
    "CVE-2026-28414 (absolute path traversal on Windows)": "6.7.0",
    "CVE-2026-49119 (FileExplorer root escape)": "6.16.0",
    "CVE-2026-59806 (/gradio_api/file= open redirect and SSRF)": "6.20.0",
}


# ---- where the app listens, and who may use it ---------------------------------------------------


@pytest.fixture()
def launched(monkeypatch):
    """Run app.main() without serving: the arguments it would launch with."""
    import ner_demo.app as app

    seen: dict = {}
    monkeypatch.setattr(app, "build", lambda: "demo")
    monkeypatch.setattr(app, "launch", lambda demo, host, port, **kw: seen.update(host=host, port=port, **kw))
    monkeypatch.delenv("NER_DEMO_AUTH", raising=False)
    monkeypatch.setenv("NER_DEMO_RUNS", "runs")
    return app, seen


def test_binds_loopback_unless_told_otherwise(launched, monkeypatch, capsys):
    app, seen = launched
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")  # gradio's own variable does not override ours
    app.main([])
    assert seen["host"] == "127.0.0.1" and seen["auth"] is None
    app.main(["--host", "0.0.0.0"])
    assert seen["host"] == "0.0.0.0"
    assert "without --auth" in capsys.readouterr().out  # sharing without a password is said out loud


def test_auth_from_flag_or_environment(launched, monkeypatch):
    app, seen = launched
    app.main(["--auth", "ana:pa:ss"])
    assert seen["auth"] == ("ana", "pa:ss")
    monkeypatch.setenv("NER_DEMO_AUTH", "bo:secret")
    app.main([])
    assert seen["auth"] == ("bo", "secret")
    for bad in ("nopassword", ":x", "user:"):
        with pytest.raises(SystemExit, match="user:password"):
            app.main(["--auth", bad])


@pytest.fixture(scope="module")
def app_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("security_app")


@pytest.fixture(scope="module")
def app_url(app_root, trained_tiny_dir):
    with running_app(app_root, str(trained_tiny_dir), None) as url:
        yield url


def test_the_running_app_listens_on_loopback_only(app_url):
    table = Path("/proc/net/tcp")
    if not table.is_file():
        pytest.skip("no /proc/net/tcp on this system")
    port = f"{port_of(app_url):04X}"
    local = [line.split()[1] for line in table.read_text().splitlines()[1:] if line.split()[3] == "0A"]  # LISTEN
    bound = [address for address in local if address.endswith(":" + port)]
    assert bound == ["0100007F:" + port]  # 127.0.0.1, not 0.0.0.0


def test_auth_keeps_everything_behind_the_login(tmp_path_factory, trained_tiny_dir):
    root = tmp_path_factory.mktemp("auth_app")
    with running_app(root, str(trained_tiny_dir), None, auth=("ana", "s3cret")) as url:
        status, page = raw_get(url, "/")
        assert status == 200 and b"Named-entity recognition" not in page  # the login page, not the app
        for method, path in (("GET", "/config"), ("GET", "/gradio_api/info"), ("POST", "/gradio_api/call/tag"),
                             ("POST", "/gradio_api/upload"), ("GET", "/gradio_api/file=/etc/passwd")):
            body = json.dumps({"data": [TAG_SENTENCE, "(default)", "first", 0.0]}).encode()
            status, content, _ = raw_request(url, method, path, body, {"Content-Type": "application/json"})
            assert status == 401 and PASSWD_MARK not in content, (path, status)
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        wrong = urllib.parse.urlencode({"username": "ana", "password": "guess"}).encode()
        assert raw_request(url, "POST", "/login", wrong, form)[0] in (400, 401)
        right = urllib.parse.urlencode({"username": "ana", "password": "s3cret"}).encode()
        status, _, headers = raw_request(url, "POST", "/login", right, form)
        assert status == 200
        cookies = "; ".join(c.split(";")[0].strip() for c in re.split(r",\s*(?=access-token)", headers["set-cookie"]))
        event, outputs = call(url, "tag", [TAG_SENTENCE, "(default)", "first", 0.0], headers={"Cookie": cookies})
        assert event == "complete" and ["John", "PER", 0, 4] in [row[:4] for row in outputs[1]["data"]]


def _cookies(url: str, user: str, password: str) -> str:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = urllib.parse.urlencode({"username": user, "password": password}).encode()
    status, _, headers = raw_request(url, "POST", "/login", body, form)
    assert status == 200
    return "; ".join(c.split(";")[0].strip() for c in re.split(r",\s*(?=access-token)", headers["set-cookie"]))


LOGGED_OUT_PATHS = ("/", "/?page=", "/?deep_link=x", "/gradio_api/runs", "/gradio_api/runs/", "/config",
                    "/gradio_api/info", "/gradio_api/openapi.json", "/openapi.json", "/info", "/monitoring",
                    "/gradio_api/deep_link")


def test_the_login_page_shows_no_api_no_paths_no_run_ids(tmp_path_factory, trained_tiny_dir):
    root = tmp_path_factory.mktemp("auth_page_app")
    run_id = "20260101-000000-secret-run-7f3a"
    (root / "runs" / run_id).mkdir(parents=True)
    (root / "runs" / run_id / "config.json").write_text('{"engine": "custom", "backbone": "x"}', encoding="utf-8")
    (root / "runs" / run_id / "status.json").write_text('{"state": "failed", "error": "x"}', encoding="utf-8")
    secrets = [run_id.encode(), str(root).encode(), str(trained_tiny_dir).encode(), str(REPO).encode(),
               b"/entities", b"parameter_name"]
    with running_app(root, str(trained_tiny_dir), None, auth=("ana", "s3cret")) as url:
        for path in LOGGED_OUT_PATHS:
            status, body = raw_get(url, path)
            assert status in (200, 401, 404), (path, status)
            assert [s for s in secrets if s in body] == [], (path, status)
        # Signed in, the same page has them all: what the login page must not give away.
        status, page = raw_get(url, "/", {"Cookie": _cookies(url, "ana", "s3cret")})
        assert status == 200 and run_id.encode() in page and b"/entities" in page and b"parameter_name" in page


def test_uploads_are_capped(app_url):
    status, config = raw_get(app_url, "/config")
    assert status == 200 and json.loads(config)["max_file_size"] == 20 * 1024 * 1024
    assert upload_status(app_url, "big.txt", b"a" * (20 * 1024 * 1024 + 1))[0] == 413


# ---- the file routes ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(app_url) -> Path:
    """A file the app really produced (the JSON download of a /tag call): the route works for it."""
    event, outputs = call(app_url, "tag", [TAG_SENTENCE, "(default)", "first", 0.0])
    assert event == "complete"
    return Path(outputs[3]["path"])


def _attempts(served: Path, secret: Path, port: int) -> list[tuple[str, bytes]]:
    """(path after the route prefix, bytes that must not come back)."""
    up = "../" * 12
    inside = served.parent  # a folder the server does serve from
    secret_rel = str(secret).lstrip("/")
    out = [
        ("../../etc/passwd", PASSWD_MARK), (up + "etc/passwd", PASSWD_MARK),
        ("..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd", PASSWD_MARK), ("..%2f" * 12 + "etc%2fpasswd", PASSWD_MARK),
        ("%2e%2e%2f" * 12 + "etc%2fpasswd", PASSWD_MARK), ("%2E%2E/" * 12 + "etc/passwd", PASSWD_MARK),
        ("%252e%252e%252f" * 12 + "etc%252fpasswd", PASSWD_MARK), ("..%252f" * 12 + "etc%252fpasswd", PASSWD_MARK),
        ("/etc/passwd", PASSWD_MARK), ("//etc/passwd", PASSWD_MARK), ("%2Fetc%2Fpasswd", PASSWD_MARK),
        ("/ETC/PASSWD", PASSWD_MARK), ("/etc/./passwd", PASSWD_MARK), ("/etc//passwd", PASSWD_MARK),
        ("..\\..\\..\\..\\etc\\passwd", PASSWD_MARK), ("..%5c" * 12 + "etc%5cpasswd", PASSWD_MARK),
        ("\\etc\\passwd", PASSWD_MARK), ("file:///etc/passwd", PASSWD_MARK), ("/etc/passwd%00.json", PASSWD_MARK),
        ("/proc/self/environ", b"PATH="), ("/proc/self/cmdline", b"python"),
        (f"{inside}/{up}etc/passwd", PASSWD_MARK), (f"{inside}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", PASSWD_MARK),
        (f"{served}/../../../../../../etc/passwd", PASSWD_MARK), (f"{inside}/{up}{secret_rel}", secret.read_bytes()),
        (str(secret), secret.read_bytes()), (str(secret).upper(), secret.read_bytes()),
        (str(REPO / "app.py"), APP_MARK), (str(REPO / "README.md"), README_MARK),
        (str(REPO / "ner_demo" / "models.py"), b"def resolve_backbone"),
        (f"{REPO}/tests/../app.py", APP_MARK), (str(REPO / "app.py").upper(), APP_MARK),
        (str(REPO / "APP.PY"), APP_MARK), (str(REPO / "README.MD"), README_MARK),
        (f"http://127.0.0.1:{port}/config", b"api_prefix"), (f"http://localhost:{port}/config", b"api_prefix"),
    ]
    return out


def test_file_routes_refuse_traversal_and_foreign_files(app_url, app_root, served, tmp_path_factory):
    secret = tmp_path_factory.mktemp("outside") / "secret.txt"
    secret.write_bytes(b"secret-canary-7f3a")
    (app_root / "runs").mkdir(exist_ok=True)
    attempts = _attempts(served, secret, port_of(app_url))
    attempts.append((str(Path(app_root, "runs")), b""))  # the runs folder is not served either
    leaks = []
    for route in ("/gradio_api/file=", "/gradio_api/file/", "/file="):
        for path, mark in attempts:
            status, body = raw_get(app_url, route + path)
            if status == 200 and (mark in body or not mark):
                leaks.append(f"{route}{path} -> {status} {body[:60]!r}")
    for path in ("/static/" + "..%2f" * 8 + "etc/passwd", "/static/../../../../etc/passwd",
                 "/assets/" + "..%2f" * 8 + "etc/passwd", "/svelte/" + "..%2f" * 8 + "etc/passwd",
                 "/gradio_api/static/" + "..%2f" * 8 + "etc/passwd", "/favicon.ico/../../etc/passwd"):
        status, body = raw_get(app_url, path)
        if status == 200 and PASSWD_MARK in body:
            leaks.append(f"{path} -> {status}")
    assert leaks == [], "\n".join(leaks)
    assert len(attempts) * 3 + 6 >= 100  # the count SECURITY.md reports


def test_files_the_app_made_are_still_served(app_url, served):
    status, body = raw_get(app_url, f"/gradio_api/file={served}")
    assert status == 200 and json.loads(body)["text"] == TAG_SENTENCE  # so the refusals above are not vacuous
    status, _ = raw_get(app_url, f"/gradio_api/file={str(served).upper()}")
    assert status != 200  # the path must match exactly, case included


# ---- what is loaded --------------------------------------------------------------------------------


def _copy_model(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest)
    return dest


def test_a_folder_with_only_pickle_weights_is_refused(trained_tiny_dir, tmp_path, monkeypatch):
    import torch
    from safetensors.torch import load_file

    folder = _copy_model(trained_tiny_dir, tmp_path / "bin_only")
    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load was called"))
    with pytest.raises(ModelLoadError, match=r"has only pytorch_model.bin but no model.safetensors; .*safetensors"):
        load_trained(str(folder))


def test_safetensors_win_over_pickle_and_torch_load_is_never_called(trained_tiny_dir, tmp_path, monkeypatch):
    import torch

    folder = _copy_model(trained_tiny_dir, tmp_path / "both")
    (folder / "pytorch_model.bin").write_bytes(b"not a pickle: loading this would fail loudly")
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load was called"))
    model, _, _ = load_trained(str(folder))
    assert model.config.num_labels == 7


def test_trust_remote_code_is_never_enabled_in_the_code():
    sources = [REPO / "app.py", *sorted((REPO / "ner_demo").rglob("*.py"))]
    enabled, unpickled = [], []
    for path in sources:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            for match in re.finditer(r"trust_remote_code[\"']?\s*[=:]\s*([^,)\s}]+)", code):
                if match.group(1) != "False":
                    enabled.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
            if re.search(r"\btorch\.load\(|\bpickle\.loads?\(|\bjoblib\.load\(", code):
                unpickled.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert enabled == [] and unpickled == [], enabled + unpickled
    assert "trust_remote_code=False" in (REPO / "ner_demo" / "models.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("model_type", ["evil-arch", "bert"])
def test_custom_code_named_by_auto_map_is_never_run(trained_tiny_dir, tmp_path, model_type):
    folder = _copy_model(trained_tiny_dir, tmp_path / f"remote-{model_type}")
    marker = tmp_path / "RAN"
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    auto_map = {"AutoConfig": "configuration_evil.EvilConfig", "AutoTokenizer": ["tokenization_evil.EvilTok", None],
                "AutoModelForTokenClassification": "modeling_evil.EvilModel"}
    config.update(model_type=model_type, auto_map=auto_map)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    for module in ("configuration_evil", "modeling_evil", "tokenization_evil"):
        (folder / f"{module}.py").write_text(f"open({str(marker)!r}, 'a').write({module!r})\n", encoding="utf-8")
    if model_type == "bert":  # an architecture transformers ships: its own classes load it, the files are ignored
        assert load_trained(str(folder))[0].config.model_type == "bert"
    else:
        with pytest.raises(ModelLoadError, match="custom code .* never runs code from a model folder"):
            load_trained(str(folder))
    assert not marker.exists()


@pytest.mark.parametrize("name", ["../../etc", "/etc", "~", "a/b/c", "owner/..", "owner/name;rm -rf /",
                                  "http://127.0.0.1:1/model", "file:///etc/passwd", "x" * 300, "\x00", "",
                                  "owner/name with space", "-owner/name"])
def test_hub_ids_and_local_paths_are_validated(name):
    with pytest.raises(ModelLoadError) as caught:
        resolve_backbone(name)
    assert any(reason in str(caught.value) for reason in ("Hub id", "not a model folder", "no backbone"))


def test_app_refuses_bad_model_names_and_keeps_serving(app_url, tmp_path, trained_tiny_dir):
    bin_only = _copy_model(trained_tiny_dir, tmp_path / "bin_only")
    (bin_only / "model.safetensors").rename(bin_only / "pytorch_model.bin")
    for model, expected in (("../../../etc", "not a model folder"), ("a/b/c", "neither an existing folder"),
                            (str(bin_only), "safetensors weights only")):
        event, payload = call(app_url, "tag", [TAG_SENTENCE, model, "first", 0.0])
        assert event == "error" and expected in payload["error"], payload
    assert call(app_url, "tag", [TAG_SENTENCE, "(default)", "first", 0.0])[0] == "complete"


# ---- the gradio version ----------------------------------------------------------------------------


def test_pinned_gradio_is_past_every_known_advisory():
    import gradio
    from packaging.version import Version

    pinned = re.search(r"^gradio==(\S+)", (REPO / "requirements.txt").read_text(encoding="utf-8"), re.M).group(1)
    for version in (pinned, gradio.__version__):
        vulnerable = {name: fixed for name, fixed in GRADIO_ADVISORIES.items() if Version(version) < Version(fixed)}
        assert vulnerable == {}, f"gradio {version} is affected by {vulnerable}"
