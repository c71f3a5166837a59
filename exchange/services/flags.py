"""Look up a flag as one caller may see it: every report through the sharing decision."""

from datetime import datetime

from sqlmodel import Session

from exchange.core.addresses import parse_address
from exchange.core.flags import Flag, disclose_all
from exchange.core.partners import Partner
from exchange.core.policy import Channel, decide, masks, pseudonym
from exchange.errors import NotFoundError
from exchange.services.policy import current_policy, viewer_of
from exchange.store.flags import FlagStore


def lookup_flag(
    session: Session,
    viewer: Partner,
    chain: str,
    address: str,
    *,
    now: datetime,
    alias_secret: bytes,
) -> Flag:
    """The flag for `address` in any spelling, made only of the reports `viewer` may see.

    Raises NotFoundError when there is none: a flag nobody shared with the caller looks
    exactly like an address nobody flagged (that it is flagged is itself a disclosure).
    """
    canonical = parse_address(address, chain)
    reports = FlagStore(session).reports_for(canonical.chain, canonical.value)
    policy, who = current_policy(session), viewer_of(viewer)
    decided = [
        (report, decide(report.shared(), who, policy, now=now, channel=Channel.LOOKUP))
        for report in reports
    ]
    seen = disclose_all(
        decided,
        lambda submitter: pseudonym(alias_secret, submitter, viewer.id),
        lambda report: masks(report.shared(), who, policy, now=now),
    )
    if not seen:
        raise NotFoundError(f"no flag for {canonical.value} on {canonical.chain}")
    return Flag(chain=canonical.chain, address=canonical.value, reports=tuple(seen))
