"""A real webhook receiver on 127.0.0.1: records what it is sent, answers as told."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    port: int
    statuses: list[int] = field(default_factory=list)  # answers to give first; then 200
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    @property
    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]


class _Server(ThreadingHTTPServer):
    request_queue_size = 64  # the worker posts up to 16 at once; the default backlog is 5
    daemon_threads = True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def receiver(port: int | None = None, statuses: list[int] | None = None) -> Iterator[Receiver]:
    port = port or free_port()
    state = Receiver(f"http://127.0.0.1:{port}/hook", port, list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with state.arrived:
                status = state.statuses.pop(0) if state.statuses else 200
                if 200 <= status < 300:
                    state.received.append(
                        Received({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                state.arrived.notify_all()
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = _Server(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
