"""A small server speaking the Vault transit engine's API, on a real port, for the KMS tests.

What Lifeline uses of it, with Vault's answers: key read/create, encrypt/decrypt with
``associated_data`` (AES-256-GCM per version, ``vault:vN:`` ciphertexts), rotate, config
(``min_encryption_version``, ``min_decryption_version``), trim, and tokens with capabilities
(403 ``permission denied`` otherwise). Served by uvicorn in a thread of its own, so that a
synchronous client and the test's event loop can both reach it; `stop()` keeps the port bound
without listening, so a client meets a refused connection, as with a KMS that is down.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.support.servers import release, reserve_again, reserve_port, take_reserved

ROOT = None  # a token with every capability
CAPABILITIES = frozenset({"read", "create", "encrypt", "decrypt", "rotate", "config", "trim"})


@dataclass
class TransitKey:
    """One named key: its versions' material (None once trimmed) and its floors."""

    versions: list[bytes | None] = field(default_factory=lambda: [os.urandom(32)])
    created: list[int] = field(default_factory=lambda: [int(time.time())])
    min_decryption_version: int = 1
    min_encryption_version: int = 0
    min_available_version: int = 0

    def info(self, name: str) -> dict[str, Any]:
        live = range(self.min_decryption_version, len(self.versions) + 1)
        return {
            "name": name,
            "type": "aes256-gcm96",
            "keys": {str(n): self.created[n - 1] for n in live},
            "latest_version": len(self.versions),
            "min_decryption_version": self.min_decryption_version,
            "min_encryption_version": self.min_encryption_version,
            "min_available_version": self.min_available_version,
            "supports_encryption": True,
            "supports_decryption": True,
        }


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class TransitServer:
    """The transit engine at ``http://127.0.0.1:<port>/v1/transit``; `tokens` maps capabilities."""

    def __init__(self, tokens: dict[str, frozenset[str] | None]) -> None:
        self.tokens = tokens
        self.keys: dict[str, TransitKey] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of each request answered
        self.port = reserve_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> TransitServer:
        """Listen (on the reserved port) and return once serving."""
        sock = take_reserved(self.port)
        assert sock is not None, "the port is not held: stop() before start()"
        config = uvicorn.Config(_app(self), log_config=None, lifespan="off")
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and self._thread.is_alive(), "transit did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop listening; the port stays held, refusing connections."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None
        reserve_again(self.port)

    def close(self) -> None:
        """Stop and give the port back."""
        self.stop()
        release(self.port)

    def __enter__(self) -> TransitServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the engine --------------------------------------------------------------------------

    def handle(self, method: str, token: str, op: str, name: str, body: dict[str, Any]) -> Any:
        """One request's `data`; _Refused with Vault's status and message otherwise."""
        self.requests.append((method, f"{op}/{name}"))
        capability = "read" if method == "GET" else op if op != "keys" else "create"
        if token not in self.tokens:
            raise _Refused(403, "permission denied")
        allowed = self.tokens[token]
        if allowed is not ROOT and capability not in allowed:
            raise _Refused(403, "permission denied")
        if op == "keys" and method == "POST":
            self.keys.setdefault(name, TransitKey())
            return None
        key = self.keys.get(name)
        if key is None:
            raise _Refused(404 if op == "keys" else 400, "encryption key not found")
        if op == "keys":
            return key.info(name)
        return getattr(self, f"_{op}")(key, body)

    def _encrypt(self, key: TransitKey, body: dict[str, Any]) -> dict[str, Any]:
        version = int(body.get("key_version") or len(key.versions))
        if version > len(key.versions):
            raise _Refused(400, "requested version for encryption is higher than the latest")
        if version < key.min_encryption_version:
            raise _Refused(400, "requested version for encryption is less than the minimum")
        material = key.versions[version - 1]
        assert material is not None
        nonce = os.urandom(12)
        aad = _unb64(body.get("associated_data", "")) or None
        sealed = AESGCM(material).encrypt(nonce, _unb64(body["plaintext"]), aad)
        return {"ciphertext": f"vault:v{version}:" + base64.b64encode(nonce + sealed).decode()}

    def _decrypt(self, key: TransitKey, body: dict[str, Any]) -> dict[str, Any]:
        prefix, _, blob = str(body.get("ciphertext", "")).rpartition(":")
        if not prefix.startswith("vault:v") or not prefix[7:].isdigit():
            raise _Refused(400, "invalid ciphertext: no prefix")
        version = int(prefix[7:])
        if version > len(key.versions):
            raise _Refused(400, "invalid ciphertext: version is too new")
        material = key.versions[version - 1]
        if version < key.min_decryption_version or material is None:
            raise _Refused(400, "ciphertext or signature version is disallowed by policy (too old)")
        raw = _unb64(blob)
        aad = _unb64(body.get("associated_data", "")) or None
        try:
            plain = AESGCM(material).decrypt(raw[:12], raw[12:], aad)
        except (InvalidTag, ValueError):
            raise _Refused(400, "cipher: message authentication failed") from None
        return {"plaintext": base64.b64encode(plain).decode()}

    def _rotate(self, key: TransitKey, body: dict[str, Any]) -> None:
        key.versions.append(os.urandom(32))
        key.created.append(int(time.time()))

    def _config(self, key: TransitKey, body: dict[str, Any]) -> None:
        floor = int(body.get("min_decryption_version", key.min_decryption_version))
        primary = int(body.get("min_encryption_version", key.min_encryption_version))
        if floor < max(1, key.min_available_version) or floor > len(key.versions):
            raise _Refused(400, "min decryption version out of range")
        if primary and (primary < floor or primary > len(key.versions)):
            raise _Refused(400, "min encryption version must be at least min decryption version")
        key.min_decryption_version, key.min_encryption_version = floor, primary

    def _trim(self, key: TransitKey, body: dict[str, Any]) -> None:
        keep = int(body["min_available_version"])
        if not key.min_encryption_version or keep > key.min_decryption_version:
            raise _Refused(
                400, "cannot trim above min_decryption_version or min_encryption_version"
            )
        for number in range(1, keep):
            key.versions[number - 1] = None  # the material is gone, as in Vault
        key.min_available_version = max(keep, key.min_available_version)


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise _Refused(400, "invalid base64") from None


def _app(engine: TransitServer) -> FastAPI:
    app = FastAPI()

    @app.api_route("/v1/transit/{op}/{name}", methods=["GET", "POST"])
    @app.api_route("/v1/transit/keys/{name}/{op}", methods=["POST"])
    async def transit(request: Request, op: str, name: str) -> Response:
        body = await request.json() if await request.body() else {}
        token = request.headers.get("x-vault-token", "")
        try:
            data = engine.handle(request.method, token, op, name, body)
        except _Refused as exc:
            return JSONResponse({"errors": [exc.message]}, status_code=exc.status)
        if data is None:
            return Response(status_code=204)
        return JSONResponse({"data": data})

    return app
