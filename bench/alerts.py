"""Alerts end to end: watchlist upload, matching, and webhook latency under steady ingest.

For every engine (SQLite, PostgreSQL) it starts the real `exchange serve` (with its embedded
delivery worker) on a fresh database whose partners, keys and sharing policy were made with
the services, and a webhook receiver on 127.0.0.1 in a process of its own. Then:

1. baseline: ingest with no subscription at all, at a steady `--rate` (bundles of 100 every
   100 ms by default), then as fast as it goes (a burst of 1,000-object bundles);
2. on a second fresh database: 100 webhook subscriptions, 1,000,000 watchlist entries
   uploaded with `PUT /api/v1/subscriptions/{id}/watchlist` (streamed CSV; entries/s);
3. the same steady ingest, 2% of every bundle on a watchlist: time from each submission's
   201 to the webhook for each watched address arriving at the receiver (p50/p99), and the
   same burst: how much matching slows ingest;
4. matching in process on the database the run left: `submit_bundle` then
   `alert_on_submission` on new bundles, rolled back, with the matching's steps timed;
5. PostgreSQL only: the same database served by 2 API processes (`exchange serve` with
   EXCHANGE_WORKER=false) and 2 `exchange worker` processes (LISTEN/NOTIFY, SKIP LOCKED),
   clients spread over both APIs; nothing may be delivered twice.

    python bench/alerts.py                                    # both engines, 1M entries
    python bench/alerts.py --engines sqlite --entries 100000 --seconds 20   # a quick run
    python bench/alerts.py --json --out bench/results/alerts.json

Every submission must be 201 with every object accepted, every upload must store every
line, every watched address submitted must reach the receiver exactly once; anything else
aborts the run. PostgreSQL runs wipe the public schema of --postgres-url (default: the
`bench_alerts` database, created if missing); a database whose name lacks "bench" is refused.
"""

import argparse
import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
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
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import (
    AutoAnalyze,
    BenchError,
    Server,
    free_port,
    percentile,
    process_tree,
    reset_postgres,
    status_kib,
)
from machine import Meter, pids_named, wait_for_quiet
from workload import Spelling, Workload, code_version, indicator, inferred, random_address, sign

import exchange.services.alerts as alert_service
from exchange import tokens
from exchange.core.addresses import parse_address
from exchange.core.claims import TLP2_MARKING_IDS, Tlp
from exchange.core.partners import Role
from exchange.services.partners import add_partner, register_key
from exchange.services.policy import apply_policy
from exchange.services.submissions import Limits, submit_bundle
from exchange.signatures import SigningKey, generate_key, load_private_key, write_private_key
from exchange.store.db import make_engine, migrate
from exchange.store.flags import FlagStore
from exchange.store.partners import PartnerStore
from exchange.store.subscriptions import SubscriptionStore
from exchange.webhooks import verify_webhook

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_alerts"
EXCHANGE = Path(sys.executable).with_name("exchange")
SINGLE = "1 serve (API+worker)"
SCALED = "2 API + 2 workers"
err = Console(stderr=True)


# --- the webhook receiver: a process of its own ---------------------------------------------


def _receive(port: int, conn: Connection, count: Any) -> None:
    """Serve POST /hook/* on 127.0.0.1:`port`; answer 200 at once, record the arrival.

    Runs in its own process so that neither the bench's threads nor the server's hold its
    GIL; `time.monotonic()` is CLOCK_MONOTONIC, one clock for every process on the machine.
    """
    lock = threading.Lock()
    records: list[tuple[str, int, str, str, float]] = []
    sample: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            arrived = time.monotonic()
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()
            alert = json.loads(body)
            record = (
                self.headers.get("webhook-id", ""),
                int(self.headers.get("exchange-delivery-attempt", "0")),
                str(alert.get("subscription", "")),
                str(alert.get("flag", {}).get("address", "")),
                arrived,
            )
            with lock:
                records.append(record)
                if not sample:
                    sample.append((dict(self.headers.items()), body))
            with count.get_lock():
                count.value += 1

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send("ready")
    while True:
        try:
            command = conn.recv()
        except (EOFError, KeyboardInterrupt):
            break
        if command != "take":
            break
        with lock:
            taken, records[:] = records[:], []
        conn.send((taken, sample[:1]))
    server.shutdown()


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    attempt: int
    subscription: str
    address: str
    arrived: float  # time.monotonic()


class Receiver:
    """The receiver process, from the bench's side."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self._conn, child = context.Pipe()
        self._count = context.Value("q", 0)
        self._process = context.Process(
            target=_receive, args=(self.port, child, self._count), daemon=True
        )
        self.sample: tuple[dict[str, str], bytes] | None = None

    def __enter__(self) -> "Receiver":
        self._process.start()
        try:
            if not self._conn.poll(60):
                raise EOFError
            self._conn.recv()
        except EOFError:
            self._process.kill()
            raise BenchError("the webhook receiver did not start") from None
        return self

    def __exit__(self, *_: object) -> None:
        with suppress(OSError):
            self._conn.send("stop")
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def pid(self) -> int:
        return self._process.pid or 0

    @property
    def count(self) -> int:
        return int(self._count.value)

    def take(self) -> list[Webhook]:
        """What arrived since the last take."""
        self._conn.send("take")
        records, sample = self._conn.recv()
        if sample and self.sample is None:
            self.sample = sample[0]
        return [Webhook(*record) for record in records]

    def wait_for(self, total: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.count < total:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


# --- partners, watchlists, bundles ---------------------------------------------------------


@dataclass(frozen=True)
class Member:
    name: str
    key: SigningKey
    id: str = ""


@dataclass
class World:
    """One database's partners (made with the services) and the operator key."""

    url: str
    operator_key: Path
    submitters: list[Member]
    subscribers: list[Member]


def make_world(
    url: str, workdir: Path, submitter_keys: list[SigningKey], subscriber_keys: list[SigningKey]
) -> World:
    """Migrate, register the partners and their keys, apply the sharing policy: every
    submitter shares up to TLP:AMBER with the group of subscribers."""
    operator_key = workdir / "keys" / "operator.pem"
    operator_key.parent.mkdir(parents=True, exist_ok=True)
    write_private_key(generate_key(), operator_key)
    migrate(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    submitters, subscribers = [], []
    try:
        with Session(engine) as session, session.begin():
            for keys, role, label, out in (
                (submitter_keys, Role.SUBMITTER, "Submitter", submitters),
                (subscriber_keys, Role.SUBSCRIBER, "Subscriber", subscribers),
            ):
                for number, key in enumerate(keys, start=1):
                    partner = add_partner(session, f"{label} {number}", [role], now=now)
                    register_key(session, partner.id, key.public_key, now=now)
                    out.append(Member(partner.name, key, partner.id))
            group = ", ".join(json.dumps(m.name) for m in subscribers)
            agreements = "".join(
                f"  - {{id: share-{n}, from: {json.dumps(m.name)}, to: subscribers, "
                "max_tlp: amber}\n"
                for n, m in enumerate(submitters, start=1)
            )
            document = f"groups:\n  subscribers: [{group}]\nagreements:\n{agreements}"
            apply_policy(session, document, now=now)
    finally:
        engine.dispose()
    return World(url, operator_key, submitters, subscribers)


@dataclass
class Watchlists:
    """Every subscription's watchlist as CSV, and a shuffled pool of its addresses held back
    to be submitted as hits: (spelling sent, chain, canonical address)."""

    bodies: list[bytes]
    sizes: list[int]
    pool: list[tuple[str, str, str]]
    kinds: Counter[str]
    seconds: float

    @property
    def entries(self) -> int:
        return sum(self.sizes)


def make_watchlists(entries: int, subscriptions: int, pool: int, seed: int = 4242) -> Watchlists:
    """`entries` random addresses over `subscriptions` watchlists: 60% `0x` + 40 lowercase
    hex; the rest the ingest workload's mix (bitcoin P2PKH, P2SH with `,bitcoin` as the
    exchange asks for, bech32; Ethereum lowercase and EIP-55)."""
    began = time.perf_counter()
    rng = random.Random(seed)
    keep = min(1.0, pool / max(1, entries))
    bodies, sizes, held, kinds = [], [], [], Counter[str]()
    for number in range(subscriptions):
        size = entries // subscriptions + (number < entries % subscriptions)
        lines = ["address,chain"]
        for _ in range(size):
            if rng.random() < 0.6:
                spelling = Spelling("0x" + rng.randbytes(20).hex(), "ethereum", "eth-lower", "")
            else:
                spelling = random_address(rng)
            kinds[spelling.kind] += 1
            named = spelling.chain == "bitcoin" and not inferred(spelling.text, "bitcoin")
            lines.append(spelling.text + (",bitcoin" if named else ""))
            if rng.random() < keep:
                canonical = parse_address(spelling.text, spelling.chain).value
                held.append((spelling.text, spelling.chain, canonical))
        bodies.append(("\n".join(lines) + "\n").encode())
        sizes.append(size)
    rng.shuffle(held)
    return Watchlists(bodies, sizes, held, kinds, time.perf_counter() - began)


@dataclass(frozen=True, slots=True)
class Job:
    number: int
    partner: int
    body: bytes
    objects: int
    hits: tuple[str, ...]  # canonical addresses on a watchlist, each watched by one subscription


def build_jobs(
    world: World,
    *,
    bundles: int,
    bundle_size: int,
    hit_share: float,
    pool: list[tuple[str, str, str]],
    seed: int,
    progress: Progress,
) -> list[Job]:
    """Signed bundles of the ingest workload (bench/workload.py), `hit_share` of each
    replaced by TLP:AMBER indicators of watched addresses taken from `pool`."""
    workload = Workload([m.id for m in world.submitters], bundle_size=bundle_size, seed=seed)
    rng = random.Random(f"hits {seed}")  # not an int: never the stream of a Workload seed
    iat = int(datetime.now(UTC).timestamp())
    task = progress.add_task("build and sign", total=bundles)
    jobs, carry = [], 0.0
    for number, (who, bundle) in enumerate(workload.bundles(bundles)):
        carry += bundle_size * hit_share
        count = min(int(carry), len(bundle["objects"]))
        carry -= count
        if count > len(pool):
            raise BenchError("the pool of watched addresses ran out; raise --entries")
        hits = []
        for position in rng.sample(range(len(bundle["objects"])), count):
            text, chain, canonical = pool.pop()
            spelling = Spelling(text, chain, "watched", text)
            obj = indicator(
                rng,
                world.submitters[who].id,
                spelling,
                text,
                explicit_chain=not inferred(text, chain),
            )
            obj["object_marking_refs"] = [TLP2_MARKING_IDS[Tlp.AMBER]]
            bundle["objects"][position] = obj
            hits.append(canonical)
        body = sign(bundle, world.submitters[who].key, iat=iat)
        jobs.append(Job(number, who, body, len(bundle["objects"]), tuple(hits)))
        progress.advance(task)
    progress.remove_task(task)
    return jobs


def bearer(member: Member, audience: str) -> dict[str, str]:
    """A fresh single-use token of the partner's own, as its tools would send."""
    token = tokens.issue(
        member.key, audience=audience, now=datetime.now(UTC), ttl=timedelta(minutes=2)
    )
    return {"Authorization": f"Bearer {token}"}


# --- processes: API servers and workers ----------------------------------------------------


@dataclass
class WorkerProcess:
    """`exchange worker` in its own session, with its log in `workdir`."""

    workdir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.workdir / "worker.log"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(EXCHANGE), "worker"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while "Ctrl-C stops it" not in " ".join(self.log.read_text(errors="replace").split()):
            if self.process.poll() is not None:
                raise BenchError(f"exchange worker exited:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise BenchError(f"exchange worker did not start:\n{self.tail()}")
            time.sleep(0.1)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no worker log)"


@dataclass
class Deployment:
    """The servers (and separate workers) of one phase, and the receiver they deliver to."""

    name: str
    servers: list[Server]
    workers: list[WorkerProcess] = field(default_factory=list)

    @property
    def bases(self) -> list[str]:
        return [server.base for server in self.servers]

    def start(self) -> None:
        for server in self.servers:
            server.workdir.mkdir(parents=True, exist_ok=True)
            server.start()
        for worker in self.workers:
            worker.start()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        for server in self.servers:
            server.stop()

    def pids(self) -> list[int]:
        found: list[int] = []
        for server in self.servers:
            if server.process is not None:
                found += process_tree(server.process.pid)
        for worker in self.workers:
            if worker.process is not None:
                found.append(worker.process.pid)
        return found

    def hwm_mib(self) -> float:
        return sum(status_kib(pid, "VmHWM") for pid in self.pids()) / 1024

    def logs(self) -> str:
        parts = [f"--- {s.log}\n{s.tail()}" for s in self.servers]
        parts += [f"--- {w.log}\n{w.tail()}" for w in self.workers]
        return "\n".join(parts)


@contextmanager
def deployed(
    name: str, workdir: Path, env: dict[str, str], *, apis: int, workers: int
) -> Iterator[Deployment]:
    """`apis` processes of `exchange serve` (the embedded worker only when `workers` is 0)
    and `workers` processes of `exchange worker`, all on one database, one public URL."""
    ports = [free_port() for _ in range(apis)]
    shared = env | {"EXCHANGE_PUBLIC_URL": f"http://127.0.0.1:{ports[0]}"}
    if workers:
        shared |= {"EXCHANGE_WORKER": "false"}
    servers = [Server(workdir / f"api-{n + 1}", shared, port) for n, port in enumerate(ports)]
    helpers = [WorkerProcess(workdir / f"worker-{n + 1}", env) for n in range(workers)]
    deployment = Deployment(name, servers, helpers)
    try:
        deployment.start()
        yield deployment
    except BaseException:
        if not isinstance(sys.exc_info()[1], KeyboardInterrupt):
            err.print("[red]server and worker logs:[/red]")
            err.print(deployment.logs(), highlight=False, markup=False)
        raise
    finally:
        deployment.stop()


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Phase:
    """One timed run of submissions (steady at a rate, or a burst as fast as it goes)."""

    engine: str
    deployment: str
    matching: bool  # subscriptions and watchlists present
    kind: str  # steady | burst
    bundle_size: int
    bundles: int
    objects: int
    seconds: float
    offered_per_second: float | None
    objects_per_second: float
    post_p50_ms: float
    post_p99_ms: float
    post_max_ms: float
    max_lag_ms: float  # how far the steady sender fell behind its schedule
    hits: int = 0
    webhooks: int = 0
    webhook_p50_ms: float = float("nan")
    webhook_p99_ms: float = float("nan")
    webhook_max_ms: float = float("nan")
    webhook_min_ms: float = float("nan")
    drain_seconds: float = 0.0  # after the last 201, until every webhook had arrived
    other_cpu: float = 0.0


@dataclass
class Upload:
    engine: str
    subscriptions: int
    entries: int
    seconds: float
    entries_per_second: float
    p50_s: float  # one subscription's upload
    max_s: float
    alerts: int  # retro-active alerts queued by the uploads
    other_cpu: float


@dataclass
class InProcess:
    """`alert_on_submission` after `submit_bundle`, in one transaction, rolled back."""

    engine: str
    bundle_size: int
    bundles: int
    hits: int
    alerts: int
    submit_ms: float  # mean per bundle
    match_ms: float  # mean per bundle
    match_objects_per_second: float
    steps_ms: dict[str, float]  # mean per bundle, by step of the matching


@dataclass
class Delivered:
    engine: str
    deployment: str
    expected: int  # watched addresses submitted: one webhook each
    received: int  # POSTs the receiver got
    distinct: int
    duplicates: int  # webhook-ids received more than once
    retried: int  # deliveries with more than one attempt (GET /api/v1/deliveries)
    states: dict[str, int]
    signature_ok: bool


def submit(
    jobs: list[Job],
    *,
    bases: list[str],
    members: list[Member],
    audience: str,
    threads: int,
    rate: float | None,
    progress: Progress,
    label: str,
) -> list[tuple[float, float, float]]:
    """POST every job; per job (due, start, end) in time.monotonic() seconds.

    With `rate` (objects/s) job i is due at t0 + (objects before it) / rate and `threads`
    senders send each job when due (or as soon as one is free, if the server fell behind);
    without, `threads` clients send back to back. Job i goes to bases[i % len(bases)].
    """
    results: list[tuple[float, float, float] | None] = [None] * len(jobs)
    failures: list[BaseException] = []
    lock = threading.Lock()
    queue = iter(jobs)
    task = progress.add_task(label, total=sum(job.objects for job in jobs))
    offsets, sent = [], 0
    for job in jobs:
        offsets.append(sent / rate if rate else 0.0)
        sent += job.objects
    began = time.monotonic() + 0.1

    def work() -> None:
        with httpx.Client(timeout=600) as client:
            while not failures:
                with lock:
                    job = next(queue, None)
                if job is None:
                    return
                due = began + offsets[job.number]
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                try:
                    headers = bearer(members[job.partner], audience)
                    headers["Content-Type"] = "application/json"
                    start = time.monotonic()
                    response = client.post(
                        f"{bases[job.number % len(bases)]}/api/v1/submissions",
                        content=job.body,
                        headers=headers,
                    )
                    end = time.monotonic()
                    check(job, response)
                except BaseException as error:
                    failures.append(error)
                    return
                results[job.number] = (due, start, end)
                progress.advance(task, job.objects)

    workers = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        while thread.is_alive():
            thread.join(0.2)  # wakes up for Ctrl-C
    progress.remove_task(task)
    if failures:
        raise failures[0]
    done = [r for r in results if r is not None]
    if len(done) != len(jobs):
        raise BenchError(f"only {len(done)} of {len(jobs)} bundles were submitted")
    return done


def check(job: Job, response: httpx.Response) -> None:
    if response.status_code != 201:
        raise BenchError(
            f"bundle {job.number}: expected 201, got {response.status_code}: "
            f"{response.text[:2000]}"
        )
    outcome = response.json()
    if outcome["accepted"] != job.objects or outcome["rejected"] != 0:
        raise BenchError(
            f"bundle {job.number}: {job.objects} objects sent, all new; the exchange says "
            f"accepted={outcome['accepted']} duplicates={outcome['duplicates']} "
            f"rejected={outcome['rejected']}"
        )


def run_ingest(
    engine: str,
    deployment: Deployment,
    world: World,
    *,
    kind: str,
    matching: bool,
    bundles: int,
    bundle_size: int,
    hit_share: float,
    pool: list[tuple[str, str, str]],
    rate: float | None,
    threads: int,
    receiver: Receiver | None,
    expected_before: int,
    drain_timeout: float,
    quiet_wait: float,
    own: Callable[[], list[int]],
    seed: int,
    progress: Progress,
) -> tuple[Phase, list[Webhook]]:
    """Build, then submit `bundles`; with a receiver, wait for every hit's webhook."""
    jobs = build_jobs(
        world,
        bundles=bundles,
        bundle_size=bundle_size,
        hit_share=hit_share if matching else 0.0,
        pool=pool,
        seed=seed,
        progress=progress,
    )
    audience = httpx.get(f"{deployment.bases[0]}/.well-known/exchange").json()["audience"]
    label = f"{engine} {deployment.name} {kind}" + (" + watchlists" if matching else "")
    if quiet_wait > 0:
        wait_for_quiet(patience=quiet_wait, say=lambda text: err.print(f"[yellow]{text}[/]"))
    meter = Meter(own)
    meter.start()
    spans = submit(
        jobs,
        bases=deployment.bases,
        members=world.submitters,
        audience=audience,
        threads=threads,
        rate=rate,
        progress=progress,
        label=label,
    )
    last = max(end for _, _, end in spans)
    hits = sum(len(job.hits) for job in jobs)
    arrived: list[Webhook] = []
    drain = 0.0
    if receiver is not None and hits:
        if not receiver.wait_for(expected_before + hits, drain_timeout):
            arrived = receiver.take()
            raise BenchError(
                f"{label}: {receiver.count - expected_before} of {hits} webhooks arrived "
                f"within {drain_timeout:.0f} s of the last submission"
            )
        drain = time.monotonic() - last
        arrived = receiver.take()
    other_cpu = meter.foreign_cores()
    wall = last - min(start for _, start, _ in spans)
    objects = sum(job.objects for job in jobs)
    posts = [(end - start) * 1000 for _, start, end in spans]
    phase = Phase(
        engine=engine,
        deployment=deployment.name,
        matching=matching,
        kind=kind,
        bundle_size=bundle_size,
        bundles=len(jobs),
        objects=objects,
        seconds=wall,
        offered_per_second=rate,
        objects_per_second=objects / wall,
        post_p50_ms=statistics.median(posts),
        post_p99_ms=percentile(posts, 99),
        post_max_ms=max(posts),
        max_lag_ms=max((start - due) * 1000 for due, start, _ in spans) if rate else 0.0,
        hits=hits,
        other_cpu=other_cpu,
        drain_seconds=drain,
    )
    if hits:
        created = {address: spans[job.number][2] for job in jobs for address in job.hits}
        delays = [
            (hook.arrived - created[hook.address]) * 1000
            for hook in arrived
            if hook.address in created
        ]
        missing = set(created) - {hook.address for hook in arrived}
        if missing:
            raise BenchError(
                f"{label}: no webhook for {len(missing)} watched addresses submitted, "
                f"e.g. {sorted(missing)[:3]}"
            )
        phase.webhooks = len(arrived)
        phase.webhook_p50_ms = statistics.median(delays)
        phase.webhook_p99_ms = percentile(delays, 99)
        phase.webhook_max_ms = max(delays)
        phase.webhook_min_ms = min(delays)
    return phase, arrived


def warm_up(deployment: Deployment, world: World, progress: Progress) -> None:
    """One untimed 100-object bundle per API process (no watched address in it)."""
    jobs = build_jobs(
        world,
        bundles=len(deployment.bases),
        bundle_size=100,
        hit_share=0.0,
        pool=[],
        seed=random.randrange(1 << 30),
        progress=progress,
    )
    audience = httpx.get(f"{deployment.bases[0]}/.well-known/exchange").json()["audience"]
    submit(
        jobs,
        bases=deployment.bases,
        members=world.submitters,
        audience=audience,
        threads=1,
        rate=None,
        progress=progress,
        label="warm-up",
    )


def subscribe_and_upload(
    engine: str,
    deployment: Deployment,
    world: World,
    watchlists: Watchlists,
    receiver: Receiver,
    *,
    quiet_wait: float,
    own: Callable[[], list[int]],
    progress: Progress,
) -> Upload:
    """One webhook subscription per watchlist, round robin over the subscribers; then
    every watchlist PUT as streamed CSV, one after the other."""
    base = deployment.bases[0]
    audience = httpx.get(f"{base}/.well-known/exchange").json()["audience"]
    owners, ids = [], []
    with httpx.Client(timeout=600) as client:
        for number in range(len(watchlists.bodies)):
            owner = world.subscribers[number % len(world.subscribers)]
            spec = {
                "name": f"watchlist {number + 1}",
                "kind": "watchlist",
                "delivery": "webhook",
                "webhook_url": f"{receiver.url}/{number + 1}",
            }
            response = client.post(
                f"{base}/api/v1/subscriptions", json=spec, headers=bearer(owner, audience)
            )
            if response.status_code != 201:
                raise BenchError(f"subscribe: {response.status_code} {response.text[:2000]}")
            owners.append(owner)
            ids.append(response.json()["id"])
        if quiet_wait > 0:
            wait_for_quiet(patience=quiet_wait, say=lambda text: err.print(f"[yellow]{text}[/]"))
        task = progress.add_task(f"{engine} watchlist upload", total=watchlists.entries)
        meter = Meter(own)
        meter.start()
        began = time.perf_counter()
        each, alerts = [], 0
        for number, (owner, subscription, body) in enumerate(
            zip(owners, ids, watchlists.bodies, strict=True)
        ):
            start = time.perf_counter()
            response = client.put(
                f"{base}/api/v1/subscriptions/{subscription}/watchlist",
                content=_chunks(body),
                headers=bearer(owner, audience) | {"Content-Type": "text/csv"},
            )
            each.append(time.perf_counter() - start)
            size = watchlists.sizes[number]
            if response.status_code != 200:
                raise BenchError(f"upload: {response.status_code} {response.text[:2000]}")
            out = response.json()
            if (out["entries"], out["refused"], out["watchlist_entries"]) != (size, 0, size):
                raise BenchError(f"upload of {size} entries: the exchange says {out}")
            alerts += out["alerts"]
            progress.advance(task, size)
        seconds = time.perf_counter() - began
        other_cpu = meter.foreign_cores()
    progress.remove_task(task)
    return Upload(
        engine=engine,
        subscriptions=len(ids),
        entries=watchlists.entries,
        seconds=seconds,
        entries_per_second=watchlists.entries / seconds,
        p50_s=statistics.median(each),
        max_s=max(each),
        alerts=alerts,
        other_cpu=other_cpu,
    )


def _chunks(data: bytes, size: int = 1 << 16) -> Iterator[bytes]:
    """The body streamed (chunked transfer encoding), as a client reading a file would."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def check_deliveries(
    engine: str,
    deployment: Deployment,
    world: World,
    webhooks: list[Webhook],
    expected: int,
    receiver: Receiver,
) -> Delivered:
    """Nothing twice: by webhook-id at the receiver, and by attempts per delivery."""
    base = deployment.bases[0]
    audience = httpx.get(f"{base}/.well-known/exchange").json()["audience"]
    counts = Counter(hook.id for hook in webhooks)
    states: Counter[str] = Counter()
    retried = 0
    with httpx.Client(timeout=120) as client:
        for member in world.subscribers:
            after = None
            while True:
                params: dict[str, Any] = {"limit": 1000} | ({"after": after} if after else {})
                response = client.get(
                    f"{base}/api/v1/deliveries", params=params, headers=bearer(member, audience)
                )
                if response.status_code != 200:
                    raise BenchError(f"deliveries: {response.status_code} {response.text[:500]}")
                page = response.json()
                for delivery in page:
                    states[delivery["state"]] += 1
                    retried += delivery["attempts"] > 1
                if len(page) < 1000:
                    break
                after = page[-1]["alert_id"]
        jwks = client.get(f"{base}/.well-known/jwks.json").json()
    signature_ok = False
    if receiver.sample is not None:
        headers, body = receiver.sample
        try:
            verify_webhook(
                headers, body, jwks, now=datetime.now(UTC), tolerance=timedelta(hours=1)
            )
            signature_ok = True
        except Exception as error:  # reported, not fatal: the latency figures still hold
            err.print(f"[red]a webhook did not verify: {error}[/red]")
    return Delivered(
        engine=engine,
        deployment=deployment.name,
        expected=expected,
        received=len(webhooks),
        distinct=len(counts),
        duplicates=sum(n - 1 for n in counts.values()),
        retried=retried,
        states=dict(states),
        signature_ok=signature_ok,
    )


@contextmanager
def timing(owner: Any, name: str, spent: dict[str, float], label: str) -> Iterator[None]:
    """Wrap `owner.name` so its calls add their wall time to spent[label]."""
    original = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - start

    setattr(owner, name, timed)
    try:
        yield
    finally:
        setattr(owner, name, original)


MATCH_STEPS = (
    (FlagStore, "reports_of_submission", "reports of the submission"),
    (FlagStore, "reports_of_flags", "reports of the flags matched"),
    (SubscriptionStore, "watching", "watchlist lookup"),
    (SubscriptionStore, "active", "subscriptions of the hits"),
    (SubscriptionStore, "active_feeds", "active feeds"),
    (alert_service, "_queue", "policy, bodies, store (hits only)"),
)


def match_in_process(
    engine_name: str,
    world: World,
    *,
    bundles: int,
    bundle_size: int,
    hit_share: float,
    pool: list[tuple[str, str, str]],
    progress: Progress,
) -> InProcess:
    """On the database the run left (every watchlist, every flag): new bundles through
    `submit_bundle`, then `alert_on_submission`, each in a transaction rolled back."""
    jobs = build_jobs(
        world,
        bundles=bundles,
        bundle_size=bundle_size,
        hit_share=hit_share,
        pool=pool,
        seed=99 + bundle_size,
        progress=progress,
    )
    secret = load_private_key(world.operator_key.read_bytes()).derive("exchange pseudonyms v1")
    engine = make_engine(world.url)
    submit_s = match_s = 0.0
    alerts = 0
    spent: dict[str, float] = {}
    task = progress.add_task(f"{engine_name} matching in process", total=len(jobs))
    try:
        with ExitStack() as patches:
            for owner, name, label in MATCH_STEPS:
                if hasattr(owner, name):  # a step the code under test lacks is skipped
                    patches.enter_context(timing(owner, name, spent, label))
            for job in jobs:
                with Session(engine) as session:
                    session.begin()
                    try:
                        partner = PartnerStore(session).get(world.submitters[job.partner].id)
                        now = datetime.now(UTC)
                        start = time.perf_counter()
                        receipt = submit_bundle(
                            session, partner, job.body, now=now, limits=Limits()
                        )
                        middle = time.perf_counter()
                        alerts += alert_service.alert_on_submission(
                            session, receipt.submission.id, now=now, alias_secret=secret
                        )
                        end = time.perf_counter()
                    finally:
                        session.rollback()
                submit_s += middle - start
                match_s += end - middle
                progress.advance(task)
    finally:
        engine.dispose()
        progress.remove_task(task)
    objects = sum(job.objects for job in jobs)
    return InProcess(
        engine=engine_name,
        bundle_size=bundle_size,
        bundles=len(jobs),
        hits=sum(len(job.hits) for job in jobs),
        alerts=alerts,
        submit_ms=submit_s / len(jobs) * 1000,
        match_ms=match_s / len(jobs) * 1000,
        match_objects_per_second=objects / match_s,
        steps_ms={label: seconds / len(jobs) * 1000 for label, seconds in spent.items()},
    )


# --- one engine ----------------------------------------------------------------------------


@dataclass
class EngineRun:
    phases: list[Phase] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    in_process: list[InProcess] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    peak_rss_mib: dict[str, float] = field(default_factory=dict)
    analyzes: int = 0


def run_engine(
    engine: str,
    args: argparse.Namespace,
    watchlists: Watchlists,
    keys: tuple[list[SigningKey], list[SigningKey]],
    progress: Progress,
) -> EngineRun:
    run = EngineRun()
    pool = list(watchlists.pool)
    steady_bundles = max(1, round(args.seconds * args.rate / args.bundle_size))
    burst_bundles = max(1, -(-args.burst_objects // args.burst_bundle_size))
    common = {
        "hit_share": args.hit_share,
        "pool": pool,
        "drain_timeout": args.drain_timeout,
        "quiet_wait": args.quiet_wait,
        "progress": progress,
    }
    steady = {
        "kind": "steady",
        "bundles": steady_bundles,
        "bundle_size": args.bundle_size,
        "rate": args.rate,
        "threads": args.senders,
    }
    burst = {
        "kind": "burst",
        "bundles": burst_bundles,
        "bundle_size": args.burst_bundle_size,
        "rate": None,
        "threads": args.burst_clients,
    }
    with tempfile.TemporaryDirectory(prefix="exchange-bench-alerts-") as tmp, Receiver() as hook:
        workdir = Path(tmp)

        def fresh(name: str) -> tuple[str, World]:
            if engine == "sqlite":
                url = f"sqlite:///{workdir / name / 'exchange.sqlite3'}"
                (workdir / name).mkdir()
            else:
                reset_postgres(args.postgres_url)
                url = args.postgres_url
            return url, make_world(url, workdir / name, *keys)

        def environment(world: World) -> dict[str, str]:
            env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
            return env | {
                "EXCHANGE_DATABASE_URL": world.url,
                "EXCHANGE_OPERATOR_KEY": str(world.operator_key),
                "EXCHANGE_WEBHOOK_ALLOW_PRIVATE": "true",
            }

        def analyzing(url: str) -> AutoAnalyze | nullcontext[None]:
            return AutoAnalyze(url, args.autoanalyze) if engine == "postgres" else nullcontext()

        # 1. baseline: no subscription at all
        if not args.no_baseline:
            url, world = fresh("baseline")
            with (
                analyzing(url) as analyzer,
                deployed(
                    SINGLE, workdir / "baseline", environment(world), apis=1, workers=0
                ) as dep,
            ):
                own = _owner(engine, dep, hook)
                warm_up(dep, world, progress)
                for spec, seed in ((steady, 1), (burst, 2)):
                    phase, _ = run_ingest(
                        engine,
                        dep,
                        world,
                        matching=False,
                        receiver=None,
                        expected_before=0,
                        own=own,
                        seed=seed,
                        **spec,
                        **common,
                    )
                    run.phases.append(phase)
                    _say(phase)
                run.analyzes += getattr(analyzer, "runs", 0)

        # 2-4. subscriptions, watchlists, ingest with matching, matching in process
        url, world = fresh("matching")
        expected, webhooks = 0, []
        with analyzing(url) as analyzer:
            with deployed(
                SINGLE, workdir / "matching", environment(world), apis=1, workers=0
            ) as dep:
                own = _owner(engine, dep, hook)
                upload = subscribe_and_upload(
                    engine,
                    dep,
                    world,
                    watchlists,
                    hook,
                    quiet_wait=args.quiet_wait,
                    own=own,
                    progress=progress,
                )
                run.uploads.append(upload)
                err.print(
                    f"{engine:8} upload: {upload.entries:,} entries in {upload.seconds:,.1f} s, "
                    f"{upload.entries_per_second:,.0f} entries/s"
                )
                warm_up(dep, world, progress)
                for spec, seed in ((steady, 1), (burst, 2)):
                    phase, arrived = run_ingest(
                        engine,
                        dep,
                        world,
                        matching=True,
                        receiver=hook,
                        expected_before=expected,
                        own=own,
                        seed=seed,
                        **spec,
                        **common,
                    )
                    run.phases.append(phase)
                    expected += phase.hits
                    webhooks += arrived
                    _say(phase)
                time.sleep(1.0)  # late duplicates, if any, arrive now
                webhooks += hook.take()
                run.delivered.append(
                    check_deliveries(engine, dep, world, webhooks, expected, hook)
                )
                run.peak_rss_mib[SINGLE] = dep.hwm_mib()
            for size in sorted({args.bundle_size, args.burst_bundle_size}):
                count = max(5, args.in_process_objects // size)
                measured = match_in_process(
                    engine,
                    world,
                    bundles=count,
                    bundle_size=size,
                    hit_share=args.hit_share,
                    pool=pool,
                    progress=progress,
                )
                run.in_process.append(measured)

            # 5. the same database, scaled out
            if engine == "postgres" and args.scale_out:
                env = environment(world)
                with deployed(SCALED, workdir / "scaled", env, apis=2, workers=2) as dep:
                    own = _owner(engine, dep, hook)
                    warm_up(dep, world, progress)
                    scaled_burst = burst | {"threads": max(2, args.burst_clients)}
                    for spec, seed in ((steady, 3), (scaled_burst, 4)):
                        phase, arrived = run_ingest(
                            engine,
                            dep,
                            world,
                            matching=True,
                            receiver=hook,
                            expected_before=expected,
                            own=own,
                            seed=seed,
                            **spec,
                            **common,
                        )
                        run.phases.append(phase)
                        expected += phase.hits
                        webhooks += arrived
                        _say(phase)
                    time.sleep(1.0)
                    webhooks += hook.take()
                    run.delivered.append(
                        check_deliveries(engine, dep, world, webhooks, expected, hook)
                    )
                    run.peak_rss_mib[SCALED] = dep.hwm_mib()
            run.analyzes += getattr(analyzer, "runs", 0)
    return run


def _owner(engine: str, deployment: Deployment, receiver: Receiver) -> Callable[[], list[int]]:
    """The pids whose CPU is the benchmark's own: servers, workers, the receiver, and
    PostgreSQL's processes when it is the database."""

    def own() -> list[int]:
        pids = [*deployment.pids(), receiver.pid]
        return pids + (pids_named("postgres") if engine == "postgres" else [])

    return own


def _say(phase: Phase) -> None:
    text = (
        f"{phase.engine:8} {phase.deployment}, {phase.kind}"
        f"{' + watchlists' if phase.matching else ''}: {phase.objects_per_second:,.0f} obj/s, "
        f"POST p50 {phase.post_p50_ms:,.0f} ms p99 {phase.post_p99_ms:,.0f} ms"
    )
    if phase.hits:
        text += (
            f"; {phase.hits} webhooks, 201→webhook p50 {phase.webhook_p50_ms:,.1f} ms "
            f"p99 {phase.webhook_p99_ms:,.1f} ms"
        )
    err.print(text, highlight=False)


# --- output --------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "-" if value != value else f"{value:,.1f}"  # NaN: not measured


def _table(title: str, columns: tuple[str, ...], left: int) -> Table:
    out = Table(title=title)
    for number, name in enumerate(columns):
        out.add_column(name, justify="left" if number < left else "right")
    return out


def alert_table(runs: dict[str, EngineRun]) -> Table:
    out = _table(
        "Alerts: submission's 201 → webhook received (ms), under ingest, watchlists held",
        (
            "engine",
            "deployment",
            "phase",
            "offered/s",
            "obj/s",
            "POST p50",
            "POST p99",
            "webhooks",
            "p50",
            "p99",
            "max",
            "drain s",
            "other CPU",
        ),
        3,
    )
    for engine, run in runs.items():
        for p in run.phases:
            if p.matching:
                out.add_row(
                    engine,
                    p.deployment,
                    f"{p.kind}, {p.bundle_size}/bundle",
                    f"{p.offered_per_second:,.0f}" if p.offered_per_second else "max",
                    f"{p.objects_per_second:,.0f}",
                    f"{p.post_p50_ms:,.0f}",
                    f"{p.post_p99_ms:,.0f}",
                    f"{p.webhooks:,}",
                    _ms(p.webhook_p50_ms),
                    _ms(p.webhook_p99_ms),
                    _ms(p.webhook_max_ms),
                    f"{p.drain_seconds:.2f}",
                    f"{p.other_cpu:.2f}",
                )
    return out


def ingest_table(runs: dict[str, EngineRun]) -> Table:
    out = _table(
        f"Ingest without and with watchlists ({SINGLE})",
        (
            "engine",
            "phase",
            "obj/s without",
            "obj/s with",
            "slowdown",
            "POST p50 ms",
            "POST p99 ms",
            "other CPU",
        ),
        2,
    )
    for engine, run in runs.items():
        for kind in ("steady", "burst"):
            base = _phase(run, SINGLE, kind, matching=False)
            with_ = _phase(run, SINGLE, kind, matching=True)
            if base is None or with_ is None:
                continue
            out.add_row(
                engine,
                f"{kind}, {base.bundle_size}/bundle",
                f"{base.objects_per_second:,.0f}",
                f"{with_.objects_per_second:,.0f}",
                f"{1 - with_.objects_per_second / base.objects_per_second:.0%}",
                f"{base.post_p50_ms:,.0f} → {with_.post_p50_ms:,.0f}",
                f"{base.post_p99_ms:,.0f} → {with_.post_p99_ms:,.0f}",
                f"{base.other_cpu:.2f} / {with_.other_cpu:.2f}",
            )
    return out


def matching_table(runs: dict[str, EngineRun]) -> Table:
    out = _table(
        "Watchlist upload and matching",
        (
            "engine",
            "entries",
            "upload entries/s",
            "burst obj/s checked",
            "in process: bundle",
            "match ms",
            "obj/s checked",
            "submit ms",
        ),
        1,
    )
    for engine, run in runs.items():
        upload = run.uploads[0] if run.uploads else None
        burst = _phase(run, SINGLE, "burst", matching=True)
        for number, measured in enumerate(run.in_process or [None]):
            first = number == 0
            out.add_row(
                engine if first else "",
                f"{upload.entries:,}" if upload and first else "",
                f"{upload.entries_per_second:,.0f}" if upload and first else "",
                f"{burst.objects_per_second:,.0f}" if burst and first else "",
                f"{measured.bundle_size:,} objects" if measured else "",
                f"{measured.match_ms:,.1f}" if measured else "",
                f"{measured.match_objects_per_second:,.0f}" if measured else "",
                f"{measured.submit_ms:,.1f}" if measured else "",
            )
    return out


def _phase(run: EngineRun, deployment: str, kind: str, *, matching: bool) -> Phase | None:
    for phase in run.phases:
        if (phase.deployment, phase.kind, phase.matching) == (deployment, kind, matching):
            return phase
    return None


def notes(
    runs: dict[str, EngineRun], watchlists: Watchlists, args: argparse.Namespace
) -> list[str]:
    total = sum(watchlists.kinds.values()) or 1
    lines = [
        f"watchlists: {watchlists.entries:,} entries over {len(watchlists.sizes)} webhook "
        f"subscriptions of {args.subscribers} subscribers ("
        + ", ".join(f"{k} {n / total:.0%}" for k, n in watchlists.kinds.most_common())
        + f"); generated in {watchlists.seconds:.1f} s. Ingest: the bench/workload.py mix, "
        f"{args.hit_share:.0%} of each bundle replaced by TLP:AMBER indicators of watched "
        f"addresses, each watched by one subscription (one webhook each); "
        f"{args.submitters} submitters share up to AMBER with the subscribers' group."
    ]
    for engine, run in runs.items():
        for upload in run.uploads:
            lines.append(
                f"{engine}: watchlist upload {upload.entries:,} entries in "
                f"{upload.subscriptions} PUTs (streamed CSV, one at a time): "
                f"{upload.seconds:,.1f} s, {upload.entries_per_second:,.0f} entries/s "
                f"(one PUT of {upload.entries // upload.subscriptions:,}: p50 "
                f"{upload.p50_s:.2f} s, max {upload.max_s:.2f} s; "
                f"other CPU {upload.other_cpu:.2f})"
            )
        for measured in run.in_process:
            steps = ", ".join(f"{k} {v:.1f}" for k, v in measured.steps_ms.items())
            lines.append(
                f"{engine}: matching in process, {measured.bundles} bundles of "
                f"{measured.bundle_size} ({measured.hits} hits, {measured.alerts} alerts): "
                f"alert_on_submission {measured.match_ms:.1f} ms per bundle = "
                f"{measured.match_objects_per_second:,.0f} objects/s checked against "
                f"{watchlists.entries:,} entries; submit_bundle {measured.submit_ms:.1f} ms "
                f"(matching = {measured.match_ms / measured.submit_ms:.0%} of it). "
                f"Steps, ms per bundle: {steps}"
            )
        single = _phase(run, SINGLE, "burst", matching=True)
        scaled = _phase(run, SCALED, "burst", matching=True)
        if single and scaled:
            lines.append(
                f"{engine}: scale-out burst {scaled.objects_per_second:,.0f} obj/s "
                f"({max(2, args.burst_clients)} clients over 2 APIs) "
                f"vs {single.objects_per_second:,.0f} with one process "
                f"({scaled.objects_per_second / single.objects_per_second:.2f} times)"
            )
        for d in run.delivered:
            lines.append(
                f"{engine} {d.deployment}: {d.expected:,} webhooks expected, {d.received:,} "
                f"received, {d.distinct:,} distinct; delivered twice: {d.duplicates}; "
                f"deliveries retried: {d.retried}; states {d.states}; a sampled webhook's "
                f"signature verified against the JWKS: {'yes' if d.signature_ok else 'NO'}"
            )
        if run.peak_rss_mib:
            lines.append(
                f"{engine}: peak RSS "
                + ", ".join(f"{k} {v:,.0f} MiB" for k, v in run.peak_rss_mib.items())
                + (
                    f"; {run.analyzes} ANALYZE runs (server autovacuum is off)"
                    if run.analyzes
                    else ""
                )
            )
        for phase in run.phases:
            if phase.offered_per_second and phase.max_lag_ms > 200:
                lines.append(
                    f"  NOTE {engine} {phase.deployment} steady: the senders fell up to "
                    f"{phase.max_lag_ms:,.0f} ms behind the schedule (server saturated)"
                )
            if phase.other_cpu > 0.2:
                lines.append(
                    f"  WARNING {engine} {phase.deployment} {phase.kind}: other processes kept "
                    f"{phase.other_cpu:.2f} CPUs busy; its figures are pessimistic"
                )
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--entries", type=int, default=1_000_000, help="watchlist entries")
    parser.add_argument("--subscriptions", type=int, default=100)
    parser.add_argument("--subscribers", type=int, default=10, help="partners subscribing")
    parser.add_argument("--submitters", type=int, default=4)
    parser.add_argument("--rate", type=float, default=1000, help="steady ingest, objects/s")
    parser.add_argument("--seconds", type=float, default=60, help="of steady ingest per phase")
    parser.add_argument("--bundle-size", type=int, default=100, help="steady phase")
    parser.add_argument("--senders", type=int, default=4, help="steady phase: sender threads")
    parser.add_argument("--hit-share", type=float, default=0.02, help="of each bundle watched")
    parser.add_argument("--burst-objects", type=int, default=30_000)
    parser.add_argument("--burst-bundle-size", type=int, default=1000)
    parser.add_argument("--burst-clients", type=int, default=2)
    parser.add_argument(
        "--in-process-objects", type=int, default=5_000, help="per bundle size, rolled back"
    )
    parser.add_argument("--drain-timeout", type=float, default=120)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip ingest without watchlists"
    )
    parser.add_argument(
        "--no-scale-out", dest="scale_out", action="store_false", help="skip 2 API + 2 workers"
    )
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
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
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--out", type=Path, help="also write the JSON results to this file")
    args = parser.parse_args(argv)
    args.engines = [e for e in args.engines.split(",") if e]
    if set(args.engines) - {"sqlite", "postgres"}:
        parser.error("--engines: sqlite and/or postgres")
    if min(args.entries, args.subscriptions, args.subscribers, args.submitters) < 1:
        parser.error("entries, subscriptions, subscribers and submitters must be positive")
    if args.submitters < 2 or not 0 <= args.hit_share <= 1 or args.rate <= 0:
        parser.error("at least 2 submitters; --hit-share in [0, 1]; --rate positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM):  # clean up on Ctrl-C and kill alike
        signal.signal(signum, signal.default_int_handler)
    began = time.monotonic()
    steady_hits = args.seconds * args.rate * args.hit_share
    burst_hits = args.burst_objects * args.hit_share
    pool = int(
        1.3 * (2 * (steady_hits + burst_hits) + 2 * args.in_process_objects * args.hit_share)
    )
    pool += 200
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    runs: dict[str, EngineRun] = {}
    try:
        with Progress(*columns, console=err, transient=True) as progress:
            err.print(f"generating {args.entries:,} watchlist entries…")
            watchlists = make_watchlists(args.entries, args.subscriptions, pool)
            keys = (
                [generate_key() for _ in range(args.submitters)],
                [generate_key() for _ in range(args.subscribers)],
            )
            for engine in args.engines:
                runs[engine] = run_engine(engine, args, watchlists, keys, progress)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted: servers stopped, temporary files removed[/yellow]")
        return 130
    except BenchError as error:
        err.print(f"[red]benchmark failed:[/red] {error}", highlight=False)
        return 1
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code_version(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "seconds": round(time.monotonic() - began, 1),
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "watchlists": {
            "entries": watchlists.entries,
            "subscriptions": len(watchlists.sizes),
            "kinds": dict(watchlists.kinds),
        },
        "runs": {engine: asdict(run) for engine, run in runs.items()},
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(document, indent=2) + "\n")
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        console = Console(width=max(Console().width, 160))
        console.print(alert_table(runs))
        console.print(ingest_table(runs))
        console.print(matching_table(runs))
        for line in notes(runs, watchlists, args):
            print(line)
        print(
            f"code: {document['code']}; Python {document['python']}, {os.cpu_count()} CPUs; "
            f"the whole run took {document['seconds']:,.0f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
