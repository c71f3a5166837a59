"""The exchange: signed STIX 2.1 flags of cryptocurrency addresses, shared between partners."""

__version__ = "0.1.0"
