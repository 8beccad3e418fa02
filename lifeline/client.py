"""What the CLI's network commands share: key passphrases, signed-in HTTP, one-line errors."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.common.auth.scopes import TOKEN_PATH
from libs.common.errors import LifelineError
from libs.sdk import (
    BearerAuth,
    TokenRequestError,
    TokenSource,
    load_private_key,
    save_private_key,
)
from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.exits import Exit, for_exception, for_status
from lifeline.cli.profile import add_profile_option, load_profile, profile_path

PASSPHRASE_ENV = "LIFELINE_KEY_PASSPHRASE"  # noqa: S105 - a variable name
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], sharing_url: str = "sharing") -> T:
    """Run one command's network work; failures become one actionable line."""
    try:
        return asyncio.run(coro)
    except (httpx.HTTPError, TokenRequestError) as exc:
        raise as_cli_error(exc, sharing_url) from None


def as_cli_error(exc: BaseException, sharing_url: str = "sharing") -> CliError:
    """Any error below a command as a CliError: its words, machine code and exit status."""
    if isinstance(exc, CliError):
        return exc
    exit_code = for_exception(exc)
    if isinstance(exc, httpx.HTTPStatusError):
        return api_error(exc.response)
    if isinstance(exc, httpx.HTTPError):
        where = exc.request.url.copy_with(query=None) if _has_request(exc) else "the server"
        return CliError(
            f"cannot reach {where}: {type(exc).__name__}", exit_code, code="unreachable"
        )
    if isinstance(exc, TokenRequestError):
        return CliError(
            token_refusal(exc, sharing_url),
            exit_code,
            code=exc.oauth_error or ("unreachable" if exc.http_status is None else exc.code),
            status=exc.http_status,
        )
    if isinstance(exc, LifelineError):
        # Raised on this machine (a key file, a secret file): no HTTP status to report.
        return CliError(str(exc), exit_code, code=exc.code, fields=exc.fields)
    if isinstance(exc, OSError):
        return CliError(str(exc), exit_code, code=type(exc).__name__)
    return CliError(f"{type(exc).__name__}: {exc}", exit_code)


def token_refusal(exc: TokenRequestError, sharing_url: str = "sharing") -> str:
    """Why no token was issued, in words a partner can act on."""
    if exc.http_status is None:
        return f"cannot reach the token endpoint at {sharing_url}"
    if exc.oauth_error == "invalid_client":
        return (
            "sharing refused these credentials (invalid_client): the client id or key is not "
            "registered, or the key, client or partner was revoked, disabled or has expired"
        )
    return f"sharing refused the token request (HTTP {exc.http_status}, {exc.oauth_error})"


def _has_request(exc: httpx.HTTPError) -> bool:
    try:
        exc.request  # noqa: B018 - raises RuntimeError when the error has no request
    except RuntimeError:
        return False
    return True


def add_passphrase_options(parser: argparse.ArgumentParser, *, new_key: bool = False) -> None:
    """`--passphrase-file` (and `--no-passphrase` when a key is being created)."""
    parser.add_argument(
        "--passphrase-file",
        metavar="PATH",
        help=f"read the key passphrase from this file (else ${PASSPHRASE_ENV}, else a prompt)",
    )
    if new_key:
        parser.add_argument(
            "--no-passphrase", action="store_true", help="store the private key unencrypted"
        )


def _given_passphrase(args: argparse.Namespace) -> str | None:
    path = getattr(args, "passphrase_file", None)
    if path:
        try:
            return Path(path).read_text().rstrip("\r\n")
        except OSError as exc:
            raise CliError(
                f"cannot read the passphrase file: {exc.strerror}", Exit.CONFIG, code="passphrase"
            ) from None
    return os.environ.get(PASSPHRASE_ENV) or None


def new_key_passphrase(args: argparse.Namespace) -> str | None:
    """The passphrase for a key about to be written; prompts (twice) on a terminal."""
    if getattr(args, "no_passphrase", False):
        return None
    given = _given_passphrase(args)
    if given is not None or not sys.stdin.isatty():
        return given
    first = getpass.getpass("Passphrase for the new key (empty for none): ")
    if first and getpass.getpass("Repeat the passphrase: ") != first:
        raise CliError("the passphrases differ")
    return first or None


def write_new_key(
    key: Ed25519PrivateKey, path: Path, args: argparse.Namespace, *, overwrite: bool = False
) -> bool:
    """Save a new private key (0600, atomic) under the chosen passphrase; True if encrypted."""
    passphrase = new_key_passphrase(args)
    save_private_key(key, path, passphrase, overwrite=overwrite)
    if passphrase is None:
        print(f"note: {path} is stored without a passphrase", file=sys.stderr)
    return passphrase is not None


def load_key(path: Path, args: argparse.Namespace) -> Ed25519PrivateKey:
    """Load a private key, asking for its passphrase only if it is encrypted."""
    try:
        encrypted = b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    except OSError as exc:
        raise CliError(
            f"cannot read the key file {path}: {exc.strerror}", Exit.CONFIG, code="key_file"
        ) from None
    passphrase = _given_passphrase(args) if encrypted else None
    if encrypted and passphrase is None:
        if not sys.stdin.isatty():
            raise CliError(
                f"the key is encrypted: give --passphrase-file or ${PASSPHRASE_ENV}",
                Exit.CONFIG,
                code="passphrase",
            )
        passphrase = getpass.getpass(f"Passphrase for {path}: ")
    return load_private_key(path, passphrase)


def error_code(body: Any) -> str | None:
    """The machine-readable code of an error body: RFC 9457 `code`, or the older `error`."""
    if not isinstance(body, dict):
        return None
    code = body.get("code", body.get("error"))
    return code if isinstance(code, str) else None


def api_error(response: httpx.Response) -> CliError:
    """A failed API call as one line: status, error code and the server's explanation."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    # A problem (RFC 9457) names its code in `code`; the token endpoint (RFC 6749) in `error`.
    code = error_code(body) or "error"
    detail = body.get("detail") or body.get("error_description") or response.reason_phrase
    fields = [f for f in body.get("fields") or [] if isinstance(f, dict)]
    where = "; ".join(f"{f.get('path')}: {f.get('reason')}" for f in fields)
    rid = body.get("request_id") or response.headers.get("x-request-id")
    return CliError(
        f"HTTP {response.status_code} {code}: {detail}"
        + (f" ({where})" if where else "")
        + (f" [request {rid}]" if isinstance(rid, str) else ""),
        for_status(response.status_code),
        code=code,
        status=response.status_code,
        fields=fields,
    )


class Api:
    """JSON calls to one service with a client's access tokens (refreshed and retried once)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON answer of a 2xx response; any other status is a CliError."""
        response = await self.http.request(method, self.base_url + path, **kwargs)
        if not response.is_success:
            raise api_error(response)
        return response.json()


@asynccontextmanager
async def signed_in(
    sharing_url: str,
    client_id: str,
    key: Ed25519PrivateKey,
    *,
    scopes: Iterable[str] = (),
    audiences: Iterable[str] = (),
) -> AsyncIterator[tuple[httpx.AsyncClient, TokenSource]]:
    """An HTTP client that sends this client's access tokens, and the token source behind it."""
    async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as http:
        source = TokenSource(
            http,
            token_endpoint=sharing_url.rstrip("/") + TOKEN_PATH,
            client_id=client_id,
            private_key=key,
            scopes=scopes,
            audiences=audiences,
        )
        http.auth = BearerAuth(source)
        yield http, source


def emit(args: argparse.Namespace, data: Any, human: Callable[[], str]) -> None:
    """JSON for scripts (`--json`), or the human rendering."""
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(human())


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Rows as aligned columns, or a note that there are none."""
    if not rows:
        return "(none)"
    cells = [[str(row.get(c) if row.get(c) is not None else "-") for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def command(
    actions: Subparsers, name: str, text: str, func: Any, aliases: list[str] | None = None
) -> argparse.ArgumentParser:
    """A command that signs in with the profile's client: profile, passphrase and --json options."""
    p = actions.add_parser(
        name, help=text, description=text[0].upper() + text[1:] + ".", aliases=aliases or []
    )
    add_profile_option(p)
    add_passphrase_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=func)
    return p


def as_profile_client(
    args: argparse.Namespace,
    work: Callable[[Api], Coroutine[Any, Any, T]],
    *,
    scopes: Iterable[str] = (),
) -> T:
    """Run `work` against sharing as the profile's client (asking for `scopes`, or all it has)."""
    profile = load_profile(profile_path(args))
    client_id, key_path = profile.require_client()
    key = load_key(key_path, args)

    async def signed() -> T:
        async with signed_in(
            profile.sharing_url, client_id, key, scopes=scopes, audiences=["lifeline-sharing"]
        ) as (http, _):
            return await work(Api(http, profile.sharing_url))

    return run(signed(), profile.sharing_url)
