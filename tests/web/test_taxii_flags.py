"""The TAXII flags collection: every report a partner may see, through the same sharing
decision and redaction as a lookup, checked against the oracle for every partner."""

import json
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from stix2validator import ValidationOptions, validate_instance

from exchange.core.alerts import report_of_indicator_id
from exchange.core.partners import Role
from exchange.services.policy import apply_policy
from exchange.services.taxii import ALERTS, FLAGS
from tests.factories import (
    ETH_LOWER,
    Member,
    auth,
    bundle,
    indicator,
    make_member,
    signed,
    transaction,
)
from tests.web.test_no_leak import ROLES, _fail_on, build

TAXII = "application/taxii+json;version=2.1"
OBJECTS = f"/taxii2/api/collections/{FLAGS}/objects/"


def read_all(client: TestClient, member: Member, limit: int = 7) -> list[dict[str, Any]]:
    """Every object of the flags collection, page by page, as a TAXII client pages."""
    objects: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"next": cursor} if cursor else {})
        response = client.get(OBJECTS, params=params, headers={**auth(member), "Accept": TAXII})
        assert response.status_code == 200, response.text
        page = response.json()
        objects += page.get("objects", [])
        if not page["more"]:
            return objects
        cursor = page["next"]


def test_every_partner_reads_exactly_the_reports_the_policy_allows(
    client: TestClient, engine: Engine
) -> None:
    scenario = build(client, engine)
    now = datetime.now(UTC)
    by_indicator = {sent.indicator_id: sent for sent in scenario.reports}
    by_report = {sent.report_id: sent for sent in scenario.reports}
    problems: list[str] = []
    for viewer in ROLES:
        allowed: dict[int, bool] = {}
        for name, _, visible in scenario.views(now):
            if name == viewer:
                allowed.update((sent.report_id, verdict.pseudonymous) for sent, verdict in visible)
        objects = read_all(client, scenario.members[viewer])
        got: dict[int, dict[str, Any]] = {}
        for obj in objects:
            report = report_of_indicator_id(obj["id"])
            sent = by_report.get(report) if report is not None else by_indicator.get(obj["id"])
            if sent is None:
                problems.append(f"{viewer} got an object of no report: {obj['id']}")
                continue
            got[sent.report_id] = obj
        if set(got) != set(allowed):
            extra, missing = set(got) - set(allowed), set(allowed) - set(got)
            problems.append(f"{viewer}: extra {sorted(extra)}, missing {sorted(missing)}")
        raw = json.dumps(objects)
        for report_id, obj in got.items():
            sent = by_report[report_id]
            submitter = scenario.id(sent.submitter)
            if allowed.get(report_id):  # pseudonymous: nothing that names or links it
                if (
                    submitter in raw.replace(obj["created_by_ref"], "")
                    and viewer != sent.submitter
                ):
                    pass  # the submitter may appear by name on its other, named reports
                if obj["created_by_ref"] == submitter or obj["id"] == sent.indicator_id:
                    problems.append(f"UNMASKED to {viewer}: report {report_id}")
            elif obj["created_by_ref"] != submitter:
                problems.append(f"{viewer}: report {report_id} by {obj['created_by_ref']}")
        if "CASE-" in raw or "case_reference" in raw:
            problems.append(f"{viewer} sees a case reference")
    _fail_on(problems)


def test_objects_by_id_versions_and_manifest_go_through_the_policy_too(
    client: TestClient, engine: Engine
) -> None:
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    firm = make_member(engine, "Tracer", roles=(Role.SUBSCRIBER,))
    stranger = make_member(engine, "Stranger", roles=(Role.SUBSCRIBER,))
    with transaction(engine) as session:
        document = (
            "agreements:\n  - {id: a, from: Hope NGO, to: Tracer, max_tlp: amber, "
            "attribution: anonymous}\n"
        )
        apply_policy(session, document, now=datetime.now(UTC))
    shared = indicator(ngo.id, ETH_LOWER, chain="ethereum", case_reference="CASE-1")
    response = client.post(
        "/api/v1/submissions",
        content=signed(bundle(shared), ngo.key, iat=datetime.now(UTC)),
        headers={**auth(ngo), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text

    (seen,) = read_all(client, firm)
    assert seen["id"] != shared["id"]  # pseudonymous: the exchange's id, not the NGO's
    assert seen["created_by_ref"] != ngo.id
    result = validate_instance(seen, ValidationOptions(version="2.1"))
    assert result.is_valid, result.errors
    headers = {**auth(firm), "Accept": TAXII}
    one = client.get(f"{OBJECTS}{seen['id']}/", headers=headers).json()["objects"]
    assert one == [seen]
    versions = client.get(
        f"{OBJECTS}{seen['id']}/versions/", headers={**auth(firm), "Accept": TAXII}
    )
    assert versions.json()["versions"] == [seen["modified"]]
    manifest = client.get(
        f"/taxii2/api/collections/{FLAGS}/manifest/", headers={**auth(firm), "Accept": TAXII}
    ).json()["objects"]
    assert [m["id"] for m in manifest] == [seen["id"]]

    # The NGO's own indicator id, asked by the firm, finds nothing: it is not shown so.
    asked = client.get(f"{OBJECTS}{shared['id']}/", headers={**auth(firm), "Accept": TAXII})
    assert asked.status_code == 404
    # A stranger sees neither the object nor that it exists.
    assert read_all(client, stranger) == []
    for path in (f"{OBJECTS}{seen['id']}/", f"{OBJECTS}{seen['id']}/versions/"):
        hidden = client.get(path, headers={**auth(stranger), "Accept": TAXII})
        assert hidden.status_code == 404
    # The NGO reads its own report under its own ids.
    (own,) = read_all(client, ngo)
    assert (own["id"], own["created_by_ref"]) == (shared["id"], ngo.id)


def test_a_subscribers_alerts_read_as_a_taxii_collection(
    client: TestClient, engine: Engine
) -> None:
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    vasp = make_member(engine, "Coinbridge", roles=(Role.SUBSCRIBER,))
    with transaction(engine) as session:
        document = "agreements:\n  - {id: a, from: Hope NGO, to: Coinbridge, max_tlp: amber}\n"
        apply_policy(session, document, now=datetime.now(UTC))
    for kind in ("watchlist", "feed"):  # one report alerts both: one object in the page
        spec = {"name": kind, "kind": kind, "delivery": "poll"}
        created = client.post("/api/v1/subscriptions", json=spec, headers=auth(vasp)).json()
        if kind == "watchlist":
            client.put(
                f"/api/v1/subscriptions/{created['id']}/watchlist",
                content=ETH_LOWER.encode(),
                headers={**auth(vasp), "Content-Type": "text/csv"},
            )
    flagged = indicator(ngo.id, ETH_LOWER, chain="ethereum")
    client.post(
        "/api/v1/submissions",
        content=signed(bundle(flagged), ngo.key, iat=datetime.now(UTC)),
        headers={**auth(ngo), "Content-Type": "application/json"},
    )
    alerts = client.get("/api/v1/alerts", headers=auth(vasp)).json()["alerts"]
    assert len(alerts) == 2
    (expected,) = [o for o in alerts[0]["stix"]["objects"] if o["type"] == "indicator"]

    path = f"/taxii2/api/collections/{ALERTS}/objects/"
    read = client.get(path, headers={**auth(vasp), "Accept": TAXII}).json()
    assert read["objects"] == [expected]
    one = client.get(f"{path}{expected['id']}/", headers={**auth(vasp), "Accept": TAXII})
    assert one.json()["objects"] == [expected]
    # The NGO has no alerts collection (not a subscriber); a stranger's is empty.
    refused = client.get(path, headers={**auth(ngo), "Accept": TAXII})
    assert refused.status_code == 404
    stranger = make_member(engine, "Stranger", roles=(Role.SUBSCRIBER,))
    empty = client.get(path, headers={**auth(stranger), "Accept": TAXII}).json()
    assert empty == {"more": False, "objects": []}
