"""Fold a bundle's objects and claims into what the exchange already holds.

An object is new unless the exchange holds that exact version (same id and version, same
content); reusing an id and version for different content is refused. An indicator is
accepted only if it adds a claim nobody had made for that partner before, so re-sending a
bundle, or the same claim in another spelling or another indicator, changes nothing.
"""

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from enum import StrEnum

from exchange.core.bundles import ObjectCheck
from exchange.core.claims import Claim


class Status(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one object of a bundle."""

    index: int
    id: str
    type: str
    status: Status
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    outcomes: tuple[Outcome, ...]
    new_objects: tuple[ObjectCheck, ...]
    new_claims: tuple[Claim, ...]

    @property
    def rejected(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status is Status.REJECTED)

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status is status)


def settle(
    checks: Sequence[ObjectCheck],
    *,
    held_objects: Mapping[tuple[str, str], str],
    held_claims: Set[tuple[str, str, str]],
) -> Settlement:
    """Decide each object's outcome.

    `held_objects` maps (id, version) to the fingerprint the exchange holds; `held_claims`
    are the submitting partner's claim keys already stored.
    """
    outcomes: list[Outcome] = []
    new_objects: dict[tuple[str, str], ObjectCheck] = {}
    new_claims: dict[tuple[str, str, str], Claim] = {}
    for check in checks:
        if check.problem is not None:
            outcomes.append(_outcome(check, Status.REJECTED, check.problem))
            continue
        version = (check.id, check.version)
        held = held_objects.get(version) or _fingerprint(new_objects.get(version))
        if held is not None and held != check.fingerprint:
            reason = "id and version already used for different content; change `modified`"
            outcomes.append(_outcome(check, Status.REJECTED, reason))
            continue
        if held is None:
            new_objects[version] = check
        fresh = [c for c in check.claims if c.key not in held_claims and c.key not in new_claims]
        new_claims.update((claim.key, claim) for claim in fresh)
        adds_something = bool(fresh) if check.claims else held is None
        if adds_something:
            outcomes.append(_outcome(check, Status.ACCEPTED, None))
        else:
            reason = "the partner already made this claim" if check.claims else "already held"
            outcomes.append(_outcome(check, Status.DUPLICATE, reason))
    return Settlement(tuple(outcomes), tuple(new_objects.values()), tuple(new_claims.values()))


def _fingerprint(check: ObjectCheck | None) -> str | None:
    return None if check is None else check.fingerprint


def _outcome(check: ObjectCheck, status: Status, reason: str | None) -> Outcome:
    return Outcome(check.index, check.id, check.type, status, reason)
