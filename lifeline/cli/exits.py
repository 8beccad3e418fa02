"""The `lifeline` command's exit statuses: one registry, BSD `sysexits.h` values where one fits.

Scripts branch on these, so a value never changes meaning; `lifeline --help` and the README
print the table from `MEANINGS`.
"""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """Why `lifeline` stopped (sysexits names in the comments)."""

    OK = 0
    FAILURE = 1  # unexpected: a bug, or a failure no other status describes
    PARTIAL = 3  # some rows accepted, others rejected or not delivered
    USAGE = 64  # EX_USAGE: the command line is wrong (or a confirmation is missing)
    REJECTED = 65  # EX_DATAERR: the input was refused (invalid report, bad value, conflict)
    NOT_FOUND = 66  # EX_NOINPUT: no such report, resource or input file (or erased)
    UNREACHABLE = 69  # EX_UNAVAILABLE: a server does not answer, times out, or answers 502-504
    RATE_LIMITED = 75  # EX_TEMPFAIL: too many requests; try again later
    AUTH = 77  # EX_NOPERM: credentials refused (401, unknown or revoked key) or forbidden (403)
    CONFIG = 78  # EX_CONFIG: the profile or the key file is missing or unusable
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


MEANINGS: dict[Exit, str] = {
    Exit.OK: "success",
    Exit.FAILURE: "unexpected failure",
    Exit.PARTIAL: "partial success: some rows accepted, others rejected or not delivered",
    Exit.USAGE: "usage error (also: no command given, or --yes missing without a terminal)",
    Exit.REJECTED: "input rejected (every row invalid, or HTTP 400/409/413/422)",
    Exit.NOT_FOUND: "not found or erased (HTTP 404/410, or a missing input file)",
    Exit.UNREACHABLE: "server unreachable, timed out, or unavailable (HTTP 502/503/504)",
    Exit.RATE_LIMITED: "rate limited (HTTP 429): try again later",
    Exit.AUTH: "authentication or permission refused (HTTP 401/403, invalid_client)",
    Exit.CONFIG: "profile or key file missing, unusable, or in the way (keygen never overwrites)",
    Exit.INTERRUPTED: "interrupted (Ctrl-C)",
}


def for_status(status: int) -> Exit:
    """The exit status for an HTTP answer that was not a success."""
    if status in (401, 403):
        return Exit.AUTH
    if status in (404, 410):
        return Exit.NOT_FOUND
    if status == 429:
        return Exit.RATE_LIMITED
    if status in (502, 503, 504):
        return Exit.UNREACHABLE
    if 400 <= status < 500:
        return Exit.REJECTED
    return Exit.FAILURE


def for_token_refusal(http_status: int | None, oauth_error: str | None) -> Exit:
    """The exit status when sharing issued no access token."""
    if http_status is None:
        return Exit.UNREACHABLE
    if oauth_error in ("invalid_client", "invalid_scope", "unauthorized_client"):
        # RFC 6749 answers these with 400 or 401: either way the credentials are refused.
        return Exit.AUTH
    return for_status(http_status)


def for_exception(exc: BaseException) -> Exit:
    """The exit status for an error raised below the command (HTTP, SDK, service, OS)."""
    # Imported here: `lifeline up`'s supervisor uses the statuses and never these (httpx, the
    # SDK's PyJWT and cryptography: ~15 MB for as long as the network runs).
    import httpx

    from libs.common.errors import LifelineError
    from libs.sdk import TokenRequestError
    from libs.sdk.credentials import CredentialError

    if isinstance(exc, TokenRequestError):
        return for_token_refusal(exc.http_status, exc.oauth_error)
    if isinstance(exc, httpx.HTTPStatusError):
        return for_status(exc.response.status_code)
    if isinstance(exc, httpx.HTTPError):
        return Exit.UNREACHABLE
    if isinstance(exc, CredentialError):
        return Exit.CONFIG  # a key file this machine cannot read or trust
    if isinstance(exc, LifelineError):
        return for_status(exc.status)
    if isinstance(exc, FileNotFoundError):
        return Exit.NOT_FOUND
    return Exit.FAILURE


def for_batch(*, delivered: int, rejected: int, failed: int) -> Exit:
    """A batch (report rows, watchlist lines): all in, some in, or none in and why not."""
    if not rejected and not failed:
        return Exit.OK
    if delivered:
        return Exit.PARTIAL
    return Exit.UNREACHABLE if failed else Exit.REJECTED


def table() -> str:
    """The exit statuses as the lines of `lifeline --help`'s epilog."""
    return "\n".join(f"  {int(code):>3}  {text}" for code, text in MEANINGS.items())
