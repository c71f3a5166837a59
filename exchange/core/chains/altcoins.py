"""The other chains whose addresses are Bitcoin-style base58check, some with segwit too.

Each is a `bitcoin.Network`: the same checks (checksum, payload length, version) with its own
versions, so the canonical form is again the spelling itself (lowercase for segwit).

- Litecoin: L… (P2PKH 0x30), M… (P2SH 0x32), and the legacy 3… (P2SH 0x05, Bitcoin's own
  version, which Litecoin still accepts); ltc1… segwit.
- Dogecoin: D… (0x1e), 9…/A… (P2SH 0x16). Dash: X… (0x4c), 7… (P2SH 0x10).
- Zcash transparent addresses: t1… (P2PKH 0x1cb8) and t3… (P2SH 0x1cbd), two-byte versions;
  shielded addresses are not accepted.
- Bitcoin Gold: G… (0x26), A… (P2SH 0x17); btg1… segwit.
- Verge: D… (0x1e) and E… (P2SH 0x21); vg1… segwit. Verge began as a copy of Dogecoin and
  kept its P2PKH version, so a D… address reads on both chains.
- Bitcoin SV: Bitcoin's own versions (1…, 3…) and no segwit; it has no spelling of its own.
- Tron: T… (0x41), a base58check of the account's 20-byte hash like the others.

`leads` are the first characters used to infer a chain; Bitcoin SV has none, so its addresses
are read only when the chain is stated (see `exchange.core.addresses`).
"""

from exchange.core.chains.bitcoin import Network

LITECOIN = Network(
    chain_id="litecoin",
    versions=frozenset({b"\x30", b"\x32", b"\x05"}),
    leads=("L", "M", "3"),
    hrp="ltc",
    formats=(
        "P2PKH base58check (L…)",
        "P2SH base58check (M…, and the legacy 3… shared with Bitcoin)",
        "segwit bech32/bech32m (ltc1…)",
    ),
)
DOGECOIN = Network(
    chain_id="dogecoin",
    versions=frozenset({b"\x1e", b"\x16"}),
    leads=("D", "9", "A"),
    formats=("P2PKH base58check (D…)", "P2SH base58check (9… or A…)"),
)
DASH = Network(
    chain_id="dash",
    versions=frozenset({b"\x4c", b"\x10"}),
    leads=("X", "7"),
    formats=("P2PKH base58check (X…)", "P2SH base58check (7…)"),
)
ZCASH = Network(
    chain_id="zcash",
    versions=frozenset({b"\x1c\xb8", b"\x1c\xbd"}),
    leads=("t1", "t3"),
    formats=("transparent P2PKH base58check (t1…)", "transparent P2SH base58check (t3…)"),
)
BITCOIN_GOLD = Network(
    chain_id="bitcoin-gold",
    versions=frozenset({b"\x26", b"\x17"}),
    leads=("G", "A"),
    hrp="btg",
    formats=(
        "P2PKH base58check (G…)",
        "P2SH base58check (A…)",
        "segwit bech32/bech32m (btg1…)",
    ),
)
VERGE = Network(
    chain_id="verge",
    versions=frozenset({b"\x1e", b"\x21"}),
    leads=("D", "E"),
    hrp="vg",
    formats=(
        "P2PKH base58check (D…, the same version as Dogecoin's)",
        "P2SH base58check (E…)",
        "segwit bech32/bech32m (vg1…)",
    ),
)
BITCOIN_SV = Network(
    chain_id="bitcoin-sv",
    versions=frozenset({b"\x00", b"\x05"}),
    leads=(),
    formats=("P2PKH base58check (1…)", "P2SH base58check (3…)", "only with the chain stated"),
)
TRON = Network(
    chain_id="tron",
    versions=frozenset({b"\x41"}),
    leads=("T",),
    formats=("base58check of version 0x41 and the account's 20-byte hash (T…)",),
)
