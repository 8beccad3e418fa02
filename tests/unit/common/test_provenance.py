"""Event signatures: what a consumer accepts, and each reason it refuses."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from libs.common.events import new_event
from libs.common.provenance import (
    SIGNATURE_HEADER,
    SIGNER_HEADER,
    EventRejected,
    EventSigner,
    EventVerifier,
)
from libs.common.subjects import AUTH_REVOKED, REPORT_RECEIVED, SYSTEM_PING
from lifeline.bus import ensure_bus
from lifeline.bus_pki import BusFiles


def _bus(root: Path) -> BusFiles:
    return ensure_bus(root, host="127.0.0.1", port=1, store_dir=root / "store", server_name="t")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> BusFiles:
    return _bus(tmp_path_factory.mktemp("bus"))


def _signer(files: BusFiles, service: str) -> EventSigner:
    return EventSigner.load(files.event_key(service), files.event_cert(service))


def _ping(producer: str = "intake") -> bytes:
    return new_event(SYSTEM_PING, producer, {"note": "ping"}).model_dump_json().encode()


def _refusal(verifier: EventVerifier, subject: str, payload: bytes, headers: dict[str, str]) -> str:
    with pytest.raises(EventRejected) as refused:
        verifier.genuine(subject, payload, headers)
    return refused.value.code


def test_a_signed_event_of_its_producer_is_genuine(files: BusFiles) -> None:
    payload = _ping()
    headers = _signer(files, "intake").headers(SYSTEM_PING, payload)
    event = EventVerifier.load(files.ca).genuine(SYSTEM_PING, payload, headers)
    assert event.producer == "intake"


def test_each_forgery_is_refused_for_its_reason(files: BusFiles, tmp_path: Path) -> None:
    verifier = EventVerifier.load(files.ca)
    intake, payload = _signer(files, "intake"), _ping()
    good = intake.headers(SYSTEM_PING, payload)
    assert _refusal(verifier, SYSTEM_PING, payload, {}) == "unsigned"
    tampered = payload.replace(b'"ping"', b'"pong"')
    assert _refusal(verifier, SYSTEM_PING, tampered, good) == "bad_signature"
    # A signature made for one subject does not hold on another.
    assert _refusal(verifier, REPORT_RECEIVED, payload, good) == "bad_signature"
    # intake's key is genuine, but intake does not publish revocations.
    revoke = new_event(AUTH_REVOKED, "intake", {"kind": "org", "id": "p", "not_before": "0"})
    raw = revoke.model_dump_json().encode()
    headers = intake.headers(AUTH_REVOKED, raw)
    assert _refusal(verifier, AUTH_REVOKED, raw, headers) == "not_the_producer_of_this_subject"
    # The envelope must name the service that signed it.
    as_sharing = _ping(producer="sharing")
    headers = intake.headers(SYSTEM_PING, as_sharing)
    assert _refusal(verifier, SYSTEM_PING, as_sharing, headers) == "envelope_mismatch"
    # A certificate of another CA, and the service's own TLS certificate, cannot sign events.
    rogue = _signer(_bus(tmp_path / "rogue"), "intake")
    headers = rogue.headers(SYSTEM_PING, payload)
    assert _refusal(verifier, SYSTEM_PING, payload, headers) == "untrusted_certificate"
    tls = x509.load_pem_x509_certificate(files.cert("intake").read_bytes())
    der = base64.b64encode(tls.public_bytes(serialization.Encoding.DER)).decode()
    headers = {**good, SIGNER_HEADER: der}
    assert _refusal(verifier, SYSTEM_PING, payload, headers) == "untrusted_certificate"
    headers = {**good, SIGNATURE_HEADER: "not base64!"}
    assert _refusal(verifier, SYSTEM_PING, payload, headers) == "bad_signature"


def test_refusals_are_counted_and_logged_without_content(
    files: BusFiles, caplog: pytest.LogCaptureFixture
) -> None:
    verifier = EventVerifier.load(files.ca)
    verifier.refuse("unsigned", subject=SYSTEM_PING, consumer="c")
    verifier.refuse("unsigned", subject=SYSTEM_PING, consumer="c")
    assert verifier.rejected["unsigned"] == 2
    assert [r.getMessage() for r in caplog.records] == ["security: event refused"] * 2
