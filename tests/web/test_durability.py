"""An acknowledged submission survives the server being killed (SIGKILL) right after the 201."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine

from exchange import tokens
from tests.factories import (
    ETH_CHECKSUMMED,
    ETH_LOWER,
    Member,
    bundle,
    indicator,
    make_member,
    signed,
)

EXCHANGE = [sys.executable, "-m", "exchange"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(database_url: str, workdir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    env = os.environ | {
        "EXCHANGE_DATABASE_URL": database_url,
        "EXCHANGE_OPERATOR_KEY": str(workdir / "operator.pem"),
    }
    env.pop("EXCHANGE_PUBLIC_URL", None)
    process = subprocess.Popen(
        [*EXCHANGE, "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/.well-known/exchange", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert process.poll() is None, "the server exited while starting"
                assert time.monotonic() < deadline, "the server did not start in 60 s"
                time.sleep(0.1)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def _auth(member: Member, base: str) -> dict[str, str]:
    token = tokens.issue(
        member.key, audience=base, now=datetime.now(UTC), ttl=tokens.PARTNER_TOKEN_MAX_LIFETIME
    )
    return {"Authorization": f"Bearer {token}"}


def test_a_201_survives_sigkill_of_the_server(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    ngo = make_member(engine)
    body = signed(bundle(indicator(ngo.id, ETH_CHECKSUMMED)), ngo.key, iat=datetime.now(UTC))
    with server(database_url, tmp_path) as (process, base):
        response = httpx.post(
            f"{base}/api/v1/submissions",
            content=body,
            headers=_auth(ngo, base) | {"Content-Type": "application/json"},
            timeout=30,
        )
        os.kill(process.pid, signal.SIGKILL)  # at once: no graceful shutdown, no flush
        process.wait()
    assert response.status_code == 201, response.text
    receipt = response.json()

    with server(database_url, tmp_path) as (_, base):
        again = httpx.get(f"{base}/api/v1/submissions/{receipt['id']}", headers=_auth(ngo, base))
        flag = httpx.get(f"{base}/api/v1/flags/ethereum/{ETH_LOWER}", headers=_auth(ngo, base))
        raw = httpx.get(f"{base}/api/v1/submissions/{receipt['id']}/raw", headers=_auth(ngo, base))
    assert again.json() == receipt
    assert flag.json()["reports"][0]["submission_id"] == receipt["id"]
    assert raw.content == body
