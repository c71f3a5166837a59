"""Discovery: the exchange's metadata and its public keys (JWKS, RFC 7517)."""

from typing import Any

from fastapi import APIRouter, Request

from exchange import __version__
from exchange.core.bundles import EXTENSION_ID
from exchange.signatures import ALGORITHMS, note_verifier_key, public_jwk
from exchange.web.deps import SettingsDep

router = APIRouter(tags=["discovery"])


@router.get("/.well-known/exchange")
def exchange_metadata(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """What a client needs to talk to this exchange: the token audience, algorithms, URLs."""
    base = settings.audience
    return {
        "version": __version__,
        "audience": base,
        "token_algorithms": list(ALGORITHMS),
        "signature_algorithms": list(ALGORITHMS),
        "partner_token_max_lifetime_seconds": 300,
        "api_base": f"{base}/api/v1",
        "taxii_base": f"{base}/taxii2/",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "openapi_uri": f"{base}/openapi.json",
        "stix_extension_definition": EXTENSION_ID,
        "audit": {
            "origin": settings.origin,
            "checkpoint_uri": f"{base}/api/v1/audit/checkpoint",
            "checkpoint_verifier_key": note_verifier_key(
                settings.origin, request.app.state.operator_key.public_key
            ),
        },
        "limits": {
            "max_body_bytes": settings.max_body_bytes,
            "max_objects_per_bundle": settings.max_objects,
            "signature_clock_skew_seconds": settings.signature_clock_skew_seconds,
        },
    }


@router.get("/.well-known/jwks.json")
def jwks(request: Request) -> dict[str, Any]:
    """The exchange's public keys: they sign issued tokens (later: alerts and checkpoints)."""
    return {"keys": [public_jwk(key) for key in request.app.state.operator_keys.values()]}
