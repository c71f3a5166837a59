"""End-to-end ingest benchmark: the real server, real signed bundles, over HTTP.

For every engine (SQLite, PostgreSQL) and every size (10k, 100k objects) it starts
`exchange serve` on a fresh database, registers partners and their keys with the `exchange`
CLI, pre-builds and pre-signs bundles of 1,000 address indicators (a realistic mix of
Bitcoin and Ethereum spellings, ~5% corroborating addresses another partner sent earlier;
see bench/workload.py), then submits them round robin with fresh single-use partner tokens
and prints accepted objects/s end to end, p50/p99 submission latency and the server's RSS.

    python bench/ingest.py                                  # sqlite and postgres, 10k and 100k
    python bench/ingest.py --engines sqlite --sizes 10000   # a quick run
    python bench/ingest.py --clients 1,2 --json > out.json  # also 2 concurrent clients

Every response must be 201 with exactly the expected accepted count; anything else aborts
the run with the response. PostgreSQL runs wipe the public schema of --postgres-url
(default: the `bench` database, created if missing); the `test` database is never touched.
"""

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import Meter, pids_named, wait_for_quiet
from workload import Workload, code_version, indicator, inferred, random_address, sign

from exchange import tokens
from exchange.signatures import SigningKey, load_private_key
from exchange.store.db import make_engine

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
PARTNERS = ("Hope NGO", "Northern Investigators", "Safe Harbour", "Chain Watch")
EXCHANGE = Path(sys.executable).with_name("exchange")
err = Console(stderr=True)


class BenchError(RuntimeError):
    """The run cannot go on (a server that does not start, a wrong response)."""


# --- the server, its database and its partners ---------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reset_postgres(url: str) -> None:
    """Create the database if missing, then drop and recreate its public schema."""
    parsed = make_url(url)
    if parsed.database in (None, "", "test", "postgres") or "bench" not in parsed.database:
        raise BenchError(f"refusing to wipe {parsed.database!r}: use a database named *bench*")
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return found


def status_kib(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Server:
    """`exchange serve` in its own session, with its log in the working directory.

    With `workers` > 1 (a what-if: `exchange serve` runs one process), the same app runs
    under `uvicorn --workers N` instead, after `exchange db upgrade`, with an operator key
    made by `exchange key generate`: what `exchange serve` does before it starts uvicorn.
    """

    workdir: Path
    env: dict[str, str]
    port: int
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None
    peak_rss_kib: int = 0
    _sampling: bool = False

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "server.log"

    def start(self, timeout: float = 90) -> None:
        command = [str(EXCHANGE), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        env = self.env
        if self.workers > 1:
            operator_key = Path(self.env["EXCHANGE_OPERATOR_KEY"])
            operator_key.parent.mkdir(parents=True, exist_ok=True)
            cli(self.env, self.workdir, "key", "generate", "--out", str(operator_key))
            cli(self.env, self.workdir, "db", "upgrade")
            env = self.env | {"EXCHANGE_PUBLIC_URL": self.base}
            command = [
                *(sys.executable, "-m", "uvicorn", "exchange.web.app:create_app", "--factory"),
                *("--host", "127.0.0.1", "--port", str(self.port)),
                *("--workers", str(self.workers), "--log-level", "warning"),
            ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop the server ourselves
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the server exited ({self.process.returncode}):\n{self.tail()}")
            try:
                if httpx.get(f"{self.base}/.well-known/exchange", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise BenchError(f"the server did not answer within {timeout} s:\n{self.tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def rss_kib(self) -> int:
        """Current VmRSS of the server and its children."""
        assert self.process is not None
        return sum(status_kib(pid, "VmRSS") for pid in process_tree(self.process.pid))

    def hwm_kib(self) -> int:
        """Peak resident set (VmHWM) of the server and its children since they started."""
        assert self.process is not None
        return sum(status_kib(pid, "VmHWM") for pid in process_tree(self.process.pid))

    @contextmanager
    def sampling_rss(self, every: float = 0.1) -> Iterator[None]:
        """Sample the RSS in the background; keeps the highest in `peak_rss_kib`."""
        self._sampling = True

        def sample() -> None:
            while self._sampling:
                self.peak_rss_kib = max(self.peak_rss_kib, self.rss_kib())
                time.sleep(every)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._sampling = False
            thread.join()
            self.peak_rss_kib = max(self.peak_rss_kib, self.rss_kib(), self.hwm_kib())


def cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    """Run `exchange ARGS` as an operator would; its stdout (the new id)."""
    done = subprocess.run(
        [str(EXCHANGE), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"exchange {' '.join(args)} failed:\n{done.stderr}{done.stdout}")
    return done.stdout.strip()


def generate_keys(env: dict[str, str], keydir: Path, count: int) -> list[Path]:
    """`exchange key generate` once per partner, for the whole run."""
    paths = [keydir / f"partner{number}.pem" for number in range(count)]
    threads = [
        threading.Thread(target=cli, args=(env, keydir, "key", "generate", "--out", str(p)))
        for p in paths
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise BenchError(f"exchange key generate wrote no {missing[0]}")
    return paths


def register_partners(env: dict[str, str], cwd: Path, keys: list[Path]) -> list[str]:
    """`exchange partner add` and `exchange key register` for each partner (in parallel)."""
    ids: list[str | BaseException] = [""] * len(keys)

    def one(number: int) -> None:
        name = PARTNERS[number % len(PARTNERS)] + ("" if number < len(PARTNERS) else f" {number}")
        try:
            ids[number] = cli(
                env, cwd, "partner", "add", name, "--role", "submitter", "--role", "subscriber"
            )
            cli(env, cwd, "key", "register", name, str(keys[number].with_suffix(".pub.pem")))
        except BaseException as error:  # re-raised in the main thread
            ids[number] = error

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for value in ids:
        if isinstance(value, BaseException):
            raise value
    return [str(value) for value in ids]


# --- one phase ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Job:
    number: int
    partner: int
    body: bytes
    objects: int
    expected_accepted: int


@dataclass
class PhaseResult:
    engine: str
    clients: int
    workers: int
    objects: int
    bundles: int
    bundle_size: int
    accepted: int
    duplicates: int
    corroborating: int
    seconds: float
    objects_per_second: float
    first_10pct_per_second: float
    last_10pct_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    idle_rss_mib: float
    peak_rss_mib: float
    end_rss_mib: float
    build_seconds: float
    body_mib: float
    flags: int
    reports: int
    other_cpu: float  # CPUs kept busy by processes not part of the benchmark, on average
    analyzes: int  # ANALYZE runs made for a PostgreSQL server whose autovacuum is off
    explicit_chain: int  # indicators that name their chain
    mix: dict[str, int] = field(default_factory=dict)


def build_jobs(
    partner_ids: list[str],
    keys: list[SigningKey],
    *,
    objects: int,
    bundle_size: int,
    progress: Progress,
) -> tuple[list[Job], Workload]:
    """Every bundle, built and signed before the clock starts."""
    count = -(-objects // bundle_size)
    workload = Workload(partner_ids, bundle_size=bundle_size)
    task = progress.add_task("build and sign", total=count)
    jobs = []
    iat = int(datetime.now(UTC).timestamp())
    for number, (who, bundle) in enumerate(workload.bundles(count)):
        body = sign(bundle, keys[who], iat=iat)
        jobs.append(Job(number, who, body, len(bundle["objects"]), len(bundle["objects"])))
        progress.advance(task)
    progress.remove_task(task)
    return jobs, workload


def warm_up(server: Server, partner_id: str, key: SigningKey, audience: str) -> None:
    """One small bundle of throw-away addresses, so the timed phase starts warm."""
    rng = random.Random(1)
    objects = []
    for _ in range(100):
        address = random_address(rng)
        explicit = not inferred(address.text, address.chain)
        objects.append(indicator(rng, partner_id, address, address.text, explicit_chain=explicit))
    bundle = {"type": "bundle", "id": f"bundle--{_uuid(rng)}", "objects": objects}
    body = sign(bundle, key, iat=int(datetime.now(UTC).timestamp()))
    with httpx.Client(timeout=120) as client:
        response = post(client, server.base, body, key, audience)
    if response.status_code != 201:
        raise BenchError(f"warm-up bundle: {response.status_code} {response.text[:2000]}")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def post(
    client: httpx.Client, base: str, body: bytes, key: SigningKey, audience: str
) -> httpx.Response:
    token = tokens.issue(key, audience=audience, now=datetime.now(UTC), ttl=timedelta(minutes=2))
    return client.post(
        f"{base}/api/v1/submissions",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def check(job: Job, response: httpx.Response) -> tuple[int, int]:
    """(accepted, duplicates) of a response that must be exactly what the workload implies."""
    if response.status_code != 201:
        raise BenchError(
            f"bundle {job.number}: expected 201, got {response.status_code}: "
            f"{response.text[:2000]}"
        )
    outcome = response.json()
    accepted, duplicates = outcome["accepted"], outcome["duplicates"]
    if (
        accepted + duplicates != job.objects
        or len(outcome["objects"]) != job.objects
        or outcome["rejected"] != 0
        or accepted != job.expected_accepted
    ):
        raise BenchError(
            f"bundle {job.number}: {job.objects} objects sent, {job.expected_accepted} should "
            f"be accepted; the exchange says accepted={accepted} duplicates={duplicates} "
            f"rejected={outcome['rejected']} objects={len(outcome['objects'])}"
        )
    return accepted, duplicates


def submit_all(
    jobs: list[Job],
    *,
    base: str,
    keys: list[SigningKey],
    audience: str,
    clients: int,
    progress: Progress,
    label: str,
) -> tuple[list[tuple[float, float, int, int]], float]:
    """Submit every job with `clients` concurrent clients (threads, one httpx.Client each).

    Returns per job (start, end, accepted, duplicates) in job order, and the wall time.
    The token is issued inside the timed span (a real client pays for it too); latency is
    start to end of the POST including reading the response.
    """
    results: list[tuple[float, float, int, int] | None] = [None] * len(jobs)
    failures: list[BaseException] = []
    lock = threading.Lock()
    queue = iter(jobs)
    task = progress.add_task(label, total=sum(job.objects for job in jobs))

    def work() -> None:
        with httpx.Client(timeout=600) as client:
            while not failures:
                with lock:
                    job = next(queue, None)
                if job is None:
                    return
                try:
                    start = time.perf_counter()
                    response = post(client, base, job.body, keys[job.partner], audience)
                    end = time.perf_counter()
                    accepted, duplicates = check(job, response)
                except BaseException as error:
                    failures.append(error)
                    return
                results[job.number] = (start, end, accepted, duplicates)
                progress.advance(task, job.objects)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)  # wakes up for Ctrl-C
    wall = time.perf_counter() - began
    progress.remove_task(task)
    if failures:
        raise failures[0]
    done = [r for r in results if r is not None]
    if len(done) != len(jobs):
        raise BenchError(f"only {len(done)} of {len(jobs)} bundles were submitted")
    return done, wall


def rate(spans: list[tuple[float, float, int, int]]) -> float:
    """Accepted objects/s over the wall time a group of submissions took."""
    wall = max(s[1] for s in spans) - min(s[0] for s in spans)
    return sum(s[2] for s in spans) / wall if wall > 0 else float("nan")


def percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def database_counts(url: str) -> tuple[int, int]:
    """(flags, reports) stored; (-1, -1) if the schema no longer has those tables."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            flags = connection.execute(text("SELECT count(*) FROM flag")).scalar_one()
            reports = connection.execute(text("SELECT count(*) FROM report")).scalar_one()
    except DBAPIError:
        return -1, -1
    finally:
        engine.dispose()
    return int(flags), int(reports)


def _own_pids(server: Server, engine: str) -> list[int]:
    """The server's process tree, and PostgreSQL's processes when it is the database."""
    pids = process_tree(server.process.pid) if server.process is not None else []
    return pids + (pids_named("postgres") if engine == "postgres" else [])


class AutoAnalyze:
    """What autovacuum's analyze would do, for a PostgreSQL server that runs without it.

    The planner estimates row counts from statistics; tables that are never analyzed keep
    the estimates of empty tables, and the exchange's lookups then scan instead of probing
    an index. With autovacuum off (as on this machine's server) nothing ever analyzes, which
    no production server would do; `mode` "auto" therefore analyzes a table as autovacuum
    would (after 50 + 10% of its rows changed), checking every second, in the background.
    """

    def __init__(self, url: str, mode: str) -> None:
        self.url = make_url(url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(self.url) as conn:
            autovacuum = conn.execute("SHOW autovacuum").fetchone()
        self.enabled = mode == "on" or (mode == "auto" and autovacuum == ("off",))
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "AutoAnalyze":
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(1.0):
                due = conn.execute(
                    "SELECT s.relname FROM pg_stat_user_tables s "
                    "JOIN pg_class c ON c.oid = s.relid "
                    "WHERE s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)"
                ).fetchall()
                for (table,) in due:
                    conn.execute(f'ANALYZE "{table}"')
                    self.runs += 1


def run_phase(
    engine: str,
    objects: int,
    *,
    clients: int,
    bundle_size: int,
    key_paths: list[Path],
    postgres_url: str,
    warmup: bool,
    autoanalyze: str,
    quiet_wait: float,
    workers: int,
    progress: Progress,
) -> PhaseResult:
    label = f"{engine} {objects:,} objects, {clients} client{'s' * (clients > 1)}"
    label += f", {workers} server workers" if workers > 1 else ""
    if quiet_wait > 0:
        wait_for_quiet(patience=quiet_wait, say=lambda text: err.print(f"[yellow]{text}[/]"))
    with tempfile.TemporaryDirectory(prefix="exchange-bench-") as tmp:
        workdir = Path(tmp)
        if engine == "sqlite":
            url = f"sqlite:///{workdir / 'exchange.sqlite3'}"
        else:
            reset_postgres(postgres_url)
            url = postgres_url
        env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
        env |= {
            "EXCHANGE_DATABASE_URL": url,
            "EXCHANGE_OPERATOR_KEY": str(workdir / "keys" / "operator.pem"),
        }
        server = Server(workdir, env, free_port(), workers)
        try:
            server.start()
            partner_ids = register_partners(env, workdir, key_paths)
            keys = [load_private_key(path.read_bytes()) for path in key_paths]
            audience = httpx.get(f"{server.base}/.well-known/exchange").json()["audience"]
            if warmup:
                warm_up(server, partner_ids[0], keys[0], audience)
            began = time.perf_counter()
            jobs, workload = build_jobs(
                partner_ids, keys, objects=objects, bundle_size=bundle_size, progress=progress
            )
            build_seconds = time.perf_counter() - began
            idle_rss = server.rss_kib()
            analyzer = AutoAnalyze(url, autoanalyze) if engine == "postgres" else None
            meter = Meter(lambda: _own_pids(server, engine))
            meter.start()
            with server.sampling_rss(), analyzer or nullcontext():
                spans, wall = submit_all(
                    jobs,
                    base=server.base,
                    keys=keys,
                    audience=audience,
                    clients=clients,
                    progress=progress,
                    label=label,
                )
            other_cpu = meter.foreign_cores()
            end_rss = server.rss_kib()
            flags, reports = database_counts(url)
        except BaseException:
            if server.process is not None and not isinstance(sys.exc_info()[1], KeyboardInterrupt):
                err.print(f"[red]server log ({server.log}):[/red]\n{server.tail()}")
            raise
        finally:
            server.stop()
    accepted = sum(s[2] for s in spans)
    tenth = max(1, len(spans) // 10)
    latencies = [(end - start) * 1000 for start, end, _, _ in spans]
    sent = sum(job.objects for job in jobs)
    warm = 100 if warmup else 0
    if flags >= 0 and (reports != sent + warm or flags != sent - workload.repeats + warm):
        raise BenchError(
            f"{label}: the database holds {flags} flags and {reports} reports; expected "
            f"{sent - workload.repeats + warm} flags and {sent + warm} reports"
        )
    return PhaseResult(
        engine=engine,
        clients=clients,
        workers=workers,
        objects=sent,
        bundles=len(jobs),
        bundle_size=bundle_size,
        accepted=accepted,
        duplicates=sum(s[3] for s in spans),
        corroborating=workload.repeats,
        seconds=wall,
        objects_per_second=accepted / wall,
        first_10pct_per_second=rate(spans[:tenth]),
        last_10pct_per_second=rate(spans[-tenth:]),
        p50_ms=statistics.median(latencies),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies),
        idle_rss_mib=idle_rss / 1024,
        peak_rss_mib=server.peak_rss_kib / 1024,
        end_rss_mib=end_rss / 1024,
        build_seconds=build_seconds,
        body_mib=sum(len(job.body) for job in jobs) / 2**20,
        flags=flags,
        reports=reports,
        other_cpu=other_cpu,
        analyzes=analyzer.runs if analyzer else 0,
        explicit_chain=workload.explicit,
        mix=dict(sorted(workload.kinds.items())),
    )


# --- output ------------------------------------------------------------------------------


def table(results: list[PhaseResult]) -> Table:
    out = Table(title="Ingest end to end: exchange serve, signed bundles over HTTP")
    for name in (
        "engine",
        "clients",
        "workers",
        "objects",
        "bundles",
        "accepted obj/s",
        "first 10% obj/s",
        "last 10% obj/s",
        "p50 ms",
        "p99 ms",
        "idle RSS MiB",
        "peak RSS MiB",
        "other CPU",
    ):
        out.add_column(name, justify="left" if name == "engine" else "right")
    for r in results:
        out.add_row(
            r.engine,
            str(r.clients),
            str(r.workers),
            f"{r.objects:,}",
            str(r.bundles),
            f"{r.objects_per_second:,.0f}",
            f"{r.first_10pct_per_second:,.0f}",
            f"{r.last_10pct_per_second:,.0f}",
            f"{r.p50_ms:,.0f}",
            f"{r.p99_ms:,.0f}",
            f"{r.idle_rss_mib:,.0f}",
            f"{r.peak_rss_mib:,.0f}",
            f"{r.other_cpu:.2f}",
        )
    return out


def summary(results: list[PhaseResult]) -> list[str]:
    """The workload, and whether the cost per object grows with the data held."""
    if not results:
        return []
    first = results[0]
    total = sum(first.mix.values()) or 1
    lines = [
        f"workload: bundles of {first.bundle_size:,} indicators, round robin over partners; "
        + ", ".join(f"{kind} {count / total:.0%}" for kind, count in first.mix.items())
        + f"; {first.corroborating / first.objects:.1%} corroborate another partner's flag; "
        f"{first.explicit_chain / first.objects:.0%} name their chain"
    ]
    for r in results:
        lines.append(
            f"{r.engine} {r.objects:,} objects, {r.clients} client(s), {r.workers} worker(s): "
            "last 10% of bundles ran "
            f"at {r.last_10pct_per_second / r.first_10pct_per_second:.0%} of the first 10%'s "
            f"rate; {r.seconds:,.1f} s, {r.body_mib:,.0f} MiB sent, end RSS "
            f"{r.end_rss_mib:,.0f} MiB, {r.flags:,} flags / {r.reports:,} reports stored"
            + (f", {r.analyzes} ANALYZE runs (server autovacuum is off)" if r.analyzes else "")
        )
        if r.other_cpu > 0.2:
            lines.append(
                f"  WARNING: other processes kept {r.other_cpu:.2f} CPUs busy during this "
                "phase; its figures are pessimistic"
            )
    return lines


def csv_ints(value: str) -> list[int]:
    return [int(part.replace("_", "")) for part in value.split(",") if part]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--sizes", type=csv_ints, default=[10_000, 100_000])
    parser.add_argument("--bundle-size", type=int, default=1000)
    parser.add_argument("--clients", type=csv_ints, default=[1], help="e.g. 1,2")
    parser.add_argument("--partners", type=int, default=4)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument(
        "--no-warmup", action="store_true", help="skip the untimed 100-object bundle"
    )
    parser.add_argument(
        "--autoanalyze",
        choices=("auto", "on", "off"),
        default="auto",
        help="PostgreSQL: ANALYZE as autovacuum would; auto = only if the server's is off",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=300,
        help="seconds to wait before a phase for other processes to leave the CPUs (0: no)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="what-if: run the app under uvicorn --workers N instead of exchange serve",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--out", type=Path, help="also write the JSON results to this file")
    args = parser.parse_args(argv)
    args.engines = [e for e in args.engines.split(",") if e]
    if set(args.engines) - {"sqlite", "postgres"}:
        parser.error("--engines: sqlite and/or postgres")
    if args.bundle_size < 1 or args.partners < 2 or min(args.sizes + args.clients) < 1:
        parser.error("sizes, clients and bundle size must be positive; partners at least 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM):  # clean up on Ctrl-C and kill alike,
        signal.signal(signum, signal.default_int_handler)  # even if started ignoring SIGINT
    results: list[PhaseResult] = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with (
            tempfile.TemporaryDirectory(prefix="exchange-bench-keys-") as keydir,
            Progress(*columns, console=err, transient=True) as progress,
        ):
            env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
            key_paths = generate_keys(env, Path(keydir), args.partners)
            for engine in args.engines:
                for objects in args.sizes:
                    for clients in args.clients:
                        result = run_phase(
                            engine,
                            objects,
                            clients=clients,
                            bundle_size=args.bundle_size,
                            key_paths=key_paths,
                            postgres_url=args.postgres_url,
                            warmup=not args.no_warmup,
                            autoanalyze=args.autoanalyze,
                            quiet_wait=args.quiet_wait,
                            workers=args.workers,
                            progress=progress,
                        )
                        results.append(result)
                        err.print(
                            f"{engine:8} {objects:>7,} objects {clients} client(s): "
                            f"{result.objects_per_second:,.0f} accepted obj/s, "
                            f"p50 {result.p50_ms:,.0f} ms, p99 {result.p99_ms:,.0f} ms, "
                            f"peak RSS {result.peak_rss_mib:,.0f} MiB"
                        )
    except KeyboardInterrupt:
        err.print("[yellow]interrupted: server stopped, temporary files removed[/yellow]")
        return 130
    except BenchError as error:
        err.print(f"[red]benchmark failed:[/red] {error}", highlight=False)
        return 1
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code_version(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "bundle_size": args.bundle_size,
        "partners": args.partners,
        "warmup_objects": 0 if args.no_warmup else 100,
        "results": [asdict(result) for result in results],
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(document, indent=2) + "\n")
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        Console(width=max(Console().width, 150)).print(table(results))
        for line in summary(results):
            print(line)
        print(f"code: {document['code']}; Python {document['python']}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
