"""The TAXII 2.1 server as other people's software meets it: the OASIS `taxii2-client` and
`stix2`'s TAXII data source, over real HTTP to a running exchange."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import pytest
import requests
from sqlalchemy import Engine
from stix2 import Filter, TAXIICollectionSource
from taxii2client.v21 import Collection, Server, as_pages

from exchange.core.claims import Tlp
from exchange.core.partners import Role
from exchange.services.partners import issue_token
from exchange.services.policy import apply_policy
from exchange.services.taxii import ALERTS, FLAGS, SUBMISSIONS
from exchange.signatures import SigningKey, sign_envelope
from tests.factories import ETH_LOWER, Member, indicator, make_member, own_token, transaction

TAXII = "application/taxii+json;version=2.1"


class ExchangeAuth(requests.auth.AuthBase):
    """What a partner plugs into its TAXII client: a fresh token per request, and the
    envelope's Exchange-Signature on posts."""

    def __init__(self, member: Member, audience: str) -> None:
        self.member, self.audience = member, audience

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = (
            f"Bearer {own_token(self.member, audience=self.audience)}"
        )
        if request.method == "POST" and isinstance(request.body, bytes | str):
            envelope = json.loads(request.body)
            now = int(datetime.now(UTC).timestamp())
            request.headers["Exchange-Signature"] = sign_envelope(
                envelope, self.member.key, iat=now
            )
        return request


def _address(n: int) -> str:
    return f"0x{n:040x}"


def _collection(live_url: str, member: Member) -> Collection:
    server = Server(f"{live_url}/taxii2/", auth=ExchangeAuth(member, live_url))
    (root,) = server.api_roots
    (found,) = [c for c in root.collections if c.id == SUBMISSIONS]
    return found


def test_a_partner_submits_and_reads_back_with_the_oasis_client(
    live_url: str, engine: Engine
) -> None:
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    server = Server(f"{live_url}/taxii2/", auth=ExchangeAuth(ngo, live_url))
    assert server.title == "Exchange"
    (root,) = server.api_roots
    assert root.versions == [TAXII]
    collection = _collection(live_url, ngo)
    assert (collection.can_read, collection.can_write) == (True, True)

    objects = [indicator(ngo.id, _address(n), chain="ethereum") for n in range(1, 4)]
    status = collection.add_objects({"objects": objects})
    assert (status.status, status.success_count, status.failure_count) == ("complete", 3, 0)
    assert {s["id"] for s in status.successes} == {o["id"] for o in objects}
    again = root.get_status(status.id)
    assert again.success_count == 3

    read = collection.get_objects()["objects"]
    assert [o["id"] for o in read] == [o["id"] for o in objects]
    one = collection.get_object(objects[1]["id"])["objects"]
    assert one == [objects[1]]
    assert collection.object_versions(objects[1]["id"])["versions"] == [objects[1]["modified"]]
    manifest = collection.get_manifest()["objects"]
    assert [m["id"] for m in manifest] == [o["id"] for o in objects]
    assert manifest[0]["media_type"] == "application/stix+json;version=2.1"

    # The same envelope again: nothing new, every object a duplicate.
    repeat = collection.add_objects({"objects": objects})
    assert repeat.id == status.id


def test_paging_serves_every_object_exactly_once_while_objects_arrive(
    live_url: str, engine: Engine
) -> None:
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    collection = _collection(live_url, ngo)
    first = [indicator(ngo.id, _address(n)) for n in range(1, 26)]
    collection.add_objects({"objects": first})
    seen: list[str] = []
    late = [indicator(ngo.id, _address(n)) for n in range(100, 110)]
    for number, page in enumerate(as_pages(collection.get_objects, per_request=7)):
        seen += [o["id"] for o in page.get("objects", [])]
        if number == 1:
            collection.add_objects({"objects": late})  # added while the reader pages
    assert seen == [o["id"] for o in first + late]
    since = collection.get_objects(added_after="2000-01-01T00:00:00Z", limit=5)
    assert since["more"] is True
    assert len(since["objects"]) == 5


def test_stix2_reads_the_collection_as_a_data_source(live_url: str, engine: Engine) -> None:
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    collection = _collection(live_url, ngo)
    objects = [indicator(ngo.id, ETH_LOWER, chain="ethereum")]
    collection.add_objects({"objects": objects})
    source = TAXIICollectionSource(collection)
    found = source.query([Filter("type", "=", "indicator")])
    assert [o.id for o in found] == [objects[0]["id"]]
    assert source.get(objects[0]["id"]).pattern == objects[0]["pattern"]


def test_unsigned_tampered_and_foreign_envelopes_are_refused_and_change_nothing(
    live_url: str, engine: Engine
) -> None:
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    other = make_member(engine, "Other", roles=(Role.SUBMITTER,))
    url = f"{live_url}/taxii2/api/collections/{SUBMISSIONS}/objects/"
    envelope = {"objects": [indicator(ngo.id, ETH_LOWER)]}
    now = int(datetime.now(UTC).timestamp())
    tampered = {"objects": [indicator(ngo.id, _address(7))]}
    for signature, says in (
        (None, "unsigned envelope"),
        (sign_envelope(tampered, ngo.key, iat=now), "does not verify"),
        (sign_envelope(envelope, other.key, iat=now), "no signature by a key of the submitting"),
        ("not-a-jws", "compact JWS"),
    ):
        headers = {
            "Authorization": f"Bearer {own_token(ngo, audience=live_url)}",
            "Content-Type": TAXII,
            "Accept": TAXII,
        }
        if signature is not None:
            headers["Exchange-Signature"] = signature
        response = httpx.post(url, content=json.dumps(envelope), headers=headers)
        assert response.status_code in (401, 422), response.text
        assert response.headers["content-type"] == TAXII
        error = response.json()
        assert set(error) >= {"title", "description", "http_status"}
        assert says in error["description"], error
    assert _collection(live_url, ngo).get_objects()["objects"] == []


def test_media_types_are_negotiated(live_url: str, engine: Engine) -> None:
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    url = f"{live_url}/taxii2/api/collections/{SUBMISSIONS}/objects/"

    def get(accept: str) -> httpx.Response:
        auth = f"Bearer {own_token(ngo, audience=live_url)}"
        return httpx.get(url, headers={"Authorization": auth, "Accept": accept})

    assert get(TAXII).status_code == 200
    assert get(TAXII).headers["content-type"] == TAXII
    assert get("application/json").status_code == 406
    assert get("application/taxii+json;version=2.0").status_code == 406
    posted = httpx.post(
        url,
        content=b"{}",
        headers={
            "Authorization": f"Bearer {own_token(ngo, audience=live_url)}",
            "Content-Type": "application/json",
        },
    )
    assert posted.status_code == 415


def test_http_basic_with_an_exchange_token_as_password(
    live_url: str, engine: Engine, operator_key: SigningKey
) -> None:
    reader = make_member(engine, "Reader", roles=(Role.SUBSCRIBER,))
    with transaction(engine) as session:
        token = issue_token(
            session,
            operator_key,
            reader.id,
            audience=live_url,
            ttl=timedelta(hours=1),
            now=datetime.now(UTC),
        )
    server = Server(f"{live_url}/taxii2/", user="reader", password=token)
    (root,) = server.api_roots
    writable = {collection.id: collection.can_write for collection in root.collections}
    assert writable == {SUBMISSIONS: False, FLAGS: False, ALERTS: False}
    wrong = Server(f"{live_url}/taxii2/", user="reader", password="nope")
    with pytest.raises(requests.HTTPError):
        wrong.refresh()


def test_unknown_collections_and_objects_are_taxii_404s(live_url: str, engine: Engine) -> None:
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    auth = {"Authorization": f"Bearer {own_token(ngo, audience=live_url)}", "Accept": TAXII}
    response = httpx.get(f"{live_url}/taxii2/api/collections/{uuid.uuid4()}/", headers=auth)
    assert response.status_code == 404
    assert response.json()["http_status"] == "404"
    auth = {"Authorization": f"Bearer {own_token(ngo, audience=live_url)}", "Accept": TAXII}
    missing = f"{live_url}/taxii2/api/collections/{SUBMISSIONS}/objects/indicator--{uuid.uuid4()}/"
    assert httpx.get(missing, headers=auth).status_code == 404


def test_a_subscriber_reads_the_flags_it_may_see_with_the_oasis_client(
    live_url: str, engine: Engine
) -> None:
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    firm = make_member(engine, "Tracer", roles=(Role.SUBSCRIBER,))
    with transaction(engine) as session:
        document = "agreements:\n  - {id: a, from: Hope NGO, to: Tracer, max_tlp: green}\n"
        apply_policy(session, document, now=datetime.now(UTC))
    green = [indicator(ngo.id, _address(n), tlp=Tlp.GREEN) for n in range(1, 12)]
    amber = [indicator(ngo.id, _address(n), tlp=Tlp.AMBER) for n in range(20, 23)]
    _collection(live_url, ngo).add_objects({"objects": green + amber})
    server = Server(f"{live_url}/taxii2/", auth=ExchangeAuth(firm, live_url))
    (flags,) = [c for c in server.api_roots[0].collections if c.id == FLAGS]
    seen = [o for page in as_pages(flags.get_objects, per_request=4) for o in page["objects"]]
    assert [o["id"] for o in seen] == [o["id"] for o in green]  # AMBER stays with Hope
    source = TAXIICollectionSource(flags)
    assert len(source.query([Filter("type", "=", "indicator")])) == len(green)
