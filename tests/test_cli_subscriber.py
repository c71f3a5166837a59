"""Subscribers' commands against a served exchange: subscribe, upload, list, pause, delete."""

import json
from pathlib import Path

from sqlalchemy import Engine

from exchange.core.partners import Role
from exchange.signatures import write_private_key
from tests.conftest import Cli
from tests.factories import BTC_P2PKH, ETH_CHECKSUMMED, make_member


def test_a_subscriber_manages_a_watchlist_from_the_command_line(
    cli: Cli,
    live_url: str,
    engine: Engine,
    tmp_path: Path,
) -> None:
    vasp = make_member(engine, "Coinbridge", roles=(Role.SUBSCRIBER,))
    write_private_key(vasp.key, tmp_path / "vasp.pem")
    common = ("--url", live_url, "--key", str(tmp_path / "vasp.pem"))
    subscription = cli("subscription", "add", "deposits", *common).strip()
    watchlist = tmp_path / "deposits.csv"
    watchlist.write_text(f"address,chain\n{ETH_CHECKSUMMED}\n{BTC_P2PKH},bitcoin\nnope\n")

    refused = cli("watchlist", "upload", subscription, str(watchlist), *common, status=1)
    assert "deposits.csv:4" in refused
    cli("watchlist", "upload", subscription, str(watchlist), "--skip-invalid", *common)
    (listed,) = json.loads(cli("subscription", "list", "--json", *common))
    assert (listed["id"], listed["watchlist_entries"]) == (subscription, 2)

    cli("subscription", "pause", subscription, *common)
    assert json.loads(cli("subscription", "list", "--json", *common))[0]["state"] == "paused"
    cli("subscription", "delete", subscription, *common)
    assert json.loads(cli("subscription", "list", "--json", *common)) == []
