"""Auditors verify the sharing log over real HTTP, and catch an operator who cheats."""

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from exchange.client import ExchangeClient
from exchange.config import Settings
from exchange.core import merkle
from exchange.core.ledger import parse_checkpoint
from exchange.core.partners import Role
from exchange.errors import LedgerIntegrityError
from exchange.signatures import SigningKey, verify_note, write_private_key
from exchange.store.ledger import LedgerStore
from exchange.verifier import SavedState, verify_log
from exchange.web.app import create_app
from tests.factories import Member, bundle, indicator, make_member, signed, transaction

ADDRESSES = [
    "123WBUDmSJv4GctdVEz6Qq6z8nXSKrJ4KX",
    "125W5ek3DT6Zqy5S2iPt4FHQdNMCbZA3FU",
    "1295rkVyNfFpqZpXvKGhDqwhP1jZcNNDMV",
]


@pytest.fixture
def auditor(engine: Engine) -> Member:
    return make_member(engine, "oversight", roles=[Role.AUDITOR])


def grow(engine: Engine, live_url: str, partners: int = 3) -> None:
    """Some history: partners join and submit."""
    for n in range(partners):
        member = make_member(engine)
        body = signed(
            bundle(indicator(member.id, ADDRESSES[n % 3])), member.key, iat=datetime.now(UTC)
        )
        with ExchangeClient(live_url, key=member.key) as client:
            assert client.post("/api/v1/submissions", body).status_code == 201


def verify(
    live_url: str, who: Member, operator_key: SigningKey, saved: SavedState | None = None
) -> SavedState:
    with ExchangeClient(live_url, key=who.key) as client:
        origin = client.metadata()["audit"]["origin"]
        result = verify_log(client, origin=origin, public_key=operator_key.public_key, saved=saved)
    return result.state


def test_an_honest_log_verifies_from_scratch_and_from_a_saved_checkpoint(
    engine: Engine, live_url: str, auditor: Member, operator_key: SigningKey
) -> None:
    grow(engine, live_url)
    first = verify(live_url, auditor, operator_key)
    grow(engine, live_url, partners=2)
    second = verify(live_url, auditor, operator_key, saved=first)
    assert second.size > first.size
    assert verify(live_url, auditor, operator_key, saved=second).size >= second.size


def test_a_changed_entry_is_named_by_its_index(
    engine: Engine, live_url: str, auditor: Member, operator_key: SigningKey
) -> None:
    grow(engine, live_url)
    verify(live_url, auditor, operator_key)
    with engine.begin() as connection:
        body = connection.execute(text("SELECT body FROM ledger_entry WHERE seq = 4")).scalar_one()
        entry = json.loads(body)
        entry["actor"] = "someone-else"
        forged = json.dumps(entry, separators=(",", ":"), sort_keys=True)
        connection.execute(
            text("UPDATE ledger_entry SET body = :body WHERE seq = 4"), {"body": forged}
        )
    with pytest.raises(LedgerIntegrityError, match="entry 4 does not match"):
        verify(live_url, auditor, operator_key)


def test_a_deleted_entry_fails_verification(
    engine: Engine, live_url: str, auditor: Member, operator_key: SigningKey
) -> None:
    grow(engine, live_url)
    verify(live_url, auditor, operator_key)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM ledger_partner WHERE seq = 3"))
        connection.execute(text("DELETE FROM ledger_entry WHERE seq = 3"))
    with pytest.raises(LedgerIntegrityError, match="entry 3 does not match"):
        verify(live_url, auditor, operator_key)


def test_a_consistently_rewritten_history_fails_against_a_saved_checkpoint(
    engine: Engine, live_url: str, auditor: Member, operator_key: SigningKey
) -> None:
    grow(engine, live_url)
    saved = verify(live_url, auditor, operator_key)
    rewrite_history(engine, seq=2)
    # Without memory, the rewritten log looks whole: it is signed and self-consistent.
    verify(live_url, auditor, operator_key)
    with pytest.raises(LedgerIntegrityError, match="does not extend"):
        verify(live_url, auditor, operator_key, saved=saved)


def rewrite_history(engine: Engine, *, seq: int) -> None:
    """What a cheating operator with database access does: change an entry, then recompute
    every Merkle node and drop the old checkpoints so the server signs the new tree."""
    with Session(engine) as session, session.begin():
        bodies = [
            body for (body,) in session.execute(text("SELECT body FROM ledger_entry ORDER BY seq"))
        ]
        entry = json.loads(bodies[seq])
        entry["details"] = {"rewritten": True}
        bodies[seq] = json.dumps(entry, separators=(",", ":"), sort_keys=True)
        session.execute(
            text("UPDATE ledger_entry SET body = :body WHERE seq = :seq"),
            {"body": bodies[seq], "seq": seq},
        )
        session.execute(text("DELETE FROM ledger_node"))
        session.execute(text("DELETE FROM ledger_checkpoint"))
        leaves = [merkle.leaf_hash(body.encode()) for body in bodies]
        nodes = merkle.append(0, leaves, {})
        for level, index, value in nodes:
            session.execute(
                text('INSERT INTO ledger_node (level, "index", hash) VALUES (:l, :i, :h)'),
                {"l": level, "i": index, "h": value},
            )


def test_the_cli_verifies_and_saves_its_state(
    engine: Engine, live_url: str, auditor: Member, tmp_path: Path, operator_key: SigningKey
) -> None:
    from exchange.cli import main

    grow(engine, live_url)
    write_private_key(auditor.key, tmp_path / "auditor.pem")
    state = tmp_path / "state.json"
    argv = ["audit", "verify", "--url", live_url, "--key", str(tmp_path / "auditor.pem")]
    with pytest.raises(SystemExit) as done:
        main([*argv, "--state", str(state)])
    assert done.value.code == 0
    assert SavedState.load(state).size >= 7


def test_an_auditor_exports_entries_about_one_partner(
    engine: Engine,
    live_url: str,
    auditor: Member,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from exchange.cli import main

    grow(engine, live_url, partners=2)
    ngo = make_member(engine, "Hope NGO")
    write_private_key(auditor.key, tmp_path / "auditor.pem")
    argv = ["audit", "show", "--url", live_url, "--key", str(tmp_path / "auditor.pem")]
    for output in ("jsonl", "csv"):
        with pytest.raises(SystemExit) as done:
            main([*argv, "--partner", ngo.id, "--format", output])
        assert done.value.code == 0
    jsonl, csv_text = capsys.readouterr().out.split("seq,at,action", 1)
    rows = [json.loads(line) for line in jsonl.splitlines()]
    assert [r["action"] for r in rows] == ["operator:partner:add", "operator:key:register"]
    assert {r["subject"] for r in rows} == {ngo.id, ngo.key.kid}
    assert len(csv_text.strip().splitlines()) == 3  # the rest of the header, two rows


def test_the_server_signs_checkpoints_on_its_own_while_the_log_grows(
    engine: Engine, settings: Settings, operator_key: SigningKey
) -> None:
    ticking = settings.model_copy(update={"checkpoint_interval_seconds": 0.05})
    with TestClient(create_app(ticking, operator_key=operator_key)):
        make_member(engine)
        deadline = time.monotonic() + 10
        while True:
            with transaction(engine) as session:
                store = LedgerStore(session)
                latest, size = store.latest_checkpoint(), store.size()
            if latest is not None and latest[0] == size:
                break
            assert time.monotonic() < deadline, "no checkpoint of the grown log within 10 s"
            time.sleep(0.05)
    origin = ticking.origin
    head = parse_checkpoint(verify_note(latest[1], origin, operator_key.public_key))
    assert head.size == size == 2
