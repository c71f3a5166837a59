"""The `exchange` command as operators and partners use it, on the test database."""

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from exchange import tokens
from exchange.core.bundles import read_bundle
from exchange.core.claims import Category, Tlp
from exchange.core.ledger import Action
from exchange.signatures import load_private_key, load_public_key
from exchange.store.ledger import LedgerStore
from tests.conftest import Cli
from tests.factories import (
    BTC_P2PKH,
    ETH_CHECKSUMMED,
    ETH_LOWER,
    bundle,
    indicator,
    transaction,
)


def test_an_operator_registers_a_partner_and_its_key(cli: Cli, tmp_path: Path) -> None:
    partner_id = cli("partner", "add", "Hope NGO", "--role", "submitter", "--role", "subscriber")
    assert partner_id.startswith("identity--")
    kid = cli("key", "generate", "--out", "hope.pem").strip()
    assert stat.S_IMODE((tmp_path / "hope.pem").stat().st_mode) == 0o600
    assert cli("key", "register", "Hope NGO", "hope.pub.pem").strip() == kid

    (listed,) = json.loads(cli("partner", "list", "--json"))
    assert (listed["id"], listed["name"], listed["roles"]) == (
        partner_id.strip(),
        "Hope NGO",
        "submitter,subscriber",
    )
    (key,) = json.loads(cli("key", "list", "Hope NGO", "--json"))
    assert key["kid"] == kid
    assert key["revoked_at"] is None


def test_revoking_a_key_shows_in_the_list_and_twice_is_an_error(cli: Cli) -> None:
    cli("partner", "add", "Acme", "--role", "submitter")
    kid = cli("key", "generate", "--out", "acme.pem").strip()
    cli("key", "register", "Acme", "acme.pub.pem", "--not-after", "2030-01-01T00:00:00Z")
    cli("key", "revoke", kid, "--reason", "laptop lost")
    (key,) = json.loads(cli("key", "list", "Acme", "--json"))
    assert key["revoked_reason"] == "laptop lost"
    assert "already revoked" in cli("key", "revoke", kid, "--reason", "again", status=1)


def test_a_partner_signs_and_anyone_verifies_offline(cli: Cli, tmp_path: Path) -> None:
    cli("key", "generate", "--out", "me.pem")
    doc = bundle(indicator("identity--6b1e8e2a-8a4e-4f43-9a53-3f2a0f0e1c11", BTC_P2PKH))
    (tmp_path / "bundle.json").write_text(json.dumps(doc))
    signed_doc = cli("bundle", "sign", "bundle.json", "--key", "me.pem")
    (tmp_path / "signed.json").write_text(signed_doc)
    assert json.loads(signed_doc)["bundle"] == doc
    assert "verifies" in cli("bundle", "verify", "signed.json", "--pubkey", "me.pub.pem")

    cli("key", "generate", "--out", "other.pem")
    refused = cli("bundle", "verify", "signed.json", "--pubkey", "other.pub.pem", status=1)
    assert "no signature by key" in refused
    tampered = json.loads(signed_doc)
    tampered["bundle"]["objects"][0]["confidence"] = 1
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    assert "does not verify" in cli(
        "bundle", "verify", "tampered.json", "--pubkey", "me.pub.pem", status=1
    )


def test_an_issued_token_names_the_partner_is_signed_by_the_operator_and_logged(
    cli: Cli, tmp_path: Path, engine: Engine
) -> None:
    partner_id = cli("partner", "add", "Bank", "--role", "subscriber").strip()
    token = cli("token", "issue", "Bank", "--ttl", "2h").strip()
    operator = load_private_key((tmp_path / "operator.pem").read_bytes())
    claims = tokens.verify(
        token,
        operator.public_key,
        audience="http://exchange.test",
        now=datetime.now(UTC),
        exchange_issued=True,
    )
    assert claims.subject == partner_id
    assert (claims.expires_at - claims.issued_at).total_seconds() == 7200
    with transaction(engine) as session:
        (issued,) = LedgerStore(session).entries(action=Action.TOKEN_ISSUED)
    assert json.loads(issued[1])["details"]["jti"] == claims.jti


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("partner", "add", "X", "--role", "king"), "king"),
        (("token", "issue", "nobody"), "no partner 'nobody'"),
        (("token", "issue", "nobody", "--ttl", "soon"), "not a duration"),
        (("key", "register", "nobody", "missing.pem"), "missing.pem"),
        (("key", "revoke", "no-such-kid", "--reason", "x"), "no key"),
    ],
)
def test_mistakes_are_one_clear_line_and_a_failing_status(
    cli: Cli, argv: tuple[str, ...], says: str
) -> None:
    assert says in cli(*argv, status=2 if "king" in argv else 1)


def test_a_generated_public_key_loads_back(cli: Cli, tmp_path: Path) -> None:
    kid = cli("key", "generate", "--out", "k.pem").strip()
    assert load_private_key((tmp_path / "k.pem").read_bytes()).kid == kid
    assert len(load_public_key((tmp_path / "k.pub.pem").read_bytes())) == 32
    assert "refusing to overwrite" in cli("key", "generate", "--out", "k.pem", status=1)


def test_a_spreadsheet_becomes_a_bundle_the_exchange_accepts(cli: Cli, tmp_path: Path) -> None:
    partner = "identity--6b1e8e2a-8a4e-4f43-9a53-3f2a0f0e1c11"
    (tmp_path / "sheet.csv").write_text(
        "address,category,tlp,case reference\n"
        f"{ETH_CHECKSUMMED},sanctions,green,CASE-1\n"
        f"{BTC_P2PKH},,red,\n"
        "1NotAnAddress,scam,amber,\n"
    )
    argv = ["bundle", "build", "sheet.csv", "--partner-id", partner, "--category", "scam"]
    refused = cli(*argv, status=1)
    assert "sheet.csv:4: address" in refused
    assert "--skip-invalid" in refused
    built = json.loads(cli(*argv, "--skip-invalid"))
    read = read_bundle(built, submitter=partner, default_tlp=Tlp.AMBER, max_objects=100)
    claims = [claim for check in read.objects for claim in check.claims]
    assert not read.problems
    assert [(c.address.value, c.category, c.tlp, c.case_reference) for c in claims] == [
        (ETH_LOWER, Category.SANCTIONS, Tlp.GREEN, "CASE-1"),
        (BTC_P2PKH, Category.SCAM, Tlp.RED, None),
    ]


def test_a_kid_that_starts_with_a_dash_is_read_as_the_kid(cli: Cli) -> None:
    """One kid in 64 starts with "-" (base64url): it once read as an unknown option."""
    cli("partner", "add", "Acme", "--role", "submitter")
    for attempt in range(2000):
        kid = cli("key", "generate", "--out", f"k{attempt}.pem").strip()
        if kid.startswith("-"):
            break
    assert kid.startswith("-")
    cli("key", "register", "Acme", f"k{attempt}.pub.pem")
    cli("key", "revoke", kid, "--reason", "laptop lost")
    (key,) = json.loads(cli("key", "list", "Acme", "--json"))
    assert (key["kid"], key["revoked_reason"]) == (kid, "laptop lost")
