"""XRP: xrpl.js ripple-address-codec's X-address vectors, classic addresses, properties."""

import base58
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.core.addresses import Address, Chain, parse_address
from exchange.errors import AddressError

XRP = Chain.XRP

# ripple-address-codec test/index.test.ts: (classic address, tag or None, mainnet X-address,
# testnet X-address).
X_ADDRESSES = [
    (
        "r9cZA1mLK5R5Am25ArfXFmqgNwjZgnfk59",
        None,
        "X7AcgcsBL6XDcUb289X4mJ8djcdyKaB5hJDWMArnXr61cqZ",
        "T719a5UwUCnEs54UsxG9CJYYDhwmFCqkr7wxCcNcfZ6p5GZ",
    ),
    (
        "r9cZA1mLK5R5Am25ArfXFmqgNwjZgnfk59",
        1,
        "X7AcgcsBL6XDcUb289X4mJ8djcdyKaGZMhc9YTE92ehJ2Fu",
        "T719a5UwUCnEs54UsxG9CJYYDhwmFCvbJNZbi37gBGkRkbE",
    ),
    (
        "r9cZA1mLK5R5Am25ArfXFmqgNwjZgnfk59",
        14,
        "X7AcgcsBL6XDcUb289X4mJ8djcdyKaGo2K5VpXpmCqbV2gS",
        "T719a5UwUCnEs54UsxG9CJYYDhwmFCvqXVCALUGJGSbNV3x",
    ),
    (
        "r9cZA1mLK5R5Am25ArfXFmqgNwjZgnfk59",
        11747,
        "X7AcgcsBL6XDcUb289X4mJ8djcdyKaLFuhLRuNXPrDeJd9A",
        "T719a5UwUCnEs54UsxG9CJYYDhwmFCziiNHtUukubF2Mg6t",
    ),
    (
        "rLczgQHxPhWtjkaQqn3Q6UM8AbRbbRvs5K",
        None,
        "XVZVpQj8YSVpNyiwXYSqvQoQqgBttTxAZwMcuJd4xteQHyt",
        "TVVrSWtmQQssgVcmoMBcFQZKKf56QscyWLKnUyiuZW8ALU4",
    ),
    (
        "rpZc4mVfWUif9CRoHRKKcmhu1nx2xktxBo",
        None,
        "X7YenJqxv3L66CwhBSfd3N8RzGXxYqPopMGMsCcpho79rex",
        "T77wVQzA8ntj9wvCTNiQpNYLT5hmhRsFyXDoMLqYC4BzQtV",
    ),
    (
        "rpZc4mVfWUif9CRoHRKKcmhu1nx2xktxBo",
        58,
        "X7YenJqxv3L66CwhBSfd3N8RzGXxYqV56ZkTCa9UCzgaao1",
        "T77wVQzA8ntj9wvCTNiQpNYLT5hmhR9kej6uxm4jGcQD7rZ",
    ),
    (
        "rsA2LpzuawewSBQXkiju3YQTMzW13pAAdW",
        23480,
        "X7d3eHCXzwBeWrZec1yT24iZerQjYL8m8zCJ16ACxu1BrBY",
        "T7YChPFWifjCAXLEtg5N74c7fSAYsvSokwcmBPBUZWhxH5P",
    ),
    (
        "rGWrZyQqhTp9Xu7G5Pkayo7bXjH4k4QYpf",
        None,
        "XVLhHMPHU98es4dbozjVtdWzVrDjtV5fdx1mHp98tDMoQXb",
        "TVE26TYGhfLC7tQDno7G8dGtxSkYQn49b3qD26PK7FcGSKE",
    ),
    (
        "rGWrZyQqhTp9Xu7G5Pkayo7bXjH4k4QYpf",
        0,
        "XVLhHMPHU98es4dbozjVtdWzVrDjtV8AqEL4xcZj5whKbmc",
        "TVE26TYGhfLC7tQDno7G8dGtxSkYQnSy8RHqGHoGJ59spi2",
    ),
    (
        "rGWrZyQqhTp9Xu7G5Pkayo7bXjH4k4QYpf",
        65591,
        "XVLhHMPHU98es4dbozjVtdWzVrDjtVozpjdhPQVdt3ghaWw",
        "TVE26TYGhfLC7tQDno7G8dGtxSkYQn7ryu2W6njw7mT1jmS",
    ),
    (
        "rGWrZyQqhTp9Xu7G5Pkayo7bXjH4k4QYpf",
        4294967295,
        "XVLhHMPHU98es4dbozjVtdWzVrDjtV18pX8yuPT7y4xaEHi",
        "TVE26TYGhfLC7tQDno7G8dGtxSkYQnXoy6kSDh6rZzApc69",
    ),
    (
        "rPEPPER7kfTD9w2To4CQk6UCfuHM9c6GDY",
        13371337,
        "XV5sbjUmgPpvXv4ixFWZ5ptAYZ6PD2qwGkhgc48zzcx6Gkr",
        "TVd2rqMkYL2AyS97NdELcpeiprNBjwVUDvp3vhpXbNhLwJi",
    ),
]

INVALID = [
    ("XVLhHMPHU98es4dbozjVtdWzVrDjtV5fdx1mHp98tDMoQXa", "bad base58check checksum"),
    (
        "dGzKGt8CVpWoa8aWL1k18tAdy9Won3PxynvbbpkAqp3V47g",
        "neither a classic address (r…) nor an X-address (X…)",
    ),
    (  # a 64-bit tag (2^32), which the codec refuses as unsupported
        "XVLhHMPHU98es4dbozjVtdWzVrDjtV18pX8zeUygYrCgrPh",
        "X-address tag is not absent or 32 bits",
    ),
    ("rnXyVQzgxZe7TR1EPzTkGj2jxH4LMJYh67", "bad base58check checksum"),
    ("rnXyVQzgxZe7TR1EPzTkGj2jxH4LMJYh6", "bad base58check checksum"),
    ("r", "not an XRP address (base58check in the XRP alphabet)"),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bad base58check checksum"),
]


@pytest.mark.parametrize(("classic", "tag", "mainnet", "testnet"), X_ADDRESSES)
def test_an_x_address_is_its_classic_address_unless_it_carries_a_tag(
    classic: str, tag: int | None, mainnet: str, testnet: str
) -> None:
    expected = Address(XRP, classic if tag is None else mainnet)
    assert parse_address(mainnet, XRP) == expected
    assert parse_address(mainnet) == expected
    assert parse_address(classic) == Address(XRP, classic)


@pytest.mark.parametrize(("classic", "tag", "mainnet", "testnet"), X_ADDRESSES)
def test_a_testnet_x_address_is_refused_as_the_wrong_network(
    classic: str, tag: int | None, mainnet: str, testnet: str
) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(testnet, XRP)
    assert refused.value.reason == "wrong network (testnet X-address on xrp)"


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_an_invalid_spelling_is_refused_with_its_reason(text: str, reason: str) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(text, XRP)
    assert refused.value.reason == reason


def test_tag_zero_is_a_tag_distinct_from_none() -> None:
    untagged = parse_address("XVLhHMPHU98es4dbozjVtdWzVrDjtV5fdx1mHp98tDMoQXb")
    tag_zero = parse_address("XVLhHMPHU98es4dbozjVtdWzVrDjtV8AqEL4xcZj5whKbmc")
    assert untagged.value == "rGWrZyQqhTp9Xu7G5Pkayo7bXjH4k4QYpf"
    assert tag_zero.key != untagged.key


RIPPLE = base58.RIPPLE_ALPHABET


def classic(account: bytes) -> str:
    return base58.b58encode_check(b"\x00" + account, alphabet=RIPPLE).decode("ascii")


def x_address(account: bytes, tag: int | None) -> str:
    """XLS-5d encoding, written from the xrpl.js codec, with the `base58` package."""
    flag, value = (0, 0) if tag is None else (1, tag)
    body = b"\x05\x44" + account + bytes([flag]) + value.to_bytes(4, "little") + bytes(4)
    return base58.b58encode_check(body, alphabet=RIPPLE).decode("ascii")


accounts = st.binary(min_size=20, max_size=20)
tags = st.none() | st.integers(min_value=0, max_value=2**32 - 1)


@given(accounts, tags)
def test_random_accounts_and_tags_round_trip(account: bytes, tag: int | None) -> None:
    text = x_address(account, tag)
    expected = Address(XRP, classic(account) if tag is None else text)
    assert parse_address(text) == expected
    assert parse_address(classic(account), XRP) == Address(XRP, classic(account))


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, Chain, str, bool]:
    """A valid XRP spelling, its chain, the typo alphabet, and that its case matters."""
    account, tag = draw(accounts), draw(tags)
    text = draw(st.sampled_from([classic(account), x_address(account, tag)]))
    return text, XRP, RIPPLE.decode("ascii"), False
