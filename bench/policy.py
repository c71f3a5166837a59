"""How fast the sharing decision is: decisions/s for 100 partners, 10 groups, 1,000 agreements.

Run: .venv/bin/python bench/policy.py [--decisions 200000] [--json]
Prints decisions/s and per-decision latency (p50/p99 over batches), for the lookup and feed
channels, and the cost of loading the policy from the database (first parse, then cached).
"""

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from exchange.core.claims import Attribution, Category, Tlp
from exchange.core.policy import Agreement, Channel, Policy, Shared, Viewer, decide
from exchange.store.db import make_engine, migrate
from exchange.store.policies import PolicyStore

NOW = datetime(2026, 11, 25, tzinfo=UTC)
TLPS = list(Tlp)
AGREEMENT_TLPS = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT]
CATEGORIES = list(Category)


def world(rng: random.Random, partners: int, groups: int, agreements: int) -> Policy:
    ids = [f"identity--{i:08d}-0000-4000-8000-000000000000" for i in range(partners)]
    group_members = {
        f"group-{g}": frozenset(rng.sample(ids, rng.randint(3, 20))) for g in range(groups)
    }
    made = tuple(
        Agreement(
            id=f"agreement-{n}",
            source=rng.choice(ids),
            to=rng.choice([*ids, *group_members]),
            max_tlp=rng.choice(AGREEMENT_TLPS),
            categories=frozenset(rng.sample(CATEGORIES, rng.randint(0, 3))),
            attribution=rng.choice([None, Attribution.NAMED, Attribution.ANONYMOUS]),
        )
        for n in range(agreements)
    )
    return Policy(version=1, groups=group_members, agreements=made)


def reports(rng: random.Random, policy: Policy, count: int) -> list[Shared]:
    ids = sorted({a.source for a in policy.agreements} | set().union(*policy.groups.values()))
    return [
        Shared(
            submitter=rng.choice(ids),
            category=rng.choice(CATEGORIES),
            tlp=rng.choice(TLPS),
            recipients=frozenset(rng.sample([*ids, *policy.groups], rng.randint(0, 3))),
            attribution=rng.choice(list(Attribution)),
            valid_until=rng.choice([None, NOW + timedelta(days=30), NOW - timedelta(days=1)]),
        )
        for _ in range(count)
    ]


def time_decisions(
    policy: Policy, shared: list[Shared], viewers: list[Viewer], channel: Channel, batch: int
) -> dict[str, float]:
    per_batch = []
    allowed = 0
    for start in range(0, len(shared), batch):
        began = time.perf_counter()
        for report, viewer in zip(
            shared[start : start + batch], viewers[start : start + batch], strict=True
        ):
            allowed += decide(report, viewer, policy, now=NOW, channel=channel).allow
        per_batch.append((time.perf_counter() - began) / batch)
    total = sum(per_batch) * batch
    per_batch.sort()
    return {
        "decisions_per_s": len(shared) / total,
        "p50_us": statistics.median(per_batch) * 1e6,
        "p99_us": per_batch[int(len(per_batch) * 0.99) - 1] * 1e6,
        "allowed_share": allowed / len(shared),
    }


def time_loading(policy_doc: str) -> dict[str, float]:
    from exchange.core.partners import Role
    from exchange.services.partners import add_partner
    from exchange.services.policy import apply_policy

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'policy.sqlite3'}"
        migrate(url)
        engine = make_engine(url)
        with Session(engine) as session, session.begin():
            for n in range(100):
                add_partner(session, f"p{n}", [Role.SUBMITTER, Role.SUBSCRIBER], now=NOW)
            apply_policy(session, policy_doc, now=NOW)
        timings = []
        for _ in range(50):
            with Session(engine) as session, session.begin():
                began = time.perf_counter()
                PolicyStore(session).current()
                timings.append(time.perf_counter() - began)
        engine.dispose()
    return {
        "first_load_ms": timings[0] * 1e3,
        "cached_load_ms": statistics.median(timings[1:]) * 1e3,
    }


def policy_document(rng: random.Random) -> str:
    names = [f"p{n}" for n in range(100)]
    groups = {f"group-{g}": rng.sample(names, rng.randint(3, 20)) for g in range(10)}
    agreements = [
        {
            "id": f"agreement-{n}",
            "from": rng.choice(names),
            "to": rng.choice([*names, *groups]),
            "max_tlp": rng.choice([t.value for t in AGREEMENT_TLPS]),
            "categories": [c.value for c in rng.sample(CATEGORIES, rng.randint(0, 3))],
        }
        for n in range(1000)
    ]
    return json.dumps({"groups": groups, "agreements": agreements})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    policy = world(rng, partners=100, groups=10, agreements=1000)
    shared = reports(rng, policy, args.decisions)
    ids = sorted({a.source for a in policy.agreements})
    viewers = [Viewer(rng.choice(ids), oversight=rng.random() < 0.02) for _ in shared]
    results = {
        "lookup": time_decisions(policy, shared, viewers, Channel.LOOKUP, batch=1000),
        "feed": time_decisions(policy, shared, viewers, Channel.FEED, batch=1000),
        "load": time_loading(policy_document(rng)),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("sharing decisions: 100 partners, 10 groups, 1,000 agreements, one core")
    for channel in ("lookup", "feed"):
        r = results[channel]
        print(
            f"  {channel:6} {r['decisions_per_s']:>12,.0f} decisions/s"
            f"   p50 {r['p50_us']:.2f} us   p99 {r['p99_us']:.2f} us"
            f"   allowed {r['allowed_share']:.0%}"
        )
    load = results["load"]
    print(
        f"  policy load from the database: first {load['first_load_ms']:.1f} ms,"
        f" then {load['cached_load_ms']:.2f} ms (parsed once per version)"
    )


if __name__ == "__main__":
    main()
