"""Bitcoin Cash: the CashAddr specification's test vectors, legacy conversion, properties."""

import base58
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.core.addresses import Address, Chain, parse_address
from exchange.core.chains import bitcoin_cash, codecs
from exchange.errors import AddressError

BCH = Chain.BITCOIN_CASH

# The specification's "examples of address translation" (legacy, CashAddr).
TRANSLATIONS = [
    (
        "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu",
        "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
    ),
    (
        "1KXrWXciRDZUpQwQmuM1DbwsKDLYAYsVLR",
        "bitcoincash:qr95sy3j9xwd2ap32xkykttr4cvcu7as4y0qverfuy",
    ),
    (
        "16w1D5WRVKJuZUsSRzdLp9w3YGcgoxDXb",
        "bitcoincash:qqq3728yw0y47sqn6l2na30mcw6zm78dzqre909m2r",
    ),
    (
        "3CWFddi6m4ndiGyKqzYvsFYagqDLPVMTzC",
        "bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq",
    ),
    (
        "3LDsS579y7sruadqu11beEJoTjdFiFCdX4",
        "bitcoincash:pr95sy3j9xwd2ap32xkykttr4cvcu7as4yc93ky28e",
    ),
    (
        "31nwvkZwyPdgzjBJZXfDmSWsC4ZLKpYyUw",
        "bitcoincash:pqq3728yw0y47sqn6l2na30mcw6zm78dzq5ucqzc37",
    ),
]

# The specification's checksum vectors: valid checksums, purposely invalid payloads.
CHECKSUMS = [
    "prefix:x64nx6hz",
    "p:gpf8m4h7",
    "bitcoincash:qpzry9x8gf2tvdw0s3jn54khce6mua7lcw20ayyn",
    "bchtest:spectestnetaddressrealrealaddressqpan2k9lh",
    "bchreg:555555555555555555555555555555555555555555555udxmlmrz",
]

_D20 = "F5BF48B397DAE70BE82B3CCA4793F8EB2B6CDAC9"
_D24 = "7ADBF6C17084BC86C1706827B41A56F5CA32865925E946EA"
_D32 = "3173EF6623C6B48FFD1A3DCC0CC6489B0A07BB47A37F47CFEF4FE69DE825C060"
_D64 = (
    "D0F346310D5513D9E01E299978624BA883E6BDA8F4C60883C10F28C2967E67EC77ECC7EEEAEAFC6DA89FAD72"
    "D11AC961E164678B868AEEEC5F2C1DA08884175B"
)
# A selection of the specification's "larger test vectors": (CashAddr, type, data), and the
# reason the exchange gives when it refuses the address on Bitcoin Cash (None: accepted).
LARGER = [
    ("bitcoincash:qr6m7j9njldwwzlg9v7v53unlr4jkmx6eylep8ekg2", 0, _D20, None),
    (
        "bchtest:pr6m7j9njldwwzlg9v7v53unlr4jkmx6eyvwc0uz5t",
        1,
        _D20,
        "wrong network (testnet address on bitcoin-cash)",
    ),
    (
        "pref:pr6m7j9njldwwzlg9v7v53unlr4jkmx6ey65nvtks5",
        1,
        _D20,
        "CashAddr prefix 'pref' is not 'bitcoincash'",
    ),
    (
        "bitcoincash:q9adhakpwzztepkpwp5z0dq62m6u5v5xtyj7j3h2ws4mr9g0",
        0,
        _D24,
        "CashAddr type 0 with a 24-byte hash is not P2PKH/P2SH",
    ),
    (
        "bitcoincash:qvch8mmxy0rtfrlarg7ucrxxfzds5pamg73h7370aa87d80gyhqxq5nlegake",
        0,
        _D32,
        "CashAddr type 0 with a 32-byte hash is not P2PKH/P2SH",
    ),
    (
        "bchtest:pvch8mmxy0rtfrlarg7ucrxxfzds5pamg73h7370aa87d80gyhqxq7fqng6m6",
        1,
        _D32,
        "wrong network (testnet address on bitcoin-cash)",
    ),
    (
        "bitcoincash:qlg0x333p4238k0qrc5ej7rzfw5g8e4a4r6vvzyrcy8j3s5k0en7calvclhw46hudk5flttj6ydvjc0"
        "pv3nchp52amk97tqa5zygg96mtky5sv5w",
        0,
        _D64,
        "CashAddr type 0 with a 64-byte hash is not P2PKH/P2SH",
    ),
]

INVALID = [
    ("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6c", "bad CashAddr checksum"),
    ("bitcoincash:Qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "mixed-case CashAddr"),
    ("qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6", "bad CashAddr checksum"),
    (
        "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6o",
        "not CashAddr (bitcoincash:q… or p…) nor legacy base58check",
    ),
    (
        "bitcoincash:bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
        "CashAddr prefix 'bitcoincash:bitcoincash' is not 'bitcoincash'",
    ),
    ("1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggv", "bad base58check checksum"),
    (
        "LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb",
        "not CashAddr (bitcoincash:q… or p…) nor legacy base58check",
    ),
    (
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "not CashAddr (bitcoincash:q… or p…) nor legacy base58check",
    ),
]


@pytest.mark.parametrize(("legacy", "cashaddr"), TRANSLATIONS)
def test_both_spellings_of_one_key_canonicalise_to_one_cashaddr(
    legacy: str, cashaddr: str
) -> None:
    expected = Address(BCH, cashaddr)
    for spelling in (legacy, cashaddr, cashaddr.upper(), cashaddr.split(":")[1]):
        assert parse_address(spelling, BCH) == expected
    assert len({parse_address(legacy, BCH).key, parse_address(cashaddr).key}) == 1


@pytest.mark.parametrize(("legacy", "cashaddr"), TRANSLATIONS)
def test_cashaddr_is_inferred_but_a_bare_legacy_address_is_bitcoins(
    legacy: str, cashaddr: str
) -> None:
    assert parse_address(cashaddr) == Address(BCH, cashaddr)
    assert parse_address(cashaddr.split(":")[1].upper()) == Address(BCH, cashaddr)
    if legacy.startswith("1"):
        assert parse_address(legacy).chain is Chain.BITCOIN


@pytest.mark.parametrize("text", CHECKSUMS)
def test_the_checksum_vectors_have_valid_checksums_but_are_not_addresses(text: str) -> None:
    prefix, _, payload = text.rpartition(":")
    values = [codecs.BECH32_CHARSET.index(char) for char in payload]
    assert bitcoin_cash.polymod(values, bitcoin_cash.prefix_state(prefix)) == 1
    with pytest.raises(AddressError):
        parse_address(text, BCH)


@pytest.mark.parametrize(("text", "kind", "data", "reason"), LARGER)
def test_the_larger_vectors_decode_to_their_type_and_data(
    text: str, kind: int, data: str, reason: str | None
) -> None:
    prefix, _, payload = text.rpartition(":")
    values = [codecs.BECH32_CHARSET.index(char) for char in payload]
    assert bitcoin_cash.polymod(values, bitcoin_cash.prefix_state(prefix)) == 1
    decoded = codecs.regroup(values[:-8], 5, 8)
    assert decoded is not None
    assert decoded[0] >> 3 == kind
    assert bytes(decoded[1:]).hex().upper() == data
    if reason is None:
        assert parse_address(text, BCH) == Address(BCH, text)
    else:
        with pytest.raises(AddressError) as refused:
            parse_address(text, BCH)
        assert refused.value.reason == reason


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_an_invalid_spelling_is_refused_with_its_reason(text: str, reason: str) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(text, BCH)
    assert refused.value.reason == reason


def test_a_token_aware_address_is_the_plain_address_of_the_same_script() -> None:
    digest = bytes.fromhex(_D20)
    plain = bitcoin_cash.encode(0, digest)
    token_aware = bitcoin_cash.encode(2, digest)
    assert token_aware.startswith("bitcoincash:z")
    assert parse_address(token_aware) == parse_address(plain) == Address(BCH, plain)
    p2sh32 = bitcoin_cash.encode(3, bytes.fromhex(_D32))
    assert parse_address(p2sh32) == Address(BCH, bitcoin_cash.encode(1, bytes.fromhex(_D32)))


hashes = st.binary(min_size=20, max_size=20)


@given(hashes, st.sampled_from([0, 1]))
def test_a_legacy_hash_and_its_cashaddr_round_trip_to_one_flag(digest: bytes, kind: int) -> None:
    legacy = base58.b58encode_check(bytes([kind * 5]) + digest).decode("ascii")
    cashaddr = bitcoin_cash.encode(kind, digest)
    assert parse_address(legacy, BCH) == Address(BCH, cashaddr)
    assert parse_address(cashaddr.upper()) == Address(BCH, cashaddr)
    assert parse_address(cashaddr.split(":")[1], BCH) == Address(BCH, cashaddr)


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, Chain, str, bool]:
    """A valid CashAddr spelling (with or without prefix), the typo alphabet, case folding."""
    cashaddr = bitcoin_cash.encode(draw(st.sampled_from([0, 1])), draw(hashes))
    text = draw(st.sampled_from([cashaddr, cashaddr.split(":")[1], cashaddr.upper()]))
    return text, BCH, codecs.BECH32_CHARSET, True
