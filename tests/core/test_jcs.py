"""The fast JCS path must write exactly the bytes of the rfc8785 reference."""

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.core import jcs

_KEYS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8
) | st.sampled_from(["id", "type", "\U0001f600", "\ue000", "a\u007f", "\x00"])

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]))
)

_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=40,
)


def _reference(value: Any) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)
    except Exception as error:  # compare the failure, whatever it is
        return type(error)


@settings(max_examples=2000)
@given(_JSON)
def test_same_bytes_or_same_refusal_as_the_reference(value: Any) -> None:
    expected = _reference(value)
    if isinstance(expected, bytes):
        assert jcs.dumps(value) == expected
    else:
        with pytest.raises(expected):
            jcs.dumps(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": '\u20ac\n\x1f"\\'}, b'{"a":"\xe2\x82\xac\\n\\u001f\\"\\\\","b":1}'),
        # UTF-16 order puts the emoji (D83D...) before U+E000; code point order would not.
        ({"\ue000": 1, "\U0001f600": 2}, '{"\U0001f600":2,"\ue000":1}'.encode()),
        ({"n": 1.0, "m": 1e21}, b'{"m":1e+21,"n":1}'),
        ([2**53 - 1], b"[9007199254740991]"),
    ],
)
def test_known_canonical_forms(value: Any, expected: bytes) -> None:
    assert jcs.dumps(value) == expected


def test_integers_a_double_cannot_hold_are_refused_like_the_reference() -> None:
    with pytest.raises(rfc8785.IntegerDomainError):
        jcs.dumps({"n": 2**53})
