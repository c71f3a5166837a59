"""Where the time goes for one signed bundle of 1,000 address indicators, stage by stage.

In-process and single-threaded, with the project's own functions, in the order
exchange.services.submissions.submit_bundle runs them: JSON parse (parse_json), the
signed-document shape (read_signed_bundle, which computes the JCS form), signature
verification, the STIX reader (read_bundle, addresses included), dedup (settle) and every
database call, each timed alone on a migrated temporary SQLite database (or --database-url).
Then the whole submit_bundle, the HTTP edge (authentication, response model) and one
in-process ASGI request, as cross-checks; then baselines (json.loads, rfc8785.dumps, Ed25519)
and the reference peers (stix2.parse, stix2-validator) next to the figures given in the issue.

    python bench/stages.py                  # 7 bundles, median per stage
    python bench/stages.py --repeat 15 --preload 50 --json
    python bench/stages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

import argparse
import asyncio
import functools
import hashlib
import importlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import reset_postgres
from machine import Meter, pids_named, wait_for_quiet
from workload import Workload, code_version, sign

from exchange import tokens
from exchange.config import Settings
from exchange.core.addresses import parse_address
from exchange.core.bundles import _PATTERN, EXTENSION_ID, read_bundle
from exchange.core.claims import Tlp
from exchange.core.dedup import Status
from exchange.core.partners import Partner, Role
from exchange.services.auth import authenticate
from exchange.services.partners import add_partner, register_key
from exchange.services.submissions import Limits, submit_bundle
from exchange.signatures import (
    b64url,
    b64url_decode,
    generate_key,
    jws_header,
    jws_verify,
    parse_json,
    read_signed_bundle,
)
from exchange.store.db import is_sqlite, make_engine, migrate
from exchange.web.app import create_app
from exchange.web.models import SubmissionOut

T = TypeVar("T")
AUDIENCE = "http://bench.invalid"
ISSUE_REFERENCE = {  # the figures quoted in the issue, per 1,000-object bundle unless noted
    "json.loads (stdlib)": "15 ms",
    "rfc8785.dumps (JCS)": "59 ms",
    "Ed25519 verify": "0.14 ms",
    "stix2.parse": "~1 ms/object",
    "stix2-validator": "~7 ms/object",
}

# What submit_bundle calls, patched with timers while it runs (exclusive times: a call's
# time excludes the timed calls inside it, e.g. read_signed_bundle excludes canonical).
# Names missing from the code under test are skipped; new calls show up in "other".
PATCHES = (
    ("exchange.services.submissions", None, "parse_json", "JSON parse (parse_json)"),
    ("exchange.signatures", None, "canonical", "JCS canonical form (canonical)"),
    (
        "exchange.services.submissions",
        None,
        "read_signed_bundle",
        "signed-document shape + JWS header (read_signed_bundle minus JCS)",
    ),
    ("exchange.store.partners", "KeyStore", "find", "db: signer key lookup (KeyStore.find)"),
    ("exchange.services.submissions", None, "verify_signature", "signature verify"),
    (
        "exchange.services.submissions",
        None,
        "read_bundle",
        "STIX checks + addresses (read_bundle)",
    ),
    ("exchange.store.submissions", "SubmissionStore", "find_by_bundle", "db: bundle seen before?"),
    ("exchange.store.submissions", "ObjectStore", "fingerprints", "db: held object versions"),
    ("exchange.store.flags", "FlagStore", "held_claims", "db: partner's held claims"),
    ("exchange.services.submissions", None, "settle", "dedup (settle)"),
    ("exchange.store.submissions", "SubmissionStore", "add", "db: store submission + raw bytes"),
    ("exchange.store.submissions", "ObjectStore", "add", "db: store STIX objects"),
    ("exchange.store.flags", "FlagStore", "add_reports", "db: store flags + reports"),
    ("exchange.services.submissions", None, "record", "db: sharing-log entry (record)"),
)
LABELS = {
    patch[2] if patch[1] is None else f"{patch[1]}.{patch[2]}": patch[3] for patch in PATCHES
}
LABELS |= {"commit": "db: commit", "other": "other (submit_bundle's own code, hashing, ...)"}


class Profiler:
    """Exclusive wall time per patched call, accumulated across one submit_bundle."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._children: list[float] = []

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            self._children.append(0.0)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = (time.perf_counter() - start) * 1000
                inner = self._children.pop()
                self.ms[name] = self.ms.get(name, 0.0) + elapsed - inner
                if self._children:
                    self._children[-1] += elapsed

        return timed_call

    @contextmanager
    def patched(self) -> Iterator[None]:
        undo: list[tuple[object, str, object]] = []
        try:
            for module_name, class_name, attribute, _ in PATCHES:
                owner: object = importlib.import_module(module_name)
                if class_name is not None:
                    owner = getattr(owner, class_name)
                original = getattr(owner, attribute, None)
                if original is None:
                    continue
                name = attribute if class_name is None else f"{class_name}.{attribute}"
                undo.append((owner, attribute, original))
                setattr(owner, attribute, self.wrap(name, original))
            yield
        finally:
            for owner, attribute, original in reversed(undo):
                setattr(owner, attribute, original)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The median of `repeat` runs of a side-effect-free call, in ms."""
    return statistics.median(timed(fn)[0] for _ in range(repeat))


class Bench:
    """A migrated database with two partners: A (profiled) and B (whose addresses A repeats)."""

    def __init__(self, url: str, bundle_size: int) -> None:
        migrate(url)
        self.url = url
        self.engine = make_engine(url)
        self.now = datetime.now(UTC)
        self.keys = [generate_key(), generate_key()]
        self.partners: list[Partner] = []
        with Session(self.engine) as session, session.begin():
            for number, key in enumerate(self.keys):
                partner = add_partner(
                    session, f"bench-{number}", [Role.SUBMITTER, Role.SUBSCRIBER], now=self.now
                )
                register_key(session, partner.id, key.public_key, now=self.now)
                self.partners.append(partner)
        self.workload = Workload([p.id for p in self.partners], bundle_size=bundle_size)
        self.limits = Limits()

    def body(self, who: int) -> tuple[dict[str, Any], bytes]:
        bundle = self.workload.bundle(who)
        return bundle, sign(bundle, self.keys[who], iat=int(datetime.now(UTC).timestamp()))

    def submit(self, who: int) -> float:
        """submit_bundle + commit of a new bundle by partner `who`; ms."""
        _, body = self.body(who)
        start = time.perf_counter()
        with Session(self.engine) as session, session.begin():
            receipt = submit_bundle(
                session, self.partners[who], body, now=datetime.now(UTC), limits=self.limits
            )
        elapsed = (time.perf_counter() - start) * 1000
        assert receipt.created
        assert receipt.submission.count(Status.REJECTED) == 0
        return elapsed

    def staged(self) -> dict[str, float]:
        """The real submit_bundle on a new bundle by partner A, its calls timed; ms."""
        _, body = self.body(0)
        profiler = Profiler()
        with Session(self.engine) as session, profiler.patched():
            session.begin()
            start = time.perf_counter()
            receipt = submit_bundle(
                session, self.partners[0], body, now=datetime.now(UTC), limits=self.limits
            )
            whole = (time.perf_counter() - start) * 1000
            profiler.ms["commit"], _ = timed(session.commit)
        assert receipt.created
        assert receipt.submission.count(Status.REJECTED) == 0
        profiler.ms["other"] = max(0.0, whole - sum(profiler.ms.values()) + profiler.ms["commit"])
        self.last_submission = receipt.submission
        return profiler.ms

    def edge(self) -> dict[str, float]:
        """What the HTTP layer adds around submit_bundle: authentication and the response."""
        ms: dict[str, float] = {}
        token = tokens.issue(
            self.keys[0], audience=AUDIENCE, now=datetime.now(UTC), ttl=timedelta(minutes=2)
        )
        now = datetime.now(UTC)

        def auth() -> Partner:
            with Session(self.engine) as session, session.begin():
                return authenticate(session, token, audience=AUDIENCE, operator_keys={}, now=now)

        ms["auth"], _ = timed(auth)
        ms["response"], _ = timed(lambda: SubmissionOut.of(self.last_submission).model_dump_json())
        return ms


def asgi_requests(bench: Bench, count: int, workdir: Path) -> list[float]:
    """`count` POSTs through the real FastAPI app in-process (no socket, no uvicorn); ms."""
    settings = Settings(
        database_url=bench.url, public_url=AUDIENCE, operator_key=workdir / "unused.pem"
    )
    app = create_app(settings, operator_key=generate_key())
    bodies = [bench.body(0)[1] for _ in range(count)]

    async def run() -> list[float]:
        times = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=AUDIENCE) as client:
            for body in bodies:
                token = tokens.issue(
                    bench.keys[0],
                    audience=AUDIENCE,
                    now=datetime.now(UTC),
                    ttl=timedelta(minutes=2),
                )
                start = time.perf_counter()
                response = await client.post(
                    "/api/v1/submissions",
                    content=body,
                    headers={"Authorization": f"Bearer {token}"},
                )
                response.json()
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 201, response.text[:500]
        return times

    try:
        return asyncio.run(run())
    finally:
        app.state.engine.dispose()


def details(bench: Bench, repeat: int) -> dict[str, float]:
    """Sub-stages and baselines on one fresh bundle (side-effect free, so median of runs)."""
    bundle, body = bench.body(0)
    document = parse_json(body)
    signed = read_signed_bundle(document)
    (entry,) = document["signatures"]  # the wire form, whatever BundleSignature keeps
    protected, sig = entry["protected"], entry["signature"]
    compact = f"{protected}.{b64url(signed.canonical)}.{sig}"
    public = Ed25519PublicKey.from_public_bytes(bench.keys[0].public_key)
    raw_signature = b64url_decode(sig)
    signing_input = compact.rpartition(".")[0].encode()
    addresses = [  # (spelling, the chain the indicator names or None), as read_bundle sees them
        (
            _PATTERN.fullmatch(o["pattern"]).group(1),  # type: ignore[union-attr]
            o.get("extensions", {}).get(EXTENSION_ID, {}).get("chain"),
        )
        for o in bundle["objects"]
    ]
    key = bench.keys[0].private
    small = b"x" * 64
    small_signature = key.sign(small)

    def fingerprints() -> None:
        for obj in bundle["objects"]:
            hashlib.sha256(
                json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            ).hexdigest()

    return {
        "json.loads": best_of(lambda: json.loads(body), repeat),
        "rfc8785.dumps": best_of(lambda: rfc8785.dumps(bundle), repeat),
        "ed25519.small": best_of(lambda: public.verify(small_signature, small), repeat * 20),
        "ed25519.input": best_of(lambda: public.verify(raw_signature, signing_input), repeat),
        "jws_header.compact": best_of(lambda: jws_header(compact), repeat),
        "jws_verify.compact": best_of(
            lambda: jws_verify(compact, bench.keys[0].public_key), repeat
        ),
        "jws_header.protected": best_of(lambda: jws_header(f"{protected}..{sig}"), repeat),
        "b64url.payload": best_of(lambda: b64url(signed.canonical), repeat),
        "parse_address": best_of(lambda: [parse_address(t, c) for t, c in addresses], repeat),
        "fingerprint": best_of(fingerprints, repeat),
        "read_bundle": best_of(
            lambda: read_bundle(
                signed.bundle,
                submitter=bench.partners[0].id,
                default_tlp=Tlp.AMBER,
                max_objects=10_000,
            ),
            repeat,
        ),
        "objects": len(bundle["objects"]),
        "body_kib": len(body) / 1024,
    }


def peers(bench: Bench) -> dict[str, float]:
    """The OASIS libraries on the same indicators: stix2.parse on 50, stix2-validator on 10."""
    import stix2
    from stix2validator import ValidationOptions, validate_instance

    objects = bench.workload.bundle(0)["objects"]
    sample = objects[:50]
    stix2.parse(sample[0], allow_custom=True)  # imports and registries warm
    start = time.perf_counter()
    for obj in sample:
        stix2.parse(obj, allow_custom=True)
    parse_ms = (time.perf_counter() - start) * 1000 / len(sample)
    options = ValidationOptions()
    validate_instance(objects[0], options)
    start = time.perf_counter()
    valid = all(validate_instance(obj, options).is_valid for obj in objects[:10])
    validate_ms = (time.perf_counter() - start) * 1000 / 10
    return {"stix2.parse": parse_ms, "stix2-validator": validate_ms, "validator_ok": valid}


def analyze_if_needed(url: str, mode: str) -> bool:
    """ANALYZE after the preload on a PostgreSQL server without autovacuum (see ingest.py)."""
    if is_sqlite(url) or mode == "off":
        return False
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            off = connection.execute(text("SHOW autovacuum")).scalar_one() == "off"
            if mode == "on" or off:
                connection.execute(text("ANALYZE"))
                connection.commit()
                return True
    finally:
        engine.dispose()
    return False


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    names = dict.fromkeys(name for run in runs for name in run)
    return {name: statistics.median(run.get(name, 0.0) for run in runs) for name in names}


def report(result: dict[str, Any], console: Console) -> None:
    stages, detail, peer = result["stages"], result["details"], result["peers"]
    objects = detail["objects"]
    total = sum(stages.values())
    table = Table(
        title=f"submit_bundle, stage by stage: one signed bundle of {objects:,} indicators "
        f"({detail['body_kib']:,.0f} KiB), median of {result['repeat']}, {result['engine']}, "
        f"{result['preloaded_objects']:,} objects held before"
    )
    table.add_column("stage")
    table.add_column("ms", justify="right")
    table.add_column("% of total", justify="right")
    order = [name for name in LABELS if name in stages]
    for name in order:
        table.add_row(LABELS[name], f"{stages[name]:.1f}", f"{100 * stages[name] / total:.1f}")
    db = sum(stages[name] for name in order if LABELS[name].startswith("db:"))
    table.add_section()
    table.add_row("all database calls", f"{db:.1f}", f"{100 * db / total:.1f}")
    table.add_row("[b]sum of stages[/b]", f"[b]{total:.1f}[/b]", "100.0")
    table.add_row(
        "submit_bundle + commit, uninstrumented (cross-check)", f"{result['whole']:.1f}", ""
    )
    table.add_section()
    table.add_row("HTTP edge: authenticate (own transaction)", f"{result['edge']['auth']:.1f}", "")
    table.add_row("HTTP edge: SubmissionOut.of + JSON", f"{result['edge']['response']:.1f}", "")
    table.add_row("one in-process ASGI POST (no socket)", f"{result['asgi']:.1f}", "")
    table.add_row(
        "=> in-process ceiling, objects/s", f"{objects / result['asgi'] * 1000:,.0f}", ""
    )
    console.print(table)

    inner = Table(title="Inside the stages (same bundle, median)")
    inner.add_column("measure")
    inner.add_column("ms", justify="right")
    inner.add_column("note")
    inner.add_row(
        "PyJWT: header of the compact JWS, payload attached",
        f"{detail['jws_header.compact']:.1f}",
        "jws_header(compact): PyJWT decodes and checks the payload char by char",
    )
    inner.add_row(
        "PyJWT: header alone (protected..signature)",
        f"{detail['jws_header.protected']:.2f}",
        "the same header without the payload",
    )
    inner.add_row(
        "PyJWT: verify the compact JWS (jws_verify)",
        f"{detail['jws_verify.compact']:.1f}",
        "the same payload checks again, then Ed25519",
    )
    inner.add_row(
        "Ed25519 verify of the signing input",
        f"{detail['ed25519.input']:.1f}",
        "cryptography directly over protected.payload",
    )
    inner.add_row("b64url(JCS payload)", f"{detail['b64url.payload']:.1f}", "")
    inner.add_row(
        "parse_address alone, every address",
        f"{detail['parse_address']:.1f}",
        f"{100 * detail['parse_address'] / detail['read_bundle']:.0f}% of read_bundle "
        f"({detail['read_bundle']:.1f} ms here)",
    )
    inner.add_row(
        "object fingerprints alone (json.dumps + SHA-256)",
        f"{detail['fingerprint']:.1f}",
        f"{100 * detail['fingerprint'] / detail['read_bundle']:.0f}% of read_bundle",
    )
    console.print(inner)

    ours = detail["read_bundle"] / objects
    base = Table(title="Baselines and reference peers")
    base.add_column("measure")
    base.add_column("measured here", justify="right")
    base.add_column("issue's figure", justify="right")
    base.add_row("json.loads (stdlib), this bundle", f"{detail['json.loads']:.1f} ms", "15 ms")
    base.add_row("rfc8785.dumps, this bundle", f"{detail['rfc8785.dumps']:.1f} ms", "59 ms")
    base.add_row("Ed25519 verify, 64-byte message", f"{detail['ed25519.small']:.3f} ms", "0.14 ms")
    base.add_row(
        "stix2.parse, per object (50 indicators)",
        f"{peer['stix2.parse']:.2f} ms",
        "~1 ms/object",
    )
    base.add_row(
        "stix2-validator, per object (10 indicators)",
        f"{peer['stix2-validator']:.2f} ms",
        "~7 ms/object",
    )
    base.add_row("our read_bundle, per object", f"{ours:.3f} ms", "")
    base.add_row(
        "stix2.parse / read_bundle (the reference peer's cost ratio)",
        f"{peer['stix2.parse'] / ours:.0f}x",
        "",
    )
    console.print(base)
    console.print(f"code: {result['code']}")
    if result["other_cpu"] > 0.2:
        console.print(
            f"WARNING: other processes kept {result['other_cpu']:.2f} CPUs busy during the "
            "profile; its figures are pessimistic"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="bundles profiled (median)")
    parser.add_argument("--bundle-size", type=int, default=1000)
    parser.add_argument(
        "--preload", type=int, default=10, help="bundles stored first (both partners)"
    )
    parser.add_argument(
        "--database-url", help="default: a temporary SQLite file; PostgreSQL is wiped"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120,
        help="seconds to wait first for other processes to leave the CPUs (0: no)",
    )
    parser.add_argument(
        "--analyze",
        choices=("auto", "on", "off"),
        default="auto",
        help="PostgreSQL: ANALYZE after the preload; auto: only if the server's autovacuum is off",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.bundle_size < 1 or args.preload < 1:
        parser.error("--repeat, --bundle-size and --preload must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    err = Console(stderr=True)
    if args.quiet_wait > 0:
        wait_for_quiet(patience=args.quiet_wait, say=lambda text: err.print(f"[yellow]{text}[/]"))
    with tempfile.TemporaryDirectory(prefix="exchange-stages-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'stages.sqlite3'}"
        if not is_sqlite(url):
            reset_postgres(url)
        bench = Bench(url, args.bundle_size)
        try:
            with err.status("preloading"):
                for number in range(args.preload):
                    bench.submit(1 - number % 2)  # B first: A's bundles then corroborate
            analyzed = analyze_if_needed(url, args.analyze)
            runs, edges, wholes = [], [], []
            postgres = not is_sqlite(url)
            meter = Meter(lambda: pids_named("postgres") if postgres else [])
            meter.start()
            with err.status("profiling"):
                for _ in range(args.repeat):
                    runs.append(bench.staged())
                    edges.append(bench.edge())
                    wholes.append(bench.submit(0))
                asgi = asgi_requests(bench, args.repeat, Path(tmp))
                detail = details(bench, args.repeat)
                peer = peers(bench)
            other_cpu = meter.foreign_cores()
        finally:
            bench.engine.dispose()
    result = {
        "engine": bench.engine.dialect.name + (", analyzed after preload" if analyzed else ""),
        "code": code_version(),
        "repeat": args.repeat,
        "preloaded_objects": args.preload * args.bundle_size,
        "stages": median_of(runs),
        "whole": statistics.median(wholes),
        "edge": median_of(edges),
        "asgi": statistics.median(asgi),
        "details": detail,
        "peers": peer,
        "issue_reference": ISSUE_REFERENCE,
        "other_cpu": other_cpu,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(result, Console(width=max(Console().width, 120)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
