"""Micro-benchmarks of libs.common.crypto: p50/p99 per operation (compare ratios, not absolutes).

Run: .venv/bin/python bench/crypto_bench.py [iterations]
"""

from __future__ import annotations

import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from libs.common.crypto import fields, hpke, kek, signing
from libs.common.crypto.encoding import JSONValue, b64u_encode
from libs.common.crypto.kek_file import LocalFileKekProvider

# ~8 fields from 64 B to 1 KiB, shaped like an incident report's sensitive part.
REPORT: dict[str, JSONValue] = {
    "narrative": "x" * 1024,
    "circumstances": "y" * 512,
    "lawyer_note": "z" * 256,
    "charges": [{"state": "RU", "code": "CC", "article": a} for a in ("207.3", "280.3", "205.2")],
    "locality": "Tbilisi, Shota Rustaveli International Airport, terminal 1 " + "." * 4,
    "facility": "border police holding room at the international arrivals hall",
    "contacts": "relatives notified by phone; consular contact refused by detainee " * 2,
    "source": "partner field monitor, direct phone call with detainee's spouse",
}


def samples_ns(fn: Callable[[], object], iterations: int) -> list[int]:
    """The time of each of `iterations` calls of `fn` after a warm-up, sorted, in ns."""
    for _ in range(max(10, iterations // 20)):
        fn()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    return sorted(samples)


def median_us(fn: Callable[[], object], iterations: int) -> float:
    """The median time of one call of `fn`, in microseconds."""
    return statistics.median(samples_ns(fn, iterations)) / 1000


def report_path_us(iterations: int = 300) -> dict[str, float]:
    """Each cryptographic step on one report's way through the network (intake → sharing and
    alerts, `report.stored` back to intake), in microseconds measured here: what no change short
    of dropping a protection takes off the whole stack's CPU per report."""
    plaintext = os.urandom(2048)
    info = hpke.report_seal_info(report_id="rep-1", partner_id="ngo-a")
    key = hpke.generate_private_key(hpke.DEFAULT_SUITE)
    blob = hpke.seal(key.public_key, plaintext, info)
    received = b64u_encode(blob).encode() + os.urandom(600)  # the event: sealed report + fields
    stored = os.urandom(300)
    sk = signing.generate_signing_key()
    purpose = signing.DELIVERY_PURPOSE  # the cost does not depend on it
    signed, stored_sig = (signing.sign(sk, m, purpose=purpose) for m in (received, stored))
    data_key = fields.new_data_key()
    ctx = fields.FieldContext("ngo-a", "rep-1", data_key.key_id, 1)

    def verify(message: bytes, signature: bytes) -> Callable[[], object]:
        return lambda: signing.verify(sk.verify_key, message, signature, purpose=purpose)

    with tempfile.TemporaryDirectory() as tmp:
        provider = LocalFileKekProvider(Path(tmp) / "kek.json")
        steps: dict[str, tuple[int, Callable[[], object]]] = {
            "intake seals the report": (
                1,
                functools.partial(hpke.seal, key.public_key, plaintext, info),
            ),
            "intake signs report.received": (
                1,
                lambda: signing.sign(sk, received, purpose=purpose),
            ),
            "sharing and alerts verify it": (2, verify(received, signed)),
            "sharing opens the report": (1, functools.partial(hpke.open, key, blob, info)),
            "sharing encrypts its fields": (
                1,
                lambda: fields.encrypt_fields(data_key, ctx, REPORT),
            ),
            "sharing wraps the data key": (
                1,
                lambda: kek.wrap_data_key(provider, data_key, report_id="rep-1"),
            ),
            "sharing signs report.stored": (1, lambda: signing.sign(sk, stored, purpose=purpose)),
            "intake verifies it": (1, verify(stored, stored_sig)),
        }
        return {step: n * median_us(fn, iterations) for step, (n, fn) in steps.items()}


def measure(name: str, fn: Callable[[], object], iterations: int) -> None:
    """Run `fn` `iterations` times after a warm-up and print p50/p99 in microseconds."""
    samples = samples_ns(fn, iterations)
    p50 = statistics.median(samples) / 1000
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] / 1000
    print(f"{name:<44} p50 {p50:9.1f} us   p99 {p99:9.1f} us")


def main() -> None:
    """Benchmark every operation the intake and sharing services put on their hot paths."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    plaintext = os.urandom(2048)  # a sealed report is a few KiB of JSON
    info = hpke.report_seal_info(report_id="rep-1", partner_id="ngo-a")
    print(f"iterations per operation: {n}; sealed plaintext {len(plaintext)} B")
    for suite in hpke.HpkeSuite:
        key = hpke.generate_private_key(suite)
        blob = hpke.seal(key.public_key, plaintext, info)
        text = hpke.dump_private_key(key)
        seal = functools.partial(hpke.seal, key.public_key, plaintext, info)
        measure(f"hpke seal  {suite.label}", seal, n)
        measure(f"hpke open  {suite.label}", functools.partial(hpke.open, key, blob, info), n)
        load = functools.partial(hpke.load_private_key, text)
        measure(f"hpke load private key {suite.label}", load, n)

    data_key = fields.new_data_key()
    ctx = fields.FieldContext("ngo-a", "rep-1", data_key.key_id, 1)
    blobs = fields.encrypt_fields(data_key, ctx, REPORT)
    measure(
        "fields encrypt report (8 fields)", lambda: fields.encrypt_fields(data_key, ctx, REPORT), n
    )
    measure(
        "fields decrypt report (8 fields)", lambda: fields.decrypt_fields(data_key, ctx, blobs), n
    )
    measure(
        "fields encrypt one 1 KiB field",
        lambda: fields.encrypt_field(data_key, ctx, "n", "x" * 1024),
        n,
    )

    with tempfile.TemporaryDirectory() as tmp:
        provider = LocalFileKekProvider(Path(tmp) / "kek.json")
        wrapped = kek.wrap_data_key(provider, data_key, report_id="rep-1")
        measure(
            "kek wrap data key", lambda: kek.wrap_data_key(provider, data_key, report_id="rep-1"), n
        )
        measure(
            "kek unwrap data key",
            lambda: kek.unwrap_data_key(
                provider, wrapped, report_id="rep-1", data_key_id=data_key.key_id
            ),
            n,
        )

    sk = signing.generate_signing_key()
    msg = os.urandom(1200)
    sig = signing.sign(sk, msg, purpose=signing.DELIVERY_PURPOSE)
    measure(
        "ed25519 sign 1.2 KiB", lambda: signing.sign(sk, msg, purpose=signing.DELIVERY_PURPOSE), n
    )
    measure(
        "ed25519 verify 1.2 KiB",
        lambda: signing.verify(sk.verify_key, msg, sig, purpose=signing.DELIVERY_PURPOSE),
        n,
    )


if __name__ == "__main__":
    main()
