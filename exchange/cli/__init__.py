"""The `exchange` command: operators run the exchange, partners sign and submit bundles,
auditors verify the sharing log.

Every command that creates something prints the new id alone on stdout; list commands
take --json. The database is EXCHANGE_DATABASE_URL (default: exchange.sqlite3 here).
"""

import sys

import httpx
import typer

from exchange.cli import alerts, audit, demo, operator, partner, subscriber
from exchange.cli.edge import err
from exchange.errors import ExchangeError

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
app.command()(operator.serve)
app.command()(demo.demo)
app.command()(operator.worker)
app.command()(partner.submit)
app.command()(subscriber.watch)
for sub, name in (
    (audit.audit_app, "audit"),
    (operator.db_app, "db"),
    (operator.partner_app, "partner"),
    (operator.key_app, "key"),
    (operator.token_app, "token"),
    (operator.policy_app, "policy"),
    (partner.bundle_app, "bundle"),
    (subscriber.subscription_app, "subscription"),
    (subscriber.watchlist_app, "watchlist"),
    (alerts.alert_app, "alert"),
):
    app.add_typer(sub, name=name)


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors exit 2 (typer); domain and I/O errors print one line, exit 1."""
    try:
        app(args=argv)
    except (ExchangeError, httpx.HTTPError, OSError) as error:
        err.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
        sys.exit(1)
