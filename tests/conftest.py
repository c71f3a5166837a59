"""Fixtures: a real database built by the migrations, wiped between tests.

SQLite by default; set EXCHANGE_TEST_DATABASE_URL (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the same suite on PostgreSQL.
That database is wiped: point it at a database kept for tests.
"""

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from exchange.cli import main
from exchange.config import Settings, get_settings
from exchange.signatures import SigningKey, generate_key
from exchange.store.db import is_sqlite, make_engine, migrate
from exchange.web.app import create_app

POSTGRES_URL = os.environ.get("EXCHANGE_TEST_DATABASE_URL")
_TABLES = (
    "delivery",
    "alert",
    "watch_entry",
    "subscription",
    "policy_version",
    "ledger_checkpoint",
    "ledger_node",
    "ledger_partner",
    "ledger_entry",
    "token_use",
    "stix_object",
    "report",
    "flag",
    "submission",
    "partner_key",
    "partner",
)


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if POSTGRES_URL:
        _reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    migrate(url)
    return url


@pytest.fixture(scope="session")
def _engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(_engine: Engine) -> Engine:
    """The migrated database, empty at the start of the test."""
    with _engine.begin() as connection:
        if is_sqlite(str(_engine.url)):
            for table in _TABLES:
                connection.execute(text(f"DELETE FROM {table}"))
        else:
            connection.execute(text(f"TRUNCATE {', '.join(_TABLES)} CASCADE"))
    return _engine


@pytest.fixture(scope="session")
def operator_key() -> SigningKey:
    return generate_key()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="http://testserver",
        operator_key=tmp_path / "unused.pem",
        checkpoint_interval_seconds=0,  # tests ask for checkpoints; none appear on their own
        worker=False,  # tests that deliver webhooks start a worker themselves
        webhook_allow_private=True,  # receivers listen on 127.0.0.1
    )


@pytest.fixture
def client(engine: Engine, settings: Settings, operator_key: SigningKey) -> Iterator[TestClient]:
    with TestClient(create_app(settings, operator_key=operator_key)) as test_client:
        yield test_client


@pytest.fixture
def live_url(engine: Engine, settings: Settings, operator_key: SigningKey) -> Iterator[str]:
    """The app served by uvicorn on a free local port, for clients that speak real HTTP."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    app = create_app(settings.model_copy(update={"public_url": url}), operator_key=operator_key)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.01)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def __call__(self, *argv: str, status: int = 0) -> str:
        """Run `exchange ARGV`; return stdout; check the exit status."""
        get_settings.cache_clear()
        try:
            main(list(argv))
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = self._capsys.readouterr()
        assert code == status, f"exit {code}: {err}"
        return out if status == 0 else err


@pytest.fixture
def cli(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EXCHANGE_DATABASE_URL", database_url)
    monkeypatch.setenv("EXCHANGE_OPERATOR_KEY", str(tmp_path / "operator.pem"))
    monkeypatch.setenv("EXCHANGE_PUBLIC_URL", "http://exchange.test")
    yield Cli(capsys)
    get_settings.cache_clear()
