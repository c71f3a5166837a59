"""`exchange demo`: the exchange's story in one command, on the embedded default.

An NGO flags sanctioned and trafficking-linked addresses; a crypto exchange watching its
deposit addresses gets a signed webhook within the second and verifies it; a forensic firm
polls its feed; the demo shows what each saw and what the sharing policy withheld, and why.
Every step is checked: the command exits 1 if any did not really happen.
"""

import json
import os
import socket
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import uvicorn
from rich.console import Console
from sqlmodel import Session

from exchange.cli.edge import now
from exchange.client import ExchangeClient
from exchange.config import Settings, get_settings
from exchange.core.bundles import EXTENSION_ID
from exchange.core.claims import TLP2_MARKING_IDS, Tlp
from exchange.core.partners import Role
from exchange.errors import ExchangeError
from exchange.services.partners import add_partner, register_key
from exchange.services.policy import apply_policy
from exchange.signatures import SigningKey, generate_key, sign_bundle, write_private_key
from exchange.store.db import make_engine, migrate
from exchange.webhooks import verify_webhook

say = Console()

# Real addresses from OFAC's SDN list (../shared/data/ofac), spelt as each party would paste
# them: the NGO copies the checksummed and legacy forms, the exchange its own records.
ETH = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"  # Lazarus Group (sanctions)
BTC = "123WBUDmSJv4GctdVEz6Qq6z8nXSKrJ4KX"  # OFAC SDN Bitcoin address
BCH_LEGACY = "18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB"  # OFAC SDN, Bitcoin Cash
BCH_CASHADDR = "bitcoincash:qpgf0ztxq3mwfq6eg5versgfdzq9c3pwv5jsk6wnay"  # the same key
CUSTOMER = "0x52908400098527886E0F7030069857D2E4169EE7"  # a deposit address nobody flagged

POLICY = """
agreements:
  - id: hope-to-coinbridge
    from: Hope NGO
    to: Coinbridge Exchange
    max_tlp: amber
    categories: [sanctions, human-trafficking]
    attribution: anonymous        # Hope's name is never shown to the exchange
  - id: hope-to-chainsight
    from: Hope NGO
    to: ChainSight Forensics
    max_tlp: green
    categories: [sanctions]
"""


class DemoFailed(ExchangeError):
    """A step of the demo did not happen as it should."""


def demo(
    keep: Annotated[
        Path | None, typer.Option("--keep", help="keep the database and keys in this directory")
    ] = None,
) -> None:
    """Play the exchange's story end to end, narrated; exits 0 only if every step happened."""
    workdir = keep or Path(tempfile.mkdtemp(prefix="exchange-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    Demo(workdir).run()


class Demo:
    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = Settings(
            database_url=f"sqlite:///{workdir / 'demo.sqlite3'}",
            public_url=self.url,
            operator_key=workdir / "operator.pem",
            webhook_allow_private=True,  # the exchange's receiver listens on 127.0.0.1
        )
        self.workdir = workdir
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Condition()

    def run(self) -> None:
        operator_key = generate_key()
        write_private_key(operator_key, self.settings.operator_key)
        migrate(self.settings.database_url)
        hook_url = self._start_receiver()
        server = self._start_exchange()
        try:
            self._story(hook_url)
        finally:
            server.should_exit = True

    def _story(self, hook_url: str) -> None:
        say.rule("[bold]1. The operator admits three partners and their sharing agreements")
        ngo = self._partner("Hope NGO", Role.SUBMITTER)
        vasp = self._partner("Coinbridge Exchange", Role.SUBSCRIBER)
        firm = self._partner("ChainSight Forensics", Role.SUBSCRIBER)
        with Session(make_engine(self.settings.database_url)) as session, session.begin():
            apply_policy(session, POLICY, now=now())
        say.print(
            "Hope shares sanctions and trafficking (up to TLP:AMBER, anonymously) with "
            "Coinbridge, and only sanctions (TLP:GREEN) with ChainSight."
        )

        say.rule("[bold]2. Coinbridge watches its deposit addresses; ChainSight subscribes")
        with ExchangeClient(self.url, key=vasp[1]) as client:
            spec = {
                "name": "deposits",
                "kind": "watchlist",
                "delivery": "webhook",
                "webhook_url": hook_url,
            }
            watch = client.call("POST", "/api/v1/subscriptions", json=spec)["id"]
            lines = f"{ETH.lower()}\n{BTC}\n{BCH_CASHADDR}\n{CUSTOMER}\n"
            upload = client.call(
                "PUT",
                f"/api/v1/subscriptions/{watch}/watchlist",
                content=lines.encode(),
                headers={"Content-Type": "text/csv"},
            )
        _check(upload["watchlist_entries"] == 4, "the watchlist holds four addresses")
        say.print(
            f"Coinbridge's webhook subscription watches {upload['watchlist_entries']} "
            "addresses, pasted as its own systems spell them (lowercase, CashAddr)."
        )
        with ExchangeClient(self.url, key=firm[1]) as client:
            feed = {
                "name": "sanctions feed",
                "kind": "feed",
                "delivery": "poll",
                "categories": ["sanctions"],
            }
            client.call("POST", "/api/v1/subscriptions", json=feed)
        say.print("ChainSight polls a feed of every sanctions flag it may see.")

        say.rule("[bold]3. Hope signs and submits a STIX bundle of three flags")
        objects = [
            _indicator(ngo[0], ETH, "sanctions", Tlp.GREEN, "ethereum"),
            _indicator(
                ngo[0],
                BTC,
                "human-trafficking",
                Tlp.AMBER,
                "bitcoin",
                case_reference="HOPE-2026-0412",
            ),
            _indicator(ngo[0], BCH_LEGACY, "sanctions", Tlp.RED, "bitcoin-cash"),
        ]
        bundle = {"type": "bundle", "id": f"bundle--{_uuid()}", "objects": objects}
        document = sign_bundle(bundle, ngo[1], iat=int(time.time()))
        started = time.monotonic()
        with ExchangeClient(self.url, key=ngo[1]) as client:
            receipt = client.call(
                "POST",
                "/api/v1/submissions",
                content=json.dumps(document).encode(),
                headers={"Content-Type": "application/json"},
            )
        _check(receipt["accepted"] == 3, "the exchange accepted all three flags")
        say.print(
            f"Accepted {receipt['accepted']} flags (submission {receipt['id']}), signed by "
            f"key {receipt['signer_kids'][0]}."
        )

        say.rule("[bold]4. Coinbridge's webhook receiver gets signed alerts")
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= 2, timeout=10)
        waited = time.monotonic() - started
        _check(len(self.received) == 2, "two alerts reached Coinbridge's webhook")
        jwks = httpx.get(f"{self.url}/.well-known/jwks.json").json()
        for headers, body in self.received:
            kid = verify_webhook(headers, body, jwks, now=now())
            alert = json.loads(body)
            flag = alert["flag"]
            shown = ", ".join(f"{r['category']} by {r['submitter']}" for r in alert["reports"])
            say.print(
                f"[green]verified[/green] alert {alert['id'][:8]}… (key {kid[:10]}…): "
                f"{flag['chain']} {flag['address']}: {shown}"
            )
        _check(
            all(b"Hope NGO" not in body and b"HOPE-2026" not in body for _, body in self.received),
            "Hope's name and case reference never reached Coinbridge",
        )
        say.print(
            f"Both arrived within {waited:.2f} s of the submission; Hope appears under a "
            "pseudonym and its case reference stays with Hope."
        )

        say.rule("[bold]5. ChainSight polls its feed")
        with ExchangeClient(self.url, key=firm[1]) as client:
            page = client.call("GET", "/api/v1/alerts")
        seen = [(a["flag"]["chain"], a["flag"]["address"]) for a in page["alerts"]]
        say.print(f"ChainSight received {len(seen)} alert(s): {seen}")
        _check(
            seen == [("ethereum", ETH.lower())],
            "ChainSight got the TLP:GREEN sanctions flag only (its agreement stops there)",
        )

        say.rule("[bold]6. What the policy withheld, and why")
        with ExchangeClient(self.url, key=ngo[1]) as client:
            flags = {
                addr: client.call("GET", f"/api/v1/flags/{chain}/{addr}")
                for chain, addr in (
                    ("ethereum", ETH),
                    ("bitcoin", BTC),
                    ("bitcoin-cash", BCH_LEGACY),
                )
            }
            for address, flag in flags.items():
                report = flag["reports"][0]
                for name, (partner_id, _) in (("Coinbridge", vasp), ("ChainSight", firm)):
                    why = client.call(
                        "GET",
                        "/api/v1/policy/explain",
                        params={"report": report["id"], "recipient": partner_id},
                    )
                    verdict = "[green]shared[/green]" if why["allow"] else "[red]withheld[/red]"
                    say.print(
                        f"{address[:14]}… {report['category']:<17} {report['tlp']:<6} -> "
                        f"{name:<10} {verdict}: {why['reason']}"
                    )
        say.print("TLP:RED never travels through feeds or webhooks, whatever the agreement.")
        say.rule("[bold green]Every step happened")
        say.print(f"Database and keys: {self.workdir}")

    def _partner(self, name: str, role: Role) -> tuple[str, SigningKey]:
        key = generate_key()
        with Session(make_engine(self.settings.database_url)) as session, session.begin():
            partner = add_partner(session, name, [role], now=now())
            register_key(session, partner.id, key.public_key, now=now())
        write_private_key(key, self.workdir / f"{name.split()[0].lower()}.pem")
        say.print(f"{name} ({role}): {partner.id}, key {key.kid[:10]}…")
        return partner.id, key

    def _start_exchange(self) -> uvicorn.Server:
        # The app factory reads EXCHANGE_* (as under `exchange serve`): point them at the demo.
        os.environ.update(
            {
                "EXCHANGE_DATABASE_URL": self.settings.database_url,
                "EXCHANGE_PUBLIC_URL": self.url,
                "EXCHANGE_OPERATOR_KEY": str(self.settings.operator_key),
                "EXCHANGE_WEBHOOK_ALLOW_PRIVATE": "true",
            }
        )
        get_settings.cache_clear()
        config = uvicorn.Config(
            "exchange.web.app:create_app",
            factory=True,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
        )
        server = uvicorn.Server(config)
        threading.Thread(target=server.run, daemon=True).start()
        deadline = time.monotonic() + 15
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        _check(server.started, "the exchange started")
        say.print(f"Exchange serving on {self.url} (SQLite in {self.workdir})")
        return server

    def _start_receiver(self) -> str:
        demo = self

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with demo.arrived:
                    demo.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    demo.arrived.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        port = _free_port()
        server = ThreadingHTTPServer(("127.0.0.1", port), Hook)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{port}/webhook"


def _indicator(
    creator: str, address: str, category: str, tlp: Tlp, chain: str, **extension: str
) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{_uuid()}",
        "created": "2026-11-25T09:00:00.000Z",
        "modified": "2026-11-25T09:00:00.000Z",
        "created_by_ref": creator,
        "pattern": f"[cryptocurrency-wallet:value = '{address}']",
        "pattern_type": "stix",
        "valid_from": "2026-11-25T09:00:00Z",
        "labels": [category],
        "confidence": 85,
        "object_marking_refs": [TLP2_MARKING_IDS[tlp]],
        "extensions": {
            EXTENSION_ID: {"extension_type": "property-extension", "chain": chain, **extension}
        },
    }


def _uuid() -> str:
    return str(uuid.uuid4())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _check(condition: bool, step: str) -> None:
    if not condition:
        raise DemoFailed(f"demo step failed: {step}")
    say.print(f"  [green]✓[/green] {step}")
