"""What every lawyer command shares: its options, and calls to alerts signed in as the profile."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.profile import add_profile_option, load_profile, profile_path
from lifeline.client import Api, add_passphrase_options, load_key, run, signed_in
from lifeline.pages import every_item, walk


def leaf(actions: Subparsers, name: str, text: str, func: Any) -> argparse.ArgumentParser:
    """A lawyer command: profile, passphrase and --json options."""
    p = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
    add_profile_option(p)
    add_passphrase_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=func)
    return p


@asynccontextmanager
async def lawyer_api(
    args: argparse.Namespace, scopes: list[str]
) -> AsyncIterator[tuple[Api, httpx.AsyncClient]]:
    """Alerts' API (and sharing's, for tokenisation) signed in as the profile's client."""
    profile = load_profile(profile_path(args))
    if not profile.alerts_url:
        raise CliError("the profile has no alerts URL: run `lifeline profile set --alerts-url ...`")
    client_id, key_path = profile.require_client()
    key = args.loaded_key if hasattr(args, "loaded_key") else load_key(key_path, args)
    async with signed_in(profile.sharing_url, client_id, key, scopes=scopes) as (http, _):
        http.base_url = profile.sharing_url  # tokenise_identities talks to sharing's OPRF
        yield Api(http, profile.alerts_url), http


def call(args: argparse.Namespace, scopes: list[str], method: str, path: str, **kw: Any) -> Any:
    """One alerts API call as the profile's client."""
    preload_key(args)

    async def go() -> Any:
        async with lawyer_api(args, scopes) as (api, _):
            return await api.call(method, path, **kw)

    return run(go(), load_profile(profile_path(args)).sharing_url)


def lawyer_walk(
    args: argparse.Namespace, scopes: list[str], path: str, params: dict[str, Any], key: str
) -> tuple[list[Any], str | None]:
    """One page of an alerts list (every page with `--all`) and the cursor of the next."""
    preload_key(args)

    async def go() -> tuple[list[Any], str | None]:
        async with lawyer_api(args, scopes) as (api, _):
            return await walk(api.http, api.base_url + path, params, key=key, every=args.all)

    return run(go(), load_profile(profile_path(args)).sharing_url)


def preload_key(args: argparse.Namespace) -> None:
    """Load the private key (asking for its passphrase) before any network work starts."""
    _, key_path = load_profile(profile_path(args)).require_client()
    args.loaded_key = load_key(key_path, args)


def all_entries(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every entry of the caller (all pages)."""
    preload_key(args)

    async def go() -> list[dict[str, Any]]:
        async with lawyer_api(args, ["watchlist:manage"]) as (api, _):
            params = {"limit": 1000}
            return await every_item(api, "/v1/watchlist/entries", params, key="entries")

    return run(go(), load_profile(profile_path(args)).sharing_url)
