"""Address rules, one module per chain family: each turns a spelling into its canonical form.

`codecs` wraps the codec libraries (base58, bech32, Keccak) the families stand on. The modules
know nothing of `exchange.core.addresses`; it wires them into the `Chain` registry.
"""
