"""Making sure a server can listen before it says it does."""

from __future__ import annotations

import socket


class AddressUnavailableError(Exception):
    """The host and port a server was asked to listen on cannot be bound (in use, or not this machine's)."""


def check_can_listen(host: str, port: int) -> None:
    """Bind and release the address, so a busy port is one line before any banner, not a banner then a log
    line from uvicorn. uvicorn binds again right after: another process taking the port in between still
    fails there, loudly."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise AddressUnavailableError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
