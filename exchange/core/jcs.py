"""RFC 8785 (JCS) canonical JSON, fast for the JSON partners actually send.

For a document of strings, booleans, nulls and integers that a double holds exactly, JCS
is what `json.dumps` writes with sorted keys, no spaces and raw UTF-8: both escape only
`"`, `\\` and control characters, in the same way, and sorting by code point equals
JCS's UTF-16 order while every key stays inside the Basic Multilingual Plane. Anything
else (floats, large integers, keys beyond the BMP) goes to the `rfc8785` package. A
property test checks both paths give the same bytes.
"""

import json
from typing import Any

import rfc8785

_SAFE_INTEGER = 2**53 - 1
_BMP = "\uffff"


def dumps(value: Any) -> bytes:
    """The JCS bytes of `value`; raises what `rfc8785.dumps` raises for what JCS cannot hold."""
    if _json_dumps_is_canonical(value):
        try:
            return json.dumps(
                value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
        except (UnicodeEncodeError, RecursionError):
            pass  # lone surrogates or deep nesting: let rfc8785 name the problem
    return rfc8785.dumps(value)


def _json_dumps_is_canonical(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -_SAFE_INTEGER <= item <= _SAFE_INTEGER:
                continue
            return False
        if kind is dict:
            for key in item:
                if type(key) is not str or not (key.isascii() or max(key) <= _BMP):
                    return False
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        else:
            return False
    return True
