"""An HTTP client of the exchange for partners' and auditors' tools (CLI, verifier)."""

import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from exchange import tokens
from exchange.errors import AuthenticationError, ExchangeError
from exchange.signatures import SigningKey, b64url_decode


class RemoteError(ExchangeError):
    """The exchange answered with an error; the message is its problem detail, `problem`
    the whole problem+json document (empty if the answer was not one)."""

    def __init__(self, message: str, problem: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.problem = problem or {}


@dataclass
class ExchangeClient:
    """Talks to one exchange; signs a fresh single-use token per request with `key`,
    or sends an exchange-issued `token`."""

    base_url: str
    key: SigningKey | None = None
    token: str | None = None
    timeout: float = 120.0

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._http = httpx.Client(timeout=self.timeout)
        self._audience: str | None = None

    def __enter__(self) -> "ExchangeClient":
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def metadata(self) -> dict[str, Any]:
        return self._json(self._http.get(f"{self.base_url}/.well-known/exchange"))

    def published_key(self) -> bytes:
        """The operator's public key as the exchange publishes it (JWKS)."""
        jwks = self._json(self._http.get(self.metadata()["jwks_uri"]))
        return b64url_decode(jwks["keys"][0]["x"])

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        return self._check(
            self._http.get(f"{self.base_url}{path}", params=params, headers=self._auth())
        )

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.get(path, params).json()

    def post(self, path: str, content: bytes) -> httpx.Response:
        headers = self._auth() | {"Content-Type": "application/json"}
        return self._http.post(f"{self.base_url}{path}", content=content, headers=headers)

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Any API call; the JSON answer (None for 204); raises RemoteError on an error."""
        response = self._check(
            self._http.request(
                method,
                f"{self.base_url}{path}",
                json=json,
                content=content,
                params=params,
                headers=self._auth() | dict(headers or {}),
            )
        )
        return None if response.status_code == 204 else response.json()

    def events(self, path: str, *, after: int = 0) -> Generator[tuple[int, str, str]]:
        """(id, event, data) from a Server-Sent Events stream, forever: reconnects with
        Last-Event-ID (and a fresh token) when the connection drops."""
        last = after
        while True:
            headers = self._auth() | {"Accept": "text/event-stream"}
            if last:
                headers["Last-Event-ID"] = str(last)
            try:
                with self._http.stream(
                    "GET", f"{self.base_url}{path}", headers=headers, timeout=None
                ) as response:
                    if response.is_error:
                        response.read()
                        self._check(response)
                    fields: dict[str, str] = {}
                    for line in response.iter_lines():
                        if line:
                            name, _, value = line.partition(":")
                            fields[name] = value.removeprefix(" ")
                        elif "data" in fields:
                            last = int(fields.get("id", last))
                            yield last, fields.get("event", "message"), fields["data"]
                            fields = {}
                        else:
                            fields = {}
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
                time.sleep(1.0)

    def _auth(self) -> dict[str, str]:
        if self.token is not None:
            return {"Authorization": f"Bearer {self.token}"}
        if self.key is None:
            raise AuthenticationError("give --key (your signing key) or --token")
        if self._audience is None:
            self._audience = str(self.metadata()["audience"])
        token = tokens.issue(
            self.key, audience=self._audience, now=datetime.now(UTC), ttl=timedelta(minutes=2)
        )
        return {"Authorization": f"Bearer {token}"}

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        data: dict[str, Any] = self._check(response).json()
        return data

    @staticmethod
    def _check(response: httpx.Response) -> httpx.Response:
        if response.is_error:
            try:
                problem = response.json()
                detail = problem.get("detail", response.text)
            except (ValueError, AttributeError):
                problem, detail = {}, response.text
            message = f"{response.status_code} from {response.url.path}: {detail}"
            raise RemoteError(message, problem if isinstance(problem, dict) else {})
        return response
