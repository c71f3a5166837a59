"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

from exchange.store.db import alembic_config, is_sqlite, make_engine, migrate
from tests.conftest import POSTGRES_URL


def _drift(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": is_sqlite(str(engine.url))},
        )
        return list(compare_metadata(context, SQLModel.metadata))


def test_upgrading_an_empty_sqlite_database_gives_the_declared_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    migrate(url)
    engine = make_engine(url)
    try:
        assert _drift(engine) == []
        assert {"partner", "flag", "report", "submission"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_the_migrated_postgresql_database_has_the_declared_schema(database_url: str) -> None:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL: set EXCHANGE_TEST_DATABASE_URL to run this on PostgreSQL")
    engine = make_engine(database_url)  # the session fixture migrated it from empty
    try:
        assert _drift(engine) == []
    finally:
        engine.dispose()


def test_every_migration_can_be_undone_and_redone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
        assert _drift(engine) == []
    finally:
        engine.dispose()


def test_objects_stored_before_0007_are_numbered_in_arrival_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'backfill.sqlite3'}"
    config = alembic_config(url)
    command.upgrade(config, "0006")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO partner (id, name, roles, created_at) "
                    "VALUES ('p', 'P', 'submitter', '2026-11-01 00:00:00.000000+00:00')"
                )
            )
            for number, (submission, at) in enumerate(
                [("late", "2026-11-03"), ("early", "2026-11-02")]
            ):
                connection.execute(
                    text(
                        "INSERT INTO submission (id, partner_id, bundle_id, bundle_sha256, "
                        "signer_kids, raw, outcomes, accepted, duplicates, received_at) "
                        "VALUES (:id, 'p', :bundle, 'x', '[]', x'00', '[]', 1, 0, :at)"
                    ),
                    {
                        "id": submission,
                        "bundle": f"bundle--{number}",
                        "at": f"{at} 00:00:00.000000+00:00",
                    },
                )
                for object_id in ("indicator--b", "indicator--a"):
                    connection.execute(
                        text(
                            "INSERT INTO stix_object (partner_id, object_id, version, type, "
                            "fingerprint, submission_id, body) "
                            "VALUES ('p', :object, :version, 'indicator', 'f', :submission, '{}')"
                        ),
                        {"object": object_id, "version": submission, "submission": submission},
                    )
        command.upgrade(config, "head")
        with engine.begin() as connection:
            rows = connection.execute(
                text("SELECT seq, object_id, version FROM stix_object ORDER BY seq")
            ).all()
        assert [tuple(row) for row in rows] == [
            (1, "indicator--a", "early"),
            (2, "indicator--b", "early"),
            (3, "indicator--a", "late"),
            (4, "indicator--b", "late"),
        ]
        assert _drift(engine) == []
    finally:
        engine.dispose()
