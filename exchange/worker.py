"""The delivery worker: claims due webhook deliveries, POSTs them signed, records the answers.

An edge like the API and the CLI: it owns its transactions. Claiming is one short
transaction (each claimed attempt is leased, so a crashed worker's attempts come due again);
the POSTs run concurrently outside any transaction; the answers are recorded in a second
one. Several workers on PostgreSQL share the work (`FOR UPDATE SKIP LOCKED`) and wake on
`NOTIFY`; on SQLite the in-process worker is woken by the API in the same process, and a
separate `exchange worker` looks every second.
"""

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from exchange.config import Settings
from exchange.errors import InputError
from exchange.services.alerts import notify_expired
from exchange.services.deliveries import Result, Schedule, claim, settle_attempts
from exchange.signatures import SigningKey
from exchange.store.alerts import CHANNEL, Attempt
from exchange.webhooks import check_webhook_url, webhook_headers

log = logging.getLogger("exchange.worker")
BATCH = 64
SWEEP_INTERVAL = 30.0  # seconds between looks for expired reports to withdraw


class Wakeup:
    """A generation counter: writers `notify()` after committing work, the worker waits."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.generation = 0

    def notify(self) -> None:
        with self._condition:
            self.generation += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self._condition:
            self._condition.wait_for(lambda: self.generation != seen, timeout)
            return self.generation


class Worker:
    def __init__(
        self,
        engine: Engine,
        key: SigningKey,
        settings: Settings,
        *,
        wakeup: Wakeup | None = None,
        batch: int = BATCH,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),  # noqa: TID251 (an edge)
    ) -> None:
        self._engine, self._key, self._settings, self._clock = engine, key, settings, clock
        self.wakeup = wakeup or Wakeup()
        self._batch = batch
        self._schedule = Schedule(
            first_retry=timedelta(seconds=settings.webhook_first_retry_seconds),
            max_retry=timedelta(seconds=settings.webhook_max_retry_seconds),
            horizon=timedelta(seconds=settings.webhook_horizon_seconds),
            lease=timedelta(seconds=max(60.0, 3 * settings.webhook_timeout_seconds)),
        )
        self._jitter = random.Random()  # noqa: S311 (spreads retries; not a secret)
        self._http = httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False)
        self._pool = ThreadPoolExecutor(settings.webhook_concurrency, "webhook")

    def run_once(self) -> int:
        """Deliver what is due now; how many attempts were made."""
        now = self._clock()
        with Session(self._engine) as session, session.begin():
            attempts = claim(session, now=now, limit=self._batch, schedule=self._schedule)
        if not attempts:
            return 0
        results = list(self._pool.map(self._post, attempts))
        with Session(self._engine) as session, session.begin():
            settle_attempts(
                session, results, now=self._clock(), schedule=self._schedule, jitter=self._jitter
            )
        return len(attempts)

    def sweep(self) -> int:
        """Revocation notices for alerted reports that expired."""
        with Session(self._engine) as session, session.begin():
            return notify_expired(session, now=self._clock())

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set: at once when woken, else every second."""
        listener = None
        if self._engine.dialect.name == "postgresql":
            listener = threading.Thread(target=self._listen, args=(stop,), daemon=True)
            listener.start()
        seen, swept = self.wakeup.generation, 0.0
        while not stop.is_set():
            try:
                if time.monotonic() - swept > SWEEP_INTERVAL:
                    swept = time.monotonic()
                    if self.sweep():
                        continue
                if self.run_once() == self._batch:
                    continue  # more may be due
            except Exception:  # a worker must outlive one bad round: log it, go on
                log.exception("delivery round failed")
                stop.wait(1.0)
            seen = self.wakeup.wait(seen, 1.0)
        self.close()
        if listener is not None:
            listener.join(timeout=5)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._http.close()

    def _post(self, attempt: Attempt) -> Result:
        try:
            check_webhook_url(attempt.url, allow_private=self._settings.webhook_allow_private)
        except InputError as error:  # checked again here: DNS may have changed since
            return Result(attempt, None, f"refused: {error}")
        body = attempt.body.encode()
        headers = webhook_headers(
            self._key,
            alert_id=attempt.alert_id,
            body=body,
            timestamp=int(self._clock().timestamp()),
            attempt=attempt.attempt,
        )
        try:
            response = self._http.post(attempt.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return Result(attempt, None, f"{type(error).__name__}: {error}"[:500])
        if 200 <= response.status_code < 300:
            return Result(attempt, response.status_code, None)
        return Result(attempt, response.status_code, f"HTTP {response.status_code}")

    def _listen(self, stop: threading.Event) -> None:
        """PostgreSQL LISTEN: wake the loop the moment an API process commits alerts."""
        while not stop.is_set():
            try:
                with self._engine.raw_connection() as raw:
                    connection = raw.driver_connection
                    connection.autocommit = True  # type: ignore[union-attr]
                    connection.execute(f"LISTEN {CHANNEL}")  # type: ignore[union-attr]
                    while not stop.is_set():
                        for _ in connection.notifies(timeout=1.0):  # type: ignore[union-attr]
                            self.wakeup.notify()
            except Exception:  # the connection dropped: listen again
                log.exception("LISTEN failed; retrying")
                stop.wait(1.0)
