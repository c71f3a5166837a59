"""The one mapping from domain errors to HTTP: RFC 9457 problem+json, naming the cause."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from exchange.errors import (
    AddressError,
    AuthenticationError,
    BundleError,
    ConflictError,
    DocumentError,
    ExchangeError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    PolicyError,
    SignatureError,
    TooLargeError,
    WatchlistError,
)

PROBLEM = "application/problem+json"
TAXII = "application/taxii+json;version=2.1"

# error class -> (status, type slug, title). The most specific class in the MRO wins.
_PROBLEMS: dict[type[ExchangeError], tuple[int, str, str]] = {
    DocumentError: (400, "malformed-document", "Malformed document"),
    SignatureError: (422, "bad-signature", "Bundle signature not accepted"),
    BundleError: (422, "invalid-bundle", "STIX objects refused"),
    AddressError: (422, "invalid-address", "Invalid address"),
    WatchlistError: (422, "invalid-watchlist", "Watchlist lines refused"),
    TooLargeError: (413, "too-large", "Request too large"),
    ConflictError: (409, "conflict", "Conflict"),
    InputError: (422, "invalid-input", "Invalid input"),
    AuthenticationError: (401, "unauthenticated", "Not authenticated"),
    PermissionDeniedError: (403, "forbidden", "Forbidden"),
    NotFoundError: (404, "not-found", "Not found"),
}


def answer(
    request: Request, status: int, slug: str, title: str, detail: str, **extra: Any
) -> JSONResponse:
    """problem+json, or under /taxii2 a TAXII 2.1 error message (what TAXII clients read)."""
    if not request.url.path.startswith("/taxii2"):
        return problem(status, slug, title, detail, **extra)
    body: dict[str, Any] = {"title": title, "description": detail}
    body |= {"http_status": str(status), "error_code": slug}
    if extra:
        body["details"] = extra
    headers = {"WWW-Authenticate": 'Basic realm="exchange", Bearer'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=TAXII, headers=headers)


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": f"urn:exchange:problem:{slug}", "title": title, "status": status}
    body |= {"detail": detail, **extra}
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


async def _exchange_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ExchangeError)
    status, slug, title = next(
        (_PROBLEMS[cls] for cls in type(exc).__mro__ if cls in _PROBLEMS),
        (500, "internal", "Internal error"),
    )
    extra: dict[str, Any] = {}
    if isinstance(exc, BundleError) and exc.outcomes:
        extra["errors"] = exc.outcomes
    if isinstance(exc, PolicyError | WatchlistError):
        extra["errors"] = exc.problems
    detail = str(exc) if status < 500 else "internal error"
    return answer(request, status, slug, title, detail, **extra)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"location": ".".join(str(part) for part in error["loc"]), "reason": error["msg"]}
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"location": "request", "reason": "invalid"}
    detail = f"{first['location']}: {first['reason']}"
    return answer(request, 422, "invalid-input", "Invalid input", detail, errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    slug = {404: "not-found", 405: "method-not-allowed", 406: "not-acceptable"}.get(
        exc.status_code, {415: "unsupported-media-type"}.get(exc.status_code, "http-error")
    )
    return answer(request, exc.status_code, slug, str(exc.detail), str(exc.detail))


def install(app: FastAPI) -> None:
    app.add_exception_handler(ExchangeError, _exchange_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
