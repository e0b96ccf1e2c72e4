"""Network failures over real sockets: each names the host and the cause, in the error, in the
watch's notice; and ``connect()`` says which server it uses.

Only loopback and names under the reserved ``.invalid`` top-level domain (which never resolves)
are used: nothing here leaves the machine.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import twyn_widgets as tw
from twyn_widgets import TwynClient
from twyn_widgets.polling import WatchSnapshot, WatchState

KEY = "twyn_test_" + "k" * 60 + "wxyz"
UNRESOLVABLE = "api.twyn.invalid"
SHORT = (0.5, 0.5)
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy set on the machine would turn every failure here into a proxy error."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def closed_port() -> int:
    """A loopback port with nothing listening: bind, read the port, close."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class Server:
    """A loopback TCP server that handles each connection with ``handle`` in a thread."""

    def __init__(self, handle: Callable[[socket.socket], None], backlog: int = 16) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port: int = self.sock.getsockname()[1]
        self.handle = handle
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            self.held.append(conn)
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(handle: Callable[[socket.socket], None], backlog: int = 16) -> Server:
        servers.append(Server(handle, backlog))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def failure(url: str, **options: Any) -> tw.TransportError:
    """The error of one request of a client of ``url`` (short timeouts: nothing may hang)."""
    client = TwynClient(KEY, url, timeout=options.pop("timeout", SHORT), **options)
    try:
        with pytest.raises(tw.TransportError) as caught:
            client.list_keys()
    finally:
        client.close()
    exc = caught.value
    assert KEY not in str(exc)
    assert KEY not in repr(exc.__dict__)
    return exc


def test_a_name_that_does_not_resolve_says_cannot_resolve_and_names_the_host() -> None:
    exc = failure(f"https://{UNRESOLVABLE}/v1")
    assert isinstance(exc, tw.ConnectError)
    assert (exc.cause, exc.host) == ("dns", UNRESOLVABLE)  # the default port is not shown
    assert f"cannot resolve {UNRESOLVABLE}" in str(exc)
    assert "refused" not in str(exc)


def test_a_port_other_than_the_default_is_part_of_the_host() -> None:
    exc = failure(f"https://{UNRESOLVABLE}:8443/v1")
    assert exc.host == f"{UNRESOLVABLE}:8443"
    assert f"cannot resolve {UNRESOLVABLE}:8443" in str(exc)
    assert failure(f"https://{UNRESOLVABLE}:443/v1").host == UNRESOLVABLE  # the default, written


@pytest.mark.skipif(sys.platform != "linux", reason="Linux refuses a TCP connect to broadcast")
def test_an_address_with_no_route_is_unreachable() -> None:
    # Why broadcast: the kernel refuses a TCP connect to it at once (ENETUNREACH), so no packet
    # leaves the machine.
    exc = failure("https://255.255.255.255/v1")
    assert isinstance(exc, tw.ConnectError)
    assert (exc.cause, exc.host) == ("unreachable", "255.255.255.255")
    assert "255.255.255.255 is unreachable" in str(exc)


def test_a_port_with_nothing_listening_is_connection_refused() -> None:
    port = closed_port()
    exc = failure(f"http://127.0.0.1:{port}/v1")
    assert isinstance(exc, tw.ConnectError)
    assert (exc.cause, exc.host) == ("refused", f"127.0.0.1:{port}")
    assert f"127.0.0.1:{port} refused the connection" in str(exc)


def test_a_server_that_never_answers_is_a_read_timeout(serve: Callable[..., Server]) -> None:
    silent = serve(lambda conn: None)  # accepts, never answers
    exc = failure(f"http://127.0.0.1:{silent.port}/v1")
    assert isinstance(exc, tw.RequestTimeout)
    assert (exc.cause, exc.host) == ("read-timeout", f"127.0.0.1:{silent.port}")
    assert f"no answer from 127.0.0.1:{silent.port} within 0.5 s" in str(exc)


@pytest.mark.skipif(sys.platform != "linux", reason="a full accept queue drops SYNs on Linux")
def test_a_server_whose_accept_queue_is_full_is_a_connect_timeout(
    serve: Callable[..., Server],
) -> None:
    # Why a full queue: a listening socket that is never accepted from, with a backlog of 0,
    # takes one connection and then ignores new SYNs, so a connect waits until it times out.
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    port = full.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        exc = failure(f"http://127.0.0.1:{port}/v1")
    finally:
        for s in fillers:
            s.close()
        full.close()
    assert isinstance(exc, tw.RequestTimeout)
    assert (exc.cause, exc.host) == ("connect-timeout", f"127.0.0.1:{port}")
    assert f"connecting to 127.0.0.1:{port} timed out after 0.5 s" in str(exc)


def test_https_to_a_plain_http_server_is_a_tls_error(emu: Any) -> None:
    # The emulator speaks plain HTTP: the TLS handshake gets an HTTP error page back.
    host = emu.base_url.split("/")[2]
    exc = failure(f"https://{host}/v1")
    assert isinstance(exc, tw.ConnectError)
    assert (exc.cause, exc.host) == ("tls", host)
    assert f"TLS handshake with {host} failed" in str(exc)


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a certificate with")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_a_certificate_nobody_trusts_is_a_tls_error_that_says_so(
    serve: Callable[..., Server], self_signed: tuple[Path, Path]
) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed)

    def handshake(conn: socket.socket) -> None:
        with contextlib.suppress(ssl.SSLError, OSError):  # the client gives up at the certificate
            context.wrap_socket(conn, server_side=True).close()

    server = serve(handshake)
    exc = failure(f"https://127.0.0.1:{server.port}/v1")
    assert isinstance(exc, tw.ConnectError)
    assert exc.cause == "tls"
    assert f"certificate of 127.0.0.1:{server.port} is not trusted" in str(exc)
    assert "self-signed" in str(exc)


def test_a_proxy_that_refuses_is_a_proxy_error_naming_both_hosts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = closed_port()
    # Credentials in a proxy URL are secrets too: they must not be shown.
    monkeypatch.setenv("HTTPS_PROXY", f"http://someone:hunter2@127.0.0.1:{port}")
    exc = failure(f"https://{UNRESOLVABLE}/v1")
    assert isinstance(exc, tw.ConnectError)
    assert (exc.cause, exc.host) == ("proxy", UNRESOLVABLE)
    assert f"cannot reach {UNRESOLVABLE} through the proxy 127.0.0.1:{port}" in str(exc)
    assert "connection refused" in str(exc)
    assert "hunter2" not in str(exc)
    assert "someone" not in str(exc)


def test_a_connection_reset_before_the_answer_is_a_dropped_connection(
    serve: Callable[..., Server],
) -> None:
    def reset(conn: socket.socket) -> None:
        conn.recv(65536)
        # Why SO_LINGER 0: close() then sends a RST instead of a FIN: a reset connection.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    server = serve(reset)
    exc = failure(f"http://127.0.0.1:{server.port}/v1")
    assert isinstance(exc, tw.ConnectionDropped)
    assert (exc.cause, exc.host) == ("dropped", f"127.0.0.1:{server.port}")
    assert f"127.0.0.1:{server.port} reset the connection" in str(exc)


def test_the_emulators_dropped_connection_names_its_host(client: TwynClient, emu: Any) -> None:
    host = emu.base_url.split("/")[2]
    emu.inject("drop", count=1)
    with pytest.raises(tw.ConnectionDropped) as caught:
        client.list_keys()
    assert (caught.value.cause, caught.value.host) == ("dropped", host)
    assert f"{host} closed the connection" in str(caught.value)


def test_transport_errors_keep_host_and_cause_through_pickling() -> None:
    import pickle

    exc = failure(f"https://{UNRESOLVABLE}/v1")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc)
    assert (back.cause, back.host, back.summary, str(back)) == (
        exc.cause, exc.host, exc.summary, str(exc)
    )  # fmt: skip


NOTICE = re.compile(rf"^cannot resolve {re.escape(UNRESOLVABLE)}, retry (\d+) in (\d+) s$")


def test_a_watch_whose_host_does_not_resolve_says_so_with_the_retry_and_the_wait() -> None:
    # At 1/1000 of the API's time, backoff of up to 30 API s takes 30 ms: a few retries are quick.
    client = TwynClient(KEY, f"https://{UNRESOLVABLE}/v1", timeout=SHORT, time_scale=0.001)
    seen: list[WatchSnapshot] = []
    fourth = threading.Event()

    def record(snapshot: WatchSnapshot) -> None:
        seen.append(snapshot)
        if snapshot.retries >= 4:
            fourth.set()

    watch = client.watch("550e8400-e29b-41d4-a716-446655440000", timeout=100_000)
    watch.subscribe(record)
    try:
        assert fourth.wait(20), [s.notice for s in seen]
    finally:
        watch.stop()
        client.close()
    notices = [s.notice or "" for s in seen if s.state is WatchState.RETRYING]
    found = [NOTICE.match(n) for n in notices]
    assert all(found), notices
    retries = [int(m.group(1)) for m in found if m]
    waits = [int(m.group(2)) for m in found if m]
    assert retries[:4] == [1, 2, 3, 4], notices
    # Retry n waits 2**(n-1) API seconds times a jitter in [0.5, 1], shown rounded up.
    for n, wait in zip(retries, waits, strict=True):
        low = 2 ** (n - 1) * 0.5
        assert int(low) <= wait <= 2 ** (n - 1), notices


def _fresh_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    # The connections start empty for every test (tests/conftest.py); the environment too here.
    for name in ("TWYN_API_KEY", "TWYN_BASE_URL", "TWYN_TIME_SCALE"):
        monkeypatch.delenv(name, raising=False)


def test_connect_with_a_key_says_once_which_server_and_which_key_it_uses(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fresh_connect(monkeypatch)
    client = tw.connect(api_key=KEY)
    out = capsys.readouterr().out
    assert out == "twyn-widgets: using https://api.twyn.it/v1 with key twyn_test_...wxyz\n"
    assert tw.connect(api_key=KEY) is client  # the same client again: no second line
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("TWYN_API_KEY", KEY)
    monkeypatch.setenv("TWYN_BASE_URL", f"https://{UNRESOLVABLE}:8443/v1")
    tw.connect()
    out = capsys.readouterr().out
    assert out == (
        f"twyn-widgets: using https://{UNRESOLVABLE}:8443/v1 with key twyn_test_...wxyz\n"
    )
    assert KEY not in out


def test_connect_quiet_prints_nothing_with_a_key_or_for_the_emulator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from twyn_widgets import _connect

    _fresh_connect(monkeypatch)
    tw.connect(api_key=KEY, quiet=True)
    assert capsys.readouterr().out == ""
    monkeypatch.setattr(_connect, "_embedded", None)
    client = tw.connect(quiet=True)
    try:
        assert capsys.readouterr().out == ""
        assert client.base_url.startswith("http://127.0.0.1:")
    finally:
        client.close()
        _connect._embedded.stop()
