"""Operator commands: serve, database, partners, keys, tokens."""

import os
from pathlib import Path
from typing import Annotated

import typer

from exchange.cli.edge import (
    emit,
    ensure_operator_key,
    err,
    now,
    parse_duration,
    parse_time,
    transaction,
)
from exchange.config import get_settings
from exchange.core.partners import Role
from exchange.errors import InputError
from exchange.services import partners as partner_service
from exchange.services import policy as policy_service
from exchange.signatures import (
    generate_key,
    load_private_key,
    load_public_key,
    write_private_key,
)
from exchange.store.db import alembic_config, make_engine, migrate
from exchange.store.partners import KeyStore, PartnerStore
from exchange.store.policies import PolicyStore

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
partner_app = typer.Typer(help="Partner organisations and their roles.", no_args_is_help=True)
key_app = typer.Typer(help="Ed25519 signing keys.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for tools that cannot sign.", no_args_is_help=True)
policy_app = typer.Typer(help="The sharing policy: groups and agreements.", no_args_is_help=True)


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


def worker() -> None:
    """Deliver webhooks from the database until interrupted (`exchange serve` runs one
    already; start more against PostgreSQL to share the work)."""
    import signal
    import threading

    from exchange.worker import Worker

    settings = get_settings()
    migrate(settings.database_url)
    key = load_private_key(settings.operator_key.read_bytes())
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())  # finish the round in flight, then stop
    err.print(f"worker on {settings.database_url}; Ctrl-C stops it")
    Worker(make_engine(settings.database_url), key, settings).run(stop)


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


# A kid is base64url and may start with "-": read an unknown "-…" as the kid, not an option.
@key_app.command("revoke", context_settings={"ignore_unknown_options": True})
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
    operator = ensure_operator_key(settings.operator_key)
    with transaction(settings) as session:
        token = partner_service.issue_token(
            session, operator, partner, audience=settings.audience, ttl=lifetime, now=now()
        )
    typer.echo(token)


@policy_app.command("apply")
def policy_apply(document: Path) -> None:
    """Apply a sharing-policy document (YAML or JSON; schemas/policy.schema.json); prints
    the new version number. Every problem in the document is reported, nothing is applied."""
    text = document.read_text(encoding="utf-8")
    with transaction(get_settings()) as session:
        policy = policy_service.apply_policy(session, text, now=now())
    typer.echo(policy.version)


@policy_app.command("show")
def policy_show(
    version: Annotated[int | None, typer.Option("--version")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The agreements of the current (or an earlier) policy version."""
    with transaction(get_settings()) as session:
        store = PolicyStore(session)
        policy = store.get(version)[0] if version else store.current()
    rows = [
        {
            "id": a.id,
            "from": a.source,
            "to": a.to,
            "max_tlp": a.max_tlp.value,
            "categories": ",".join(sorted(a.categories)) or "all",
            "attribution": a.attribution.value if a.attribution else "as reported",
        }
        for a in policy.agreements
    ]
    emit(rows, as_json, f"Policy version {policy.version}")
