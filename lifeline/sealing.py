"""The supervisor's side of the seal: create it on first start, hold the root key only while
making the bus's files, and unseal a running network's services (`lifeline unseal`)."""

from __future__ import annotations

import contextlib
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

from libs.common.crypto.kek_vault import VaultTransitKekProvider
from libs.common.seal import root as seal_root
from libs.common.seal import sealfile
from libs.common.seal.domain import STATUS_PATH, UNSEAL_PATH
from libs.common.seal.kms import wrapper
from libs.common.secretfile import read_private, write_private
from lifeline.cli.base import CliError
from lifeline.cli.exits import for_exception, for_status

NETWORK_FILE = "network.json"  # where `lifeline up` says its services listen (not secret)
MIN_PASSPHRASE = 12


def read_passphrase(confirm: bool, stdin: TextIO | None = None) -> str:
    """The passphrase from the terminal (asked twice when new) or the first line of stdin."""
    stdin = stdin or sys.stdin
    if not stdin.isatty():
        passphrase = stdin.readline().rstrip("\n")
    else:
        passphrase = getpass.getpass("Passphrase: ")
        if confirm and getpass.getpass("Passphrase again: ") != passphrase:
            raise CliError("the passphrases differ")
    if confirm and len(passphrase) < MIN_PASSPHRASE:
        raise CliError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    return passphrase


@dataclass(frozen=True)
class KmsOptions:
    """`--kms-url`, `--kms-key`, `--kms-token-file`: the KMS that wraps a new seal's root key."""

    url: str = ""
    key: str = ""
    token_file: Path | None = None

    def __post_init__(self) -> None:
        if bool(self.url) != bool(self.key) or (self.url and self.token_file is None):
            raise CliError("--kms-url, --kms-key and --kms-token-file go together")
        if self.url:
            self.provider().close()  # a bad URL or key name fails now, before any question

    def provider(self) -> VaultTransitKekProvider:
        """The KMS, with the operator's token (it needs `read` and `encrypt` on the key)."""
        assert self.token_file is not None
        try:
            return VaultTransitKekProvider(self.url, self.key, self.token_file)
        except ValueError as exc:
            raise CliError(str(exc)) from None

    def service_env(self, services: tuple[str, ...]) -> dict[str, str]:
        """Each service's `SEAL_KMS_TOKEN_FILE`, for `service_env`'s shared values."""
        if self.token_file is None:
            return {}
        path = str(self.token_file.resolve())
        return {f"{name.upper()}_SEAL_KMS_TOKEN_FILE": path for name in services}

    def check_against(self, document: sealfile.SealDocument) -> None:
        """A seal exists: the URL and key, if given, must be the ones it was made with."""
        named = document.kms or {}
        url = self.url.rstrip("/")
        if self.url and (named.get("url"), named.get("key")) != (url, self.key):
            raise CliError("--kms-url and --kms-key apply when the seal is made; this seal differs")


def open_or_create(
    data_dir: Path,
    *,
    sealed: bool,
    threshold: int,
    count: int,
    out: TextIO,
    kms: KmsOptions | None = None,
) -> bytes | None:
    """The root key for setting up this start, or None (sealed and not created now).

    First start: development mode (root key beside the data, said loudly) unless `sealed`,
    where the operator chooses a passphrase and the trustees' shares are printed once; with
    `kms`, the root key is also wrapped by that KMS so that the services unseal themselves.
    """
    kms = kms or KmsOptions()
    if kms.url and not sealed:
        raise CliError("a KMS seals a network started with --sealed")
    path = data_dir / sealfile.SEAL_FILE
    document = sealfile.load(path)
    if document is not None:
        kms.check_against(document)
        if document.dev and sealed:
            raise CliError(
                f"{data_dir} is in development mode (its root key is beside the data): "
                "start a sealed network on a new data directory"
            )
        return sealfile.read_dev_root(path) if document.dev else None
    if not sealed:
        created = sealfile.create(path, dev=True)
        print(
            "lifeline: DEVELOPMENT MODE: the root key that seals every key is kept in the clear "
            f"at {path.parent / sealfile.DEV_ROOT_KEY_FILE}; use `lifeline up --sealed` in "
            "production (docs/sealing.md)",
            file=out,
            flush=True,
        )
        return created.root
    passphrase = read_passphrase(True)
    provider = kms.provider() if kms.url else None
    try:
        created = sealfile.create(
            path,
            passphrase=passphrase,
            threshold=threshold,
            count=count,
            kms=wrapper(provider) if provider else None,
        )
    finally:
        if provider:
            provider.close()
    by_kms = f"; the services unseal themselves with the KMS {kms.url}" if kms.url else ""
    lines = [
        f"lifeline: sealed: a new root key{by_kms}; unseal with the passphrase or {threshold} of "
        f"these {count} shares. Give one to each trustee now: they are shown once and stored "
        "nowhere.",
        *(f"share {n}: {share}" for n, share in enumerate(created.shares, 1)),
    ]
    print("\n".join(lines), file=out, flush=True)
    return created.root


def development_keys(data_dir: Path) -> dict[str, str]:
    """Create sharing's sealing keys on first run; intake pins their fingerprints.

    Sealed and restarted, the supervisor holds no root key: it pins what it recorded when it
    last could open the key store (a public file; sharing's keys stay sealed).
    """
    from services.sharing.vault.keys.keystore import HpkeKeyStore

    pins = data_dir / "sharing-hpke.pins"
    if seal_root.current() is not None or not (data_dir / sealfile.SEAL_FILE).exists():
        store = HpkeKeyStore.open(data_dir / "keys" / "sharing-hpke.json")
        fingerprints = ",".join(k["fingerprint"] for k in store.public_keys())
        write_private(pins, fingerprints.encode(), seal=False)
    else:
        fingerprints = read_private(pins, seal=False).decode()
    return {"INTAKE_SHARING_HPKE_FINGERPRINTS": fingerprints}


@contextlib.contextmanager
def holding(root: bytes | None) -> Iterator[None]:
    """Hold the root key (if any) only while the bus's and sharing's first keys are made."""
    before = seal_root.current()
    if root is None:
        yield
        return
    seal_root.activate(root)
    try:
        yield
    finally:
        if before is None:
            seal_root.forget()
        else:
            seal_root.activate(before)


def save_urls(data_dir: Path, urls: dict[str, str]) -> None:
    """Record where the services listen, for `lifeline unseal`."""
    write_private(data_dir / NETWORK_FILE, json.dumps(urls).encode(), seal=False)


def load_urls(data_dir: Path) -> dict[str, str]:
    """The services' URLs `lifeline up` recorded."""
    try:
        urls: dict[str, str] = json.loads(read_private(data_dir / NETWORK_FILE, seal=False))
    except (OSError, ValueError, sealfile.SealFileError) as exc:
        raise CliError(f"no running network recorded in {data_dir}: {exc}") from None
    return urls


def unseal_all(
    urls: dict[str, str], requests: list[dict[str, Any]], say: Callable[[str], None]
) -> None:
    """Send each request to every sealed service in turn, reporting progress."""
    with httpx.Client(timeout=30) as http:
        for name, url in urls.items():
            status = _call(http, "GET", f"{url}{STATUS_PATH}", name)
            if not status["sealed"]:
                say(f"{name}: unsealed already")
                continue
            for body in requests:
                status = _call(http, "POST", f"{url}{UNSEAL_PATH}", name, body)
                if not status["sealed"]:
                    break
                say(f"{name}: {status['progress']}/{status['threshold']} shares")
            if status["sealed"]:
                _call(http, "POST", f"{url}{UNSEAL_PATH}", name, {"reset": True})
                raise CliError(f"{name} is still sealed: not enough shares")
            say(f"{name}: unsealed")


def _call(
    http: httpx.Client, method: str, url: str, name: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    try:
        resp = http.request(method, url, json=body)
    except httpx.HTTPError as exc:
        raise CliError(
            f"{name} does not answer at {url}: {type(exc).__name__}",
            for_exception(exc),
            code="unreachable",
        ) from None
    if resp.status_code != 200:
        try:
            detail = resp.json().get("detail", resp.text)
        except ValueError:
            detail = resp.text
        raise CliError(f"{name}: {detail}", for_status(resp.status_code), status=resp.status_code)
    answer: dict[str, Any] = resp.json()
    return answer
