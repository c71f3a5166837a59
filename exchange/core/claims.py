"""A partner's claim about an address: what it says, how sure, and how far it may travel."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from exchange.core.addresses import Address


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 levels (FIRST TLP 2.0)."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"


# STIX 2.1 marking-definition ids: the OASIS TLP 2.0 extension's five, and the four TLP 1.0
# markings built into STIX 2.1 (section 7.2.1.4), mapped onto TLP 2.0 (WHITE became CLEAR).
TLP_MARKINGS: dict[str, Tlp] = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": Tlp.CLEAR,
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": Tlp.GREEN,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": Tlp.AMBER,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": Tlp.AMBER_STRICT,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": Tlp.RED,
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}
TLP2_MARKING_IDS: dict[Tlp, str] = {tlp: id_ for id_, tlp in list(TLP_MARKINGS.items())[:5]}


class Attribution(StrEnum):
    """Whether recipients may see who submitted a report."""

    NAMED = "named"
    ANONYMOUS = "anonymous"


class Category(StrEnum):
    """The taxonomy of what an address was tied to; carried in the indicator's `labels`."""

    HUMAN_TRAFFICKING = "human-trafficking"
    CHILD_EXPLOITATION = "child-exploitation"
    SANCTIONS = "sanctions"
    RANSOMWARE = "ransomware"
    SCAM = "scam"
    DARKNET_MARKET = "darknet-market"
    TERRORIST_FINANCING = "terrorist-financing"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Claim:
    """One partner's statement that `address` is tied to `category`.

    A claim is identified by (address, category) within one partner: saying it again, in
    any spelling or in another indicator, is the same claim.
    """

    address: Address
    category: Category
    tlp: Tlp
    indicator_id: str
    confidence: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    case_reference: str | None = None
    asset: str | None = None
    recipients: frozenset[str] = frozenset()  # partner ids and group names
    attribution: Attribution = Attribution.NAMED
    handling: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.address.chain, self.address.value, self.category)
