"""Signed-bundle documents: JWS JSON, detached RFC 8785 payload, Ed25519, pinned algorithms.

Negative cases follow pyca's habit (wrong key, one byte changed, truncated signature), and
two tests check the wire contract with nothing but `cryptography`, `rfc8785` and base64, as a
partner with a standard toolkit would.
"""

import base64
import copy
import hashlib
import hmac
import json
import struct
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exchange.errors import DocumentError, InputError, SignatureError
from exchange.signatures import (
    SignedBundle,
    SigningKey,
    canonical,
    generate_key,
    parse_json,
    public_jwk,
    read_signed_bundle,
    sign_bundle,
    thumbprint,
    verify_signature,
)
from tests.factories import BTC_BECH32, ETH_CHECKSUMMED, NOW, bundle, indicator, signed

SUBMITTER = "identity--5b1f4c1e-2f0a-4d6e-9a7b-3c8d9e0f1a2b"
IAT = int(NOW.timestamp())
BUNDLE = bundle(
    indicator(SUBMITTER, ETH_CHECKSUMMED, chain="ethereum", description="Geldwäsche: 5 €"),
    indicator(SUBMITTER, BTC_BECH32, category="sanctions", confidence=100),
)
OTHER_BUNDLE = bundle(indicator(SUBMITTER, BTC_BECH32, category="scam"))


# A partner's own toolkit: no exchange code -----------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def rfc7638(public_key: bytes) -> str:
    """JWK thumbprint: SHA-256 of the required members, sorted, no whitespace (RFC 7638 3)."""
    members = {"kty": "OKP", "crv": "Ed25519", "x": b64(public_key)}
    text = json.dumps(members, sort_keys=True, separators=(",", ":"))
    return b64(hashlib.sha256(text.encode()).digest())


def hand_signed(
    body: Any, private: Ed25519PrivateKey, header: dict[str, Any], *, protected: str | None = None
) -> dict[str, Any]:
    """A signed-bundle document made per RFC 7515 5.1 and appendix F: the signature is over
    ASCII(protected) || '.' || BASE64URL(JCS(bundle)); the payload is left out."""
    protected = b64(json.dumps(header).encode()) if protected is None else protected
    signature = private.sign(f"{protected}.{b64(rfc8785.dumps(body))}".encode("ascii"))
    return {"bundle": body, "signatures": [{"protected": protected, "signature": b64(signature)}]}


# The exchange's side ---------------------------------------------------------------------


def accept(document: Any, *public_keys: bytes) -> SignedBundle:
    """What the exchange does with a document: read it, then verify each signature."""
    read = read_signed_bundle(document)
    for signature, public_key in zip(read.signatures, public_keys, strict=True):
        verify_signature(signature, public_key)
    return read


def test_a_signed_bundle_verifies_with_the_signers_key() -> None:
    key = generate_key()
    document = sign_bundle(BUNDLE, key, iat=IAT)

    read = accept(document, key.public_key)

    assert read.bundle == BUNDLE
    assert read.canonical == rfc8785.dumps(BUNDLE)
    (signature,) = read.signatures
    assert signature.kid == key.kid == rfc7638(key.public_key)
    assert dict(signature.header) == {"alg": "Ed25519", "kid": key.kid, "iat": IAT}
    assert set(document) == {"bundle", "signatures"}  # detached: no `payload` member


def test_each_co_signature_verifies_with_its_own_key_only() -> None:
    ngo, firm = generate_key(), generate_key()
    read = accept(parse_json(signed(BUNDLE, ngo, firm)), ngo.public_key, firm.public_key)

    assert [signature.kid for signature in read.signatures] == [ngo.kid, firm.kid]
    with pytest.raises(SignatureError, match=firm.kid):
        accept(parse_json(signed(BUNDLE, ngo, firm)), ngo.public_key, ngo.public_key)


def reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


@pytest.mark.parametrize(
    "reserialise",
    [
        lambda doc: json.dumps(reversed_keys(doc), indent=4),
        lambda doc: json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        lambda doc: "\n\t " + json.dumps(reversed_keys(doc), separators=(" , ", " : ")) + " \n",
    ],
    ids=["reversed key order, indented", "sorted, compact, raw UTF-8", "odd whitespace"],
)
def test_a_document_written_out_differently_still_verifies(
    reserialise: Callable[[dict[str, Any]], str],
) -> None:
    key = generate_key()
    body = reserialise(sign_bundle(BUNDLE, key, iat=IAT)).encode()

    assert accept(parse_json(body), key.public_key).bundle == BUNDLE


def test_a_document_signed_by_the_exchange_verifies_with_a_standard_toolkit() -> None:
    key = generate_key()
    document = json.loads(json.dumps(sign_bundle(BUNDLE, key, iat=IAT)))

    (entry,) = document["signatures"]
    header = json.loads(unb64(entry["protected"]))
    assert header["alg"] in ("Ed25519", "EdDSA")
    assert header["kid"] == rfc7638(key.public_key)
    signing_input = f"{entry['protected']}.{b64(rfc8785.dumps(document['bundle']))}"
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    public.verify(unb64(entry["signature"]), signing_input.encode("ascii"))  # raises if bad


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
def test_a_document_signed_with_a_standard_toolkit_verifies_at_the_exchange(alg: str) -> None:
    private = Ed25519PrivateKey.generate()
    public_key = raw(private.public_key())
    header = {"alg": alg, "kid": rfc7638(public_key), "iat": IAT}
    document = hand_signed(BUNDLE, private, header)

    (signature,) = accept(document, public_key).signatures
    assert signature.kid == thumbprint(public_key)
    with pytest.raises(SignatureError):
        accept(document, generate_key().public_key)


# Negative cases --------------------------------------------------------------------------

Case = Callable[[SigningKey, SigningKey], tuple[Any, bytes]]


def good(key: SigningKey, body: dict[str, Any] = BUNDLE) -> dict[str, Any]:
    return sign_bundle(body, key, iat=IAT)


def with_entry(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    (entry,) = document["signatures"]
    return {"bundle": document["bundle"], "signatures": [entry | changes]}


def with_header(key: SigningKey, header: dict[str, Any]) -> dict[str, Any]:
    """Signed over `header` (the kid and iat are the key's unless `header` sets them)."""
    return hand_signed(BUNDLE, key.private, {"kid": key.kid, "iat": IAT} | header)


def edited(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body = copy.deepcopy(BUNDLE)
    change(body)
    return body


def one_byte_changed(body: dict[str, Any]) -> None:
    body["objects"][0]["name"] = body["objects"][0]["name"].replace("W", "w", 1)


def object_added(body: dict[str, Any]) -> None:
    body["objects"].append(indicator(SUBMITTER, ETH_CHECKSUMMED, category="scam"))


def padded_protected(key: SigningKey) -> dict[str, Any]:
    """Honestly signed over a protected header that carries base64 padding."""
    header: dict[str, Any] = {"alg": "Ed25519", "kid": key.kid, "iat": IAT, "note": ""}
    while len(b64(json.dumps(header).encode())) % 4 == 0:
        header["note"] += "x"
    protected = base64.urlsafe_b64encode(json.dumps(header).encode()).decode()
    assert protected.endswith("=")
    return hand_signed(BUNDLE, key.private, header, protected=protected)


def standard_base64(key: SigningKey) -> dict[str, Any]:
    """The same signature bytes spelled in the standard alphabet (`+`, `/`), not base64url."""
    iat = IAT
    while True:
        (entry,) = sign_bundle(BUNDLE, key, iat=iat)["signatures"]
        if "-" in entry["signature"] or "_" in entry["signature"]:
            spelled = entry["signature"].replace("-", "+").replace("_", "/")
            return {"bundle": BUNDLE, "signatures": [entry | {"signature": spelled}]}
        iat += 1


def hs256_with_the_public_key(key: SigningKey) -> dict[str, Any]:
    """Algorithm confusion: HMAC keyed with the (public) Ed25519 key."""
    protected = b64(json.dumps({"alg": "HS256", "kid": key.kid, "iat": IAT}).encode())
    signing_input = f"{protected}.{b64(rfc8785.dumps(BUNDLE))}".encode()
    mac = hmac.new(key.public_key, signing_input, hashlib.sha256).digest()
    return {"bundle": BUNDLE, "signatures": [{"protected": protected, "signature": b64(mac)}]}


def signature_of(key: SigningKey) -> str:
    return str(good(key)["signatures"][0]["signature"])


def protected_of(key: SigningKey) -> str:
    return str(good(key)["signatures"][0]["protected"])


SIGNATURE_REFUSED: list[Any] = [
    pytest.param(lambda k, o: (good(k), o.public_key), id="verified with another key"),
    pytest.param(
        lambda k, o: (good(k) | {"bundle": edited(one_byte_changed)}, k.public_key),
        id="one byte of the bundle changed",
    ),
    pytest.param(
        lambda k, o: (good(k) | {"bundle": edited(object_added)}, k.public_key),
        id="an object added to the bundle",
    ),
    pytest.param(
        lambda k, o: (good(k) | {"bundle": OTHER_BUNDLE}, k.public_key),
        id="the signature of another bundle",
    ),
    pytest.param(
        lambda k, o: (with_entry(good(k), signature=signature_of(k)[:-1]), k.public_key),
        id="signature truncated by one character",
    ),
    pytest.param(
        lambda k, o: (with_entry(good(k), signature=signature_of(k)[:-4]), k.public_key),
        id="signature truncated by three bytes",
    ),
    pytest.param(
        lambda k, o: (with_entry(good(k), signature=""), k.public_key), id="empty signature"
    ),
    pytest.param(
        lambda k, o: (with_entry(good(k), signature=b64(bytes(64))), k.public_key),
        id="signature of zeros",
    ),
    pytest.param(
        lambda k, o: (with_entry(good(k), protected=protected_of(o)), k.public_key),
        id="protected header swapped for another key's",
    ),
    pytest.param(
        lambda k, o: (
            with_entry(
                good(k),
                protected=b64(
                    json.dumps({"alg": "Ed25519", "kid": k.kid, "iat": IAT + 1}).encode()
                ),
            ),
            k.public_key,
        ),
        id="iat changed after signing",
    ),
    pytest.param(
        lambda k, o: (with_entry(good(k), signature=signature_of(k) + "=="), k.public_key),
        id="signature with base64 padding",
    ),
    pytest.param(lambda k, o: (padded_protected(k), k.public_key), id="padded protected header"),
    pytest.param(
        lambda k, o: (standard_base64(k), k.public_key), id="signature in base64, not url"
    ),
    pytest.param(
        lambda k, o: (with_entry(good(k), signature=" " + signature_of(k)), k.public_key),
        id="a space in the signature",
    ),
    pytest.param(
        lambda k, o: (with_entry(good(k), protected=protected_of(k) + "!"), k.public_key),
        id="a stray character in the protected header",
    ),
    pytest.param(
        lambda k, o: (with_entry(with_header(k, {"alg": "none"}), signature=""), k.public_key),
        id="alg none",
    ),
    pytest.param(lambda k, o: (hs256_with_the_public_key(k), k.public_key), id="alg HS256"),
    pytest.param(lambda k, o: (with_header(k, {"alg": "RS256"}), k.public_key), id="alg RS256"),
    pytest.param(lambda k, o: (with_header(k, {"alg": "ES256"}), k.public_key), id="alg ES256"),
    pytest.param(lambda k, o: (with_header(k, {"alg": "eddsa"}), k.public_key), id="alg eddsa"),
    pytest.param(lambda k, o: (with_header(k, {}), k.public_key), id="no alg"),
    pytest.param(
        lambda k, o: (hand_signed(BUNDLE, k.private, {"alg": "EdDSA", "iat": IAT}), k.public_key),
        id="no kid",
    ),
    pytest.param(
        lambda k, o: (with_header(k, {"alg": "EdDSA", "kid": 7}), k.public_key), id="kid a number"
    ),
    pytest.param(
        lambda k, o: (with_header(k, {"alg": "EdDSA", "crit": ["exp"], "exp": IAT}), k.public_key),
        id="crit header",
    ),
    pytest.param(
        lambda k, o: (
            with_header(k, {"alg": "EdDSA", "b64": False, "crit": ["b64"]}),
            k.public_key,
        ),
        id="unencoded payload (RFC 7797)",
    ),
    pytest.param(
        lambda k, o: (
            hand_signed(BUNDLE, k.private, {"alg": "EdDSA", "kid": k.kid}),
            k.public_key,
        ),
        id="no iat",
    ),
    pytest.param(
        lambda k, o: (with_header(k, {"alg": "EdDSA", "iat": str(IAT)}), k.public_key),
        id="iat a string",
    ),
    pytest.param(
        lambda k, o: (with_header(k, {"alg": "EdDSA", "iat": IAT + 0.5}), k.public_key),
        id="iat a fraction",
    ),
    pytest.param(
        lambda k, o: (with_header(k, {"alg": "EdDSA", "iat": True}), k.public_key),
        id="iat true",
    ),
    pytest.param(
        lambda k, o: (with_entry(good(k), protected=b64(b"alg=EdDSA")), k.public_key),
        id="protected header not JSON",
    ),
    pytest.param(
        lambda k, o: (with_entry(good(k), protected=b64(b'["EdDSA"]')), k.public_key),
        id="protected header a JSON array",
    ),
]


@pytest.mark.parametrize("case", SIGNATURE_REFUSED)
def test_a_signature_that_does_not_hold_is_refused(case: Case) -> None:
    signer, other = generate_key(), generate_key()
    document, public_key = case(signer, other)

    with pytest.raises(SignatureError):
        accept(document, public_key)


DOCUMENT_REFUSED: list[Any] = [
    pytest.param(lambda k: [good(k)], DocumentError, id="a list"),
    pytest.param(lambda k: None, DocumentError, id="null"),
    pytest.param(lambda k: good(k)["bundle"], DocumentError, id="a bare bundle"),
    pytest.param(lambda k: {"signatures": good(k)["signatures"]}, DocumentError, id="no bundle"),
    pytest.param(lambda k: {"bundle": BUNDLE}, DocumentError, id="no signatures"),
    pytest.param(
        lambda k: good(k) | {"payload": b64(rfc8785.dumps(BUNDLE))},
        DocumentError,
        id="a payload member",
    ),
    pytest.param(lambda k: good(k) | {"note": "hi"}, DocumentError, id="an extra member"),
    pytest.param(lambda k: good(k) | {"signatures": []}, DocumentError, id="empty signatures"),
    pytest.param(
        lambda k: good(k) | {"signatures": good(k)["signatures"][0]},
        DocumentError,
        id="signatures an object",
    ),
    pytest.param(
        lambda k: good(k) | {"signatures": [signature_of(k)]},
        DocumentError,
        id="a signature entry that is a string",
    ),
    pytest.param(
        lambda k: with_entry(good(k), kid=k.kid), DocumentError, id="an extra member in an entry"
    ),
    pytest.param(
        lambda k: with_entry(good(k), payload=""), DocumentError, id="a payload in an entry"
    ),
    pytest.param(
        lambda k: {"bundle": BUNDLE, "signatures": [{"protected": protected_of(k)}]},
        DocumentError,
        id="an entry without signature",
    ),
    pytest.param(
        lambda k: with_entry(good(k), protected={"alg": "EdDSA"}),
        DocumentError,
        id="protected header as an object",
    ),
    pytest.param(
        lambda k: with_entry(good(k), signature=None), DocumentError, id="signature null"
    ),
    pytest.param(
        lambda k: good(k) | {"bundle": BUNDLE | {"x_count": 2**53}},
        DocumentError,
        id="a number JCS cannot represent",
    ),
    # RFC 7515 7.2.1: the unprotected `header` is a JSON object whose names are disjoint
    # from the protected header's; a standard JOSE library refuses anything else.
    pytest.param(
        lambda k: with_entry(good(k), header="EdDSA"),
        InputError,
        id="an unprotected header that is not an object",
    ),
    pytest.param(
        lambda k: with_entry(good(k), header={"alg": "none"}),
        InputError,
        id="an unprotected header repeating alg",
    ),
]


@pytest.mark.parametrize(("case", "error"), DOCUMENT_REFUSED)
def test_a_document_of_the_wrong_shape_is_refused(
    case: Callable[[SigningKey], Any], error: type[Exception]
) -> None:
    key = generate_key()

    with pytest.raises(error):
        accept(case(key), key.public_key)


# RFC 8785 canonical form, RFC 7638 / RFC 8037 thumbprints --------------------------------


def test_the_rfc_8785_sample_canonicalises_as_published() -> None:
    """RFC 8785 section 3.2.2: numbers, string escapes and literals."""
    sample = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )

    assert canonical(sample) == expected.encode("utf-8")


def test_members_are_sorted_by_utf16_code_units() -> None:
    """RFC 8785 section 3.2.3: the emoji (a surrogate pair) sorts before U+FB33."""
    sample = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]

    assert list(json.loads(canonical(sample))) == order


@pytest.mark.parametrize(
    ("ieee754", "expected"),
    [
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),
        ("0000000000000001", "5e-324"),
        ("8000000000000001", "-5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("ffefffffffffffff", "-1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("c340000000000000", "-9007199254740992"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"),
        ("44b52d02c7e14af6", "1e+23"),
        ("44b52d02c7e14af7", "1.0000000000000001e+23"),
        ("444b1ae4d6e2ef4e", "999999999999999700000"),
        ("444b1ae4d6e2ef4f", "999999999999999900000"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("41b3de4355555553", "333333333.3333332"),
        ("41b3de4355555554", "333333333.33333325"),
        ("41b3de4355555555", "333333333.3333333"),
        ("41b3de4355555556", "333333333.3333334"),
        ("41b3de4355555557", "333333333.33333343"),
        ("becbf647612f3696", "-0.0000033333333333333333"),
        ("43143ff3c1cb0959", "1424953923781206.2"),
    ],
)
def test_numbers_canonicalise_as_in_rfc_8785_appendix_b(ieee754: str, expected: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(ieee754))

    assert canonical([number]) == f"[{expected}]".encode()


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), {"n": 2**53}, {"n": -(2**53)}, {1: "a"}, "\ud800"],
    ids=["NaN", "Infinity", "2^53", "-2^53", "a number as a member name", "a lone surrogate"],
)
def test_what_jcs_cannot_represent_is_a_document_error(value: Any) -> None:
    with pytest.raises(DocumentError, match="RFC 8785"):
        canonical(value)


def test_the_thumbprint_of_the_rfc_8037_key_is_the_published_one() -> None:
    """RFC 8037 appendix A.3."""
    public_key = unb64("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")

    assert thumbprint(public_key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert public_jwk(public_key) == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
        "alg": "Ed25519",
        "use": "sig",
    }


def test_a_keys_kid_is_its_rfc_7638_thumbprint_and_it_never_prints_the_private_key() -> None:
    key = generate_key()
    private = key.private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )

    assert key.kid == rfc7638(key.public_key)
    assert b64(private) not in repr(key)
    assert private.hex() not in repr(key)


# Strict JSON -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"bundle": 1, "bundle": 2}', id="duplicate member"),
        pytest.param(b'{"a": {"b": 1, "b": 1}}', id="duplicate nested member, same value"),
        pytest.param(b'{"x": NaN}', id="NaN"),
        pytest.param(b'{"x": Infinity}', id="Infinity"),
        pytest.param(b'{"x": -Infinity}', id="-Infinity"),
        pytest.param(b'{"x": 1e400}', id="a number beyond a double (becomes Infinity)"),
        pytest.param(b'{"x": "\xff"}', id="byte 0xff"),
        pytest.param(b'{"x": "\xc3"}', id="a truncated two-byte sequence"),
        pytest.param(b'{"x": "\xc0\xaf"}', id="an overlong encoding of /"),
        pytest.param(b'{"x": "\xed\xa0\x80"}', id="a UTF-8-encoded surrogate"),
        pytest.param('{"x": "y"}'.encode("utf-16-le"), id="UTF-16 text"),
        pytest.param('{"x": "y"}'.encode("utf-16"), id="UTF-16 with a byte order mark"),
        pytest.param(b'{"x": 1', id="truncated"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested too deeply"),
    ],
)
def test_a_body_that_is_not_strict_json_is_a_document_error(body: bytes) -> None:
    with pytest.raises(DocumentError):
        parse_json(body)


def test_strict_json_reads_utf8_text_as_written() -> None:
    assert parse_json('{"name": "Geldwäsche: 5 €", "n": [1, 2.5, null]}'.encode()) == {
        "name": "Geldwäsche: 5 €",
        "n": [1, 2.5, None],
    }
