"""The ASGI application: `uvicorn exchange.web.app:create_app --factory`."""

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from exchange import __version__
from exchange.config import Settings, get_settings
from exchange.services.audit import LogKey, checkpoint
from exchange.signatures import SigningKey, load_private_key
from exchange.store.db import make_engine
from exchange.web import alerts, audit, errors, flags, policy, submissions, taxii, wellknown
from exchange.web.deps import get_now
from exchange.worker import Wakeup, Worker


def create_app(
    settings: Settings | None = None, operator_key: SigningKey | None = None
) -> FastAPI:
    """Wire the application explicitly: nothing happens at import time.

    `operator_key` defaults to the key file named by the settings (which must exist:
    `exchange serve` creates it on first start).
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = None
        if settings.checkpoint_interval_seconds > 0:
            interval = settings.checkpoint_interval_seconds
            task = asyncio.create_task(_checkpoints(app, interval, stop))
        halt, worker = threading.Event(), None
        if settings.worker:
            deliverer = Worker(app.state.engine, key, settings, wakeup=app.state.wakeup)
            worker = threading.Thread(target=deliverer.run, args=(halt,), name="worker")
            worker.start()
        yield
        stop.set()
        halt.set()
        app.state.wakeup.notify()
        if task is not None:
            await task  # lets a checkpoint being signed finish before the engine goes
        if worker is not None:
            await run_in_threadpool(worker.join)  # the round in flight is recorded first
        app.state.engine.dispose()

    app = FastAPI(
        title="Exchange",
        version=__version__,
        summary="Signed STIX 2.1 flags of cryptocurrency addresses, shared between partners.",
        lifespan=lifespan,
    )
    key = operator_key or _load_operator_key(settings)
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.operator_key = key
    app.state.operator_keys = {key.kid: key.public_key}
    app.state.log_key = LogKey(settings.origin, key)
    app.state.alias_secret = key.derive("exchange pseudonyms v1")
    app.state.wakeup = Wakeup()
    errors.install(app)
    for module in (wellknown, submissions, flags, policy, audit, alerts, taxii):
        app.include_router(module.router)
    app.openapi_schema = None
    _document_signed_bundle(app)
    return app


def _load_operator_key(settings: Settings) -> SigningKey:
    return load_private_key(settings.operator_key.read_bytes())


async def _checkpoints(app: FastAPI, interval: float, stop: asyncio.Event) -> None:
    """Sign a new checkpoint every `interval` seconds while the log grows, until `stop`."""
    while not stop.is_set():
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        if not stop.is_set():
            await run_in_threadpool(_checkpoint_now, app)


def _checkpoint_now(app: FastAPI) -> None:
    with Session(app.state.engine) as session, session.begin():
        checkpoint(session, app.state.log_key, now=get_now())


def _document_signed_bundle(app: FastAPI) -> None:
    """Add the signed-bundle document's schema to the OpenAPI components."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            schema.setdefault("components", {}).setdefault("schemas", {})["SignedBundle"] = {
                "type": "object",
                "required": ["bundle", "signatures"],
                "additionalProperties": False,
                "properties": {
                    "bundle": {"type": "object", "description": "A STIX 2.1 bundle"},
                    "signatures": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["protected", "signature"],
                            "properties": {
                                "protected": {"type": "string"},
                                "signature": {"type": "string"},
                            },
                        },
                    },
                },
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
