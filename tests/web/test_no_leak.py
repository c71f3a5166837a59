"""No leak: every read path of the HTTP API, for every partner, judged by the policy oracle.

One fixed scenario from a seeded generator: six partners, an admin and an auditor; three
groups and eight agreements applied as a YAML policy document; about thirty reports
submitted over HTTP as signed bundles with random TLP markings (some unmarked), recipients,
attribution and validity, two of them withdrawn. Then every partner asks about everything,
and every answer must be exactly what `tests.core.test_policy.oracle` allows: nothing more
(a leak) and nothing less (over-blocking). Checks gather every disagreement before failing,
so one defect does not hide another.
"""

import json
import random
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx2 as httpx
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from exchange.core.bundles import EXTENSION_ID
from exchange.core.claims import Attribution, Category, Tlp
from exchange.core.partners import Role
from exchange.core.policy import Agreement, Channel, Policy, Shared, Viewer
from exchange.services.policy import apply_policy
from tests.core.test_policy import Verdict, oracle
from tests.factories import Member, auth, bundle, indicator, make_member, signed, transaction

SEED = 20261125
CHAIN = "ethereum"
PAST_FROM, PAST_UNTIL = "2025-01-01T00:00:00Z", "2025-06-01T00:00:00Z"  # long expired
FUTURE_UNTIL = "2030-01-01T00:00:00Z"  # still valid whenever these tests run
HT, SANCTIONS, SCAM, RANSOMWARE = (
    Category.HUMAN_TRAFFICKING,
    Category.SANCTIONS,
    Category.SCAM,
    Category.RANSOMWARE,
)
CLEAR, GREEN, AMBER, STRICT, RED = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)
ANONYMOUS, NAMED = Attribution.ANONYMOUS, Attribution.NAMED
SUBMITTER, SUBSCRIBER = Role.SUBMITTER, Role.SUBSCRIBER

ROLES: dict[str, tuple[Role, ...]] = {
    "ngo-hope": (SUBMITTER,),
    "ngo-refuge": (SUBMITTER, SUBSCRIBER),
    "firm-trace": (SUBMITTER, SUBSCRIBER),
    "firm-ledger": (SUBSCRIBER,),
    "bank-north": (SUBSCRIBER,),
    "vasp-east": (SUBMITTER, SUBSCRIBER),
    "admin": (Role.ADMIN,),
    "auditor": (Role.AUDITOR,),
}
PLAIN = tuple(
    name for name, roles in ROLES.items() if {Role.ADMIN, Role.AUDITOR}.isdisjoint(roles)
)
SUBMITTERS = tuple(name for name, roles in ROLES.items() if SUBMITTER in roles)
# Each group's core members; the generator adds others.
GROUP_CORES = {
    "forensic-firms": ("firm-trace", "firm-ledger"),
    "banks-and-vasps": ("bank-north", "vasp-east"),
    "ngos": ("ngo-hope", "ngo-refuge"),
}
DEFAULTS = {"ngo-hope": GREEN}  # the TLP of its unmarked reports; AMBER for everyone else
CATEGORIES = (HT, SANCTIONS, SCAM, RANSOMWARE)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # "not known yet"


@dataclass(frozen=True, slots=True)
class Terms:
    """One agreement of the policy document, with partners by name."""

    id: str
    source: str
    to: str
    max_tlp: Tlp
    categories: tuple[Category, ...] = ()
    attribution: Attribution | None = None


# The agreements the rules turn on; four random ones join them.
AGREEMENTS = (
    Terms("hope-to-firms", "ngo-hope", "forensic-firms", AMBER, (HT,), ANONYMOUS),
    Terms("hope-to-trace", "ngo-hope", "firm-trace", STRICT),
    Terms("refuge-to-ledger", "ngo-refuge", "firm-ledger", STRICT, (), NAMED),
    Terms("vasp-to-firms", "vasp-east", "forensic-firms", STRICT),  # a group: never STRICT
)


@dataclass(slots=True)
class Sent:
    """One report as submitted, and what the exchange answered."""

    submitter: str  # partner name
    address: str
    category: Category
    marking: Tlp | None  # None: no marking, so the submitter's default
    recipients: tuple[str, ...] = ()  # partner or group names
    attribution: Attribution = NAMED
    validity: str | None = None  # "past", "future" or None
    revoke: bool = False
    by_hand: bool = False  # one of the cases the rules turn on, not a random one
    case_reference: str = ""
    report_id: int = 0
    submission_id: str = ""
    indicator_id: str = ""
    reported_at: datetime = EPOCH

    @property
    def tlp(self) -> Tlp:
        return self.marking or DEFAULTS.get(self.submitter, AMBER)


@dataclass(slots=True)
class Scenario:
    members: dict[str, Member]
    groups: dict[str, tuple[str, ...]]  # name -> partner names
    agreements: tuple[Terms, ...]
    reports: list[Sent]
    addresses: tuple[str, ...]  # flagged
    unflagged: str

    def id(self, name: str) -> str:
        return self.members[name].id if name in self.members else name  # groups keep names

    @property
    def policy(self) -> Policy:
        """The policy as the oracle reads it, resolved by the test, not by the exchange."""
        return Policy(
            1,
            {name: frozenset(map(self.id, members)) for name, members in self.groups.items()},
            tuple(
                Agreement(
                    t.id,
                    self.id(t.source),
                    self.id(t.to),
                    t.max_tlp,
                    frozenset(t.categories),
                    t.attribution,
                )
                for t in self.agreements
            ),
        )

    def verdict(self, sent: Sent, viewer: str, now: datetime) -> Verdict:
        shared = Shared(
            submitter=self.id(sent.submitter),
            category=sent.category,
            tlp=sent.tlp,
            recipients=frozenset(map(self.id, sent.recipients)),
            attribution=sent.attribution,
            valid_until={"past": _at(PAST_UNTIL), "future": _at(FUTURE_UNTIL)}.get(
                sent.validity or ""
            ),
            revoked=sent.revoke,
        )
        who = Viewer(self.id(viewer), oversight=viewer not in PLAIN)
        return oracle(shared, who, self.policy, now=now, channel=Channel.LOOKUP)

    def on(self, address: str) -> list[Sent]:
        return [sent for sent in self.reports if sent.address == address]

    def views(self, now: datetime) -> Iterator[tuple[str, str, list[tuple[Sent, Verdict]]]]:
        """(viewer, address, the reports the oracle lets it see there with their verdicts).

        One identity per submitter per flag, for good: the submitter's first report there
        decides. Masked: every report of it is pseudonymous; named: those that must be
        pseudonymous are withheld (beside the name they would unmask the pseudonym)."""
        for viewer in ROLES:
            for address in self.addresses:
                first: dict[str, Sent] = {}
                for sent in sorted(self.on(address), key=lambda s: s.report_id):
                    first.setdefault(sent.submitter, sent)
                shown = []
                for sent in self.on(address):
                    verdict = self.verdict(sent, viewer, now)
                    if not verdict.allow:
                        continue
                    if verdict.case_reference:  # own, oversight: as stored
                        shown.append((sent, verdict))
                    elif self.masked(first[sent.submitter], viewer, now):
                        shown.append((sent, replace(verdict, pseudonymous=True)))
                    elif not verdict.pseudonymous:
                        shown.append((sent, verdict))
                yield viewer, address, shown

    def masked(self, sent: Sent, viewer: str, now: datetime) -> bool:
        """policy.masks: the live report's pseudonymity when looked up, else its own wish."""
        verdict = self.verdict(replace(sent, validity=None, revoke=False), viewer, now)
        return verdict.pseudonymous if verdict.allow else sent.attribution is ANONYMOUS


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _address(rng: random.Random) -> str:
    return f"0x{rng.getrandbits(160):040x}"


def _random_agreements(rng: random.Random) -> tuple[Terms, ...]:
    targets = (*PLAIN, *GROUP_CORES)
    return tuple(
        Terms(
            f"random-{n}",
            rng.choice(SUBMITTERS),
            rng.choice(targets),
            rng.choice((CLEAR, GREEN, AMBER, STRICT)),
            tuple(rng.sample(CATEGORIES, rng.choice((0, 0, 1, 2)))),
            rng.choice((None, None, NAMED, ANONYMOUS)),
        )
        for n in range(4)
    )


def _reports(rng: random.Random, addresses: tuple[str, ...]) -> list[Sent]:
    a = addresses
    chosen = [  # the cases the rules turn on; random ones follow
        Sent("ngo-hope", a[0], HT, CLEAR, attribution=ANONYMOUS),
        Sent("ngo-hope", a[1], HT, CLEAR, attribution=ANONYMOUS),  # the same pseudonym again
        Sent("ngo-refuge", a[2], SCAM, CLEAR),
        Sent("ngo-refuge", a[2], SANCTIONS, CLEAR, attribution=ANONYMOUS),  # same submitter
        Sent("ngo-refuge", a[3], HT, AMBER, attribution=ANONYMOUS),  # via refuge-to-ledger
        Sent("vasp-east", a[4], SANCTIONS, STRICT),  # vasp-to-firms names a group: nobody
        Sent("ngo-hope", a[5], HT, STRICT, ("firm-ledger", "banks-and-vasps")),
        Sent("ngo-hope", a[6], SCAM, RED, ("bank-north", "forensic-firms")),
        Sent("firm-trace", a[7], RANSOMWARE, GREEN, ("ngos",), validity="past"),
        Sent("firm-trace", a[8], SCAM, CLEAR, revoke=True),
        Sent("ngo-hope", a[0], SANCTIONS, None),  # unmarked: ngo-hope's default, GREEN
        Sent("vasp-east", a[9], SCAM, None, ("ngo-refuge",)),  # unmarked: AMBER
        Sent("ngo-hope", a[3], HT, AMBER, validity="future"),
    ]
    for sent in chosen:
        sent.by_hand = True
    names = (*PLAIN, *GROUP_CORES)
    while len(chosen) < 30:
        sent = Sent(
            rng.choice(SUBMITTERS),
            rng.choice(addresses),
            rng.choice(CATEGORIES),
            rng.choice((None, CLEAR, GREEN, AMBER, AMBER, STRICT, RED)),
            tuple(rng.sample(names, rng.choice((0, 0, 1, 1, 2, 3)))),
            rng.choice((NAMED, NAMED, ANONYMOUS)),
            rng.choice((None, None, None, None, "past", "future")),
            revoke=len(chosen) == 20,
        )
        if (sent.submitter, sent.address, sent.category) not in {
            (s.submitter, s.address, s.category) for s in chosen
        }:  # a partner's second report of one claim would be a duplicate, not a report
            chosen.append(sent)
    for number, sent in enumerate(chosen):
        sent.case_reference = f"case-{number:03d}"
    return chosen


def _policy_document(scenario: Scenario) -> str:
    agreements = []
    for terms in scenario.agreements:
        item: dict[str, Any] = {
            "id": terms.id,
            "from": terms.source,
            "to": terms.to,
            "max_tlp": terms.max_tlp.value,
        }
        if terms.categories:
            item["categories"] = [c.value for c in terms.categories]
        if terms.attribution is not None:
            item["attribution"] = terms.attribution.value
        agreements.append(item)
    document = {
        "groups": {name: list(members) for name, members in scenario.groups.items()},
        "agreements": agreements,
        "defaults": {name: {"tlp": tlp.value} for name, tlp in DEFAULTS.items()},
    }
    return yaml.safe_dump(document, sort_keys=False)


def _indicator(scenario: Scenario, sent: Sent) -> dict[str, Any]:
    extension: dict[str, Any] = {
        "extension_type": "property-extension",
        "chain": CHAIN,
        "case_reference": sent.case_reference,
        "attribution": sent.attribution.value,
    }
    if sent.recipients:
        extension["recipients"] = [scenario.id(name) for name in sent.recipients]
    validity: dict[str, str] = {}
    if sent.validity == "past":
        validity = {"valid_from": PAST_FROM, "valid_until": PAST_UNTIL}
    elif sent.validity == "future":
        validity = {"valid_until": FUTURE_UNTIL}
    return indicator(
        scenario.id(sent.submitter),
        sent.address,
        category=sent.category,
        tlp=sent.marking,
        extensions={EXTENSION_ID: extension},
        **validity,
    )


def build(client: TestClient, engine: Engine) -> Scenario:
    """The scenario, set up the way partners and the operator would: the policy through the
    policy service, every report over HTTP, withdrawals over HTTP."""
    rng = random.Random(SEED)
    members = {name: make_member(engine, name, roles) for name, roles in ROLES.items()}
    groups = {
        name: (*core, *(m for m in PLAIN if m not in core and rng.random() < 0.3))
        for name, core in GROUP_CORES.items()
    }
    pool = tuple(_address(rng) for _ in range(14))
    reports = _reports(rng, pool)
    scenario = Scenario(
        members=members,
        groups=groups,
        agreements=(*AGREEMENTS, *_random_agreements(rng)),
        reports=reports,
        addresses=tuple(a for a in pool if any(sent.address == a for sent in reports)),
        unflagged=_address(rng),
    )
    with transaction(engine) as session:
        apply_policy(session, _policy_document(scenario), now=datetime.now(UTC))

    for sent in scenario.reports:
        member = members[sent.submitter]
        obj = _indicator(scenario, sent)
        body = signed(bundle(obj), member.key, iat=datetime.now(UTC))
        response = client.post(
            "/api/v1/submissions",
            content=body,
            headers={**auth(member), "Content-Type": "application/json"},
        )
        assert response.status_code == 201, response.text
        sent.submission_id, sent.indicator_id = response.json()["id"], obj["id"]

    # Report ids are the exchange's: learn them from the admin's view of each flag.
    by_indicator = {sent.indicator_id: sent for sent in scenario.reports}
    for address in scenario.addresses:
        for report in _flag(client, members["admin"], address).json()["reports"]:
            sent = by_indicator[report["indicator_id"]]
            sent.report_id, sent.reported_at = report["id"], _at(report["reported_at"])
    assert all(sent.report_id for sent in scenario.reports)

    for sent in scenario.reports:
        if sent.revoke:
            revoked = client.post(
                f"/api/v1/reports/{sent.report_id}/revoke", headers=auth(members[sent.submitter])
            )
            assert revoked.status_code == 204, revoked.text
    return scenario


def _flag(client: TestClient, member: Member, address: str) -> httpx.Response:
    return client.get(f"/api/v1/flags/{CHAIN}/{address}", headers=auth(member))


def _same_not_found(
    response: httpx.Response, reference: httpx.Response, asked: str, unknown: str
) -> bool:
    """`response` is the 404 that `reference` (about `unknown`) is, but about `asked`."""
    if (response.status_code, reference.status_code) != (404, 404):
        return False
    if response.headers["content-type"] != reference.headers["content-type"]:
        return False
    expected = json.loads(reference.text.replace(unknown, asked))
    return bool(response.json() == expected)


def _fail_on(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems)


# --- Flags ------------------------------------------------------------------------------------


def test_every_partner_sees_on_every_flag_exactly_the_reports_the_policy_allows(
    client: TestClient, engine: Engine
) -> None:
    scenario = build(client, engine)
    now = datetime.now(UTC)
    problems: list[str] = []
    shown = denied = 0
    for viewer, address, visible in scenario.views(now):
        response = _flag(client, scenario.members[viewer], address)
        if not visible:
            denied += 1
            if response.status_code != 404:
                leaked = [r["case_reference"] or r["id"] for r in response.json()["reports"]]
                problems.append(f"LEAK {viewer} on {address}: {leaked}, oracle: nothing")
            continue
        shown += 1
        if response.status_code != 200:
            problems.append(f"OVER-BLOCKED {viewer} on {address}: {response.status_code}")
            continue
        flag = response.json()
        got = {report["id"]: report for report in flag["reports"]}
        want = {sent.report_id: (sent, verdict) for sent, verdict in visible}
        for extra in got.keys() - want.keys():
            problems.append(f"LEAK {viewer} on {address}: report {extra}")
        for missing in want.keys() - got.keys():
            problems.append(f"OVER-BLOCKED {viewer} on {address}: report {missing}")
        for report_id in got.keys() & want.keys():
            report, (sent, verdict) = got[report_id], want[report_id]
            if (report["category"], report["tlp"]) != (sent.category, sent.tlp):
                problems.append(f"report {report_id}: {report['category']} {report['tlp']}")
            # Only the submitter and oversight see the case reference and whom it named.
            revealed: tuple[str | None, str | None, list[str]] = (None, None, [])
            if verdict.case_reference:
                recipients = sorted(map(scenario.id, sent.recipients))
                revealed = (sent.case_reference, sent.submission_id, recipients)
            shown_fields = (
                report["case_reference"],
                report["submission_id"],
                report["recipients"],
            )
            if shown_fields != revealed:
                problems.append(f"{viewer} sees report {report_id} with {report}")
    assert shown > 60  # the scenario exercises both sides
    assert denied > 10
    _fail_on(problems)


def test_flag_aggregates_count_only_the_reports_the_caller_may_see(
    client: TestClient, engine: Engine
) -> None:
    scenario = build(client, engine)
    now = datetime.now(UTC)
    problems: list[str] = []
    partial = 0
    for viewer, address, visible in scenario.views(now):
        if not visible:
            continue
        partial += len(visible) < len(scenario.on(address))
        flag = _flag(client, scenario.members[viewer], address).json()
        seen = [sent for sent, _ in visible]
        # A pseudonymous report's time is shown to the day (it would match named reports).
        times = [
            sent.reported_at.replace(hour=0, minute=0, second=0, microsecond=0)
            if verdict.pseudonymous
            else sent.reported_at
            for sent, verdict in visible
        ]
        want = {
            "corroboration": len({sent.submitter for sent in seen}),
            "categories": sorted({sent.category.value for sent in seen}),
            "first_seen": min(times),
            "last_seen": max(times),
        }
        got = {
            "corroboration": flag["corroboration"],
            "categories": flag["categories"],
            "first_seen": _at(flag["first_seen"]),
            "last_seen": _at(flag["last_seen"]),
        }
        if got != want:
            problems.append(f"{viewer} on {address}: {got}, oracle: {want}")
    assert partial > 10  # flags where the caller sees only some reports
    _fail_on(problems)


def test_anonymous_submitters_appear_under_pseudonyms_stable_per_recipient_unlinkable_across(
    client: TestClient, engine: Engine
) -> None:
    scenario = build(client, engine)
    now = datetime.now(UTC)
    ids = {member.id for member in scenario.members.values()}
    problems: list[str] = []
    aliases: dict[tuple[str, str], set[str]] = defaultdict(set)  # (submitter, viewer)
    addresses: dict[tuple[str, str], set[str]] = defaultdict(set)
    for viewer, address, visible in scenario.views(now):
        if not visible:
            continue
        got = {
            r["id"]: r for r in _flag(client, scenario.members[viewer], address).json()["reports"]
        }
        # One identity per submitter per flag: pseudonymous there if any of its reports is.
        hidden = {sent.submitter for sent, verdict in visible if verdict.pseudonymous}
        for sent, verdict in visible:
            report = got.get(sent.report_id)
            if report is None:
                continue  # over-blocking: the first test's to report
            submitter = scenario.id(sent.submitter)
            if not (verdict.pseudonymous or sent.submitter in hidden):
                if (report["partner"], report["indicator_id"]) != (submitter, sent.indicator_id):
                    problems.append(
                        f"{viewer} sees report {sent.report_id} by {report['partner']}"
                    )
                continue
            alias = report["partner"]
            if alias in ids or sent.submitter in alias or submitter.split("--")[1] in alias:
                problems.append(f"UNMASKED for {viewer}: report {sent.report_id} by {alias}")
            if report["indicator_id"] is not None:
                problems.append(f"{viewer} sees the indicator id of anonymous {sent.report_id}")
            aliases[submitter, viewer].add(alias)
            addresses[submitter, viewer].add(address)
    for (submitter, viewer), names in aliases.items():
        if len(names) != 1:
            problems.append(f"{viewer} sees {submitter} under {len(names)} pseudonyms")
    by_name: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for pair, names in aliases.items():
        for name in names:
            by_name[name].add(pair)
    problems += [f"{name} stands for {pairs}" for name, pairs in by_name.items() if len(pairs) > 1]
    # The scenario shows one submitter to several recipients, on several addresses each.
    assert max(len(found) for found in addresses.values()) >= 2
    assert (
        len({viewer for submitter, viewer in aliases if submitter == scenario.id("ngo-hope")}) >= 5
    )
    _fail_on(problems)


def test_a_flag_nobody_shared_with_you_answers_exactly_like_an_address_nobody_flagged(
    client: TestClient, engine: Engine
) -> None:
    scenario = build(client, engine)
    now = datetime.now(UTC)
    problems: list[str] = []
    hidden = 0
    unflagged = {
        viewer: _flag(client, member, scenario.unflagged)
        for viewer, member in scenario.members.items()
    }
    for viewer, address, visible in scenario.views(now):
        if visible:
            continue
        hidden += 1
        response = _flag(client, scenario.members[viewer], address)
        if not _same_not_found(response, unflagged[viewer], address, scenario.unflagged):
            problems.append(f"{viewer} on {address}: {response.status_code} {response.text}")
    assert hidden > 10
    assert unflagged["ngo-hope"].json()["title"] == "Not found"
    _fail_on(problems)


# --- Submissions, the sharing log, explanations, withdrawals -----------------------------------


def test_submissions_and_their_bytes_are_hidden_from_all_but_the_submitter_and_oversight(
    client: TestClient, engine: Engine
) -> None:
    scenario = build(client, engine)
    nobody = str(uuid.uuid4())
    problems: list[str] = []
    for viewer, member in scenario.members.items():
        unknown = {
            suffix: client.get(f"/api/v1/submissions/{nobody}{suffix}", headers=auth(member))
            for suffix in ("", "/raw")
        }
        for number, sent in enumerate(scenario.reports):
            may = viewer == sent.submitter or viewer not in PLAIN
            suffix = ("", "/raw")[number % 2]  # every submission, each path for half of them
            path = f"/api/v1/submissions/{sent.submission_id}{suffix}"
            response = client.get(path, headers=auth(member))
            if may and response.status_code != 200:
                problems.append(f"OVER-BLOCKED {viewer}: {path} {response.status_code}")
            if not may and not _same_not_found(
                response, unknown[suffix], sent.submission_id, nobody
            ):
                problems.append(f"LEAK {viewer}: {path} {response.status_code}")
    _fail_on(problems)


def test_a_partner_reads_in_the_sharing_log_exactly_the_entries_about_itself(
    client: TestClient, engine: Engine
) -> None:
    scenario = build(client, engine)
    auditor = scenario.members["auditor"]
    problems: list[str] = []
    for viewer in PLAIN:
        member, other = (
            scenario.members[viewer],
            scenario.members["ngo-hope" if viewer != "ngo-hope" else "ngo-refuge"],
        )
        own = client.get("/api/v1/audit/entries?limit=10000", headers=auth(member)).json()
        asked = client.get(
            f"/api/v1/audit/entries?limit=10000&partner={other.id}", headers=auth(member)
        ).json()
        about = client.get(
            f"/api/v1/audit/entries?limit=10000&partner={member.id}", headers=auth(auditor)
        ).json()
        for listing in (own, asked):
            for item in listing["entries"]:
                if member.id not in item["entry"]["partners"]:
                    problems.append(f"LEAK {viewer}: entry {item['seq']} {item['entry']}")
        if [item["seq"] for item in own["entries"]] != [item["seq"] for item in about["entries"]]:
            problems.append(f"{viewer} reads {len(own['entries'])} of {len(about['entries'])}")
        assert {item["entry"]["action"] for item in own["entries"]} >= {"operator:partner:add"}
    _fail_on(problems)


def test_explain_agrees_with_the_oracle_and_hides_other_partners_reports(
    client: TestClient, engine: Engine
) -> None:
    scenario = build(client, engine)
    now = datetime.now(UTC)
    rng = random.Random(SEED + 1)
    problems: list[str] = []
    pairs = [(sent, viewer) for sent in scenario.reports for viewer in ROLES]
    picked = [(sent, viewer) for sent, viewer in pairs if sent.by_hand]  # every one
    others = [(sent, viewer) for sent, viewer in pairs if not sent.by_hand]
    for number, (sent, recipient) in enumerate([*picked, *rng.sample(others, 40)]):
        verdict = scenario.verdict(sent, recipient, now)
        asker = ("admin", "auditor", sent.submitter)[number % 3]
        query = f"report={sent.report_id}&recipient={scenario.id(recipient)}"
        response = client.get(
            f"/api/v1/policy/explain?{query}", headers=auth(scenario.members[asker])
        )
        if response.status_code != 200:
            problems.append(f"{asker} cannot explain {query}: {response.status_code}")
            continue
        got = response.json()
        said = (got["allow"], got["rule"], got["pseudonymous"], got["shows_case_reference"])
        want = (verdict.allow, verdict.rule, verdict.pseudonymous, verdict.case_reference)
        if said != want:
            problems.append(f"{asker} explains {query}: {said}, oracle: {want}")

    nobody = 10**9
    for sent in scenario.reports:  # someone else's report: as if there were no such report
        asker = rng.choice([name for name in PLAIN if name != sent.submitter])
        member = scenario.members[asker]
        query = f"recipient={member.id}"
        response = client.get(
            f"/api/v1/policy/explain?report={sent.report_id}&{query}", headers=auth(member)
        )
        reference = client.get(
            f"/api/v1/policy/explain?report={nobody}&{query}", headers=auth(member)
        )
        if not _same_not_found(response, reference, str(sent.report_id), str(nobody)):
            problems.append(f"LEAK {asker} explains report {sent.report_id}: {response.text}")
    _fail_on(problems)


def test_only_the_submitter_may_withdraw_a_report_and_then_only_it_and_oversight_see_it(
    client: TestClient, engine: Engine
) -> None:
    scenario = build(client, engine)
    (sent,) = [s for s in scenario.reports if s.case_reference == "case-002"]  # CLEAR, named
    nobody = 10**9
    for name in PLAIN:
        if name == sent.submitter:
            continue
        member = scenario.members[name]
        response = client.post(f"/api/v1/reports/{sent.report_id}/revoke", headers=auth(member))
        reference = client.post(f"/api/v1/reports/{nobody}/revoke", headers=auth(member))
        assert _same_not_found(response, reference, str(sent.report_id), str(nobody)), name
        assert sent.report_id in _ids(_flag(client, member, sent.address))

    submitter = scenario.members[sent.submitter]
    withdrawn = client.post(f"/api/v1/reports/{sent.report_id}/revoke", headers=auth(submitter))
    assert withdrawn.status_code == 204
    again = client.post(f"/api/v1/reports/{sent.report_id}/revoke", headers=auth(submitter))
    assert again.status_code == 409
    for name, member in scenario.members.items():
        sees = sent.report_id in _ids(_flag(client, member, sent.address))
        assert sees is (name == sent.submitter or name not in PLAIN), name


def _ids(response: httpx.Response) -> set[int]:
    if response.status_code == 404:
        return set()
    return {report["id"] for report in response.json()["reports"]}


# --- Submitting reveals nothing about others' flags ---------------------------------------------

STIX_SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")


def _wallet(address: str, **extra: Any) -> dict[str, Any]:
    """A cryptocurrency-wallet observable with its STIX 2.1 deterministic id (section 2.9):
    every tool that follows the standard gives one address the same id."""
    name = json.dumps({"value": address}, separators=(",", ":"))
    wallet: dict[str, Any] = {
        "type": "cryptocurrency-wallet",
        "spec_version": "2.1",
        "id": f"cryptocurrency-wallet--{uuid.uuid5(STIX_SCO_NAMESPACE, name)}",
        "value": address,
        "extensions": {EXTENSION_ID: {"extension_type": "property-extension", "chain": CHAIN}},
    }
    return wallet | extra


def test_submitting_an_observable_another_partner_sent_does_not_reveal_its_red_flag(
    client: TestClient, engine: Engine
) -> None:
    ngo, firm = make_member(engine, "ngo"), make_member(engine, "firm")
    address = _address(random.Random(SEED))
    secret = bundle(
        indicator(ngo.id, address, chain=CHAIN, tlp=RED, category="human-trafficking"),
        _wallet(address),
    )
    first = client.post(
        "/api/v1/submissions",
        content=signed(secret, ngo.key, iat=datetime.now(UTC)),
        headers={**auth(ngo), "Content-Type": "application/json"},
    )
    assert first.status_code == 201, first.text
    assert _flag(client, firm, address).status_code == 404  # the flag is not the firm's to see

    own = bundle(
        indicator(firm.id, address, chain=CHAIN, tlp=AMBER, category="scam"), _wallet(address)
    )
    response = client.post(
        "/api/v1/submissions",
        content=signed(own, firm.key, iat=datetime.now(UTC)),
        headers={**auth(firm), "Content-Type": "application/json"},
    )
    # What the firm would have been told had nobody flagged the address before it.
    assert response.status_code == 201, response.text
    outcomes = [(o["type"], o["status"], o["reason"]) for o in response.json()["objects"]]
    assert outcomes == [
        ("indicator", "accepted", None),
        ("cryptocurrency-wallet", "accepted", None),
    ]


def test_one_recipient_never_sees_a_submitters_name_beside_its_pseudonym_on_one_flag(
    client: TestClient, engine: Engine
) -> None:
    """Beyond the table's letter: an agreement hides the NGO's human-trafficking reports from
    the firm, another shares its sanctions reports named. One indicator with both labels
    makes two reports, stored at the same instant; shown side by side, name and pseudonym
    link, and the pseudonym is unmasked on every flag the firm ever sees it on."""
    ngo = make_member(engine, "ngo", (SUBMITTER,))
    firm = make_member(engine, "firm", (SUBSCRIBER,))
    document = """
    agreements:
      - {id: hidden, from: ngo, to: firm, max_tlp: amber, categories: [human-trafficking],
         attribution: anonymous}
      - {id: named, from: ngo, to: firm, max_tlp: amber, categories: [sanctions]}
    """
    with transaction(engine) as session:
        apply_policy(session, document, now=datetime.now(UTC))
    address = _address(random.Random(SEED))
    both = indicator(ngo.id, address, chain=CHAIN, labels=["human-trafficking", "sanctions"])
    response = client.post(
        "/api/v1/submissions",
        content=signed(bundle(both), ngo.key, iat=datetime.now(UTC)),
        headers={**auth(ngo), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text

    reports = _flag(client, firm, address).json()["reports"]
    shown = {report["category"]: report["partner"] for report in reports}
    assert shown.get("human-trafficking", "withheld") != ngo.id  # the agreement hides it
    assert ngo.id not in shown.values() or "human-trafficking" not in shown, shown
