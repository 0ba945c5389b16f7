"""`models --check`: HEAD requests against a loopback server standing in for the hub and a host.

Nothing here contacts a real host: the registry's sources point at 127.0.0.1 and HF_ENDPOINT
moves the hub there too.
"""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from soundedit import hub
from soundedit.cli import main
from soundedit.source_check import check_sources

REV = "0123456789abcdef0123456789abcdef01234567"
SIZES = {  # path on the server -> Content-Length it announces
    f"/owner/repo/resolve/{REV}/sub/model.pt": 1000,  # the hub's resolve URL at the revision
    "/files/ok.bin": 2000,
    "/files/short.bin": 1500,  # the registry says 2000
    "/files/target.bin": 3000,  # reached through /files/moved.bin
}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):  # noqa: N802 (http.server's name)
        self.server.requests.append((self.command, self.path))
        if self.path == "/files/moved.bin":
            self.send_response(302)
            self.send_header("Location", "/files/target.bin")
            self.end_headers()
        elif self.path in SIZES:
            self.send_response(200)
            self.send_header("Content-Length", str(SIZES[self.path]))
            self.end_headers()
        else:
            self.send_error(404)

    def do_GET(self):  # noqa: N802 -- a check must never download: recorded, then refused
        self.server.requests.append((self.command, self.path))
        self.send_error(405)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    monkeypatch.setenv("HF_ENDPOINT", base)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    for flag in ("HF_HUB_OFFLINE", "SOUNDEDIT_OFFLINE", "SOUNDEDIT_REGISTRY"):
        monkeypatch.delenv(flag, raising=False)
    yield base, httpd
    httpd.shutdown()
    httpd.server_close()


def entry(name: str, source: str, size_bytes: int = 0) -> str:
    size = f"size_bytes = {size_bytes}\n" if size_bytes else "size_mb = 1\n"
    return f'[models.{name}]\ndomain = "test"\nkind = "stylegan2"\nsource = "{source}"\n{size}'


@pytest.fixture
def registry(server, tmp_path, monkeypatch):
    base, _ = server
    body = "\n".join(
        [
            entry("hub", f"hf://owner/repo/sub/model.pt@{REV}", 1000),
            entry("plain", f"{base}/files/ok.bin", 2000),
            entry("unknown-size", f"{base}/files/ok.bin"),
            entry("gone", f"{base}/files/absent.bin", 2000),
            entry("short", f"{base}/files/short.bin", 2000),
            entry("moved", f"{base}/files/moved.bin", 3000),
            '[models.world]\ndomain = "w"\nkind = "bundle"\nsource = "embedded"\nfiles = []\n',
        ]
    )
    (tmp_path / "registry.toml").write_text(body)
    monkeypatch.setenv("SOUNDEDIT_WEIGHTS", str(tmp_path))
    return hub.load_registry()


def test_each_source_is_judged(server, registry):
    base, httpd = server
    checks = {c.name: c for c in check_sources(registry, timeout=10)}
    assert list(checks) == ["hub", "plain", "unknown-size", "gone", "short", "moved"]  # no bundle
    assert checks["hub"].url == f"{base}/owner/repo/resolve/{REV}/sub/model.pt"
    states = {name: c.state for name, c in checks.items()}
    assert states == {
        "hub": "answering",
        "plain": "answering",
        "unknown-size": "answering",
        "gone": "not answering",
        "short": "size mismatch",
        "moved": "answering",
    }
    assert checks["gone"].size is None and "404" in checks["gone"].detail
    assert checks["short"].size == 1500 and "2,000" in checks["short"].detail
    assert checks["moved"].size == 3000  # the size of the file the redirect leads to
    assert "no exact size" in checks["unknown-size"].detail
    assert {method for method, _ in httpd.requests} == {"HEAD"}  # nothing was downloaded
    assert ("HEAD", "/files/target.bin") in httpd.requests


def test_a_source_that_does_not_listen(registry, tmp_path):
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nobody listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "registry.toml").write_text(entry("dead", f"http://127.0.0.1:{port}/x.bin", 5))
    (check,) = check_sources(hub.load_registry(), timeout=5)
    assert check.state == "not answering" and "no answer" in check.detail


def test_cli_check_table_and_status(registry, capsys):
    assert main(["models", "--check"]) == 1  # one source gone, one wrong size
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "size mismatch" in lines["short"] and "not answering" in lines["gone"]
    assert "2 of 6 sources need attention: gone, short." in out
    assert main(["models", "--check", "--json"]) == 1
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["hub"]["state"] == "answering" and rows["hub"]["size"] == 1000


def test_cli_check_all_answering(server, tmp_path, monkeypatch, capsys):
    base, _ = server
    (tmp_path / "registry.toml").write_text(entry("plain", f"{base}/files/ok.bin", 2000))
    monkeypatch.setenv("SOUNDEDIT_WEIGHTS", str(tmp_path))
    assert main(["models", "--check"]) == 0
    assert "All 1 sources answer" in capsys.readouterr().out


@pytest.mark.parametrize("flag", ["HF_HUB_OFFLINE", "SOUNDEDIT_OFFLINE"])
def test_offline_says_it_cannot_check(registry, server, monkeypatch, capsys, flag):
    _, httpd = server
    monkeypatch.setenv(flag, "1")
    assert main(["models", "--check"]) == 2
    out = capsys.readouterr().out.strip()
    assert out.startswith("Cannot check the sources: offline mode is on")
    assert out.count(".") == 1 and out.endswith(".")  # one sentence
    assert httpd.requests == []


def test_no_network_says_it_cannot_check(registry, server, monkeypatch, capsys):
    import socket

    _, httpd = server

    def no_dns(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    assert main(["models", "--check"]) == 2
    assert "this machine has no network (none of 127.0.0.1 resolves)" in capsys.readouterr().out
    assert httpd.requests == []
