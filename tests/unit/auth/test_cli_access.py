"""The access commands offline: keygen's files and output, the profile, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from libs.common.auth.jwk import parse_public_key_text
from libs.sdk import fingerprint, load_private_key, public_key_text
from lifeline.cli.main import main
from lifeline.cli.profile import LOCAL_URLS, Profile, load_profile, save_profile
from services.sharing.settings import SharingSettings

LIFELINE = str(Path(sys.executable).parent / "lifeline")


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    return json.loads(capsys.readouterr().out)


def test_keygen_writes_a_private_0600_key_and_prints_only_public_material(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "keys" / "me.pem"
    assert main(["keygen", "--out", str(out), "--no-passphrase", "--json"]) == 0
    data = _json(capsys)
    assert out.stat().st_mode & 0o777 == 0o600
    key = load_private_key(out)
    assert data["public_key"] == public_key_text(key)
    assert data["fingerprint"] == fingerprint(key)
    assert parse_public_key_text(str(data["public_key"])) is not None
    assert "PRIVATE" not in json.dumps(data) and "d" not in data["public_jwk"]  # type: ignore[operator]
    # An existing key is never silently replaced.
    assert main(["keygen", "--out", str(out), "--no-passphrase"]) == 78  # key file in the way
    assert "already exists" in capsys.readouterr().err
    assert main(["keygen", "--out", str(out), "--no-passphrase", "--force", "--json"]) == 0
    assert _json(capsys)["public_key"] != data["public_key"]


def test_keygen_with_a_passphrase_file_encrypts_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "pass"
    secret.write_text("correct horse battery\n")
    out = tmp_path / "me.pem"
    assert main(["keygen", "--out", str(out), "--passphrase-file", str(secret), "--json"]) == 0
    assert _json(capsys)["encrypted"] is True
    assert b"ENCRYPTED PRIVATE KEY" in out.read_bytes()
    assert load_private_key(out, "correct horse battery")
    monkeypatch.setenv("LIFELINE_KEY_PASSPHRASE", "from the environment")
    env_out = tmp_path / "env.pem"
    assert main(["keygen", "--out", str(env_out), "--json"]) == 0
    assert load_private_key(env_out, "from the environment")


def test_the_profile_holds_no_secret_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "profile.json"
    # No profile yet: the local network's services, where `lifeline up` puts them.
    assert load_profile(path) == Profile(**LOCAL_URLS)
    profile = Profile("http://127.0.0.1:9", client_id="cli_1", key_path="/k.pem")
    save_profile(path, profile)
    assert load_profile(path) == profile
    assert path.stat().st_mode & 0o777 == 0o600
    assert set(json.loads(path.read_text())) == {
        "sharing_url", "intake_url", "alerts_url", "client_id", "key_path",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["login", "--profile", "{tmp}/none.json"], 78),  # no client in the profile
        (["admin", "partner", "list", "--profile", "{tmp}/none.json"], 78),
        (["admin", "init", "--data-dir", "{tmp}/empty", "--profile", "{tmp}/p.json"], 66),
        (
            [
                "login",
                "--profile",
                "{tmp}/p.json",
                "--client-id",
                "cli_x",
                "--key",
                "{tmp}/missing.pem",
            ],
            78,  # the key file
        ),
        (["profile", "show", "--profile", "{tmp}/garbage.json"], 78),
    ],
)
def test_mistakes_are_one_line_without_a_traceback(
    tmp_path: Path, argv: list[str], status: int
) -> None:
    (tmp_path / "garbage.json").write_text("[1, 2")
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    result = subprocess.run(
        [LIFELINE, *args], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )
    assert result.returncode == status, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lifeline: error:"), result.stderr
    assert "Traceback" not in result.stderr


def test_the_token_endpoint_url_comes_from_the_public_url(tmp_path: Path) -> None:
    settings = SharingSettings(data_dir=tmp_path, port=9999, public_url="https://sharing.example/")
    assert settings.token_endpoint() == "https://sharing.example/v1/auth/token"
    assert (
        SharingSettings(data_dir=tmp_path, port=9).token_endpoint()
        == "http://127.0.0.1:9/v1/auth/token"
    )
