"""`exchange alert verify`, as a subscriber runs it on an alert its webhook received."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange import cli
from exchange.cli.alerts import alert_app
from exchange.signatures import SigningKey, generate_key, public_jwk
from exchange.webhooks import webhook_headers

ALERT_ID = "alert--6f2d1c3b-9a8e-4f7d-8c6b-5a4e3d2c1b0a"
BODY = b'{"id":"alert--6f2d1c3b-9a8e-4f7d-8c6b-5a4e3d2c1b0a","address":"0xabc"}'


@pytest.fixture(autouse=True)
def alert_group() -> Iterator[None]:
    """`exchange alert`, registered here until exchange.cli registers it itself."""
    groups = cli.app.registered_groups
    if any(group.typer_instance is alert_app for group in groups):
        yield
        return
    cli.app.add_typer(alert_app, name="alert")
    yield
    groups.pop()


def run(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 0) -> str:
    """Run `exchange ARGV` through its real entry point; return stdout, or stderr on error."""
    try:
        cli.main(list(argv))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    assert code == status, f"exit {code}: {out} {err}"
    return out if status == 0 else " ".join(err.split())


@pytest.fixture
def key() -> SigningKey:
    return generate_key()


@pytest.fixture
def received(tmp_path: Path, key: SigningKey) -> Path:
    """An alert as a webhook received it just now: body.json, headers.json and the JWKS."""
    sent = webhook_headers(
        key, alert_id=ALERT_ID, body=BODY, timestamp=int(time.time()), attempt=1
    )
    (tmp_path / "body.json").write_bytes(BODY)
    (tmp_path / "headers.json").write_text(json.dumps(sent))
    jwks = {"keys": [public_jwk(generate_key().public_key), public_jwk(key.public_key)]}
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    return tmp_path


def verify(at: Path, *extra: str) -> list[str]:
    return [
        "alert",
        "verify",
        "--body",
        str(at / "body.json"),
        "--headers",
        str(at / "headers.json"),
        *extra,
    ]


def test_a_genuine_alert_verifies_against_a_jwks_file(
    capsys: pytest.CaptureFixture[str], received: Path, key: SigningKey
) -> None:
    out = run(capsys, *verify(received, "--jwks", str(received / "jwks.json")))
    assert out == f"verified: alert {ALERT_ID} signed by {key.kid}\n"


def test_headers_can_be_pasted_as_received(
    capsys: pytest.CaptureFixture[str], received: Path, key: SigningKey
) -> None:
    sent = json.loads((received / "headers.json").read_text())
    lines = ["POST /hooks/exchange HTTP/1.1", "Host: hooks.partner.example"]
    lines += [f"{name.title()}: {value}" for name, value in sent.items()]
    (received / "headers.json").write_text("\r\n".join([*lines, "", "ignored body"]))
    out = run(capsys, *verify(received, "--jwks", str(received / "jwks.json")))
    assert out == f"verified: alert {ALERT_ID} signed by {key.kid}\n"


def test_a_signature_header_repeated_on_two_lines_counts_both(
    capsys: pytest.CaptureFixture[str], received: Path, key: SigningKey
) -> None:
    sent = json.loads((received / "headers.json").read_text())
    stranger = webhook_headers(
        generate_key(),
        alert_id=ALERT_ID,
        body=BODY,
        timestamp=int(sent["webhook-timestamp"]),
        attempt=1,
    )
    lines = [f"{name}: {value}" for name, value in sent.items() if name != "webhook-signature"]
    lines += [f"Webhook-Signature: {sent['webhook-signature']}"]
    lines += [f"webhook-signature: {stranger['webhook-signature']}"]
    (received / "headers.json").write_text("\n".join(lines))
    out = run(capsys, *verify(received, "--jwks", str(received / "jwks.json")))
    assert out == f"verified: alert {ALERT_ID} signed by {key.kid}\n"


def test_a_tampered_body_fails_and_says_why(
    capsys: pytest.CaptureFixture[str], received: Path
) -> None:
    (received / "body.json").write_bytes(BODY.replace(b"0xabc", b"0xabd"))
    err = run(capsys, *verify(received, "--jwks", str(received / "jwks.json")), status=1)
    assert err == "error: no v1a signature verifies with a key in the JWKS"


def test_an_alert_signed_by_another_key_fails(
    capsys: pytest.CaptureFixture[str], received: Path
) -> None:
    (received / "jwks.json").write_text(
        json.dumps({"keys": [public_jwk(generate_key().public_key)]})
    )
    err = run(capsys, *verify(received, "--jwks", str(received / "jwks.json")), status=1)
    assert err == "error: no v1a signature verifies with a key in the JWKS"


def test_an_old_alert_fails_unless_the_tolerance_is_widened(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, key: SigningKey
) -> None:
    sent = webhook_headers(
        key, alert_id=ALERT_ID, body=BODY, timestamp=int(time.time()) - 86_400, attempt=4
    )
    (tmp_path / "body.json").write_bytes(BODY)
    (tmp_path / "headers.json").write_text(json.dumps(sent))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [public_jwk(key.public_key)]}))
    jwks = ("--jwks", str(tmp_path / "jwks.json"))
    assert "webhook-timestamp is too old" in run(capsys, *verify(tmp_path, *jwks), status=1)
    assert run(capsys, *verify(tmp_path, *jwks, "--tolerance", "2d")).startswith("verified:")


def test_a_missing_header_is_named(capsys: pytest.CaptureFixture[str], received: Path) -> None:
    sent = json.loads((received / "headers.json").read_text())
    del sent["webhook-timestamp"]
    (received / "headers.json").write_text(json.dumps(sent))
    err = run(capsys, *verify(received, "--jwks", str(received / "jwks.json")), status=1)
    assert err == "error: missing header webhook-timestamp"


@pytest.mark.parametrize(
    ("headers", "cause"),
    [
        ("webhook-id alert--1\n", "headers line 1: expected `Name: value`"),
        ("POST /hook HTTP/1.1\nwebhook-id alert--1\n", "headers line 2: expected `Name"),
        ('{"webhook-timestamp": 1700000000}', "every value of the JSON object must be a string"),
        ('{"webhook-id": "a",', "headers is not valid JSON"),
        ('{"webhook-id": ["a"]}', "every value of the JSON object must be a string"),
    ],
)
def test_unreadable_headers_are_refused(
    capsys: pytest.CaptureFixture[str], received: Path, headers: str, cause: str
) -> None:
    (received / "headers.json").write_text(headers)
    err = run(capsys, *verify(received, "--jwks", str(received / "jwks.json")), status=1)
    assert cause in err


@pytest.mark.parametrize("keys", [(), ("--jwks", "jwks.json", "--url", "http://exchange.test")])
def test_the_jwks_comes_from_exactly_one_place(
    capsys: pytest.CaptureFixture[str], received: Path, keys: tuple[str, ...]
) -> None:
    err = run(capsys, *verify(received, *keys), status=1)
    assert err == "error: give either --jwks (a file or a URL) or --url (the exchange)"


def test_the_jwks_is_fetched_from_the_exchange(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, live_url: str, operator_key: SigningKey
) -> None:
    sent = webhook_headers(
        operator_key, alert_id=ALERT_ID, body=BODY, timestamp=int(time.time()), attempt=1
    )
    (tmp_path / "body.json").write_bytes(BODY)
    (tmp_path / "headers.json").write_text(json.dumps(sent))
    expected = f"verified: alert {ALERT_ID} signed by {operator_key.kid}\n"
    assert run(capsys, *verify(tmp_path, "--url", live_url + "/")) == expected
    jwks_url = f"{live_url}/.well-known/jwks.json"
    assert run(capsys, *verify(tmp_path, "--jwks", jwks_url)) == expected
    err = run(capsys, *verify(tmp_path, "--jwks", f"{live_url}/nothing.json"), status=1)
    assert "404" in err
