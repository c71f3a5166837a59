"""Every error the exchange raises on purpose.

    ExchangeError
    ├── InputError                  the caller must fix the request and send it again
    │   ├── DocumentError           not JSON, or not a signed-bundle document
    │   ├── SignatureError          a bundle signature does not verify (names the kid)
    │   ├── BundleError             STIX objects refused; carries the per-object outcome
    │   ├── AddressError            not a valid address on the chain (names the reason)
    │   ├── PolicyError             a sharing-policy document is invalid (lists every problem)
    │   ├── WatchlistError          watchlist lines refused (each with its line number)
    │   ├── TooLargeError           over a configured size or count limit
    │   └── ConflictError           clashes with what the exchange already holds
    ├── AuthenticationError         no valid bearer token
    ├── PermissionDeniedError       authenticated, but the role does not allow it
    ├── NotFoundError               no such thing, or not visible to the caller
    └── LedgerIntegrityError        the sharing log does not verify: page someone

Errors carry domain words only. HTTP status codes live in exchange.web.errors.
"""

from collections.abc import Sequence
from typing import Any


class ExchangeError(Exception):
    """Base class; catch this at process edges, nowhere else."""


class InputError(ExchangeError):
    """The request cannot be accepted as sent."""


class DocumentError(InputError):
    """The body is not JSON, or not a signed-bundle document."""


class SignatureError(InputError):
    """A signature on a signed-bundle document does not verify."""


class AddressError(InputError):
    """Not a valid address: `reason` says why, in words a partner can act on."""

    def __init__(self, address: str, reason: str) -> None:
        # The message is formatted only when read: a flood of junk addresses is refused at
        # the speed valid ones are accepted, and most refusals are only counted.
        super().__init__(address, reason)
        self.address = address
        self.reason = reason

    def __str__(self) -> str:
        return f"invalid address {self.address!r}: {self.reason}"


class BundleError(InputError):
    """One or more STIX objects were refused; nothing in the bundle was stored.

    `outcomes` lists every object of the bundle with its status, so the partner can fix
    all the refused objects at once.
    """

    def __init__(self, message: str, outcomes: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.outcomes = list(outcomes)


class PolicyError(InputError):
    """The sharing-policy document is not valid; `problems` lists every one."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class WatchlistError(InputError):
    """Watchlist lines were refused; `problems` holds {"line", "reason"} for each (capped)."""

    def __init__(self, message: str, problems: Sequence[dict[str, Any]]) -> None:
        super().__init__(message)
        self.problems = list(problems)


class TooLargeError(InputError):
    """Over a configured limit (body size, objects per bundle)."""


class ConflictError(InputError):
    """The request clashes with something the exchange already holds."""


class AuthenticationError(ExchangeError):
    """The bearer token is missing, malformed, expired, replayed or not signed by a valid key."""


class PermissionDeniedError(ExchangeError):
    """The caller is authenticated but its roles do not allow this."""


class NotFoundError(ExchangeError):
    """No such thing, or nothing the caller may see (the two look the same)."""


class LedgerIntegrityError(ExchangeError):
    """The sharing log, a proof or a checkpoint does not verify."""
