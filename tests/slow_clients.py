"""Clients that hurt a server without being many: connections that dribble their request a byte
a second (slowloris), and bodies far over the size limit. Loopback only; used by
tests/test_production_server.py."""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
import urllib.parse

from .live import tls_context

# A request head that never ends, and the head of a body that comes a byte a second (under the
# body limit, so only time can stop it).
ENDLESS_HEAD = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 100_000
SLOW_BODY_HEAD = (
    b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n"
)


def connect(url: str, timeout: float = 5) -> socket.socket:
    parts = urllib.parse.urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    if parts.scheme == "https":
        sock = tls_context().wrap_socket(sock, server_hostname=parts.hostname)
    return sock


class Dribblers:
    """`headers` connections sending an endless request head and `bodies` connections sending a
    body, each one byte a second; a connection the server closes is opened again at once.
    `open_now()` counts the connections holding the server at this moment."""

    def __init__(self, url: str, headers: int, bodies: int):
        self.url = url
        self.stop = threading.Event()
        self.holding = 0
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._attack, args=(prefix, dribble), daemon=True)
            for prefix, dribble, n in (
                (b"", ENDLESS_HEAD, headers),
                (SLOW_BODY_HEAD, b"x" * 60000, bodies),
            )
            for _ in range(n)
        ]

    def _count(self, delta: int) -> None:
        with self.lock:
            self.holding += delta

    def _attack(self, prefix: bytes, dribble: bytes) -> None:
        while not self.stop.is_set():
            try:
                sock = connect(self.url)
            except OSError:
                self.stop.wait(0.2)
                continue
            self._count(1)
            try:
                sock.sendall(prefix)
                for i in range(len(dribble)):
                    if self.stop.wait(1):
                        break
                    sock.sendall(dribble[i : i + 1])
            except OSError:
                pass  # closed by the server: open another
            finally:
                self._count(-1)
                sock.close()

    def open_now(self) -> int:
        return self.holding

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(10)


def timed_get(url: str, path: str = "/login", timeout: float = 5) -> tuple[float, int | str]:
    """One GET on a new connection: (seconds, status or what went wrong)."""
    started = time.perf_counter()
    try:
        with connect(url, timeout) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        return time.perf_counter() - started, int(answer.split(b" ", 2)[1])
    except (OSError, ValueError, IndexError) as error:
        return time.perf_counter() - started, type(error).__name__


def _answer_so_far(sock: socket.socket) -> bytes:
    """What the server has answered already, without waiting. A TLS socket can be readable
    with no answer in it (TLS 1.3 sends session tickets after the handshake): that is b""."""
    if not select.select([sock], [], [], 0)[0]:
        return b""
    sock.setblocking(False)
    try:
        return sock.recv(4096)
    except (ssl.SSLWantReadError, BlockingIOError):
        return b""
    finally:
        sock.settimeout(10)


def send_huge_body(url: str, mebibytes: int = 50, chunked: bool = False) -> dict:
    """POST /login with a body of `mebibytes`, sent as fast as the server takes it until it
    answers: the status, and how much of the body had gone out by then. (One thread: a TLS
    socket cannot be written and read from two at once.)"""
    total = mebibytes * 1024 * 1024
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    head = (
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{length}\r\n\r\n"
    ).encode()
    block = b"a" * 65536
    if chunked:
        block = b"%x\r\n%s\r\n" % (len(block), block)
    sent = 0
    with connect(url, timeout=10) as sock:
        started = time.perf_counter()
        first = b""
        try:
            sock.sendall(head)
            while sent < total and not (first := _answer_so_far(sock)):
                sock.sendall(block)
                sent += 65536
        except OSError:
            pass  # the server stopped reading: what it should do
        try:
            first = first or sock.recv(4096)
            status = int(first.split(b" ", 2)[1])
        except (OSError, ValueError, IndexError) as error:
            status = type(error).__name__
        return {
            "status": status,
            "seconds": time.perf_counter() - started,
            "sent": sent,
            "total": total,
        }
