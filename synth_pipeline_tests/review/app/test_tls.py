"""TLS 1.3 only: the real uvicorn server on 127.0.0.1 with a certificate made here; TLS 1.2 and plain HTTP fail."""

from __future__ import annotations

import shutil
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from synth_pipeline.review.app import AppSettings
from synth_pipeline.review.app.serve import TLSFiles, server_config, tls_files
from synth_pipeline.review.app.settings import AppConfigError
from synth_pipeline_tests.review.app.conftest import SECRET
from synth_pipeline_tests.servers import self_signed_certificate


def _self_signed(folder: Path) -> TLSFiles:
    return TLSFiles(*self_signed_certificate(folder))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tls_server(tmp_path, template_store) -> Iterator[tuple[int, TLSFiles]]:
    import uvicorn

    template, _ = template_store
    shutil.copyfile(template, tmp_path / "review.db")
    files = _self_signed(tmp_path)
    port = _free_port()
    settings = AppSettings(db_url=f"sqlite:///{tmp_path / 'review.db'}", secret_key=SECRET)
    server = uvicorn.Server(server_config(settings, "127.0.0.1", port, tls_files(files.cert, files.key)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the TLS server did not start"
        time.sleep(0.05)
    yield port, files
    server.should_exit = True
    thread.join(timeout=10)


def _client_context(files: TLSFiles, maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(files.cert))
    if maximum is not None:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = maximum
    return context


def test_tls13_client_is_served_with_secure_cookies(tls_server):
    port, files = tls_server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            _client_context(files).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        assert tls.version() == "TLSv1.3"
    response = httpx.get(f"https://127.0.0.1:{port}/login", verify=_client_context(files), timeout=10)
    assert response.status_code == 200 and 'id="login-form"' in response.text
    cookie = response.headers["set-cookie"].lower()
    assert "; secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_tls12_client_handshake_fails(tls_server):
    port, files = tls_server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, pytest.raises(ssl.SSLError):
        _client_context(files, maximum=ssl.TLSVersion.TLSv1_2).wrap_socket(raw, server_hostname="127.0.0.1")


def test_plain_http_gets_no_answer_and_no_redirect(tls_server):
    port, _ = tls_server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        try:
            answer = raw.recv(4096)
        except ConnectionResetError:
            answer = b""
    assert not answer.startswith(b"HTTP/"), answer[:200]
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/login", timeout=10)


def test_certificate_and_key_go_together_and_must_load(tmp_path):
    files = _self_signed(tmp_path)
    assert tls_files(None, None) is None
    with pytest.raises(AppConfigError, match="go together"):
        tls_files(files.cert, None)
    (tmp_path / "broken.pem").write_text("not a certificate")
    with pytest.raises(AppConfigError, match="broken.pem"):
        tls_files(tmp_path / "broken.pem", files.key)


def test_without_tls_there_is_no_tls_listener_and_cookies_are_not_secure(tmp_path):
    config = server_config(AppSettings(db_url=f"sqlite:///{tmp_path / 'r.db'}", secret_key=SECRET),
                           "127.0.0.1", 0)
    assert not config.is_ssl
    assert config.app.state.settings.secure_cookies is False
    config.app.state.engine.dispose()
