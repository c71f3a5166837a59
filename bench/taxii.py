"""TAXII 2.1 side by side: the exchange, medallion 3.0.0 and OpenTAXII 0.9.3, same client.

Installs the two peers in their own virtualenvs (`--peers-dir`, default /tmp/peers), starts
each server as a subprocess on this machine, and drives all three over real HTTP with one
TAXII client code path (httpx with the TAXII 2.1 media types); only the authentication hook
differs: HTTP Basic for the peers, a fresh partner token and an `Exchange-Signature` (made
by `exchange.signatures.sign_envelope`) for the exchange, whose side verifies every
signature and applies its policy. Per server and size:

1. ingest: envelopes of 1,000 indicators (bench/workload.py), objects/s until status complete;
2. get-by-id (`objects/{id}/`) and a filtered query (`match[id]` of 10 ids, `match[type]`,
   `match[spec_version]`): p50/p99;
3. manifest: first page of 1,000, p50;
4. read-all: the whole collection, pages of 1,000 following `next`: objects/s and per-page
   latency (p50/p90/p99 over the first and the last decile of pages);
5. server RSS (the process tree's VmRSS, sampled every 100 ms, and VmHWM).

Every phase of every server is time-boxed (`--phase-limit`, 600 s): a phase that runs out
reports what it reached. read-all comes last because it is the phase a peer may not finish.
The exchange is read through both its collections: Submissions (what the submitter posted,
as the peers serve it) and Flags (every report the caller may see, through the sharing
policy).

    python bench/taxii.py                                      # 10k and 100k, all three
    python bench/taxii.py --sizes 10000 --peers exchange       # a quick run
    python bench/taxii.py --sizes 10000,100000 --out bench/results/taxii.json

OpenTAXII 0.9.3 as released answers 500 to this workload (its issues #243, a UUID that
json.dumps cannot serialise in taxii2/http.py, and #236, objects without `modified` in
persistence/sqldb/api.py); both are fixed on its master, and this script applies those two
small fixes inside the peer's virtualenv (and says so). OpenTAXII runs under gunicorn with
2 workers on PostgreSQL (`--opentaxii-db`, a database whose name must contain "bench",
dropped and recreated per phase; the `test` database is never touched).
"""

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import (
    BenchError,
    Server,
    free_port,
    generate_keys,
    process_tree,
    register_partners,
    status_kib,
)
from machine import Meter, pids_named, wait_for_quiet
from workload import Workload, code_version

from exchange import tokens
from exchange.services.taxii import FLAGS, SUBMISSIONS
from exchange.signatures import SigningKey, load_private_key, sign_envelope

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
PEERS = ("medallion", "opentaxii", "exchange")
PINS = {
    "medallion": ["medallion==3.0.0"],
    "opentaxii": ["opentaxii==0.9.3", "gunicorn", "psycopg2-binary"],
}
OPENTAXII_DB = "postgresql+psycopg2://postgres@127.0.0.1:5432/bench_opentaxii"
USER, PASSWORD = "bench", "bench-password"
err = Console(stderr=True)


# --- one TAXII client for all three ------------------------------------------------------


class ExchangeAuth(httpx.Auth):
    """The exchange's hook: a fresh single-use partner token per request and, on posts, the
    envelope's Exchange-Signature. Time spent signing is kept (it is the client's)."""

    requires_request_body = True

    def __init__(self, key: SigningKey, audience: str) -> None:
        self.key, self.audience = key, audience
        self.sign_seconds = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        began = time.perf_counter()
        now = datetime.now(UTC)
        token = tokens.issue(self.key, audience=self.audience, now=now, ttl=timedelta(minutes=2))
        request.headers["Authorization"] = f"Bearer {token}"
        if request.method == "POST":
            envelope = json.loads(request.content)
            iat = int(now.timestamp())
            request.headers["Exchange-Signature"] = sign_envelope(envelope, self.key, iat=iat)
        self.sign_seconds += time.perf_counter() - began
        yield request


@dataclass
class Target:
    """A TAXII collection to drive: its API root, collection URL and authentication."""

    name: str
    api_root: str  # ends with /
    collection: str  # .../collections/{id}/
    auth: httpx.Auth
    writable: bool = True


class Expired(Exception):
    """The phase's time box ran out."""


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise Expired
        return left


def request(
    client: httpx.Client, deadline: Deadline, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    left = deadline.left()
    headers = {"Accept": TAXII} | kwargs.pop("headers", {})
    try:
        response = client.request(
            method, url, headers=headers, timeout=httpx.Timeout(left, connect=10), **kwargs
        )
    except httpx.TimeoutException:
        raise Expired from None
    if response.status_code >= 300:
        raise BenchError(f"{method} {url}: {response.status_code} {response.text[:1500]}")
    return response


def add_objects(
    client: httpx.Client, target: Target, deadline: Deadline, body: bytes, count: int
) -> None:
    """POST one envelope, then poll its status until complete; every object a success."""
    response = request(
        client,
        deadline,
        "POST",
        target.collection + "objects/",
        content=body,
        headers={"Content-Type": TAXII},
        auth=target.auth,
    )
    status = response.json()
    while status.get("status") != "complete":
        time.sleep(0.05)
        status = request(
            client, deadline, "GET", f"{target.api_root}status/{status['id']}/", auth=target.auth
        ).json()
    if status.get("success_count") != count or status.get("failure_count", 0):
        raise BenchError(
            f"{target.name}: {count} objects posted, status says success "
            f"{status.get('success_count')} failure {status.get('failure_count')}"
        )


def get(
    client: httpx.Client, target: Target, deadline: Deadline, path: str, params: Any = None
) -> tuple[dict[str, Any], float]:
    began = time.perf_counter()
    response = request(
        client, deadline, "GET", target.collection + path, params=params, auth=target.auth
    )
    body = response.json()
    return body, (time.perf_counter() - began) * 1000


# --- the measurement ---------------------------------------------------------------------


def pct(values: list[float], p: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


@dataclass
class Result:
    server: str
    size: int
    ingested: int = 0
    ingest_seconds: float = 0.0
    ingest_per_s: float | None = None
    ingest_first_10pct_per_s: float | None = None
    ingest_last_10pct_per_s: float | None = None
    ingest_complete: bool = False
    client_sign_seconds: float = 0.0
    read: int = 0
    read_seconds: float = 0.0
    read_per_s: float | None = None
    read_complete: bool = False
    pages: int = 0
    page_first: dict[str, float | None] = field(default_factory=dict)
    page_last: dict[str, float | None] = field(default_factory=dict)
    by_id_p50: float | None = None
    by_id_p99: float | None = None
    by_id_done: int = 0
    filtered_p50: float | None = None
    filtered_p99: float | None = None
    filtered_done: int = 0
    manifest_p50: float | None = None
    manifest_done: int = 0
    idle_rss_mib: float = 0.0
    peak_rss_mib: float = 0.0
    end_rss_mib: float = 0.0
    other_cpu: float = 0.0
    notes: list[str] = field(default_factory=list)


def rate(spans: list[tuple[float, float, int]]) -> float | None:
    if not spans:
        return None
    wall = spans[-1][1] - spans[0][0]
    return sum(s[2] for s in spans) / wall if wall > 0 else None


def deciles(latencies: list[float]) -> tuple[dict[str, float | None], dict[str, float | None]]:
    tenth = max(1, len(latencies) // 10)

    def stats(values: list[float]) -> dict[str, float | None]:
        return {"p50": pct(values, 50), "p90": pct(values, 90), "p99": pct(values, 99)}

    return stats(latencies[:tenth]), stats(latencies[-tenth:])


def ingest(
    client: httpx.Client,
    target: Target,
    envelopes: list[tuple[bytes, int]],
    limit: float,
    result: Result,
) -> None:
    deadline, spans = Deadline(limit), []
    began = time.perf_counter()
    try:
        for body, count in envelopes:
            start = time.perf_counter()
            add_objects(client, target, deadline, body, count)
            spans.append((start, time.perf_counter(), count))
            result.ingested += count
        result.ingest_complete = True
    except Expired:
        result.notes.append(f"ingest stopped at the {limit:.0f} s limit")
    result.ingest_seconds = time.perf_counter() - began
    result.ingest_per_s = result.ingested / result.ingest_seconds if result.ingested else 0.0
    tenth = max(1, len(spans) // 10)
    result.ingest_first_10pct_per_s = rate(spans[:tenth])
    result.ingest_last_10pct_per_s = rate(spans[-tenth:])
    if isinstance(target.auth, ExchangeAuth):
        result.client_sign_seconds = target.auth.sign_seconds


def timed_loop(
    samples: int, limit: float, one: Callable[[Deadline, int], float]
) -> tuple[list[float], bool]:
    deadline, latencies = Deadline(limit), []
    try:
        for number in range(samples):
            latencies.append(one(deadline, number))
    except Expired:
        return latencies, False
    return latencies, True


def lookups(
    client: httpx.Client,
    target: Target,
    ids: list[str],
    *,
    samples: int,
    limit: float,
    result: Result,
) -> None:
    rng = random.Random(7)
    picks = [rng.choice(ids) for _ in range(samples)]

    def by_id(deadline: Deadline, number: int) -> float:
        body, ms = get(client, target, deadline, f"objects/{picks[number]}/")
        if [o["id"] for o in body.get("objects", [])] != [picks[number]]:
            raise BenchError(f"{target.name}: get-by-id {picks[number]} answered {body}"[:1500])
        return ms

    latencies, done = timed_loop(samples, limit, by_id)
    result.by_id_p50, result.by_id_p99 = pct(latencies, 50), pct(latencies, 99)
    result.by_id_done = len(latencies)
    if not done:
        result.notes.append(f"get-by-id: {len(latencies)} of {samples} in the {limit:.0f} s limit")

    groups = [rng.sample(ids, min(10, len(ids))) for _ in range(samples)]

    def filtered(deadline: Deadline, number: int) -> float:
        wanted = groups[number]
        params = {
            "match[id]": ",".join(wanted),
            "match[type]": "indicator",
            "match[spec_version]": "2.1",
        }
        body, ms = get(client, target, deadline, "objects/", params)
        got = {o["id"] for o in body.get("objects", [])}
        if got != set(wanted):
            raise BenchError(f"{target.name}: filtered query: {len(got)} of {len(wanted)} ids")
        return ms

    latencies, done = timed_loop(samples, limit, filtered)
    result.filtered_p50, result.filtered_p99 = pct(latencies, 50), pct(latencies, 99)
    result.filtered_done = len(latencies)
    if not done:
        result.notes.append(f"filtered: {len(latencies)} of {samples} in the {limit:.0f} s limit")

    def manifest(deadline: Deadline, number: int) -> float:
        body, ms = get(client, target, deadline, "manifest/", {"limit": 1000})
        if len(body.get("objects", [])) != min(1000, len(ids)):
            raise BenchError(f"{target.name}: manifest page of {len(body.get('objects', []))}")
        return ms

    latencies, done = timed_loop(max(5, samples // 10), limit, manifest)
    result.manifest_p50 = pct(latencies, 50)
    result.manifest_done = len(latencies)
    if not done:
        result.notes.append(f"manifest: {len(latencies)} pages in the {limit:.0f} s limit")


def read_all(
    client: httpx.Client, target: Target, limit: float, result: Result, expected: int
) -> list[str]:
    deadline, latencies, ids = Deadline(limit), [], []
    params: dict[str, Any] = {"limit": 1000}
    began = time.perf_counter()
    try:
        while True:
            body, ms = get(client, target, deadline, "objects/", params)
            latencies.append(ms)
            ids.extend(o["id"] for o in body.get("objects", []))
            if not body.get("more"):
                break
            params = {"limit": 1000, "next": body["next"]}
        result.read_complete = True
    except Expired:
        result.notes.append(
            f"read-all stopped at the {limit:.0f} s limit after {len(ids):,} objects"
        )
    result.read_seconds = time.perf_counter() - began
    result.read = len(ids)
    result.read_per_s = len(ids) / result.read_seconds
    result.pages = len(latencies)
    result.page_first, result.page_last = deciles(latencies)
    if result.read_complete and (len(ids) != expected or len(set(ids)) != len(ids)):
        raise BenchError(
            f"{target.name}: read {len(ids)} ids ({len(set(ids))} distinct), expected {expected}"
        )
    return ids


@contextmanager
def rss_sampling(pid: int, result: Result, every: float = 0.1) -> Iterator[None]:
    def rss(name: str = "VmRSS") -> int:
        return sum(status_kib(p, name) for p in process_tree(pid))

    result.idle_rss_mib = rss() / 1024
    stop, peak = threading.Event(), [0]

    def sample() -> None:
        while not stop.wait(every):
            peak[0] = max(peak[0], rss())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        result.end_rss_mib = rss() / 1024
        result.peak_rss_mib = max(peak[0], rss(), rss("VmHWM")) / 1024


def measure(
    server: str,
    size: int,
    targets: list[Target],
    envelopes: list[tuple[bytes, int]],
    object_ids: list[str],
    pid: int,
    own: Callable[[], list[int]],
    args: argparse.Namespace,
) -> list[Result]:
    """Ingest through the first target, then read through every target."""
    results = []
    meter = Meter(own)
    meter.start()
    with httpx.Client() as client:
        first = Result(target_label(server, targets[0]), size)
        with rss_sampling(pid, first):
            err.print(f"  {first.server} {size:,}: ingest")
            ingest(client, targets[0], envelopes, args.phase_limit, first)
            for number, target in enumerate(targets):
                result = first if number == 0 else Result(target_label(server, target), size)
                if number:
                    result.ingested, result.ingest_complete = first.ingested, first.ingest_complete
                ids = object_ids[: result.ingested] if target.writable else []
                if not ids:  # the Flags collection serves ids of its own: learn them first
                    probe, _ = get(
                        client, target, Deadline(args.phase_limit), "objects/", {"limit": 1000}
                    )
                    ids = [o["id"] for o in probe.get("objects", [])]
                if ids:
                    err.print(f"  {result.server} {size:,}: get-by-id, filtered, manifest")
                    lookups(
                        client,
                        target,
                        ids,
                        samples=args.samples,
                        limit=args.phase_limit,
                        result=result,
                    )
                err.print(f"  {result.server} {size:,}: read-all")
                read_all(client, target, args.phase_limit, result, first.ingested)
                results.append(result)
    other = meter.foreign_cores()
    for result in results:
        result.other_cpu = other
        if result is not first:
            result.idle_rss_mib, result.peak_rss_mib = first.idle_rss_mib, first.peak_rss_mib
            result.end_rss_mib = first.end_rss_mib
    return results


def target_label(server: str, target: Target) -> str:
    return server if target.name == server else f"{server} ({target.name})"


# --- the workload ------------------------------------------------------------------------


def build_envelopes(
    partner: str, size: int, per: int
) -> tuple[list[tuple[bytes, int]], list[str]]:
    """TAXII envelopes of `per` indicators each, serialised before any clock starts."""
    workload = Workload([partner], bundle_size=per)
    envelopes, ids = [], []
    for _, bundle in workload.bundles(-(-size // per)):
        objects = bundle["objects"]
        envelopes.append((json.dumps({"objects": objects}).encode(), len(objects)))
        ids.extend(o["id"] for o in objects)
    return envelopes, ids


# --- the peers ---------------------------------------------------------------------------


def venv(peers_dir: Path, name: str) -> Path:
    """The peer's virtualenv, created and installed from the configured index if missing."""
    home = peers_dir / name
    if not (home / "bin" / "python").exists():
        err.print(f"installing {' '.join(PINS[name])} into {home}")
        subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
    probe = subprocess.run(
        [str(home / "bin" / "pip"), "show", PINS[name][0].split("==")[0]],
        capture_output=True,
        text=True,
    )
    if f"Version: {PINS[name][0].split('==')[1]}" not in probe.stdout:
        subprocess.run([str(home / "bin" / "pip"), "install", "-q", *PINS[name]], check=True)
    return home


def site_packages(home: Path) -> Path:
    (found,) = home.glob("lib/python*/site-packages")
    return found


def patch_opentaxii(home: Path) -> list[str]:
    """Apply the two upstream fixes (#243, #236) inside the peer's virtualenv; idempotent."""
    root = site_packages(home) / "opentaxii"
    fixes = [
        (
            root / "taxii2" / "http.py",
            "data = json.dumps(data)\n",
            "data = json.dumps(data, default=str)  # bench: upstream #243\n",
            "#243: taxii2/http.py json.dumps(data, default=str) (a job's UUID id)",
        ),
        (
            root / "persistence" / "sqldb" / "api.py",
            'obj["modified"], DATETIMEFORMAT',
            'obj.get("modified") or obj.get("created") or datetime.datetime.now('
            "datetime.timezone.utc).strftime(DATETIMEFORMAT), DATETIMEFORMAT  # bench: #236",
            "#236: persistence/sqldb/api.py add_objects: version = modified, else created, "
            "else now",
        ),
    ]
    applied = []
    for path, old, new, note in fixes:
        source = path.read_text()
        if new not in source:
            if source.count(old) != 1:
                raise BenchError(f"cannot patch {path}: {old!r} found {source.count(old)} times")
            path.write_text(source.replace(old, new))
            for cached in (path.parent / "__pycache__").glob(path.stem + ".*.pyc"):
                cached.unlink()
        applied.append(note)
    return applied


def reset_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    if name in ("test", "postgres", "bench_alerts") or "bench" not in name:
        raise BenchError(f"refusing to drop {name!r}: use a database named *bench*")
    admin = url.rsplit("/", 1)[0].replace("+psycopg2", "") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class Process:
    """A peer server in its own session, its log in the working directory."""

    def __init__(self, command: list[str], workdir: Path, env: dict[str, str]) -> None:
        self.log = workdir / "server.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_for(self, url: str, auth: httpx.Auth, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the server exited ({self.process.returncode}):\n{self.tail()}")
            try:
                if (
                    httpx.get(url, auth=auth, headers={"Accept": TAXII}, timeout=2).status_code
                    == 200
                ):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise BenchError(f"{url} did not answer within {timeout} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def medallion(peers_dir: Path, workdir: Path) -> Iterator[tuple[list[Target], int, list[str]]]:
    home = venv(peers_dir, "medallion")
    port, collection = free_port(), str(uuid.uuid4())
    base = f"http://127.0.0.1:{port}"
    data = {
        "/discovery": {
            "title": "bench",
            "default": f"{base}/api1/",
            "api_roots": [f"{base}/api1/"],
        },
        "api1": {
            "information": {
                "title": "bench",
                "versions": [TAXII],
                "max_content_length": 100 * 2**20,
            },
            "status": [],
            "collections": [
                {
                    "id": collection,
                    "title": "bench",
                    "description": "",
                    "can_read": True,
                    "can_write": True,
                    "media_types": [STIX],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (workdir / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(workdir / "data.json"),
            "session_timeout": 3600,  # `next` cursors outlive a slow reader
        },
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": 1000},
    }
    (workdir / "config.json").write_text(json.dumps(config))
    auth = httpx.BasicAuth(USER, PASSWORD)
    server = Process(
        [
            str(home / "bin" / "medallion"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "config.json",
        ],
        workdir,
        dict(os.environ),
    )
    try:
        server.wait_for(f"{base}/taxii2/", auth)
        root = f"{base}/api1/"
        yield (
            [Target("medallion", root, f"{root}collections/{collection}/", auth)],
            server.process.pid,
            [
                "medallion 3.0.0, memory backend, its own server (Flask, threaded), "
                "max_page_size 1000"
            ],
        )
    finally:
        server.stop()


OPENTAXII_SETUP = """
import sys
from opentaxii.cli import app
with app.app_context():
    api = app.taxii_server.servers.taxii2.persistence.api
    root = api.add_api_root(title="bench", default=True)
    collection = api.add_collection(api_root_id=root.id, title="bench")
    app.taxii_server.auth.api.create_account(
        username=sys.argv[1], password=sys.argv[2], is_admin=True
    )
    print(root.id, collection.id)
"""


@contextmanager
def opentaxii(
    peers_dir: Path, workdir: Path, db_url: str
) -> Iterator[tuple[list[Target], int, list[str]]]:
    home = venv(peers_dir, "opentaxii")
    notes = patch_opentaxii(home)
    reset_database(db_url)
    port = free_port()
    config = f"""---
domain: "127.0.0.1:{port}"
support_basic_auth: yes
return_server_error_details: yes
auth_api:
  class: opentaxii.auth.sqldb.SQLDatabaseAPI
  parameters:
    db_connection: {db_url}
    create_tables: yes
    secret: bench-secret-not-for-production
    token_ttl_secs: 3600
taxii1:
taxii2:
  persistence_api:
    class: opentaxii.persistence.sqldb.Taxii2SQLDatabaseAPI
    parameters:
      db_connection: {db_url}
      create_tables: yes
  max_content_length: {100 * 2**20}
  title: bench
logging:
  opentaxii: warning
  root: warning
"""
    (workdir / "opentaxii.yml").write_text(config)
    env = dict(os.environ) | {"OPENTAXII_CONFIG": str(workdir / "opentaxii.yml")}
    done = subprocess.run(
        [str(home / "bin" / "python"), "-c", OPENTAXII_SETUP, USER, PASSWORD],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchError(f"opentaxii setup failed:\n{done.stderr[-3000:]}")
    root_id, collection = done.stdout.split()[-2:]
    base = f"http://127.0.0.1:{port}"
    auth = httpx.BasicAuth(USER, PASSWORD)
    command = [
        str(home / "bin" / "gunicorn"),
        *("--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "900"),
        *("--config", "python:opentaxii.http", "opentaxii.http:app"),
    ]
    server = Process(command, workdir, env)
    try:
        server.wait_for(f"{base}/taxii2/", auth)
        root = f"{base}/taxii2/{root_id}/"
        yield (
            [Target("opentaxii", root, f"{root}collections/{collection}/", auth)],
            server.process.pid,
            [
                "opentaxii 0.9.3, gunicorn 2 workers, PostgreSQL ("
                + db_url.rsplit("/", 1)[1]
                + ")",
                *(f"patched in its virtualenv: {note}" for note in notes),
            ],
        )
    finally:
        server.stop()


@contextmanager
def the_exchange(
    workdir: Path, key_path: Path, database: str
) -> Iterator[tuple[list[Target], int, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    url = f"sqlite:///{workdir / 'exchange.sqlite3'}" if database == "sqlite" else database
    env |= {
        "EXCHANGE_DATABASE_URL": url,
        "EXCHANGE_OPERATOR_KEY": str(workdir / "keys" / "operator.pem"),
    }
    server = Server(workdir, env, free_port())
    try:
        server.start()
        (partner,) = register_partners(env, workdir, [key_path])
        audience = httpx.get(f"{server.base}/.well-known/exchange").json()["audience"]
        auth = ExchangeAuth(load_private_key(key_path.read_bytes()), audience)
        root = f"{server.base}/taxii2/api/"
        assert server.process is not None
        yield (
            [
                Target("Submissions", root, f"{root}collections/{SUBMISSIONS}/", auth),
                Target("Flags", root, f"{root}collections/{FLAGS}/", auth, writable=False),
            ],
            server.process.pid,
            partner,
        )
    except BaseException:
        err.print(f"[red]exchange log:[/red]\n{server.tail()}")
        raise
    finally:
        server.stop()


# --- output ------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def ms(value: float | None) -> str:
    return "-" if value is None else (f"{value:,.1f}" if value < 100 else f"{value:,.0f}")


def pages(stats: dict[str, float | None]) -> str:
    return " / ".join(ms(stats.get(k)) for k in ("p50", "p90", "p99")) if stats else "-"


def table(results: list[Result]) -> Table:
    out = Table(title="TAXII 2.1: same client, same workload (ms unless said)")
    for name in (
        "server",
        "objects",
        "ingest obj/s",
        "first / last 10%",
        "read-all obj/s",
        "page p50/p90/p99 first decile",
        "last decile",
        "by-id p50 / p99",
        "filtered p50 / p99",
        "manifest p50",
        "RSS idle / peak MiB",
    ):
        out.add_column(name, justify="left" if name == "server" else "right")
    for r in results:
        ingest_cell = fmt(r.ingest_per_s) + (
            "" if r.ingest_complete else f" ({r.ingested:,} reached)"
        )
        read_cell = fmt(r.read_per_s) + ("" if r.read_complete else f" ({r.read:,} reached)")
        out.add_row(
            r.server,
            f"{r.size:,}",
            ingest_cell,
            f"{fmt(r.ingest_first_10pct_per_s)} / {fmt(r.ingest_last_10pct_per_s)}",
            read_cell,
            pages(r.page_first),
            pages(r.page_last),
            f"{ms(r.by_id_p50)} / {ms(r.by_id_p99)}",
            f"{ms(r.filtered_p50)} / {ms(r.filtered_p99)}",
            ms(r.manifest_p50),
            f"{r.idle_rss_mib:,.0f} / {r.peak_rss_mib:,.0f}",
        )
    return out


def ratios(results: list[Result]) -> list[str]:
    """exchange / peer: throughput ratios, and latency ratios as peer / exchange (x faster)."""
    lines = []
    for size in sorted({r.size for r in results}):
        ours = next(
            (r for r in results if r.size == size and r.server.startswith("exchange")), None
        )
        if ours is None:
            continue
        for peer in (r for r in results if r.size == size and not r.server.startswith("exchange")):
            parts = []
            for label, mine, theirs, higher_better in (
                ("ingest", ours.ingest_per_s, peer.ingest_per_s, True),
                ("read-all", ours.read_per_s, peer.read_per_s, True),
                ("by-id p50", ours.by_id_p50, peer.by_id_p50, False),
                ("filtered p50", ours.filtered_p50, peer.filtered_p50, False),
                ("manifest p50", ours.manifest_p50, peer.manifest_p50, False),
                ("peak RSS", ours.peak_rss_mib, peer.peak_rss_mib, False),
            ):
                if not mine or not theirs:
                    parts.append(f"{label} -")
                    continue
                value = mine / theirs if higher_better else theirs / mine
                parts.append(f"{label} {value:,.1f}x")
            lines.append(f"{size:,}: exchange vs {peer.server}: " + ", ".join(parts))
    return lines


def aims(results: list[Result]) -> list[str]:
    lines = []
    for r in (r for r in results if r.server.startswith("exchange")):
        page_p50 = r.page_last.get("p50") if r.page_last else None
        lines.append(
            f"{r.server} {r.size:,}: ingest {fmt(r.ingest_per_s)} (aim 5,000), read-all "
            f"{fmt(r.read_per_s)} (aim 20,000), last-decile page p50 {ms(page_p50)} ms "
            "(aim < 50), "
            f"by-id p99 {ms(r.by_id_p99)} ms, filtered p99 {ms(r.filtered_p99)} ms (aim < 10)"
        )
    return lines


# --- main --------------------------------------------------------------------------------


def csv_ints(value: str) -> list[int]:
    return [int(part.replace("_", "")) for part in value.split(",") if part]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=csv_ints, default=[10_000, 100_000])
    parser.add_argument("--peers", default=",".join(PEERS), help="medallion,opentaxii,exchange")
    parser.add_argument(
        "--peer-sizes",
        type=csv_ints,
        help="sizes for medallion and opentaxii (default: --sizes)",
    )
    parser.add_argument("--envelope-size", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=200, help="get-by-id and filtered requests")
    parser.add_argument(
        "--phase-limit", type=float, default=600, help="seconds per phase and server"
    )
    parser.add_argument("--peers-dir", type=Path, default=Path("/tmp/peers"))
    parser.add_argument("--opentaxii-db", default=OPENTAXII_DB)
    parser.add_argument(
        "--exchange-db", default="sqlite", help="sqlite, or a PostgreSQL URL of a *bench* database"
    )
    parser.add_argument("--quiet-wait", type=float, default=300)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    args.peers = [p for p in args.peers.split(",") if p]
    if set(args.peers) - set(PEERS):
        parser.error(f"--peers: some of {','.join(PEERS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    results: list[Result] = []
    notes: dict[str, list[str]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="exchange-bench-taxii-") as tmp:
            keydir = Path(tmp) / "keys"
            keydir.mkdir()
            env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
            (key_path,) = generate_keys(env, keydir, 1)
            for server in args.peers:
                sizes = args.sizes if server == "exchange" else (args.peer_sizes or args.sizes)
                for size in sizes:
                    if args.quiet_wait > 0:
                        wait_for_quiet(
                            patience=args.quiet_wait, say=lambda t: err.print(f"[yellow]{t}[/]")
                        )
                    workdir = Path(tempfile.mkdtemp(dir=tmp))
                    err.print(f"[bold]{server}[/bold], {size:,} objects")
                    if server == "exchange":
                        context = the_exchange(workdir, key_path, args.exchange_db)
                    elif server == "medallion":
                        context = medallion(args.peers_dir, workdir)
                    else:
                        context = opentaxii(args.peers_dir, workdir, args.opentaxii_db)
                    with context as (targets, pid, extra):
                        if server == "exchange":
                            partner = str(extra)
                            notes[server] = [f"exchange serve, {args.exchange_db.split(':')[0]}"]
                        else:
                            partner = f"identity--{uuid.uuid5(uuid.NAMESPACE_DNS, 'bench')}"
                            notes[server] = list(extra)
                        envelopes, ids = build_envelopes(partner, size, args.envelope_size)
                        postgres = server == "opentaxii" or args.exchange_db != "sqlite"

                        def own(pid: int = pid, postgres: bool = postgres) -> list[int]:
                            return process_tree(pid) + (pids_named("postgres") if postgres else [])

                        measured = measure(server, size, targets, envelopes, ids, pid, own, args)
                    for r in measured:
                        err.print(
                            f"  {r.server} {size:,}: ingest {fmt(r.ingest_per_s)} obj/s, read-all "
                            f"{fmt(r.read_per_s)} obj/s, by-id p50 {ms(r.by_id_p50)} ms"
                            + (f" [{'; '.join(r.notes)}]" if r.notes else "")
                        )
                    results.extend(measured)
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
        "envelope_size": args.envelope_size,
        "phase_limit_s": args.phase_limit,
        "samples": args.samples,
        "servers": notes,
        "results": [asdict(r) for r in results],
        "ratios": ratios(results),
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(document, indent=2) + "\n")
    if args.json:
        print(json.dumps(document, indent=2))
        return 0
    Console(width=max(Console().width, 200)).print(table(results))
    for server, lines in notes.items():
        print(f"{server}: " + "; ".join(lines))
    for r in results:
        if r.notes or r.other_cpu > 0.2:
            extra = (
                [f"other processes kept {r.other_cpu:.2f} CPUs busy"] if r.other_cpu > 0.2 else []
            )
            print(f"{r.server} {r.size:,}: " + "; ".join(r.notes + extra))
        if r.client_sign_seconds:
            print(
                f"{r.server} {r.size:,}: the client spent {r.client_sign_seconds:,.1f} s of the "
                f"{r.ingest_seconds:,.1f} s ingest signing (tokens, JCS, Ed25519)"
            )
    for line in ratios(results) + aims(results):
        print(line)
    print(f"code: {document['code']}; Python {document['python']}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
