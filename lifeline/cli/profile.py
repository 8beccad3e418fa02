"""`lifeline profile`: the small file that says which network and which client the CLI uses.

It holds server URLs, the client id and the path of the private key: never a secret (the key
file is separate and 0600; its passphrase is asked for, read from a file or from the
environment, and never stored).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from libs.common.secretfile import write_private
from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.exits import Exit

PROFILE_ENV = "LIFELINE_PROFILE"
DEFAULT_SHARING_URL = "http://127.0.0.1:8102"
# Where `lifeline up` puts the other services: a profile on the local network needs no URLs.
LOCAL_URLS = {"intake_url": "http://127.0.0.1:8101", "alerts_url": "http://127.0.0.1:8103"}


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/lifeline`, or `~/.config/lifeline`."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lifeline"


@dataclass(frozen=True)
class Profile:
    """Where the network is and who this CLI acts as."""

    sharing_url: str = DEFAULT_SHARING_URL
    intake_url: str = ""
    alerts_url: str = ""
    client_id: str = ""
    key_path: str = ""

    def service_urls(self) -> dict[str, str]:
        """The URL of each service this profile knows."""
        urls = {"sharing": self.sharing_url, "intake": self.intake_url, "alerts": self.alerts_url}
        return {name: url for name, url in urls.items() if url}

    def require_client(self) -> tuple[str, Path]:
        """The client id and key path, or one line saying how to set them."""
        if not self.client_id or not self.key_path:
            raise CliError(
                "no client in this profile: run `lifeline login --client-id ... --key ...`",
                Exit.CONFIG,
                code="no_client",
            )
        return self.client_id, Path(self.key_path)


def profile_path(args: argparse.Namespace) -> Path:
    """`--profile`, else `$LIFELINE_PROFILE`, else the default under the config directory."""
    chosen = getattr(args, "profile", None) or os.environ.get(PROFILE_ENV)
    return Path(chosen).expanduser() if chosen else config_dir() / "profile.json"


def load_profile(path: Path) -> Profile:
    """The profile at `path`, or the defaults if there is none yet."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return _local_defaults(Profile())
    except (OSError, ValueError) as exc:
        raise CliError(
            f"cannot read the profile {path}: {exc}", Exit.CONFIG, code="profile"
        ) from None
    known = {f.name for f in fields(Profile)}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise CliError(f"the profile {path} is not a Lifeline profile", Exit.CONFIG, code="profile")
    return _local_defaults(Profile(**{k: v for k, v in data.items() if k in known}))


def _local_defaults(profile: Profile) -> Profile:
    """On the local network, an unset service URL is where `lifeline up` puts that service."""
    if profile.sharing_url != DEFAULT_SHARING_URL:
        return profile
    return replace(profile, **{k: v for k, v in LOCAL_URLS.items() if not getattr(profile, k)})


def save_profile(path: Path, profile: Profile) -> None:
    """Write the profile (0600: it names the key file, which is nobody else's business)."""
    write_private(path, (json.dumps(asdict(profile), indent=2) + "\n").encode())


def updated(profile: Profile, args: argparse.Namespace) -> Profile:
    """`profile` with whatever URL, client id or key path the command line gave."""
    changes = {}
    for name in ("sharing_url", "intake_url", "alerts_url", "client_id"):
        value = getattr(args, name, None)
        if value:
            changes[name] = value.rstrip("/") if name.endswith("_url") else value
    key = getattr(args, "key", None)
    if key:
        changes["key_path"] = str(Path(key).expanduser().resolve())
    if changes.get("sharing_url", DEFAULT_SHARING_URL) != DEFAULT_SHARING_URL:
        # Another network: the local defaults are not its services.
        for name, local in LOCAL_URLS.items():
            if getattr(profile, name) == local and name not in changes:
                changes[name] = ""
    return _local_defaults(replace(profile, **changes))


def add_profile_option(parser: argparse.ArgumentParser) -> None:
    """`--profile PATH` on a command that reads or writes the profile."""
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help=f"profile file (default: ${PROFILE_ENV} or ~/.config/lifeline/profile.json)",
    )


def add_url_options(parser: argparse.ArgumentParser) -> None:
    """`--sharing-url`, `--intake-url`, `--alerts-url` overriding the profile."""
    parser.add_argument("--sharing-url", metavar="URL", help="sharing's base URL")
    parser.add_argument("--intake-url", metavar="URL", help="intake's base URL")
    parser.add_argument("--alerts-url", metavar="URL", help="alerts' base URL")


def register(sub: Subparsers) -> None:
    """Add `lifeline profile show|set`."""
    p = sub.add_parser("profile", help="show or change the CLI profile (URLs, client id, key path)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="print the profile", description="Print the profile.")
    add_profile_option(show)
    show.add_argument("--json", action="store_true", help="print JSON (the default)")
    show.set_defaults(func=_show)
    edit = actions.add_parser(
        "set", help="change profile values", description="Change URLs, client id or key path."
    )
    add_profile_option(edit)
    add_url_options(edit)
    edit.add_argument("--client-id", help="the client id the administrator gave you")
    edit.add_argument("--key", metavar="PATH", help="your private key file")
    edit.add_argument("--json", action="store_true", help="print the saved profile as JSON")
    edit.set_defaults(func=_set)


def _show(args: argparse.Namespace) -> int:
    path = profile_path(args)
    # Already JSON for a human: with or without --json, the same document.
    print(json.dumps({"path": str(path), **asdict(load_profile(path))}, indent=2, sort_keys=True))
    return 0


def _set(args: argparse.Namespace) -> int:
    path = profile_path(args)
    profile = updated(load_profile(path), args)
    save_profile(path, profile)
    if getattr(args, "json", False):
        print(json.dumps({"path": str(path), **asdict(profile)}, indent=2, sort_keys=True))
    else:
        print(f"profile saved: {path}")
    return 0
