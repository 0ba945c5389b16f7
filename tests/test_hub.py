"""The registry and resolve(): local files, caches, loopback downloads, sha256, offline messages."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from soundedit import hub
from soundedit.errors import CheckpointError, ConfigError, WeightsNotFoundError

PAYLOAD = b"weights " * 5000
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
WRONG_SHA = "0" * 64


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.hits.append(self.path)
        if self.path == "/cut.bin":  # promises more than it sends, then hangs up
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD) * 2))
            self.end_headers()
            self.wfile.write(PAYLOAD)
            self.wfile.flush()
            self.close_connection = True
            return
        if self.path not in ("/model.bin", "/other.bin"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 (loopback only) serving PAYLOAD."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.hits = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    """Private weights and cache folders; network proxies never see the loopback server."""
    weights, cache = tmp_path / "weights", tmp_path / "cache"
    weights.mkdir()
    monkeypatch.setenv("SOUNDEDIT_WEIGHTS", str(weights))
    monkeypatch.setenv("SOUNDEDIT_CACHE", str(cache))
    monkeypatch.delenv("SOUNDEDIT_REGISTRY", raising=False)
    monkeypatch.delenv("SOUNDEDIT_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return weights, cache


def write_registry(weights: Path, body: str) -> dict:
    (weights / "registry.toml").write_text(body)
    return hub.load_registry()


def http_entry(name, url, sha="", filename=""):
    extra = f'filename = "{filename}"\n' if filename else ""
    return (
        f'[models.{name}]\ndomain = "test"\nkind = "stylegan2"\nsource = "{url}"\n'
        f'sha256 = "{sha}"\nformat = "rosinality"\nresolution = 16\nsize_mb = 0.04\n{extra}'
    )


def test_local_file_wins(dirs):
    weights, _ = dirs
    write_registry(weights, http_entry("toy", "https://example.invalid/toy.pt", PAYLOAD_SHA))
    (weights / "toy.pt").write_bytes(PAYLOAD)
    assert hub.resolve("toy", download=False) == weights / "toy.pt"
    status = hub.entry_status("toy")
    assert status.state == "cached" and status[0] == "cached" and status.path == weights / "toy.pt"


def test_local_file_with_wrong_sha_is_refused_but_kept(dirs):
    weights, _ = dirs
    write_registry(weights, http_entry("toy", "https://example.invalid/toy.pt", WRONG_SHA))
    (weights / "toy.pt").write_bytes(PAYLOAD)
    with pytest.raises(CheckpointError, match=f"{PAYLOAD_SHA}.*expects {WRONG_SHA}"):
        hub.resolve("toy", download=False)
    assert (weights / "toy.pt").is_file()


def test_offline_message_names_file_and_folder(dirs, monkeypatch):
    weights, _ = dirs
    write_registry(weights, http_entry("toy", "https://example.invalid/dir/toy.pt"))
    status = hub.entry_status("toy")
    assert status.state == "missing" and status.path is None
    assert "toy.pt" in status.message and str(weights) in status.message
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsNotFoundError) as info:
        hub.resolve("toy")
    message = str(info.value)
    assert f"put it in {weights}/ as toy.pt" in message
    assert "https://example.invalid/dir/toy.pt" in message and "offline" in message
    assert isinstance(info.value, FileNotFoundError)


def test_download_over_loopback_then_cached(dirs, server):
    weights, cache = dirs
    url = f"http://127.0.0.1:{server.server_port}/model.bin"
    write_registry(weights, http_entry("toy", url, PAYLOAD_SHA, filename="toy.bin"))
    path = hub.resolve("toy", progress=False)
    assert path == cache / "downloads" / "toy.bin" and path.read_bytes() == PAYLOAD
    assert hub.entry_status("toy").state == "cached"
    server.shutdown()
    assert hub.resolve("toy", download=False) == path  # from the cache, no request
    assert server.hits == ["/model.bin"]


def test_download_with_wrong_sha_is_deleted(dirs, server):
    weights, cache = dirs
    url = f"http://127.0.0.1:{server.server_port}/other.bin"
    write_registry(weights, http_entry("toy", url, WRONG_SHA, filename="toy.bin"))
    with pytest.raises(CheckpointError) as info:
        hub.resolve("toy", progress=False)
    assert PAYLOAD_SHA in str(info.value) and WRONG_SHA in str(info.value)
    assert not any((cache / "downloads").iterdir())  # neither the file nor a .part
    assert hub.entry_status("toy").state == "missing"


def test_interrupted_download_leaves_nothing(dirs, server):
    weights, cache = dirs
    url = f"http://127.0.0.1:{server.server_port}/cut.bin"
    write_registry(weights, http_entry("toy", url, filename="toy.bin"))
    with pytest.raises(WeightsNotFoundError, match="download failed"):
        hub.resolve("toy", progress=False)
    assert not (cache / "downloads" / "toy.bin").exists()
    assert not list((cache / "downloads").glob("*"))


def test_http_error_is_weights_not_found(dirs, server):
    weights, _ = dirs
    url = f"http://127.0.0.1:{server.server_port}/absent.bin"
    write_registry(weights, http_entry("toy", url))
    with pytest.raises(WeightsNotFoundError, match="404"):
        hub.resolve("toy", progress=False)


def test_unresolvable_host_fails_fast(dirs, monkeypatch):
    import socket

    weights, _ = dirs
    write_registry(weights, http_entry("toy", "hf://owner/repo/toy.pt"))

    def no_dns(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(WeightsNotFoundError, match="no network: cannot resolve") as info:
        hub.resolve("toy")
    assert f"put it in {weights}/ as toy.pt" in str(info.value)


def _fake_hf_cache(root: Path, repo: str, filename: str, data: bytes) -> Path:
    """The Hugging Face cache layout: refs/main -> snapshots/<commit>/<file> (a real file)."""
    folder = root / f"models--{repo.replace('/', '--')}"
    commit = "a" * 40
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    path = folder / "snapshots" / commit / filename
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    return path


def test_hf_cache_is_found(dirs):
    weights, cache = dirs
    write_registry(weights, http_entry("toy", "hf://owner/repo/sub/toy.pt", PAYLOAD_SHA))
    cached = _fake_hf_cache(cache / "huggingface", "owner/repo", "sub/toy.pt", PAYLOAD)
    assert hub.entry_status("toy").state == "cached"
    assert hub.resolve("toy", download=False) == cached


def test_hf_download_checked_and_deleted_on_mismatch(dirs, monkeypatch):
    weights, cache = dirs
    write_registry(weights, http_entry("toy", "hf://owner/repo/toy.pt@v1", WRONG_SHA))
    calls = []

    def fake_download(repo_id, filename, *, revision=None, cache_dir=None, **kwargs):
        calls.append((repo_id, filename, revision))
        return str(_fake_hf_cache(Path(cache_dir), repo_id, filename, PAYLOAD))

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(hub, "check_host", lambda host: None)  # no DNS in the test
    with pytest.raises(CheckpointError, match=WRONG_SHA):
        hub.resolve("toy")
    assert calls == [("owner/repo", "toy.pt", "v1")]
    assert not list((cache / "huggingface").rglob("toy.pt"))


def test_bundle_entries(dirs):
    weights, _ = dirs
    body = (
        '[models.world]\ndomain = "soundscapes"\nkind = "bundle"\nformat = "bundle"\n'
        'source = "embedded"\nfilename = "world"\nfiles = ["generator.safetensors", "clip.json"]\n'
    )
    write_registry(weights, body)
    status = hub.entry_status("world")
    assert status.state == "missing" and "folder" in status.message
    (weights / "world").mkdir()
    (weights / "world" / "generator.safetensors").write_bytes(b"x")
    with pytest.raises(WeightsNotFoundError, match="clip.json"):
        hub.resolve("world")
    (weights / "world" / "clip.json").write_text("{}")
    assert hub.entry_status("world").state == "embedded"
    assert hub.resolve("world") == weights / "world"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ('kind = "stylegan2"\ndomain = "x"\nsource = "https://a/b.pt"\ncolour = 1\n', "colour"),
        ('kind = "vae"\ndomain = "x"\nsource = "https://a/b.pt"\n', "kind 'vae'"),
        ('kind = "clip"\ndomain = "x"\nsource = "https://a/b.pt"\nsha256 = "12"\n', "64 hex"),
        ('kind = "clip"\ndomain = "x"\nsource = "ftp://a/b.pt"\n', "hf:// or https://"),
        ('kind = "clip"\ndomain = "x"\nsource = "https://a/b.pt"\nformat = "onnx"\n', "format"),
    ],
)
def test_registry_is_strict(dirs, body, match):
    weights, _ = dirs
    with pytest.raises(ConfigError, match=match):
        write_registry(weights, "[models.bad]\n" + body)


def test_exact_size_gives_size_mb_and_must_agree(dirs):
    weights, _ = dirs
    body = http_entry("toy", "https://a.invalid/toy.pt").replace("size_mb = 0.04\n", "")
    registry = write_registry(weights, body + "size_bytes = 132717355\n")
    assert registry["toy"].size_bytes == 132_717_355 and registry["toy"].size_mb == 132.7
    with pytest.raises(ConfigError, match="disagrees with size_bytes"):
        write_registry(weights, body + "size_bytes = 132717355\nsize_mb = 364\n")


def test_source_url_follows_hf_endpoint(dirs, monkeypatch):
    weights, _ = dirs
    registry = write_registry(weights, http_entry("toy", "hf://o/r/a b.pt@v2"))
    assert hub.source_url(registry["toy"]) == "https://huggingface.co/o/r/resolve/v2/a%20b.pt"
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9/")
    assert hub.source_url(registry["toy"]) == "http://127.0.0.1:9/o/r/resolve/v2/a%20b.pt"
    assert hub.source_host(registry["toy"]) == "127.0.0.1"


def test_unknown_name_lists_valid_ones(dirs):
    weights, _ = dirs
    write_registry(weights, http_entry("toy", "https://a.invalid/toy.pt"))
    with pytest.raises(ConfigError, match="registry names: toy"):
        hub.resolve("nope")


def test_parse_hf_source():
    assert hub.parse_hf_source("hf://o/r/a/b.pt@v2") == ("o/r", "a/b.pt", "v2")
    commit = "bb4e00dc8ac0afbb9e0a5b6f72754c679673ee2e"
    assert hub.parse_hf_source(f"hf://o/r/ada/x.pt@{commit}") == ("o/r", "ada/x.pt", commit)
    assert hub.parse_hf_source("hf://o/r/file.pt") == ("o/r", "file.pt", None)
    with pytest.raises(ConfigError):
        hub.parse_hf_source("hf://o/r")


def test_project_registry_lists_every_real_source(monkeypatch):
    monkeypatch.delenv("SOUNDEDIT_REGISTRY", raising=False)
    registry = hub.load_registry(hub.REPO_ROOT / "weights" / "registry.toml")
    domains = {e.domain for e in registry.values() if e.kind == "stylegan2"}
    assert {"faces", "cats", "dogs", "wildlife", "churches", "cars", "paintings"} <= domains
    assert "landscapes" in domains
    kinds = {e.kind for e in registry.values()}
    assert {"clip", "audio_encoder", "identity"} <= kinds
    real = [e for e in registry.values() if e.kind != "bundle"]
    assert len(real) >= 10
    for entry in registry.values():
        assert entry.license and entry.format and entry.filename
    for entry in real:
        assert entry.size_mb > 0 and entry.source.startswith(("hf://", "https://"))
        assert "aaronb/" not in entry.source  # renamed: works only through a redirect
        if entry.source.startswith("hf://"):  # pinned to a commit, so the file cannot change
            revision = hub.parse_hf_source(entry.source).revision or ""
            assert len(revision) == 40 and int(revision, 16) >= 0, entry.name
            assert entry.sha256 and entry.size_bytes, entry.name  # the hub publishes both
    unverified = {e.name for e in real if not e.sha256}
    assert unverified == {"wikiart", "landscape", "audio-encoder"}
    assert {e.name for e in real if e.single_source} == {"landscape", "audio-encoder"}
    assert registry["ffhq"].defaults["lambda_id"] == 0.004
    assert registry["ffhq"].defaults["mix_layer"] == 9
    assert registry["lsun-church"].defaults["lambda_reg"] == 0.002
