"""Canonicalisations per second per chain and format, on one core, against library baselines.

    python bench/addresses.py [--count 300] [--seconds 1.0]

For each format: random valid addresses and, from them, one-character typos that are refused.
`parse_address(text, chain)` is timed on both (validation and canonicalisation, or refusal),
and without a chain on the valid ones (inference). The baseline is the plain library call a
hand-written validator would start from, timed on the same valid inputs in the same run:
`base58.b58decode_check` (the pure-Python `base58` package), the `bech32` reference decoder,
an EIP-55 check with pycryptodome's Keccak, and Monero's block base58 on `base58` with
pycryptodome's Keccak. "x" is ours divided by the baseline.
"""

import argparse
import contextlib
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import base58
import bech32
from Crypto.Hash import keccak

from exchange.core.addresses import Chain, parse_address
from exchange.core.chains import bitcoin_cash, monero
from exchange.errors import AddressError

HEX = "0123456789abcdef"
B58 = base58.BITCOIN_ALPHABET.decode("ascii")
XRP58 = base58.RIPPLE_ALPHABET.decode("ascii")


@dataclass(frozen=True)
class Format:
    name: str
    chain: Chain
    make: Callable[[random.Random], str]
    alphabet: str
    baseline: str
    baseline_call: Callable[[str], object]


def b58check(version: bytes, size: int = 20, alphabet: bytes = base58.BITCOIN_ALPHABET):
    def make(rng: random.Random) -> str:
        data = version + rng.randbytes(size)
        return base58.b58encode_check(data, alphabet=alphabet).decode("ascii")

    return make


def segwit(hrp: str, version: int, size: int):
    def make(rng: random.Random) -> str:
        program = rng.randbytes(size)
        if version == 0:
            return bech32.encode(hrp, 0, program) or ""
        values = [version, *(bech32.convertbits(program, 8, 5) or [])]
        polymod = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + values + [0] * 6)
        check = [((polymod ^ 0x2BC830A3) >> 5 * (5 - i)) & 31 for i in range(6)]
        return hrp + "1" + "".join(bech32.CHARSET[v] for v in values + check)

    return make


def eip55(rng: random.Random) -> str:
    lower = rng.randbytes(20).hex()
    return _eip55_baseline("0x" + lower)


def _eip55_baseline(text: str) -> str:
    """The EIP-55 spelling of a 0x address with pycryptodome's Keccak (the baseline check)."""
    lower = text[2:].lower()
    nibbles = keccak.new(data=lower.encode("ascii"), digest_bits=256).hexdigest()
    return "0x" + "".join(
        d.upper() if n >= "8" else d for d, n in zip(lower, nibbles, strict=False)
    )


def _monero_baseline(text: str) -> bool:
    """Monero block base58 on the `base58` package, checksum with pycryptodome's Keccak."""
    out = bytearray()
    for start in range(0, len(text), 11):
        block = text[start : start + 11]
        size = 8 if len(block) == 11 else 5
        out += int.from_bytes(base58.b58decode(block), "big").to_bytes(size, "big")
    digest = keccak.new(data=bytes(out[:-4]), digest_bits=256).digest()
    return digest[:4] == out[-4:]


def _monero(tag: int, size: int):
    return lambda rng: monero.address(tag, rng.randbytes(size))


def _x_address(rng: random.Random) -> str:
    body = b"\x05\x44" + rng.randbytes(20) + b"\x01" + rng.randbytes(4) + bytes(4)
    return base58.b58encode_check(body, alphabet=base58.RIPPLE_ALPHABET).decode("ascii")


CHECK = base58.b58decode_check
REF = "bech32 reference decoder"
FORMATS = [
    Format("P2PKH 1…", Chain.BITCOIN, b58check(b"\x00"), B58, "b58decode_check", CHECK),
    Format("P2SH 3…", Chain.BITCOIN, b58check(b"\x05"), B58, "b58decode_check", CHECK),
    Format(
        "segwit v0 bc1q…",
        Chain.BITCOIN,
        segwit("bc", 0, 20),
        bech32.CHARSET,
        REF,
        lambda t: bech32.decode("bc", t),
    ),
    Format(
        "taproot bc1p…",
        Chain.BITCOIN,
        segwit("bc", 1, 32),
        bech32.CHARSET,
        REF,
        lambda t: bech32.bech32_decode(t),
    ),
    Format(
        "CashAddr",
        Chain.BITCOIN_CASH,
        lambda rng: bitcoin_cash.encode(rng.randrange(2), rng.randbytes(20)),
        bech32.CHARSET,
        REF + " (bc1q)",
        lambda t: bech32.decode("bc", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
    ),
    Format(
        "legacy → CashAddr", Chain.BITCOIN_CASH, b58check(b"\x00"), B58, "b58decode_check", CHECK
    ),
    Format("L…", Chain.LITECOIN, b58check(b"\x30"), B58, "b58decode_check", CHECK),
    Format(
        "ltc1q…",
        Chain.LITECOIN,
        segwit("ltc", 0, 20),
        bech32.CHARSET,
        REF,
        lambda t: bech32.decode("ltc", t),
    ),
    Format("D…", Chain.DOGECOIN, b58check(b"\x1e"), B58, "b58decode_check", CHECK),
    Format("X…", Chain.DASH, b58check(b"\x4c"), B58, "b58decode_check", CHECK),
    Format("t1…", Chain.ZCASH, b58check(b"\x1c\xb8"), B58, "b58decode_check", CHECK),
    Format("EIP-55 0x…", Chain.ETHEREUM, eip55, HEX, "EIP-55 with pycryptodome", _eip55_baseline),
    Format(
        "lowercase 0x…",
        Chain.ETHEREUM,
        lambda rng: "0x" + rng.randbytes(20).hex(),
        HEX,
        "EIP-55 with pycryptodome",
        _eip55_baseline,
    ),
    Format("T…", Chain.TRON, b58check(b"\x41"), B58, "b58decode_check", CHECK),
    Format(
        "standard 4…",
        Chain.MONERO,
        _monero(18, 64),
        B58,
        "base58 blocks + pycryptodome",
        _monero_baseline,
    ),
    Format(
        "integrated 4…",
        Chain.MONERO,
        _monero(19, 72),
        B58,
        "base58 blocks + pycryptodome",
        _monero_baseline,
    ),
    Format(
        "account key",
        Chain.SOLANA,
        lambda rng: base58.b58encode(rng.randbytes(32)).decode("ascii"),
        B58,
        "b58decode",
        base58.b58decode,
    ),
    Format(
        "classic r…",
        Chain.XRP,
        b58check(b"\x00", alphabet=base58.RIPPLE_ALPHABET),
        XRP58,
        "b58decode_check (XRP)",
        lambda t: base58.b58decode_check(t, alphabet=base58.RIPPLE_ALPHABET),
    ),
    Format(
        "X-address, tag",
        Chain.XRP,
        _x_address,
        XRP58,
        "b58decode_check (XRP)",
        lambda t: base58.b58decode_check(t, alphabet=base58.RIPPLE_ALPHABET),
    ),
]


def typos(texts: Sequence[str], chain: Chain, alphabet: str, rng: random.Random) -> list[str]:
    """One refused one-character typo of each text."""
    out = []
    for text in texts:
        while True:
            at = rng.randrange(len(text))
            typo = text[:at] + rng.choice(alphabet) + text[at + 1 :]
            try:
                parse_address(typo, chain)
            except AddressError:
                out.append(typo)
                break
    return out


def rates(
    calls: Sequence[tuple[Callable[[str], object], Sequence[str]]], seconds: float
) -> list[float]:
    """Calls per second of each (call, texts), best of rounds that take turns, so that noise
    from other processes on the machine falls on all of them alike."""
    best = [float("inf")] * len(calls)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or best[-1] == float("inf"):
        for index, (call, texts) in enumerate(calls):
            start = time.perf_counter()
            for text in texts:
                with contextlib.suppress(AddressError, ValueError):
                    call(text)
            best[index] = min(best[index], time.perf_counter() - start)
    return [len(texts) / elapsed for (_, texts), elapsed in zip(calls, best, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="addresses per format")
    parser.add_argument("--seconds", type=float, default=1.0, help="time per format")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    rng = random.Random(20261125)
    header = (
        f"{'chain':<14}{'format':<20}{'valid/s':>10}{'refused/s':>11}{'inferred/s':>11}"
        f"  {'baseline':<30}{'base/s':>9}{'x valid':>9}{'x refused':>10}"
    )
    print(header)
    print("-" * len(header))
    for fmt in FORMATS:
        valid = [fmt.make(rng) for _ in range(args.count)]
        invalid = typos(valid, fmt.chain, fmt.alphabet, rng)
        stated: Callable[[str], object] = lambda t, c=fmt.chain: parse_address(t, c)  # noqa: E731
        ours, refused, inferred, base = rates(
            [
                (stated, valid),
                (stated, invalid),
                (parse_address, valid),
                (fmt.baseline_call, valid),
            ],
            args.seconds,
        )
        print(
            f"{fmt.chain.value:<14}{fmt.name:<20}{ours:>10,.0f}{refused:>11,.0f}{inferred:>11,.0f}"
            f"  {fmt.baseline:<30}{base:>9,.0f}{ours / base:>9.1f}{refused / base:>10.1f}"
        )


if __name__ == "__main__":
    main()
