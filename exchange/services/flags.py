"""Look up a flag as one caller may see it. Read-only."""

from sqlmodel import Session

from exchange.core.addresses import parse_address
from exchange.core.flags import Flag, visible
from exchange.core.partners import Partner, Role
from exchange.errors import NotFoundError
from exchange.store.flags import FlagStore


def lookup_flag(session: Session, viewer: Partner, chain: str, address: str) -> Flag:
    """The flag for `address` in any spelling; NotFoundError when the caller may see no report.

    Until the sharing policy lands, a partner sees its own reports and admins see all.
    """
    canonical = parse_address(address, chain)
    reports = FlagStore(session).reports_for(canonical.chain, canonical.value)
    mine = visible(reports, viewer=viewer.id, sees_all=viewer.has(Role.ADMIN))
    if not mine:
        raise NotFoundError(f"no flag for {canonical.value} on {canonical.chain}")
    return Flag(chain=canonical.chain, address=canonical.value, reports=mine)
