"""Address rules, one module per chain family: each turns a spelling into its canonical form.

The modules know nothing of `exchange.core.addresses`; it wires them into the `Chain` registry.
"""
