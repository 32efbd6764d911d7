"""Shared fixtures. Services (PostgreSQL, Ollama) are used for real; a missing one skips its tests, except
under OPTIINFRA_REQUIRE_SERVICES=1 (set by .ci/run), where a missing service fails them instead."""

from __future__ import annotations

import os
import secrets
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn
from urllib.parse import urlparse

import httpx
import pytest

from agents.routing import EmbeddedRouter
from mock_cloud import CloudSimulator
from tools.adapters.simulator import resilient_simulator
from tools.resilience import ResilientProvider

REQUIRE_SERVICES_VARIABLE = "OPTIINFRA_REQUIRE_SERVICES"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def cloud_of(sim: CloudSimulator) -> ResilientProvider:
    """The simulator as the workflows use it: retried, backing off in the simulator's time, not ours."""
    return resilient_simulator(sim)


def service_missing(service: str, why: str) -> NoReturn:
    """Skip the test, or fail it when the run requires every service."""
    if os.environ.get(REQUIRE_SERVICES_VARIABLE) == "1":
        pytest.fail(f"{service} is required ({REQUIRE_SERVICES_VARIABLE}=1) but {why}", pytrace=False)
    pytest.skip(f"{service} unavailable: {why} (set {REQUIRE_SERVICES_VARIABLE}=1 to make this a failure)")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test PostgreSQL server's URL (OPTIINFRA_TEST_POSTGRES_URL), checked to accept connections."""
    url = os.environ.get("OPTIINFRA_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    parsed = urlparse(url)
    if not reachable(parsed.hostname or "127.0.0.1", parsed.port or 5432):
        service_missing(
            "PostgreSQL", f"nothing accepts connections at {parsed.hostname}:{parsed.port or 5432}"
        )
    return url


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A database URL whose tables live in a schema of their own, dropped after the test: tests sharing the
    server do not see each other's rows."""
    with own_schema(postgres_url) as url:
        yield url


@contextmanager
def own_schema(postgres_url: str) -> Iterator[str]:
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="session")
def ollama_host() -> str:
    """The Ollama server at OLLAMA_HOST, checked to answer and to hold OPTIINFRA_TEST_OLLAMA_MODEL."""
    host = os.environ.get("OLLAMA_HOST", "http://127.0.0.1:11434")
    host = host if "://" in host else f"http://{host}"
    try:
        tags = httpx.get(f"{host}/api/tags", timeout=5).json()
    except (httpx.HTTPError, ValueError) as exc:
        service_missing("Ollama", f"{host} does not answer ({exc})")
    model = ollama_model()
    if not any(m["name"].split(":")[0] == model for m in tags.get("models", [])):
        service_missing("Ollama", f"the server at {host} has no model '{model}'")
    return host


def ollama_model() -> str:
    return os.environ.get("OPTIINFRA_TEST_OLLAMA_MODEL", "gemma3-270m")


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database the project supports: `memory`, an SQLite file, a PostgreSQL schema of its own."""
    if request.param == "memory":
        yield "memory"
    elif request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'optiinfra.db'}"
    else:
        yield request.getfixturevalue("postgres_schema_url")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(
    command: list[str], env: dict[str, str] | None = None, log: Path | None = None, ca: str | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`optiinfra COMMAND --port P` as a real process on a free loopback port, polled until its /healthz
    answers; yields its base URL and the process. Its stderr goes to `log` (a file cannot fill up and stall
    a chatty server the way an unread pipe can), else to a pipe read if it fails to start. With `ca`, the
    process serves TLS with a certificate that CA signed."""
    port = free_port()
    with ExitStack() as stack:
        sink: IO[str] | int = stack.enter_context(log.open("w")) if log else subprocess.PIPE
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", *command, "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=sink, text=True, env={**os.environ, **(env or {})},
        )  # fmt: skip
        stack.callback(_stop, process)
        url = f"{'https' if ca else 'http'}://127.0.0.1:{port}"
        verify = ssl.create_default_context(cafile=ca) if ca else True
        deadline = time.monotonic() + 60
        while True:  # poll until it answers: each refused connection returns at once
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0, verify=verify).status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    why = log.read_text() if log else process.stderr.read() if process.stderr else ""
                    raise AssertionError(f"`optiinfra {' '.join(command)}` did not start: {why}") from None
        yield url, process


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def serve_simulator(
    seed: int, size: int, speed: float = 0, tls: Tls | None = None, monitoring_port: int | None = None
) -> Iterator[str]:
    """`optiinfra cloud serve` as a real process on a free loopback port; yields its base URL. With `speed`,
    its clock runs that many simulated seconds a wall second; with `tls`, it answers over HTTPS; with
    `monitoring_port`, Cloud Monitoring's gRPC API answers there."""
    command = ["cloud", "serve", "--seed", str(seed), "--size", str(size), "--speed", str(speed)]
    if tls is not None:
        command += ["--certfile", tls.server, "--keyfile", tls.server]
    if monitoring_port is not None:
        command += ["--monitoring-port", str(monitoring_port)]
    with serving(command, ca=tls.ca if tls else None) as (url, _):
        yield url


@dataclass(frozen=True)
class Tls:
    """A test CA (trustme) and a certificate it signed for 127.0.0.1, as PEM files."""

    ca: str  # the CA's certificate, for clients to trust
    server: str  # the server's key and certificate chain


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    import trustme

    where = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(where / "ca.pem"))
    authority.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(where / "server.pem")
    )
    return Tls(str(where / "ca.pem"), str(where / "server.pem"))


@pytest.fixture(scope="session")
def embedded_router() -> EmbeddedRouter:
    """One router per run: loading the model and embedding the examples takes about a second."""
    router = EmbeddedRouter()
    router.warm()
    return router
