"""Who produced an event: every event is signed by its producer, and consumers verify first.

A producing service holds an Ed25519 key and a certificate for it issued by the bus's CA, whose
subject alternative name `urn:lifeline:producer:<service>` says which service it is. Each
published message carries the certificate (`Lifeline-Signer`) and an Ed25519 signature over
its subject and exact bytes (`Lifeline-Signature`). A consumer trusts only the CA file it was
configured with — never a key the bus hands it — and accepts an event only if the certificate
is the CA's and current, its service may publish that subject (the table in `bus.py`), the
envelope names that service as its producer, and the signature verifies.

The certificate travels with each event (about 300 bytes) rather than a key id looked up
somewhere: a consumer then needs no second channel to learn a rotated key, and a verified
certificate is cached, so a message costs one Ed25519 verification.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from libs.common import bus
from libs.common.bus import URI_PREFIX
from libs.common.crypto.encoding import b64u_decode, b64u_encode, encode_context
from libs.common.crypto.errors import InvalidKey, SignatureInvalid
from libs.common.crypto.signing import (
    SigningKey,
    VerifyKey,
    sign,
    signing_key_from_raw,
    verify,
    verify_key_from_raw,
)
from libs.common.events import Envelope
from libs.common.secretfile import read_key_file

log = logging.getLogger("libs.common.security")


def open_event(
    verifier: EventVerifier | None,
    subject: str,
    payload: bytes,
    headers: Mapping[str, str] | None,
    stream_seq: int | None = None,
    *,
    stream: str | None = None,
) -> Envelope:
    """The message's envelope, proven genuine first when the bus is authenticated."""
    if verifier is None:
        return Envelope.delivered(payload, stream_seq, stream)
    return verifier.genuine(subject, payload, headers, stream_seq, stream)


SIGNER_HEADER = "Lifeline-Signer"
SIGNATURE_HEADER = "Lifeline-Signature"
PURPOSE = "lifeline/event/v1"
_CACHE_SIZE = 64


def _signed(subject: str, payload: bytes) -> bytes:
    # The subject is signed too: a valid erasure cannot be replayed as a revocation.
    return encode_context("lifeline/event-message/v1", subject=subject, payload=payload)


class EventRejected(Exception):
    """An event whose producer cannot be established; `code` says why (never the content)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class EventSigner:
    """A producing service's signing key and the certificate that names it."""

    key: SigningKey
    certificate: str  # base64 DER, as sent in the header

    @classmethod
    def load(cls, key_file: Path, cert_file: Path) -> EventSigner:
        """Read the PKCS#8 Ed25519 key (a private file) and its PEM certificate."""
        key = serialization.load_pem_private_key(read_key_file(key_file), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise InvalidKey(f"{key_file} is not an Ed25519 key")
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        if cert.public_key() != key.public_key():
            raise InvalidKey(f"{cert_file} does not certify the key in {key_file}")
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(signing_key_from_raw(key.private_bytes_raw()), base64.b64encode(der).decode())

    def headers(self, subject: str, payload: bytes) -> dict[str, str]:
        """The two headers that prove who published `payload` on `subject`."""
        signature = sign(self.key, _signed(subject, payload), purpose=PURPOSE)
        return {SIGNER_HEADER: self.certificate, SIGNATURE_HEADER: b64u_encode(signature)}


@dataclass(frozen=True)
class _Producer:
    service: str
    key: VerifyKey
    not_before: dt.datetime
    not_after: dt.datetime


class EventVerifier:
    """Checks events against the CA this service was configured with; counts what it refuses."""

    def __init__(self, ca: x509.Certificate) -> None:
        self._ca = ca
        self._known: dict[str, _Producer] = {}
        self.rejected: Counter[str] = Counter()

    @classmethod
    def load(cls, ca_file: Path) -> EventVerifier:
        """A verifier trusting the CA certificate in `ca_file`."""
        return cls(x509.load_pem_x509_certificate(ca_file.read_bytes()))

    def verify(
        self,
        subject: str,
        payload: bytes,
        headers: Mapping[str, str] | None,
        *,
        answer: bool = False,
    ) -> str:
        """The producing service of a genuine event (or, with `answer`, of a genuine reply to
        a request on `subject`); EventRejected otherwise."""
        headers = headers or {}
        signer, signature = headers.get(SIGNER_HEADER), headers.get(SIGNATURE_HEADER)
        if not signer or not signature:
            raise EventRejected("unsigned")
        producer = self._producer(signer)
        now = dt.datetime.now(dt.UTC)
        if not producer.not_before <= now <= producer.not_after:
            raise EventRejected("certificate_expired")
        role = bus.role_of(producer.service)
        if role is None or subject not in (role.answers if answer else role.publishes):
            raise EventRejected("not_the_producer_of_this_subject")
        try:
            verify(producer.key, _signed(subject, payload), b64u_decode(signature), purpose=PURPOSE)
        except (SignatureInvalid, InvalidKey, ValueError, binascii.Error):
            raise EventRejected("bad_signature") from None
        return producer.service

    def genuine(
        self,
        subject: str,
        payload: bytes,
        headers: Mapping[str, str] | None,
        stream_seq: int | None = None,
        stream: str | None = None,
    ) -> Envelope:
        """The envelope of a genuine event: signed by a producer of `subject`, which it names."""
        producer = self.verify(subject, payload, headers)
        event = Envelope.delivered(payload, stream_seq, stream)
        if event.producer != producer or event.type != subject:
            raise EventRejected("envelope_mismatch")
        return event

    def refuse(self, code: str, *, subject: str, consumer: str) -> None:
        """Count and log a refused event as a security event (its content is never logged)."""
        self.rejected[code] += 1
        log.warning(
            "security: event refused",
            extra={"reason": code, "subject": subject, "consumer": consumer},
        )

    def _producer(self, signer: str) -> _Producer:
        known = self._known.get(signer)
        if known is not None:
            return known
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(signer, validate=True))
            cert.verify_directly_issued_by(self._ca)
        except (ValueError, TypeError, binascii.Error, InvalidSignature):
            raise EventRejected("untrusted_certificate") from None
        key = cert.public_key()
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise EventRejected("untrusted_certificate")
        producer = _Producer(
            _service_named(cert),
            verify_key_from_raw(key.public_bytes_raw()),
            cert.not_valid_before_utc,
            cert.not_valid_after_utc,
        )
        if len(self._known) >= _CACHE_SIZE:
            self._known.clear()
        self._known[signer] = producer
        return producer


def _service_named(cert: x509.Certificate) -> str:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise EventRejected("untrusted_certificate") from None
    uris = [u for u in names.get_values_for_type(x509.UniformResourceIdentifier)]
    services = [u.removeprefix(URI_PREFIX) for u in uris if u.startswith(URI_PREFIX)]
    if len(services) != 1:
        # A TLS client certificate of the same CA names no producer: it cannot sign events.
        raise EventRejected("untrusted_certificate")
    return services[0]
