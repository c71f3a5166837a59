"""EVM chains: EIP-55 vectors, one account on every EVM chain, and spelling properties."""

import pytest
from Crypto.Hash import keccak  # an independent Keccak for the EIP-55 oracle
from hypothesis import given
from hypothesis import strategies as st

from exchange.core.addresses import EVM_CHAINS, Address, Chain, is_evm, parse_address
from exchange.errors import AddressError

ETH = Chain.ETHEREUM

# EIP-55 examples: all caps, all lower, and checksummed ("normal").
EIP55_VALID = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]

INVALID = [
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "EIP-55 checksum mismatch"),
    ("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "EIP-55 checksum mismatch"),
    ("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9adb", "EIP-55 checksum mismatch"),
    ("0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "not 0x followed by 40 hex digits"),
    ("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "not 0x followed by 40 hex digits"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", "not 0x followed by 40 hex digits"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed0", "not 0x followed by 40 hex digits"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", "not 0x followed by 40 hex digits"),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "not 0x followed by 40 hex digits"),
    ("", "empty address"),
    (" 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "whitespace around address"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\n", "whitespace around address"),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeд", "non-ASCII character in address"),
]
EVM = sorted(EVM_CHAINS)


@pytest.mark.parametrize("chain", EVM)
@pytest.mark.parametrize("text", EIP55_VALID)
def test_an_eip55_example_is_valid_and_lowercase_on_every_evm_chain(
    text: str, chain: Chain
) -> None:
    assert parse_address(text, chain) == Address(chain, text.lower())


@pytest.mark.parametrize("text", EIP55_VALID)
def test_a_bare_0x_address_is_inferred_as_ethereum(text: str) -> None:
    assert parse_address(text) == Address(ETH, text.lower())


@pytest.mark.parametrize("chain", EVM)
@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_an_invalid_spelling_is_refused_on_every_evm_chain(
    text: str, reason: str, chain: Chain
) -> None:
    with pytest.raises(AddressError) as refused:
        parse_address(text, chain)
    assert refused.value.reason == reason


def test_one_address_is_one_key_on_every_evm_chain_but_keeps_its_chain() -> None:
    spelled = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    addresses = {parse_address(spelled, chain) for chain in EVM}
    assert {address.chain for address in addresses} == EVM_CHAINS
    assert {address.key for address in addresses} == {("evm", spelled.lower())}


def test_only_evm_chains_are_evm() -> None:
    assert {chain for chain in Chain if is_evm(chain)} == EVM_CHAINS
    assert is_evm("bsc")
    assert not is_evm("tron")
    assert not is_evm("nonsense")


def test_the_same_hash_on_tron_is_not_an_evm_key() -> None:
    tron = parse_address("TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre")
    assert tron.key == ("tron", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre")


def eip55(address: bytes) -> str:
    """EIP-55: uppercase a hex letter where keccak256(lowercase hex)'s nibble is 8 or more."""
    digits = address.hex()
    nibbles = keccak.new(data=digits.encode("ascii"), digest_bits=256).hexdigest()
    return "0x" + "".join(
        digit.upper() if int(nibble, 16) >= 8 else digit
        for digit, nibble in zip(digits, nibbles[:40], strict=True)
    )


@pytest.mark.parametrize("text", EIP55_VALID[4:])
def test_the_eip55_oracle_of_these_tests_reproduces_the_eip_examples(text: str) -> None:
    assert eip55(bytes.fromhex(text[2:])) == text


hashes = st.binary(min_size=20, max_size=20)


@given(hashes, st.sampled_from(EVM))
def test_three_spellings_of_one_evm_address_are_one_address(address: bytes, chain: Chain) -> None:
    lower = "0x" + address.hex()
    expected = Address(chain, lower)
    assert parse_address(eip55(address), chain) == expected
    assert parse_address(lower, chain) == expected
    assert parse_address("0x" + address.hex().upper(), chain) == expected
    assert parse_address(lower) == Address(ETH, lower)


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, Chain, str, bool]:
    """A valid EVM spelling, its chain, the alphabet of a typo, and that its case folds."""
    digest = draw(hashes)
    chain = draw(st.sampled_from(EVM))
    text = draw(st.sampled_from([eip55(digest), "0x" + digest.hex(), "0x" + digest.hex().upper()]))
    return text, chain, "0123456789abcdef", True
