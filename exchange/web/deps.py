"""What handlers depend on: the database session, the clock, the raw body and the caller."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from exchange.config import Settings
from exchange.core.partners import Partner, Role
from exchange.errors import AuthenticationError, PermissionDeniedError, TooLargeError
from exchange.services.auth import authenticate


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One request, one transaction: committed before the response is sent, else rolled back."""
    with Session(request.app.state.engine) as session, session.begin():
        yield session
    if session.info.get("outbox"):  # committed alerts or deliveries: wake the worker now
        request.app.state.wakeup.notify()


def get_now() -> datetime:
    return datetime.now(UTC)


async def get_body(request: Request) -> bytes:
    """The raw bytes (signatures are over bytes, never re-serialised JSON), within the limit."""
    limit: int = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLargeError(f"body is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLargeError(f"body is over {limit} bytes; the limit is {limit}")
        chunks.append(chunk)
    return b"".join(chunks)


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbSession = Annotated[Session, Depends(get_session, scope="function")]
Now = Annotated[datetime, Depends(get_now)]
RawBody = Annotated[bytes, Depends(get_body)]
_bearer = HTTPBearer(auto_error=False, description="A partner's own JWT or an exchange token")


def get_partner(
    request: Request,
    now: Now,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Partner:
    """The caller. Authentication is its own transaction, committed at once, so a token's
    single use is spent even when the request itself then fails and changes nothing."""
    if credentials is None:
        raise AuthenticationError("send a bearer token: Authorization: Bearer <JWT>")
    state = request.app.state
    with Session(state.engine) as session, session.begin():
        return authenticate(
            session,
            credentials.credentials,
            audience=state.settings.audience,
            operator_keys=state.operator_keys,
            now=now,
        )


CurrentPartner = Annotated[Partner, Depends(get_partner)]


def require(partner: Partner, role: Role) -> None:
    if not partner.has(role):
        raise PermissionDeniedError(f"this needs the {role} role")
