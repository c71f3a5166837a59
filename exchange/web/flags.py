"""GET /api/v1/flags/{chain}/{address} and GET /api/v1/chains."""

from fastapi import APIRouter, Request

from exchange.core.addresses import chain_formats
from exchange.services.flags import lookup_flag
from exchange.web.deps import CurrentPartner, DbSession, Now
from exchange.web.models import ChainOut, FlagOut

router = APIRouter(prefix="/api/v1", tags=["flags"])


@router.get("/flags/{chain}/{address}")
def read_flag(
    chain: str,
    address: str,
    request: Request,
    partner: CurrentPartner,
    session: DbSession,
    now: Now,
) -> FlagOut:
    """The deduplicated flag for an address, in any spelling, with the reports you may see.

    404 when there is no report you may see: an address nobody flagged looks the same.
    """
    secret = request.app.state.alias_secret
    return FlagOut.of(lookup_flag(session, partner, chain, address, now=now, alias_secret=secret))


@router.get("/chains")
def list_chains() -> list[ChainOut]:
    """The chain ids the exchange knows and the address formats each accepts."""
    return [
        ChainOut(id=chain, formats=list(formats)) for chain, formats in chain_formats().items()
    ]
