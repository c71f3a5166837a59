"""Monero: the Monero project's base58 and address vectors, documented examples, properties."""

import pytest
from Crypto.Hash import keccak  # an independent Keccak for the checksum oracle
from hypothesis import given
from hypothesis import strategies as st

from exchange.core.addresses import Address, Chain, parse_address
from exchange.core.chains import monero
from exchange.errors import AddressError

XMR = Chain.MONERO

# monero tests/unit_tests/base58.cpp: encode_block (bytes, spelling).
BLOCKS = [
    ("00", "11"),
    ("39", "1z"),
    ("ff", "5Q"),
    ("0000", "111"),
    ("0039", "11z"),
    ("0100", "15R"),
    ("ffff", "LUv"),
    ("000000", "11111"),
    ("000039", "1111z"),
    ("010000", "11LUw"),
    ("ffffff", "2UzHL"),
    ("00000039", "11111z"),
    ("ffffffff", "7YXq9G"),
    ("0000000039", "111111z"),
    ("ffffffffff", "VtB5VXc"),
    ("000000000039", "11111111z"),
    ("ffffffffffff", "3CUsUpv9t"),
    ("00000000000039", "111111111z"),
    ("ffffffffffffff", "Ahg1opVcGW"),
    ("0000000000000039", "1111111111z"),
    ("ffffffffffffffff", "jpXCZedGfVQ"),
    ("0000000000000000", "11111111111"),
    ("0000000000000001", "11111111112"),
    ("0000000000000008", "11111111119"),
    ("0000000000000009", "1111111111A"),
    ("000000000000003a", "11111111121"),
    ("00ffffffffffffff", "1Ahg1opVcGW"),
    ("06156013762879f7", "22222222222"),
    ("05e022ba374b2a00", "1z111111111"),
    ("06156013762879f7ffffffffff", "22222222222VtB5VXc"),
    ("ff" * 16, "jpXCZedGfVQjpXCZedGfVQ"),
]

# base58.cpp: decode_neg (impossible lengths and blocks out of range).
NOT_DECODABLE = [
    "1",
    "z",
    "1111",
    "zzzz",
    "11111111",
    "zzzzzzzz",
    "123456789AB1",
    "123456789AB1111",
    "123456789AB11111111",
    "5R",
    "zz",
    "LUw",
    "2UzHM",
    "7YXq9H",
    "VtB5VXd",
    "3CUsUpv9u",
    "Ahg1opVcGX",
    "jpXCZedGfVR",
    "zzzzzzzzzzz",
    "123456789AB5R",
    "123456789ABjpXCZedGfVR",
    "zzzzzzzzzzz11",
]

# base58.cpp: encode_decode_addr (spelling, varint tag, data).
TAGGED = [
    ("21D35quxec7" + "1" * 78 + "6Q5tCH", 6, "00" * 64),
    ("2Aui6ejTFsc" + "jpXCZedGfVQ" * 7 + "VqegMoV", 6, "ff" * 64),
    (
        "1119XrkPuSmLzdHXgVgrZKjepg5hZAxffLzdHXgVgrZKjepg5hZAxffLzdHXgVgrZKjepg5hZAxffLzdHXgVgrZKVphZRvn",
        0,
        "00112233445566778899aabbccddeeff" * 4,
    ),
    ("1" * 89 + "5TXfiA", 0, "00" * 64),
    ("PuT7GAdgbA83qvSEivPLYo" + "1" * 78 + "69tWrH", 0x1122334455667788, "00" * 64),
    ("PuT7GAdgbA819VwdWVDP", 0x1122334455667788, "11"),
    ("PuT7GAdgbA83wk3FD1gW7J2KVGofA1r", 0x1122334455667788, "99" * 9),
    ("15p2yAV", 0, ""),
    ("FNQ3D6A", 0x7F, ""),
    ("26k9QWweu", 0x80, ""),
    ("3BzAD7n3y", 0xFF, ""),
    ("11efCaY6UjG7JrxuB", 0, "11223344556677"),
    ("21rhHRT48LN4PriP9", 6, "11223344556677"),
]

# Documented mainnet addresses: the Monero documentation's examples, the key test of
# base58.cpp, and tests/functional_tests/validate_address.py (standard, integrated, sub).
VALID = [
    "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge",
    "4LL9oSLmtpccfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2bYXZKKQePHES9khPK",
    "4AzKEX4gXdJdNeM6dfiBFL7kqund3HYGvMBF3ttsNd9SfzgYB6L7ep1Yg1osYJzLdaKAYSLVh6e6jKnAuzj3bw1oGy9kXCb",
    "42ey1afDFnn4886T7196doS9GPMzexD9gXpsZJDwVjeRVdFCSoHnv7KPbBeGpzJBzHRCAs9UxqeoyFQMYbqSWYTfJJQAWDm",
    "44Kbx4sJ7JDRDV5aAhLJzQCjDz2ViLRduE3ijDZu3osWKBjMGkV1XPk4pfDUMqt1Aiezvephdqm6YD19GKFD9ZcXVUTp6BW",
    "4BxSHvcgTwu25WooY4BVmgdcKwZu5EksVZSZkDd6ooxSVVqQ4ubxXkhLF6hEqtw96i9cf3cVfLw8UWe95bdDKfRQeYtPwLm1Jiw7AKt2LY",
    "8AsN91rznfkBGTY8psSNkJBg9SZgxxGGRUhGwRptBhgr5XSQ1XzmA9m8QAnoxydecSh5aLJXdrgXwTDMMZ1AuXsN1EX5Mtm",
    "86kKnBKFqzCLxtK1Jmx2BkNBDBSMDEVaRYMMyVbeURYDWs8uNGDZURKCA5yRcyMxHzPcmCf1q2fSdhQVcaKsFrtGRsdGfNk",
    "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H",
]

# validate_address.py's testnet and stagenet addresses, and its bad ones.
INVALID = [
    (
        "9ujeXrjzf7bfeK3KZdCqnYaMwZVFuXemPU8Ubw335rj2FN1CdMiWNyFV3ksEfMFvRp9L9qum5UxkP5rN9aLcPxbH1au4WAB",
        "wrong network (testnet address on monero)",
    ),
    (
        "53teqCAESLxeJ1REzGMAat1ZeHvuajvDiXqboEocPaDRRmqWoVPzy46GLo866qRFjbNhfkNckyhST3WEvBviDwpUDd7DSzB",
        "wrong network (stagenet address on monero)",
    ),
    (
        "AApMA1VuhiCaHzr5X2KXi2Zc9oJ3VaGjkfChxxpRpxkyKf1NetvbRbQTbFMrGkr85DjnEH7JsBaoUFsgKwZnmtnVWnoB8MDotCsLb7eWwz",
        "wrong network (testnet address on monero)",
    ),
    (
        "BdKg9udkvckC5T58a8Nmtb6BNsgRAxs7uA2D49sWNNX5HPW5Us6Wxu8QMXrnSx3xPBQQ2iu9kwEcRGAoiz6EPmcZKbF62GS",
        "wrong network (testnet address on monero)",
    ),
    (
        "5K8mwfjumVseCcQEjNbf59Um6R9NfVUNkHTLhhPCmNvgDLVS88YW5tScnm83rw9mfgYtchtDDTW5jEfMhygi27j1QYphX38hg6m4VMtN29",
        "wrong network (stagenet address on monero)",
    ),
    (
        "73LhUiix4DVFMcKhsPRG51QmCsv8dYYbL6GcQoLwEEFvPvkVvc7BhebfA4pnEFF9Lq66hwvLqBvpHjTcqvpJMHmmNjPPBqa",
        "wrong network (stagenet address on monero)",
    ),
    (
        "42ey1afDFnn4886T7196doS9GPMzexD9gXpsZJDwVjeRVdFCSoHnv7KPbBeGpzJBzHRCAs9UxqeoyFQMYbqSWYTfJJQAWD9",
        "bad Monero checksum",
    ),
    ("42ey", "not a Monero address (95 or 106 base58 characters)"),
    ("a", "not a Monero address (95 or 106 base58 characters)"),
    ("@", "not a Monero address (95 or 106 base58 characters)"),
    (
        "zzzzzzzzzzz" * 8 + "1111111",
        "Monero base58 block out of range",
    ),
    (
        "0" + VALID[3][1:],
        "not a Monero address (95 or 106 base58 characters)",
    ),
]


@pytest.mark.parametrize(("data", "spelling"), BLOCKS)
def test_the_block_vectors_encode_and_decode(data: str, spelling: str) -> None:
    assert monero.encode(bytes.fromhex(data)) == spelling
    assert monero.decode(spelling) == bytes.fromhex(data)


@pytest.mark.parametrize("spelling", NOT_DECODABLE)
def test_impossible_lengths_and_blocks_out_of_range_do_not_decode(spelling: str) -> None:
    with pytest.raises(AddressError):
        monero.decode(spelling)


@pytest.mark.parametrize(("spelling", "tag", "data"), TAGGED)
def test_the_tagged_vectors_encode_with_their_varint_tag_and_checksum(
    spelling: str, tag: int, data: str
) -> None:
    assert monero.address(tag, bytes.fromhex(data)) == spelling
    assert monero.encode(monero.decode(spelling)) == spelling


@pytest.mark.parametrize("text", VALID)
def test_a_documented_address_is_valid_canonical_and_inferred(text: str) -> None:
    assert parse_address(text, XMR) == Address(XMR, text)
    assert parse_address(text) == Address(XMR, text)


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_an_invalid_spelling_is_refused_with_its_reason(text: str, reason: str) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(text, XMR)
    assert refused.value.reason == reason


def test_a_monero_address_is_case_sensitive() -> None:
    with pytest.raises(AddressError, match="bad Monero checksum"):
        parse_address(VALID[3].replace("ey1af", "Ey1af"), XMR)


def test_a_tag_that_is_no_mainnet_kind_is_refused_by_its_number() -> None:
    text = monero.address(17, bytes(64))
    with pytest.raises(AddressError, match="tag 17 is not a mainnet address kind"):
        parse_address(text, XMR)
    short = monero.address(18, bytes(72))  # an integrated address's length with a standard tag
    with pytest.raises(AddressError, match="tag 18 does not match its length"):
        parse_address(short, XMR)


def checksummed(tag: int, data: bytes) -> str:
    """The address, with pycryptodome's Keccak for the checksum: an oracle for ours."""
    body = bytes([tag]) + data
    digest = keccak.new(data=body, digest_bits=256).digest()
    return monero.encode(body + digest[:4])


keys = st.binary(min_size=64, max_size=64)


@given(keys, st.sampled_from([(18, b""), (42, b""), (19, b"\x01" * 8)]))
def test_random_keys_round_trip_in_every_kind(key: bytes, kind: tuple[int, bytes]) -> None:
    tag, payment_id = kind
    text = checksummed(tag, key + payment_id)
    assert monero.address(tag, key + payment_id) == text
    assert parse_address(text) == Address(XMR, text)


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, Chain, str, bool]:
    """A valid Monero spelling, its chain, the typo alphabet, and that its case matters."""
    tag, extra = draw(st.sampled_from([(18, 0), (42, 0), (19, 8)]))
    text = checksummed(tag, draw(st.binary(min_size=64 + extra, max_size=64 + extra)))
    return text, XMR, "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", False
