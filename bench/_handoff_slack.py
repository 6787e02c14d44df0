"""The Slack (and CRM) stand-in of bench/handoff_latency.py, run as its own process so the
load generator's work never delays a stamp:

    python bench/_handoff_slack.py PORT STAMPS_FILE

A threaded HTTP/1.1 server (keep-alive, as Slack's is) that answers every POST ``ok`` and
appends one line per request to STAMPS_FILE: wall-clock receipt time (``time.time()``, taken
before the body is read), the path, and the bench lead emails (``hr…@``) found in the body;
the Slack payload names the lead in its text and fields. Prints ``listening`` once ready.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

HAND_RAISER = re.compile(rb"hr\d+@[a-z0-9.-]+\.example")


class Stamps:
    def __init__(self, path: Path) -> None:
        self._out: IO[str] = path.open("a", buffering=1)  # a line at a time
        self._lock = threading.Lock()

    def write(self, at: float, path: str, body: bytes) -> None:
        emails = sorted({m.decode() for m in HAND_RAISER.findall(body)}) or ["-"]
        with self._lock:
            self._out.write(f"{at:.6f} {path} {','.join(emails)}\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: with Nagle on, the body waited for the client's
    # delayed ACK, holding every delivery's worker thread ~40 ms longer than Slack would.
    disable_nagle_algorithm = True
    stamps: Stamps

    def do_POST(self) -> None:
        at = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.stamps.write(at, self.path, body)
        answer = b"ok"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request goes to the stamps file, nothing to stderr


def main() -> None:
    port, stamps = int(sys.argv[1]), Path(sys.argv[2])
    Handler.stamps = Stamps(stamps)
    ThreadingHTTPServer.request_queue_size = 128  # a burst of connections is never refused
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
