"""Real local receivers for notifications: an HTTP server that records what is posted to it (a webhook, a
Slack incoming webhook) and answers as told, and an SMTP server (aiosmtpd) that keeps the mail it gets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.conftest import free_port
from tools.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def signed_by(self, secret: str) -> bool:
        """Whether the signature checks out, as a receiver would check it."""
        timestamp = self.headers.get(TIMESTAMP_HEADER.lower(), "")
        given = self.headers.get(SIGNATURE_HEADER.lower(), "")
        return bool(timestamp) and given == "v1=" + signature(secret, timestamp, self.body)


@dataclass
class HttpReceiver:
    url: str
    posts: list[Post] = field(default_factory=list)
    # Statuses to answer with, in turn; once they run out, 200.
    answers: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[str]:
        return [p.json().get("event", "") for p in self.posts]


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    port = free_port()
    receiver = HttpReceiver(url=f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with receiver.lock:
                receiver.posts.append(Post(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"try later" if status >= 500 else b"no_service")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


@contextmanager
def smtp_server(user: str | None = None, password: str | None = None) -> Iterator[Mailbox]:
    """An SMTP server on loopback; with `user`, it asks for that login (AUTH PLAIN/LOGIN, without TLS)."""
    port = free_port()
    box = Mailbox("127.0.0.1", port)

    class Handler:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
            content = envelope.original_content or b""
            box.messages.append(message_from_bytes(content))
            box.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
            return "250 OK"

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if (
            isinstance(data, LoginPassword)
            and data.login.decode() == user
            and data.password.decode() == password
        ):
            box.logins.append(user or "")
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    options: dict[str, Any] = {}
    if user is not None:
        options = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False}
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
