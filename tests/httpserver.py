"""A real HTTP server on 127.0.0.1 for download tests: serves a folder, honours Range, can misbehave."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FolderServer:
    """Serve `root` on an ephemeral loopback port.

    `drop_once`: file names whose first request sends half the bytes and then closes the connection.
    `redirect`: path -> URL answered with a 302 to that URL.
    `padding`: path -> bytes sent after the file (a server that sends more than it should).
    `omit_length`: paths answered without Content-Length (the body ends when the connection closes).
    `length_text`: path -> the Content-Length header sent instead of the body's size (then it closes).
    `log`: (path, Range header or None) of every GET, in order.
    """

    def __init__(
        self,
        root: Path,
        drop_once: set[str] | None = None,
        honour_range: bool = True,
        redirect: dict[str, str] | None = None,
        padding: dict[str, bytes] | None = None,
        omit_length: set[str] | None = None,
        length_text: dict[str, str] | None = None,
    ) -> None:
        self.root = Path(root)
        self.drop_once = set(drop_once or ())
        self.honour_range = honour_range
        self.redirect = dict(redirect or {})
        self.padding = dict(padding or {})
        self.omit_length = set(omit_length or ())
        self.length_text = dict(length_text or {})
        self.log: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                rel = self.path.split("?")[0].lstrip("/")
                server.log.append((rel, self.headers.get("Range")))
                if rel in server.redirect:
                    self.send_response(302)
                    self.send_header("Location", server.redirect[rel])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path = (server.root / rel).resolve()
                if not path.is_file() or server.root.resolve() not in path.parents:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = path.read_bytes() + server.padding.get(rel, b"")
                start = 0
                rng = self.headers.get("Range")
                if rng and server.honour_range:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                if rel in server.omit_length or rel in server.length_text:
                    if rel in server.length_text:
                        self.send_header("Content-Length", server.length_text[rel])
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if rel in server.drop_once:
                    server.drop_once.discard(rel)
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> FolderServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
