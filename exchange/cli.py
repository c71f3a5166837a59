"""The `exchange` command: operators run the exchange, partners sign and submit bundles.

Every command that creates something prints the new id alone on stdout; list commands
take --json. The database is EXCHANGE_DATABASE_URL (default: exchange.sqlite3 here).
"""

import base64
import csv
import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlmodel import Session

from exchange import tokens
from exchange.client import ExchangeClient
from exchange.config import Settings, get_settings
from exchange.core.partners import Role
from exchange.errors import ExchangeError, InputError, SignatureError
from exchange.services import partners as partner_service
from exchange.signatures import (
    SigningKey,
    generate_key,
    load_private_key,
    load_public_key,
    parse_json,
    read_signed_bundle,
    sign_bundle,
    thumbprint,
    verify_signature,
    write_private_key,
)
from exchange.store.db import alembic_config, make_engine, migrate
from exchange.store.partners import KeyStore, PartnerStore
from exchange.verifier import SavedState, verify_log

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
partner_app = typer.Typer(help="Partner organisations and their roles.", no_args_is_help=True)
key_app = typer.Typer(help="Ed25519 signing keys.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for tools that cannot sign.", no_args_is_help=True)
bundle_app = typer.Typer(help="Sign and verify STIX bundles.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident sharing log.", no_args_is_help=True)
for sub, name in (
    (audit_app, "audit"),
    (db_app, "db"),
    (partner_app, "partner"),
    (key_app, "key"),
    (token_app, "token"),
    (bundle_app, "bundle"),
):
    app.add_typer(sub, name=name)

err = Console(stderr=True)


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def transaction(settings: Settings) -> Iterator[Session]:
    """One command, one transaction, committed at the end."""
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def parse_time(value: str | None) -> datetime | None:
    """ISO 8601; a time without a zone is taken as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not an ISO 8601 date and time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_duration(value: str) -> timedelta:
    """`90s`, `15m`, `1h`, `7d`."""
    match = re.fullmatch(r"(\d+)([smhd])", value.strip())
    if match is None:
        raise InputError(f"{value!r} is not a duration like 90s, 15m, 1h or 7d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def ensure_operator_key(path: Path) -> SigningKey:
    """The operator key at `path`, generated (mode 0600) on first start."""
    if not path.exists():
        write_private_key(generate_key(), path)
        err.print(f"generated the operator key {path}")
    return load_private_key(path.read_bytes())


def emit(rows: list[dict[str, Any]], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table(title=title)
    for column in rows[0] if rows else ["(none)"]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(value) if value is not None else "" for value in row.values()))
    Console().print(table)


# --- operator ---------------------------------------------------------------------------


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the exchange: creates the operator key if none, applies migrations, serves HTTP."""
    import uvicorn

    settings = get_settings()
    if "public_url" not in settings.model_fields_set:
        os.environ["EXCHANGE_PUBLIC_URL"] = f"http://{host}:{port}"  # for the app factory
        get_settings.cache_clear()
    ensure_operator_key(settings.operator_key)
    migrate(settings.database_url)
    err.print(f"exchange on http://{host}:{port}  (database {settings.database_url})")
    uvicorn.run("exchange.web.app:create_app", factory=True, host=host, port=port)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration not yet applied."""
    migrate(get_settings().database_url)


@db_app.command("check")
def db_check() -> None:
    """Fail if the tables the code declares differ from the migrated database."""
    from alembic import command

    command.check(alembic_config(get_settings().database_url))


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Option("-m", "--message")]) -> None:
    """Write a new migration from the difference between the code and the database."""
    from alembic import command

    command.revision(alembic_config(get_settings().database_url), message, autogenerate=True)


@partner_app.command("add")
def partner_add(
    name: str,
    role: Annotated[list[Role], typer.Option("--role", help="repeat for several roles")],
) -> None:
    """Register a partner; prints its id (a STIX identity id)."""
    with transaction(get_settings()) as session:
        partner = partner_service.add_partner(session, name, role, now=now())
    typer.echo(partner.id)


@partner_app.command("list")
def partner_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every partner, oldest first."""
    with transaction(get_settings()) as session:
        rows = [
            {
                "id": p.id,
                "name": p.name,
                "roles": ",".join(sorted(p.roles)),
                "created": p.created_at,
            }
            for p in PartnerStore(session).list_all()
        ]
    emit(rows, as_json, "Partners")


@key_app.command("generate")
def key_generate(out: Annotated[Path, typer.Option("--out")]) -> None:
    """Write a new Ed25519 private key (mode 0600) and OUT.pub.pem; prints the kid."""
    if out.exists():
        raise InputError(f"{out} exists; refusing to overwrite a key")
    key = generate_key()
    write_private_key(key, out)
    out.with_suffix(".pub.pem").write_bytes(key.public_pem())
    typer.echo(key.kid)


@key_app.command("register")
def key_register(
    partner: str,
    pubkey_pem: Path,
    not_before: Annotated[str | None, typer.Option("--not-before")] = None,
    not_after: Annotated[str | None, typer.Option("--not-after")] = None,
) -> None:
    """Register a partner's public key (PEM); prints its kid."""
    public_key = load_public_key(pubkey_pem.read_bytes())
    with transaction(get_settings()) as session:
        key = partner_service.register_key(
            session,
            partner,
            public_key,
            now=now(),
            not_before=parse_time(not_before),
            not_after=parse_time(not_after),
        )
    typer.echo(key.kid)


@key_app.command("revoke")
def key_revoke(kid: str, reason: Annotated[str, typer.Option("--reason")]) -> None:
    """Revoke a key: nothing it signs is accepted from now on."""
    with transaction(get_settings()) as session:
        partner_service.revoke_key(session, kid, reason=reason, now=now())
    err.print(f"revoked {kid}")


@key_app.command("list")
def key_list(partner: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A partner's keys."""
    with transaction(get_settings()) as session:
        owner = PartnerStore(session).get(partner)
        rows = [
            {
                "kid": k.kid,
                "not_before": k.not_before,
                "not_after": k.not_after,
                "revoked_at": k.revoked_at,
                "revoked_reason": k.revoked_reason,
            }
            for k in KeyStore(session).list_for(owner.id)
        ]
    emit(rows, as_json, f"Keys of {partner}")


@token_app.command("issue")
def token_issue(partner: str, ttl: str = "1h") -> None:
    """Print a bearer token signed by the exchange, for a partner's tools that cannot sign."""
    settings = get_settings()
    lifetime = parse_duration(ttl)
    if lifetime.total_seconds() > settings.max_token_ttl_seconds:
        raise InputError(f"--ttl is over the limit of {settings.max_token_ttl_seconds} s")
    with transaction(settings) as session:
        subject = PartnerStore(session).get(partner).id
    operator = ensure_operator_key(settings.operator_key)
    typer.echo(
        tokens.issue(
            operator, audience=settings.audience, now=now(), ttl=lifetime, subject=subject
        )
    )


# --- partner ----------------------------------------------------------------------------


@bundle_app.command("sign")
def bundle_sign(bundle: Path, key: Annotated[Path, typer.Option("--key")]) -> None:
    """Print the signed-bundle document for a STIX bundle (JSON file)."""
    signing_key = load_private_key(key.read_bytes())
    document = sign_bundle(
        parse_json(bundle.read_bytes()), signing_key, iat=int(now().timestamp())
    )
    typer.echo(json.dumps(document, ensure_ascii=False))


@bundle_app.command("verify")
def bundle_verify(signed: Path, pubkey: Annotated[Path, typer.Option("--pubkey")]) -> None:
    """Verify, offline, the signature a public key made on a signed-bundle document."""
    public_key = load_public_key(pubkey.read_bytes())
    document = read_signed_bundle(parse_json(signed.read_bytes()))
    kid = thumbprint(public_key)
    matching = [s for s in document.signatures if s.kid == kid]
    if not matching:
        raise SignatureError(f"no signature by key {kid} on this document")
    for signature in matching:
        verify_signature(signature, public_key)
    typer.echo(f"OK: signature by {kid} verifies over bundle {document.bundle.get('id')}")


@app.command()
def submit(
    signed: Path,
    url: Annotated[str, typer.Option("--url")] = "http://127.0.0.1:8000",
    key: Annotated[Path, typer.Option("--key")] = Path("key.pem"),
) -> None:
    """Submit a signed-bundle document, authenticating with a token signed by KEY."""
    with ExchangeClient(url, key=load_private_key(key.read_bytes())) as client:
        response = client.post("/api/v1/submissions", signed.read_bytes())
    typer.echo(json.dumps(response.json(), indent=2))
    if response.is_error:
        raise typer.Exit(1)


# --- auditors ---------------------------------------------------------------------------

KeyOption = Annotated[Path | None, typer.Option("--key", help="your signing key (PEM)")]
TokenOption = Annotated[
    str | None, typer.Option("--token", envvar="EXCHANGE_TOKEN", help="an exchange token")
]
UrlOption = Annotated[str, typer.Option("--url")]


def connect(url: str, key: Path | None, token: str | None) -> ExchangeClient:
    signing_key = load_private_key(key.read_bytes()) if key is not None else None
    return ExchangeClient(url, key=signing_key, token=token)


@audit_app.command("verify")
def audit_verify(
    url: UrlOption = "http://127.0.0.1:8000",
    state: Annotated[Path | None, typer.Option("--state", help="saved checkpoint")] = None,
    pubkey: Annotated[Path | None, typer.Option("--pubkey", help="pin the operator key")] = None,
    key: KeyOption = None,
    token: TokenOption = None,
) -> None:
    """Verify the sharing log: signature, every entry, consistency with the saved checkpoint."""
    with connect(url, key, token) as client:
        meta = client.metadata()
        origin = meta["audit"]["origin"]
        if pubkey is not None:
            public_key = load_public_key(pubkey.read_bytes())
        else:
            public_key = client.published_key()
            err.print("[yellow]trusting the key the server publishes; pin it with --pubkey[/]")
        saved = SavedState.load(state) if state is not None and state.exists() else None
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("entries", total=None)
            verified = verify_log(
                client,
                origin=origin,
                public_key=public_key,
                saved=saved,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    if state is not None:
        verified.state.save(state)
    head = verified.checkpoint
    typer.echo(
        f"OK: {head.origin} verifies at size {head.size} "
        f"(root {base64.b64encode(head.root).decode()}; {verified.checked} entries checked)"
    )


@audit_app.command("show")
def audit_show(
    url: UrlOption = "http://127.0.0.1:8000",
    partner: Annotated[str | None, typer.Option("--partner")] = None,
    action: Annotated[str | None, typer.Option("--action")] = None,
    since: Annotated[str | None, typer.Option("--since")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    output: Annotated[str, typer.Option("--format", help="table, jsonl or csv")] = "table",
    key: KeyOption = None,
    token: TokenOption = None,
) -> None:
    """Show sharing-log entries: who did what, to whose data, when."""
    if output not in ("table", "jsonl", "csv"):
        raise InputError("--format is table, jsonl or csv")
    params = {
        name: value
        for name, value in (
            ("partner", partner),
            ("action", action),
            ("since", since and parse_time(since).isoformat()),  # type: ignore[union-attr]
            ("until", until and parse_time(until).isoformat()),  # type: ignore[union-attr]
        )
        if value
    }
    rows: list[dict[str, Any]] = []
    with connect(url, key, token) as client:
        start: int | None = 0
        while start is not None:
            page = client.get_json("/api/v1/audit/entries", params | {"start": start})
            rows += [{"seq": item["seq"], **item["entry"]} for item in page["entries"]]
            start = page["next"]
    if output == "jsonl":
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
    elif output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(["seq", "at", "action", "actor", "subject", "partners", "details"])
        for row in rows:
            writer.writerow(
                [
                    row["seq"],
                    row["at"],
                    row["action"],
                    row["actor"],
                    row["subject"],
                    " ".join(row["partners"]),
                    json.dumps(row["details"], ensure_ascii=False),
                ]
            )
    else:
        for row in rows:
            row["partners"] = ", ".join(row["partners"])
            row["details"] = json.dumps(row["details"], ensure_ascii=False)
        emit(rows, False, "Sharing log")


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors exit 2 (typer); domain and I/O errors print one line, exit 1."""
    try:
        app(args=argv)
    except (ExchangeError, httpx.HTTPError, OSError) as error:
        err.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
        sys.exit(1)
