"""Ed25519 keys and JWS: signed-bundle documents and the signatures under every token.

The only module that touches `cryptography` and PyJWT's JWS layer. Algorithms are pinned:
`Ed25519` (RFC 9864) and its older name `EdDSA`, with an Ed25519 key; nothing else, so
`none`, HMAC and algorithm confusion are refused before any key is looked at.

A signed-bundle document is `{"bundle": {...}, "signatures": [{"protected", "signature"}]}`:
JWS JSON serialization (RFC 7515 section 7.2) without the payload member (appendix F).
The payload is the RFC 8785 (JCS) canonical form of the bundle, so anyone holding the
document and the signer's public key can verify it offline with any JOSE library.
"""

import base64
import hashlib
import hmac
import json
import math
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import rfc8785
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from exchange.core import jcs
from exchange.errors import DocumentError, LedgerIntegrityError, SignatureError

ALGORITHMS = ("Ed25519", "EdDSA")
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")

_jws = jwt.PyJWS(algorithms=["EdDSA"])
_jws.register_algorithm("Ed25519", OKPAlgorithm())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; raises ValueError on anything else."""
    if not isinstance(text, str) or "=" in text:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def thumbprint(public_key: bytes) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key: its `kid`."""
    jwk = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": b64url(public_key)}, separators=(",", ":")
    )
    return b64url(hashlib.sha256(jwk.encode()).digest())


def public_jwk(public_key: bytes) -> dict[str, str]:
    """The public key as a JWK (RFC 8037), as published in a JWKS."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(public_key),
        "kid": thumbprint(public_key),
        "alg": "Ed25519",
        "use": "sig",
    }


@dataclass(frozen=True, slots=True, repr=False)
class SigningKey:
    """An Ed25519 private key with its public half and kid. Never printed."""

    private: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def kid(self) -> str:
        return thumbprint(self.public_key)

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def derive(self, purpose: str) -> bytes:
        """A secret for `purpose` derived from this key (HMAC-SHA-256 keyed by the key)."""
        raw = self.private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return hmac.new(raw, purpose.encode(), hashlib.sha256).digest()

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"


def generate_key() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate())


def write_private_key(key: SigningKey, path: Path) -> None:
    """Write `key` as PKCS#8 PEM, readable by its owner only (mode 0600), never overwriting."""
    pem = key.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)


def load_private_key(pem: bytes) -> SigningKey:
    """Raises SignatureError unless `pem` is an unencrypted Ed25519 private key."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SignatureError("not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("the private key is not an Ed25519 key")
    return SigningKey(key)


def load_public_key(pem: bytes) -> bytes:
    """The raw 32 bytes of an Ed25519 public key in PEM; raises SignatureError otherwise."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SignatureError("not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError("the public key is not an Ed25519 key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def jws_sign(payload: bytes, key: SigningKey, header: Mapping[str, Any]) -> str:
    """A compact JWS over `payload` with `alg: Ed25519` and `kid` set."""
    headers = {**header, "kid": key.kid}
    return _jws.encode(payload, key.private, algorithm="Ed25519", headers=headers)


def jws_header(compact: str) -> dict[str, Any]:
    """The unverified header of a compact JWS, after checking `alg` is pinned and `kid` set."""
    if not _COMPACT_JWS.fullmatch(compact):
        raise SignatureError("not a compact JWS of three unpadded base64url parts")
    try:
        header = _jws.get_unverified_header(compact)
    except jwt.PyJWTError:
        raise SignatureError("not a compact JWS") from None
    if header.get("alg") not in ALGORITHMS:
        raise SignatureError(f"alg {header.get('alg')!r} is not allowed; use Ed25519")
    if not isinstance(header.get("kid"), str):
        raise SignatureError("the JWS header has no kid")
    if "crit" in header:
        raise SignatureError("the JWS header has `crit` extensions the exchange does not know")
    return header


def jws_verify(compact: str, public_key: bytes) -> bytes:
    """The payload of `compact` if it verifies with `public_key`; raises SignatureError."""
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key)
        decoded = _jws.decode_complete(compact, key, algorithms=list(ALGORITHMS))
    except (jwt.PyJWTError, ValueError, InvalidSignature):
        raise SignatureError(
            f"signature by key {jws_header(compact)['kid']} does not verify"
        ) from None
    payload: bytes = decoded["payload"]
    return payload


# --- signed-bundle documents ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BundleSignature:
    """One entry of `signatures`: its checked protected header and what it signs."""

    header: Mapping[str, Any]
    signing_input: bytes  # ASCII(protected) || "." || BASE64URL(JCS(bundle)): RFC 7515 5.2
    signature: bytes

    @property
    def kid(self) -> str:
        return str(self.header["kid"])


@dataclass(frozen=True, slots=True)
class SignedBundle:
    bundle: dict[str, Any]
    canonical: bytes  # JCS(bundle): the signed payload, and the bundle's content hash
    signatures: tuple[BundleSignature, ...]


def canonical(bundle: Any) -> bytes:
    """RFC 8785 (JCS) canonical form; raises DocumentError for what JCS cannot represent."""
    try:
        return jcs.dumps(bundle)
    except (rfc8785.CanonicalizationError, ValueError, TypeError, RecursionError) as error:
        raise DocumentError(f"bundle: cannot be canonicalised (RFC 8785): {error}") from None


def sign_bundle(bundle: dict[str, Any], key: SigningKey, *, iat: int) -> dict[str, Any]:
    """A signed-bundle document for `bundle`, signed by `key` at `iat` (Unix seconds)."""
    compact = jws_sign(canonical(bundle), key, {"iat": iat, "typ": None})
    protected, _, signature = compact.split(".")
    return {"bundle": bundle, "signatures": [{"protected": protected, "signature": signature}]}


def read_signed_bundle(document: object) -> SignedBundle:
    """Check the shape of a signed-bundle document (parsed JSON); does not verify.

    Raises DocumentError for a wrong shape and SignatureError for a header that can
    never verify (unknown alg, no kid, no iat).
    """
    if not isinstance(document, dict) or set(document) != {"bundle", "signatures"}:
        raise DocumentError(
            "not a signed-bundle document: expected exactly the members `bundle` and `signatures`"
        )
    entries = document["signatures"]
    if not isinstance(entries, list) or not entries:
        raise DocumentError("signatures: must be a non-empty list")
    bundle = document["bundle"]
    canonical_bundle = canonical(bundle)
    payload = b64url(canonical_bundle)
    signatures = []
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) - {"protected", "signature", "header"}:
            raise DocumentError(f"signatures[{number}]: expected `protected` and `signature`")
        protected, signature = entry.get("protected"), entry.get("signature")
        if not isinstance(protected, str) or not isinstance(signature, str):
            raise DocumentError(f"signatures[{number}]: `protected` and `signature` are strings")
        header = jws_header(f"{protected}..{signature}")  # the header, without the payload
        try:
            raw_signature = b64url_decode(signature)
        except ValueError:
            raise SignatureError(f"signatures[{number}]: the signature is not base64url") from None
        unprotected = entry.get("header", {})
        if not isinstance(unprotected, dict) or set(unprotected) & set(header):
            raise DocumentError(
                f"signatures[{number}]: `header` must be an object naming no protected parameter"
            )
        if type(header.get("iat")) is not int:
            raise SignatureError(
                f"signatures[{number}]: the protected header needs an integer iat"
            )
        signing_input = f"{protected}.{payload}".encode("ascii")
        signatures.append(BundleSignature(header, signing_input, raw_signature))
    return SignedBundle(bundle, canonical_bundle, tuple(signatures))


def verify_signature(signature: BundleSignature, public_key: bytes) -> None:
    """Raise SignatureError unless `signature` is `public_key`'s over the bundle.

    The header's alg was pinned to Ed25519 when the document was read; verifying the raw
    signing input here spares PyJWT's per-character checks of a 700 KB payload.
    """
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature.signature, signature.signing_input
        )
    except (InvalidSignature, ValueError):
        raise SignatureError(f"signature by key {signature.kid} does not verify") from None


def parse_json(body: bytes) -> Any:
    """Strict JSON (RFC 8259 as I-JSON, RFC 7493): UTF-8, no duplicate keys, no NaN."""
    try:
        text = body.decode("utf-8")  # json.loads would also guess UTF-16 and UTF-32
        parsed = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_float=_finite,
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise DocumentError(f"body is not valid JSON: {error}") from None
    except RecursionError:
        raise DocumentError("body is nested too deeply") from None
    if _SURROGATE_ESCAPE.search(body):  # rare: then check for a lone one (I-JSON forbids it)
        try:
            json.dumps(parsed, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise DocumentError("body is not valid JSON: a lone UTF-16 surrogate") from None
    return parsed


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        dupe = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate member name {dupe!r}")
    return result


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:20]} is beyond a double")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# --- signed notes (C2SP signed-note), for the sharing log's checkpoints -------------------

_NOTE_ED25519 = b"\x01"


def note_key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key hash of a signed-note Ed25519 key: SHA-256(name || LF || 0x01 || key)."""
    return hashlib.sha256(name.encode() + b"\n" + _NOTE_ED25519 + public_key).digest()[:4]


def note_verifier_key(name: str, public_key: bytes) -> str:
    """The verifier key string transparency-log tools take: `name+hash+base64(0x01||key)`."""
    encoded = base64.b64encode(_NOTE_ED25519 + public_key).decode()
    return f"{name}+{note_key_id(name, public_key).hex()}+{encoded}"


def sign_note(body: str, name: str, key: SigningKey) -> str:
    """A signed note: `body` (ending in a newline), a blank line, one signature line."""
    if not body.endswith("\n") or "\n\n" in body:
        raise ValueError("a note body ends with a newline and has no blank lines")
    signature = note_key_id(name, key.public_key) + key.sign(body.encode())
    return f"{body}\n\u2014 {name} {base64.b64encode(signature).decode()}\n"


def verify_note(note: str, name: str, public_key: bytes) -> str:
    """The body of `note` if `name`'s key signed it; raises LedgerIntegrityError."""
    body, blank, signatures = note.partition("\n\n")
    if not blank:
        raise LedgerIntegrityError("not a signed note: no blank line before the signatures")
    body += "\n"
    key_id = note_key_id(name, public_key)
    for line in signatures.splitlines():
        prefix = f"\u2014 {name} "
        if not line.startswith(prefix):
            continue
        try:
            raw = base64.b64decode(line[len(prefix) :], validate=True)
        except ValueError:
            continue
        if raw[:4] != key_id or len(raw) != 68:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(raw[4:], body.encode())
        except InvalidSignature:
            raise LedgerIntegrityError(
                f"the checkpoint signature by {name} does not verify"
            ) from None
        return body
    raise LedgerIntegrityError(f"the checkpoint carries no signature by {name}")


# --- raw signatures (webhooks) ------------------------------------------------------------


def verify_ed25519(public_key: bytes, signature: bytes, data: bytes) -> None:
    """Raise SignatureError unless `signature` is `public_key`'s Ed25519 signature on `data`.

    For raw signatures outside JWS, such as Standard Webhooks' `v1a`. `public_key` is the raw
    32 bytes (a JWK's decoded `x`); a key or signature of the wrong length does not verify.
    """
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        raise SignatureError("the Ed25519 signature does not verify") from None


ENVELOPE_NAMESPACE = uuid.UUID("6b1f3c2e-8d0a-5f4e-9c7b-2a1d0e3f4c5b")


def read_signed_envelope(envelope: object, signature: str) -> SignedBundle:
    """A TAXII envelope posted with `Exchange-Signature: <compact detached JWS>` (RFC 7515
    appendix F) over the envelope's RFC 8785 form, read as the bundle it carries; does not
    verify. The bundle's id derives from that form, so posting the same envelope again is
    the same submission.

    Raises DocumentError for a wrong shape and SignatureError for a malformed signature.
    """
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise DocumentError("not a TAXII envelope: expected an object with an `objects` list")
    if set(envelope) - {"objects", "more", "next"}:
        unknown = sorted(set(envelope) - {"objects", "more", "next"})
        raise DocumentError(f"envelope: unknown members {unknown}")
    protected, dot, rest = signature.partition(".")
    empty, dot2, raw_signature = rest.partition(".")
    if not (dot and dot2) or empty or not _COMPACT_JWS.fullmatch(signature):
        raise SignatureError("Exchange-Signature: expected a compact JWS with a detached payload")
    header = jws_header(f"{protected}..{raw_signature}")
    if type(header.get("iat")) is not int:
        raise SignatureError("Exchange-Signature: the protected header needs an integer iat")
    try:
        signature_bytes = b64url_decode(raw_signature)
    except ValueError:
        raise SignatureError("Exchange-Signature: the signature is not base64url") from None
    canonical_envelope = canonical(envelope)
    digest = hashlib.sha256(canonical_envelope).hexdigest()
    bundle = {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid5(ENVELOPE_NAMESPACE, digest)}",
        "objects": envelope["objects"],
    }
    signing_input = f"{protected}.{b64url(canonical_envelope)}".encode("ascii")
    return SignedBundle(
        bundle, canonical_envelope, (BundleSignature(header, signing_input, signature_bytes),)
    )


def sign_envelope(envelope: dict[str, Any], key: SigningKey, *, iat: int) -> str:
    """The Exchange-Signature header value for posting `envelope` to a TAXII collection."""
    compact = jws_sign(canonical(envelope), key, {"iat": iat, "typ": None})
    protected, _, signature = compact.split(".")
    return f"{protected}..{signature}"
