"""Sharing-log benchmark: append cost, proofs and full verification of a big log.

For each engine (a temporary SQLite file; PostgreSQL `benchledger`, its public schema
dropped and recreated, then migrated) it:

1. builds a log of --entries entries (default 1,000,000) with LedgerStore.append, one
   transaction per --batch entries, of realistic `partner:bundle:submit` entries (the
   details the submission service writes; 100 partners), and prints the append rate
   (append + commit only; generating the entries is not timed). On PostgreSQL it then
   runs ANALYZE, as autovacuum would (the local server may run with autovacuum off);
2. measures what one submission pays for its log entry: LedgerStore.append([entry]) in its
   own transaction on the big log (p50/p99), and the whole submit_bundle (commit
   included) of signed 1,000-indicator bundles with the real record() and with record()
   replaced by a no-op, alternating; the overhead is shown both ways: record() time /
   submission time, and the difference of the two medians (noisier). The bundles use
   bench/workload.py's addresses and indicators, every chain stated;
3. inclusion proofs (random seq, size N) and consistency proofs (random first < N, second
   N), --proofs of each, from LedgerStore (p50/p99 ms; every inclusion proof and the
   first 100 consistency proofs are checked against root(N)), and root(N) itself;
4. serves the app with uvicorn in a thread of this process, registers an auditor, then
   runs exchange.verifier.verify_log from scratch in a child process (so its peak RSS is
   the verifier's alone), the same proofs over real HTTP from another child, and the CLI
   `exchange audit verify --pubkey ...` once as a subprocess. Each of the auditor's
   entry pages appends a LOG_READ entry while it verifies: verify_log reads up to the
   checkpoint it fetched first, so the log growing meanwhile is expected.

The load average is recorded after each phase: on a shared machine, compare runs with it.

    python bench/ledger.py                                   # both engines, 1,000,000 entries
    python bench/ledger.py --engines sqlite --entries 50000  # a quick run
    python bench/ledger.py --json > ledger.json              # tables on stderr, JSON on stdout

PostgreSQL runs wipe the public schema of --postgres-url (default: the `benchledger`
database, created if missing) and hold an advisory lock on it meanwhile, so a second run
refuses to start rather than wiping the first one's log; a database whose name does not
contain "ledger", or the `test` and `bench` databases, is refused.
"""

import argparse
import base64
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import uvicorn
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import Engine, bindparam, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import REPEAT_SHARE, Spelling, code_version, indicator, random_address, sign

import exchange.services.submissions as submissions_service
from exchange.config import Settings
from exchange.core import merkle
from exchange.core.ledger import Action, Entry
from exchange.core.partners import Partner, Role
from exchange.services.partners import add_partner, register_key
from exchange.services.submissions import Limits, submit_bundle
from exchange.signatures import SigningKey, b64url, generate_key, write_private_key
from exchange.store.db import make_engine, migrate
from exchange.store.ledger import LedgerStore
from exchange.web.app import create_app

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/benchledger"
EXCHANGE = Path(sys.executable).with_name("exchange")
PARTNER_COUNT = 100
TARGET_OVERHEAD = 0.10  # appending may cost ingest at most 10%
TARGET_PROOF_MS = 10.0
RUN_LOCK = 0x6C62656E  # "lben": one bench/ledger.py run per PostgreSQL database
CHECKED_CONSISTENCY = 100  # consistency proofs checked against root(first); all are timed
WIDTH = None if sys.stdout.isatty() else 160  # rich's default off a terminal is 80
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


class BenchError(RuntimeError):
    """The run cannot go on."""


# --- small helpers -------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank on the sorted values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(values_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "p50_ms": pct(values_ms, 50),
        "p99_ms": pct(values_ms, 99),
        "mean_ms": statistics.fmean(values_ms) if values_ms else float("nan"),
        "max_ms": max(values_ms, default=float("nan")),
    }


def status_kib(pid: int | str, name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def progress_bar(*extra: TextColumn) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    )


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# --- databases -----------------------------------------------------------------------------


@contextmanager
def own_postgres(url: str) -> Iterator[None]:
    """Create the database if missing, hold it for this run, and drop and recreate its public
    schema. Held: a session advisory lock, so a second run refuses to start instead of
    wiping the log this one is measuring."""
    parsed = make_url(url)
    name = parsed.database or ""
    if name in ("", "test", "bench", "postgres") or "ledger" not in name:
        raise BenchError(f"refusing to wipe database {name!r}: use one named *ledger*")
    plain = parsed.set(drivername="postgresql")
    admin = plain.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as held:
        locked = held.execute("SELECT pg_try_advisory_lock(%s)", (RUN_LOCK,)).fetchone()
        if locked is None or not locked[0]:
            raise BenchError(f"another bench/ledger.py run is using database {name!r}")
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
        yield  # the lock goes with the connection


def database_size(engine: Engine, sqlite_file: Path | None) -> dict[str, float]:
    """On-disk size of the log (MiB): the SQLite file and its WAL, or the ledger tables."""
    if sqlite_file is not None:
        files = [sqlite_file, sqlite_file.with_name(sqlite_file.name + "-wal")]
        total = sum(f.stat().st_size for f in files if f.exists())
        return {"database_mib": total / 2**20}
    sizes: dict[str, float] = {}
    with engine.connect() as connection:
        for table in ("ledger_entry", "ledger_partner", "ledger_node"):
            size = connection.execute(
                text("SELECT pg_total_relation_size(CAST(:t AS regclass))"), {"t": table}
            ).scalar_one()
            sizes[f"{table}_mib"] = size / 2**20
    sizes["database_mib"] = sum(sizes.values())
    return sizes


def describe_database(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            version = connection.execute(text("SELECT sqlite_version()")).scalar_one()
            return {"engine": "sqlite", "version": str(version)}
        version = connection.execute(text("SHOW server_version")).scalar_one()
        autovacuum = connection.execute(text("SHOW autovacuum")).scalar_one()
        return {"engine": "postgresql", "version": str(version), "autovacuum": str(autovacuum)}


# --- realistic entries ---------------------------------------------------------------------


class EntryMaker:
    """`partner:bundle:submit` entries as submit_bundle records them, from a seeded RNG."""

    def __init__(self, seed: int = 20261125, partners: int = PARTNER_COUNT) -> None:
        self.rng = random.Random(seed)
        self.partners = [f"identity--{self._uuid()}" for _ in range(partners)]
        # one or two signing keys per partner: RFC 7638 thumbprints, 43 base64url chars
        self.kids = {
            p: [b64url(self.rng.randbytes(32)) for _ in range(self.rng.choice((1, 1, 2)))]
            for p in self.partners
        }
        self.at = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def entry(self) -> Entry:
        rng = self.rng
        partner = self.partners[rng.randrange(len(self.partners))]
        self.at += timedelta(microseconds=rng.randrange(1, 60_000_000))
        objects = rng.choice((1, 3, 10, 50, 100, 250, 1000, 1000, 1000, 5000))
        duplicates = 0 if rng.random() < 0.7 else rng.randint(0, objects // 10)
        kids = self.kids[partner]
        signer_kids = kids if rng.random() < 0.05 else kids[:1]
        return Entry(
            Action.BUNDLE_SUBMITTED,
            self.at,
            partner,
            self._uuid(),  # the submission id
            partners=(partner,),
            details={
                "bundle_id": f"bundle--{self._uuid()}",
                "received_sha256": rng.randbytes(32).hex(),
                "bundle_sha256": rng.randbytes(32).hex(),
                "kids": list(signer_kids),
                "accepted": objects - duplicates,
                "duplicates": duplicates,
            },
        )

    def batch(self, count: int) -> list[Entry]:
        return [self.entry() for _ in range(count)]


# --- 1. build the log ----------------------------------------------------------------------


def build_log(engine: Engine, maker: EntryMaker, entries: int, batch: int) -> dict[str, Any]:
    """Append `entries` entries, `batch` per transaction; timed: append + commit only."""
    per_batch: list[tuple[int, float]] = []
    generating = 0.0
    started = time.perf_counter()
    with progress_bar(TextColumn("{task.fields[rate]}")) as bar:
        task = bar.add_task("append", total=entries, rate="")
        done = 0
        while done < entries:
            count = min(batch, entries - done)
            t0 = time.perf_counter()
            chunk = maker.batch(count)
            t1 = time.perf_counter()
            with Session(engine) as session, session.begin():
                seqs = LedgerStore(session).append(chunk)
            t2 = time.perf_counter()
            if seqs[0] != done:
                raise BenchError(f"append gave seq {seqs[0]}, expected {done}")
            generating += t1 - t0
            per_batch.append((count, t2 - t1))
            done += count
            appended = sum(c for c, _ in per_batch)
            seconds = sum(s for _, s in per_batch)
            bar.update(task, completed=done, rate=f"{appended / seconds:,.0f} entries/s")
    wall = time.perf_counter() - started
    appending = sum(s for _, s in per_batch)
    tenth = max(1, len(per_batch) // 10)

    def rate(part: list[tuple[int, float]]) -> float:
        return sum(c for c, _ in part) / sum(s for _, s in part)

    return {
        "entries": entries,
        "batch": batch,
        "wall_seconds": wall,
        "append_seconds": appending,
        "generate_seconds": generating,
        "entries_per_second": entries / appending,
        "first_10pct_per_second": rate(per_batch[:tenth]),
        "last_10pct_per_second": rate(per_batch[-tenth:]),
        "batch_p50_ms": pct([s * 1000 for _, s in per_batch], 50),
        "batch_max_ms": max(s for _, s in per_batch) * 1000,
    }


# --- 2. what one submission pays -----------------------------------------------------------


def single_appends(engine: Engine, maker: EntryMaker, count: int) -> dict[str, Any]:
    """One entry per transaction, as a submission appends it: append, then commit."""
    append_ms: list[float] = []
    commit_ms: list[float] = []
    empty_commit_ms: list[float] = []
    for number in range(count + 5):
        entry = maker.entry()
        with Session(engine) as session:
            session.begin()
            session.execute(text("SELECT 1"))  # the submission's transaction is under way
            t0 = time.perf_counter()
            LedgerStore(session).append([entry])
            t1 = time.perf_counter()
            session.commit()
            t2 = time.perf_counter()
            # the same transaction without the entry: what the commit costs anyway
            session.begin()
            session.execute(text("SELECT 1"))
            t3 = time.perf_counter()
            session.commit()
            t4 = time.perf_counter()
        if number >= 5:  # warm-up
            append_ms.append((t1 - t0) * 1000)
            commit_ms.append((t2 - t1) * 1000)
            empty_commit_ms.append((t4 - t3) * 1000)
    return {
        "append": summary(append_ms),
        "commit_with_entry": summary(commit_ms),
        "commit_without_entry": summary(empty_commit_ms),
    }


@contextmanager
def patched_record(mode: str, spent: list[float]) -> Iterator[None]:
    """submit_bundle's record(): timed ("with"), or a no-op ("without")."""
    original = submissions_service.record

    def timed(session: Session, *entries: Entry) -> list[int]:
        start = time.perf_counter()
        try:
            return original(session, *entries)
        finally:
            spent.append((time.perf_counter() - start) * 1000)

    def skipped(_session: Session, *_entries: Entry) -> list[int]:
        return []

    submissions_service.record = timed if mode == "with" else skipped
    try:
        yield
    finally:
        submissions_service.record = original


def signed_bundles(partners: list[str], size: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """(partner index, bundle), round robin: bench/workload.py's addresses and indicators,
    ~5% of them corroborating an address another partner sent, every chain stated (the
    exchange refuses spellings that several chains share unless the chain is stated)."""
    rng = random.Random(20261126)
    pools: list[list[Spelling]] = [[] for _ in partners]  # fresh addresses each one sent
    for number in itertools.count():
        who, objects, fresh = number % len(partners), [], []
        for position in range(size):
            others = [n for n, pool in enumerate(pools) if n != who and pool]
            if position < round(size * REPEAT_SHARE) and others:
                pool = pools[rng.choice(others)]  # taken out: never corroborated twice
                spelling = pool.pop(rng.randrange(len(pool)))
                text = spelling.other if rng.random() < 0.5 else spelling.text
            else:
                spelling = random_address(rng)
                fresh.append(spelling)
                text = spelling.text
            objects.append(indicator(rng, partners[who], spelling, text, explicit_chain=True))
        pools[who].extend(fresh)
        bundle_id = f"bundle--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        yield who, {"type": "bundle", "id": bundle_id, "objects": objects}


def submissions(engine: Engine, count: int, bundle_size: int) -> dict[str, Any]:
    """submit_bundle of signed bundles, with and without the log entry, alternating ABBA."""
    now = datetime.now(UTC)
    keys = [generate_key(), generate_key()]
    partners: list[Partner] = []
    with Session(engine) as session, session.begin():
        for number, key in enumerate(keys):
            partner = add_partner(session, f"bench submitter {number}", [Role.SUBMITTER], now=now)
            register_key(session, partner.id, key.public_key, now=now)
            partners.append(partner)
    bundles = signed_bundles([p.id for p in partners], bundle_size)
    warm = 2
    pairs = [("without", "with") if n % 2 == 0 else ("with", "without") for n in range(count)]
    plan = ["with", "without"] * warm + [mode for pair in pairs for mode in pair]
    timings: dict[str, list[float]] = {"with": [], "without": []}
    record_ms: list[float] = []
    with progress_bar() as bar:
        task = bar.add_task(f"submit_bundle ({bundle_size} objects)", total=len(plan))
        for number, mode in enumerate(plan):
            who, bundle = next(bundles)
            body = sign(bundle, keys[who], iat=int(datetime.now(UTC).timestamp()))
            spent: list[float] = []
            with patched_record(mode, spent), Session(engine) as session:
                start = time.perf_counter()
                with session.begin():
                    receipt = submit_bundle(
                        session, partners[who], body, now=datetime.now(UTC), limits=Limits()
                    )
                elapsed = (time.perf_counter() - start) * 1000
            if not receipt.created or len(receipt.submission.outcomes) != bundle_size:
                raise BenchError(f"submission {number} was not stored as expected")
            if number >= 2 * warm:
                timings[mode].append(elapsed)
                record_ms.extend(spent)
            bar.advance(task)
    with_ms, without_ms = statistics.median(timings["with"]), statistics.median(timings["without"])
    record_median = statistics.median(record_ms)
    return {
        "bundle_size": bundle_size,
        "with_record": summary(timings["with"]),
        "without_record": summary(timings["without"]),
        "record": summary(record_ms),
        "overhead_record_share": record_median / without_ms,
        "overhead_median_difference": (with_ms - without_ms) / without_ms,
    }


# --- 3. proofs from the store --------------------------------------------------------------


def store_proofs(engine: Engine, size: int, count: int, seed: int = 7) -> dict[str, Any]:
    """Inclusion and consistency proofs in the tree of `size`, timed alone; every inclusion
    proof and the first CHECKED_CONSISTENCY consistency proofs are checked."""
    rng = random.Random(seed)
    result: dict[str, Any] = {"size": size}
    root_ms: list[float] = []
    with Session(engine) as session, session.begin():
        store = LedgerStore(session)
        for _ in range(21):
            start = time.perf_counter()
            root = store.root(size)
            root_ms.append((time.perf_counter() - start) * 1000)
    result["root"] = base64.b64encode(root).decode()
    result["root_ms"] = statistics.median(root_ms)

    seqs = [rng.randrange(size) for _ in range(count)]
    bodies: dict[int, str] = {}
    with engine.connect() as connection:
        for start in range(0, len(seqs), 500):
            wanted = sorted(set(seqs[start : start + 500]))
            found = connection.execute(
                text("SELECT seq, body FROM ledger_entry WHERE seq IN :seqs").bindparams(
                    bindparam("seqs", expanding=True)
                ),
                {"seqs": wanted},
            )
            bodies.update((seq, body) for seq, body in found)

    with progress_bar() as bar:
        inclusion_ms, inclusion_txn_ms = [], []
        task = bar.add_task("inclusion proofs", total=count)
        for seq in seqs:
            t0 = time.perf_counter()
            with Session(engine) as session, session.begin():
                t1 = time.perf_counter()
                proof = LedgerStore(session).inclusion_proof(seq, size)
                t2 = time.perf_counter()
            t3 = time.perf_counter()
            inclusion_ms.append((t2 - t1) * 1000)
            inclusion_txn_ms.append((t3 - t0) * 1000)
            merkle.verify_inclusion(merkle.leaf_hash(bodies[seq].encode()), seq, size, proof, root)
            bar.advance(task)

        firsts = [rng.randrange(1, size) for _ in range(count)]
        consistency_ms, consistency_txn_ms, lengths = [], [], []
        task = bar.add_task("consistency proofs", total=count)
        for first in firsts:
            t0 = time.perf_counter()
            with Session(engine) as session, session.begin():
                t1 = time.perf_counter()
                proof = LedgerStore(session).consistency_proof(first, size)
                t2 = time.perf_counter()
            t3 = time.perf_counter()
            consistency_ms.append((t2 - t1) * 1000)
            consistency_txn_ms.append((t3 - t0) * 1000)
            lengths.append(len(proof))
            if len(lengths) <= CHECKED_CONSISTENCY:  # root(first) costs a proof's time again
                with Session(engine) as session:
                    first_root = LedgerStore(session).root(first)
                merkle.verify_consistency(first, size, proof, first_root, root)
            bar.advance(task)
    result["inclusion"] = summary(inclusion_ms)
    result["inclusion_in_transaction"] = summary(inclusion_txn_ms)
    result["consistency"] = summary(consistency_ms)
    result["consistency_in_transaction"] = summary(consistency_txn_ms)
    result["consistency_hashes_max"] = max(lengths)
    return result


# --- 4. the server and the verifier --------------------------------------------------------


@contextmanager
def serve(url: str, workdir: Path, operator_key: SigningKey) -> Iterator[tuple[str, Settings]]:
    """The app served by uvicorn in a thread of this process (as tests/conftest.py does)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=url,
        public_url=base,
        operator_key=workdir / "unused.pem",
        checkpoint_interval_seconds=0,
    )
    app = create_app(settings, operator_key=operator_key)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise BenchError("the uvicorn server did not start")
        time.sleep(0.01)
    try:
        yield base, settings
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def sampling_rss(peak: dict[str, int], every: float = 0.2) -> Iterator[None]:
    """The highest VmRSS of this process (the server thread's home) while the block runs."""
    running = True

    def sample() -> None:
        while running:
            peak["kib"] = max(peak.get("kib", 0), status_kib("self", "VmRSS"))
            time.sleep(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        running = False
        thread.join()


def run_child(
    job: dict[str, Any], label: str, total: int | None
) -> tuple[dict[str, Any], dict[str, int]]:
    """Run `python -c CHILD JOB`; show its progress; its result, and this process's peak RSS
    (the server's) meanwhile."""
    command = [sys.executable, "-c", CHILD, json.dumps(job)]
    server_rss: dict[str, int] = {}
    result: dict[str, Any] | None = None
    with (
        tempfile.TemporaryFile() as stderr,
        progress_bar() as bar,
        sampling_rss(server_rss),
    ):
        task = bar.add_task(label, total=total)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
        assert process.stdout is not None
        for line in process.stdout:
            kind, _, rest = line.partition(" ")
            if kind == "P":
                done, of = map(int, rest.split())
                bar.update(task, completed=done, total=of)
            elif kind == "R":
                result = json.loads(rest)
        process.wait()
        if process.returncode != 0 or result is None:
            stderr.seek(0)
            raise BenchError(
                f"{label}: the child exited with {process.returncode}:\n"
                + stderr.read().decode(errors="replace")[-4000:]
            )
    return result, server_rss


def run_cli(base: str, key: Path, pubkey: Path, workdir: Path) -> dict[str, Any]:
    """`exchange audit verify` once, as an auditor runs it; wall time and peak RSS."""
    command = [
        str(EXCHANGE),
        "audit",
        "verify",
        "--url",
        base,
        "--key",
        str(key),
        "--pubkey",
        str(pubkey),
    ]
    out, errors = workdir / "cli.out", workdir / "cli.err"
    server_rss: dict[str, int] = {}
    with (
        out.open("w") as stdout,
        errors.open("w") as stderr,
        progress_bar() as bar,
        sampling_rss(server_rss),
    ):
        bar.add_task("exchange audit verify (CLI)", total=None)
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        peak_kib = 0
        while process.poll() is None:  # VmHWM only grows: the last sample is the peak
            peak_kib = max(peak_kib, status_kib(process.pid, "VmHWM"))
            time.sleep(0.05)
        seconds = time.perf_counter() - start
    said = out.read_text().strip()
    if process.returncode != 0 or not said.startswith("OK:"):
        raise BenchError(
            f"exchange audit verify exited {process.returncode}:\n{said}\n"
            + errors.read_text()[-4000:]
        )
    checked = int(said.rsplit("; ", 1)[1].split()[0])
    return {
        "command": " ".join(command[1:]),
        "output": said,
        "seconds": seconds,
        "checked": checked,
        "entries_per_second": checked / seconds,
        "peak_rss_mib": peak_kib / 1024,  # sampled every 50 ms
        "server_process_peak_rss_mib": server_rss.get("kib", 0) / 1024,
    }


def verify_over_http(
    url: str, workdir: Path, size: int, http_proofs: int, cli: bool
) -> dict[str, Any]:
    operator_key, auditor_key = generate_key(), generate_key()
    key_file, pub_file = workdir / "auditor.pem", workdir / "operator.pub.pem"
    write_private_key(auditor_key, key_file)
    pub_file.write_bytes(operator_key.public_pem())
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            now = datetime.now(UTC)
            auditor = add_partner(session, "bench auditor", [Role.AUDITOR], now=now)
            register_key(session, auditor.id, auditor_key.public_key, now=now)
    finally:
        engine.dispose()
    result: dict[str, Any] = {}
    with serve(url, workdir, operator_key) as (base, settings):
        job = {
            "do": "verify",
            "url": base,
            "key": str(key_file),
            "pubkey": str(pub_file),
            "origin": settings.origin,
        }
        verified, server_rss = run_child(job, "verify_log over HTTP", size)
        verified["server_process_peak_rss_mib"] = server_rss.get("kib", 0) / 1024
        result["verify_log"] = verified
        if cli:
            result["cli"] = run_cli(base, key_file, pub_file, workdir)
        if http_proofs:
            job = {"do": "proofs", "url": base, "key": str(key_file), "size": size}
            job["count"] = http_proofs
            timings, _ = run_child(job, "proofs over HTTP", 2 * http_proofs)
            result["http_proofs"] = {kind: summary(ms) for kind, ms in timings.items()}
    return result


# --- the child process: what an auditor's machine runs --------------------------------------

# Run as `python -c CHILD JOB`, so it imports only what an auditor's tool needs (the client,
# the verifier), and its peak RSS is the verifier's own. It prints `P done total` progress
# lines, then `R <json result>`.
CHILD = r"""
import base64, json, random, sys, time
from pathlib import Path

from exchange import verifier
from exchange.client import ExchangeClient
from exchange.core import merkle
from exchange.signatures import load_private_key, load_public_key


def say(kind, payload):
    sys.stdout.write(f"{kind} {payload}\n")
    sys.stdout.flush()


def hwm_kib():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forked parent across exec
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def verify(job, key):
    public_key = load_public_key(Path(job["pubkey"]).read_bytes())
    before_kib = hwm_kib()
    phases = {"http_ms": 0.0, "pages": 0, "bytes": 0, "download_ms": 0.0, "tree_ms": 0.0}
    original_download, original_append = verifier._download_leaves, merkle.append

    def download(client, *args):
        get = client.get

        def timed_get(path, params=None):
            start = time.perf_counter()
            response = get(path, params)
            phases["http_ms"] += (time.perf_counter() - start) * 1000
            phases["pages"] += 1
            phases["bytes"] += len(response.content)
            return response

        client.get = timed_get
        start = time.perf_counter()
        try:
            return original_download(client, *args)
        finally:
            phases["download_ms"] += (time.perf_counter() - start) * 1000
            client.get = get

    def tree(*args):
        start = time.perf_counter()
        try:
            return original_append(*args)
        finally:
            phases["tree_ms"] += (time.perf_counter() - start) * 1000

    verifier._download_leaves = download
    merkle.append = tree
    with ExchangeClient(job["url"], key=key) as client:
        client.metadata()  # the token audience, fetched once: not part of the verification
        start = time.perf_counter()
        verified = verifier.verify_log(
            client,
            origin=job["origin"],
            public_key=public_key,
            progress=lambda done, total: say("P", f"{done} {total}"),
        )
        seconds = time.perf_counter() - start
    peak_kib = hwm_kib()
    phases["leaf_hash_ms"] = phases["download_ms"] - phases["http_ms"]
    phases["rest_ms"] = seconds * 1000 - phases["download_ms"] - phases["tree_ms"]
    return {
        "size": verified.checkpoint.size,
        "root": base64.b64encode(verified.checkpoint.root).decode(),
        "checked": verified.checked,
        "seconds": seconds,
        "entries_per_second": verified.checked / seconds,
        "peak_rss_mib": peak_kib / 1024,
        "rss_before_mib": before_kib / 1024,
        "phases": phases,
    }


def proofs(job, key):
    rng = random.Random(11)
    size, count = int(job["size"]), int(job["count"])
    timings = {"inclusion": [], "consistency": []}
    with ExchangeClient(job["url"], key=key) as client:
        client.metadata()
        for number in range(2 * count):
            if number < count:
                kind, params = "inclusion", {"seq": rng.randrange(size), "size": size}
            else:
                kind, params = "consistency", {"first": rng.randrange(1, size), "second": size}
            start = time.perf_counter()
            found = client.get_json(f"/api/v1/audit/proofs/{kind}", params)
            timings[kind].append((time.perf_counter() - start) * 1000)
            if not found["hashes"]:
                raise SystemExit(f"an empty {kind} proof for {params}")
            say("P", f"{number + 1} {2 * count}")
    return timings


job = json.loads(sys.argv[1])
key = load_private_key(Path(job["key"]).read_bytes())
say("R", json.dumps(verify(job, key) if job["do"] == "verify" else proofs(job, key)))
"""


# --- one engine ----------------------------------------------------------------------------


def run_engine(name: str, args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"ledger-bench-{name}-"))
    try:
        if name == "sqlite":
            sqlite_file = workdir / "ledger.sqlite3"
            return measure(name, f"sqlite:///{sqlite_file}", sqlite_file, workdir, args)
        with own_postgres(args.postgres_url):
            return measure(name, args.postgres_url, None, workdir, args)
    finally:
        if args.keep:
            err.print(f"kept {workdir}")
        else:
            for path in sorted(workdir.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            workdir.rmdir()


def measure(
    name: str, url: str, sqlite_file: Path | None, workdir: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """Every phase on one engine, its database migrated and empty."""
    err.rule(f"[bold]{name}[/]: {args.entries:,} entries")
    migrate(url)
    engine = make_engine(url)
    result: dict[str, Any] = {"engine": name, "url": url if sqlite_file is None else "sqlite"}
    load = result["load_average"] = {"start": load_average()}  # others share the machine
    try:
        maker = EntryMaker()
        result["build"] = build_log(engine, maker, args.entries, args.batch)
        result["build"] |= database_size(engine, sqlite_file)
        result["database"] = describe_database(engine)
        if sqlite_file is None:
            # What autovacuum does on its own after a bulk load; this server may run with it
            # off. Without statistics the planner picks poor plans for the filtered reads.
            with engine.begin() as connection:
                connection.execute(
                    text("ANALYZE ledger_entry, ledger_partner, ledger_node, ledger_checkpoint")
                )
        load["build"] = load_average()
        result["single_append"] = single_appends(engine, maker, args.appends)
        load["single_append"] = load_average()
        if args.submissions:
            result["submission"] = submissions(engine, args.submissions, args.bundle_size)
            load["submission"] = load_average()
        result["proofs"] = store_proofs(engine, args.entries, args.proofs)
        load["proofs"] = load_average()
        with Session(engine) as session:
            size_before = LedgerStore(session).size()
    finally:
        engine.dispose()
    result["log_size_before_verify"] = size_before
    result |= verify_over_http(url, workdir, size_before, args.http_proofs, not args.no_cli)
    load["verify"] = load_average()
    if args.keep:
        result["workdir"] = str(workdir)
    return result


# --- output --------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "[green]meets target[/]" if ok else "[red]misses target[/]"


def table(result: dict[str, Any]) -> Table:
    build, single = result["build"], result["single_append"]
    proofs = result["proofs"]
    out = Table(title=f"Sharing log on {result['engine']}", title_justify="left")
    out.add_column("measure")
    out.add_column("value", justify="right")
    out.add_column("notes")
    out.add_row(
        "build: entries",
        f"{build['entries']:,}",
        f"{build['batch']:,} per transaction; {build['database_mib']:,.0f} MiB on disk",
    )
    out.add_row(
        "build: append throughput",
        f"{build['entries_per_second']:,.0f} entries/s",
        f"first 10% {build['first_10pct_per_second']:,.0f}/s, last 10% "
        f"{build['last_10pct_per_second']:,.0f}/s; {build['append_seconds']:,.0f} s appending, "
        f"{build['wall_seconds']:,.0f} s wall",
    )
    out.add_row(
        "append 1 entry (in its transaction)",
        f"p50 {single['append']['p50_ms']:.2f} ms / p99 {single['append']['p99_ms']:.2f} ms",
        f"commit with it p50 {single['commit_with_entry']['p50_ms']:.2f} ms, "
        f"an empty commit p50 {single['commit_without_entry']['p50_ms']:.2f} ms",
    )
    if "submission" in result:
        sub = result["submission"]
        share = sub["overhead_record_share"]
        out.add_row(
            f"submit_bundle ({sub['bundle_size']:,} objects), with record()",
            f"p50 {sub['with_record']['p50_ms']:.1f} ms",
            f"p99 {sub['with_record']['p99_ms']:.1f} ms, n={sub['with_record']['n']}",
        )
        out.add_row(
            "submit_bundle, record() a no-op",
            f"p50 {sub['without_record']['p50_ms']:.1f} ms",
            f"p99 {sub['without_record']['p99_ms']:.1f} ms, n={sub['without_record']['n']}",
        )
        out.add_row(
            "record() inside submit_bundle",
            f"p50 {sub['record']['p50_ms']:.2f} ms",
            f"p99 {sub['record']['p99_ms']:.2f} ms",
        )
        out.add_row(
            "append overhead on ingest",
            f"{share:.2%}",
            f"record p50 / submission p50; difference of medians "
            f"{sub['overhead_median_difference']:+.1%}; {verdict(share < TARGET_OVERHEAD)} "
            f"(< {TARGET_OVERHEAD:.0%})",
        )
    out.add_row(
        f"root({proofs['size']:,})",
        f"{proofs['root_ms']:.2f} ms",
        proofs["root"],
    )
    for kind in ("inclusion", "consistency"):
        stats, txn = proofs[kind], proofs[f"{kind}_in_transaction"]
        ok = stats["p99_ms"] < TARGET_PROOF_MS
        out.add_row(
            f"{kind} proof (store), size {proofs['size']:,}",
            f"p50 {stats['p50_ms']:.2f} ms / p99 {stats['p99_ms']:.2f} ms",
            f"n={stats['n']}; with session+transaction p50 {txn['p50_ms']:.2f} / "
            f"p99 {txn['p99_ms']:.2f} ms; {verdict(ok)} (< {TARGET_PROOF_MS:.0f} ms)",
        )
    for kind, stats in result.get("http_proofs", {}).items():
        out.add_row(
            f"{kind} proof over HTTP",
            f"p50 {stats['p50_ms']:.2f} ms / p99 {stats['p99_ms']:.2f} ms",
            f"n={stats['n']}; end to end: token, auth (a token_use row), proof, JSON",
        )
    verified = result["verify_log"]
    phases = verified["phases"]
    out.add_row(
        "verify_log from scratch (HTTP)",
        f"{verified['entries_per_second']:,.0f} entries/s",
        f"{verified['checked']:,} entries in {verified['seconds']:.1f} s; "
        f"HTTP {phases['http_ms'] / 1000:.1f} s ({phases['pages']} pages, "
        f"{phases['bytes'] / 2**20:,.0f} MiB), leaf hashes {phases['leaf_hash_ms'] / 1000:.1f} s, "
        f"tree {phases['tree_ms'] / 1000:.1f} s, rest {phases['rest_ms'] / 1000:.1f} s",
    )
    out.add_row(
        "verifier process peak RSS",
        f"{verified['peak_rss_mib']:,.0f} MiB",
        f"{verified['rss_before_mib']:,.0f} MiB before verifying; the server's process "
        f"(this one) peaked at {verified['server_process_peak_rss_mib']:,.0f} MiB",
    )
    if "cli" in result:
        cli = result["cli"]
        out.add_row(
            "exchange audit verify (CLI)",
            f"{cli['entries_per_second']:,.0f} entries/s",
            f"{cli['checked']:,} entries in {cli['seconds']:.1f} s (process start included); "
            f"peak RSS {cli['peak_rss_mib']:,.0f} MiB",
        )
    out.add_row(
        "load average (1/5/15 min) at the end of",
        "",
        "; ".join(f"{phase} {value}" for phase, value in result["load_average"].items())
        + f" ({os.cpu_count()} CPUs)",
    )
    return out


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=1000, help="of each kind, from the store")
    parser.add_argument("--http-proofs", type=int, default=200, help="of each kind; 0: none")
    parser.add_argument("--batch", type=int, default=10_000, help="entries per transaction")
    parser.add_argument("--appends", type=int, default=200, help="single-entry transactions")
    parser.add_argument("--submissions", type=int, default=20, help="of each kind; 0: none")
    parser.add_argument("--bundle-size", type=int, default=1000)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--no-cli", action="store_true", help="skip `exchange audit verify`")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", action="store_true", help="JSON on stdout, tables on stderr")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or set(engines) - {"sqlite", "postgres"}:
        parser.error("--engines takes sqlite and/or postgres")
    if args.entries < 2 or args.proofs < 1:
        parser.error("--entries must be at least 2 and --proofs at least 1")
    args.engines = engines
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    report: dict[str, Any] = {
        "benchmark": "bench/ledger.py",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code_version(),
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": load_average()},
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "engines": [],
    }
    out = err if args.json else Console(width=WIDTH)
    for name in args.engines:
        started = time.perf_counter()
        result = run_engine(name, args)
        result["total_seconds"] = time.perf_counter() - started
        report["engines"].append(result)
        out.print(table(result))
    document = json.dumps(report, indent=2)
    if args.out is not None:
        args.out.write_text(document + "\n")
    if args.json:
        print(document)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
