"""Alembic environment: the exchange's tables, on the URL set by exchange.store.db."""

from alembic import context
from sqlmodel import SQLModel

import exchange.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from exchange.store.db import is_sqlite, make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None
connectable = config.attributes.get("connection")


def run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=is_sqlite(url),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connectable is not None:
    run(connectable)
else:
    engine = make_engine(url)
    with engine.connect() as connection:
        if is_sqlite(url):
            # SQLite rebuilds a table to alter it; with foreign keys enforced, dropping the
            # old copy fails while other tables point at it. Switch enforcement off for the
            # migration (outside any transaction, where SQLite honours it), then check.
            raw = connection.connection.driver_connection
            raw.execute("PRAGMA foreign_keys = OFF")
            run(connection)
            if raw.execute("PRAGMA foreign_key_check").fetchall():
                raise RuntimeError("the migration left rows pointing at nothing")
            raw.execute("PRAGMA foreign_keys = ON")
        else:
            run(connection)
    engine.dispose()
