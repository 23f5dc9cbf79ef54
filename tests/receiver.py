"""A local HTTP receiver for webhook tests: records every POST's path and JSON body; answers by
path (/ok 200, /refuses 400, /busy 503 twice then 200, /slow after 30 s)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.processes import http_server


@dataclass
class Receiver:
    url: str
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    busy_answers: int = 0

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [body for at, body in self.received if at == path]


@contextmanager
def receiver() -> Iterator[Receiver]:
    found = Receiver("")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            with lock:
                found.received.append((self.path, body))
                if self.path == "/busy":
                    found.busy_answers += 1
                busy = found.busy_answers
            if self.path == "/slow":
                time.sleep(30)
            status = {"/ok": 200, "/refuses": 400}.get(self.path, 200)
            if self.path == "/busy":
                status = 503 if busy <= 2 else 200
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    with http_server(Handler) as found.url:
        yield found
