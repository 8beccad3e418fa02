"""The NGO client end to end: a CSV with plain names goes in, only tokens ever leave the laptop."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from libs.sdk import save_private_key
from libs.sdk.report_files import parse
from libs.sdk.submit import StateFile
from lifeline.cli.profile import Profile, save_profile
from lifeline.cli.report import _submit
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.sharing.app import create_app as sharing_app
from services.sharing.settings import SharingSettings
from services.sharing.vault.keys.keystore import HpkeKeyStore
from tests.support.access import bootstrap_admin, register_client
from tests.support.natsd import NatsServer
from tests.support.servers import in_process_settings, serve, service_settings

LIFELINE = str(Path(sys.executable).parent / "lifeline")
NAMES = ("Скорякин", "SKORIAKIN", "Aida Nurlanovna", "Нурлановна")
CSV = (
    "client_report_id,incident_type,legal_basis,occurred_at,country,locality,facility_kind,tlp,narrative,person_name,person_dob\n"
    "kg-1,detention,cis_interstate_search,2026-11-20,KG,Bishkek,airport,AMBER,Held at passport control,Лев Скорякин,14.03.1999\n"
    "kz-2,deportation,administrative,2026-11-18,KZ,Almaty,street,GREEN,Put on a plane,Aida Nurlanovna,1990\n"
    "bad-3,detention,cis_interstate_search,2999-01-01,KG,Osh,airport,AMBER,x,SKORIAKIN LEV,1999-03-14\n"
)


@asynccontextmanager
async def ngo_network(
    nats_url: str, db_url_factory, tmp_path: Path, *, wire: bool
) -> AsyncIterator[tuple[Profile, Path]]:  # type: ignore[no-untyped-def]
    """Sharing and intake (in process unless `wire`) and an NGO's profile for them."""
    make = service_settings if wire else in_process_settings
    s_set = make(SharingSettings, tmp_path / "sharing", nats_url, db_url_factory("sharing"))
    async with serve(sharing_app, s_set) as (sharing_url, _), httpx.AsyncClient() as http:
        admin = await bootstrap_admin(http, sharing_url, s_set.data_dir)
        ngo = await register_client(http, admin, ["reports:submit"])
        fingerprint = (
            HpkeKeyStore.open(s_set.resolved_hpke_key_file()).active().public_view()["fingerprint"]
        )
        i_set = make(
            IntakeSettings,
            tmp_path / "intake",
            nats_url,
            db_url_factory("intake"),
            sharing_url=sharing_url,
            sharing_hpke_fingerprints=fingerprint,
        )
        async with serve(intake_app, i_set) as (intake_url, _):
            key_file = tmp_path / "ngo.key"
            save_private_key(ngo.key, key_file)
            profile = Profile(
                sharing_url=sharing_url,
                intake_url=intake_url,
                client_id=ngo.client_id,
                key_path=str(key_file),
            )
            yield profile, tmp_path


@pytest.fixture
async def network(nats_server: NatsServer, db_url_factory, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The network in process: the SDK runs in this event loop."""
    async with ngo_network(nats_server.url, db_url_factory, tmp_path, wire=False) as net:
        yield net


@pytest.fixture
async def wire_network(nats_server: NatsServer, db_url_factory, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The network under uvicorn: the `lifeline` CLI, a subprocess, talks to it."""
    async with ngo_network(nats_server.url, db_url_factory, tmp_path, wire=True) as net:
        yield net


async def test_only_tokens_leave_the_client(
    network, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    profile, tmp_path = network
    caplog.set_level("DEBUG")
    sent: list[bytes] = []
    real_send = httpx.AsyncClient.send

    async def spy(self: httpx.AsyncClient, request: httpx.Request, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(request.url.raw_path + b" " + request.content)
        return await real_send(self, request, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", spy)
    drafts, rejected = parse(CSV, "csv")
    assert [r.client_report_id for r in rejected] == ["bad-3"]
    from libs.sdk import load_private_key

    key = load_private_key(profile.key_path)
    state = StateFile(tmp_path / "state.jsonl")
    outcome = await _submit(profile, profile.client_id, key, drafts, state, concurrency=4)
    assert len(outcome.accepted) == 2 and not outcome.rejected
    traffic = b"\n".join(sent).decode(errors="replace")
    assert "/v1/identity/evaluate" in traffic and "/v1/reports" in traffic
    logs = "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    for name in NAMES:
        assert name not in traffic, f"{name} was sent"
        assert name not in logs, f"{name} was logged"
    assert "1999" not in traffic.split("/v1/reports", 1)[1]  # nor the date of birth

    # Re-running the same batch submits nothing twice.
    again = await _submit(profile, profile.client_id, key, drafts, state, concurrency=4)
    assert again.accepted == [] and sorted(again.skipped) == ["kg-1", "kz-2"]


async def test_cli_submit_summary_and_resume(wire_network) -> None:  # type: ignore[no-untyped-def]
    profile, tmp_path = wire_network
    profile_file = tmp_path / "profile.json"
    save_profile(profile_file, profile)
    reports = tmp_path / "reports.csv"
    reports.write_text(CSV)
    env = {**os.environ, "LIFELINE_PROFILE": str(profile_file)}
    argv = [LIFELINE, "report", "submit", str(reports), "--json"]
    # The servers run in this event loop: the CLI must run beside it, not block it.
    dry = await _run([*argv, "--dry-run"], env)
    checked = json.loads(dry.stdout)
    assert dry.returncode == 3 and checked["dry_run"] is True, dry.stderr
    assert checked["valid"] == 2 and [r["client_report_id"] for r in checked["rejected"]] == [
        "bad-3"
    ]
    first = await _run(argv, env, tty=True)  # accepts both: the dry run sent and recorded nothing
    summary = json.loads(first.stdout)
    assert first.returncode == 3, first.stderr  # partial: one row was rejected
    assert summary["accepted"] == 2 and summary["rejected"][0]["client_report_id"] == "bad-3"
    assert "occurred_at" in summary["rejected"][0]["reasons"][0]
    # On a terminal, a progress bar is drawn in place on stderr and its line is ended…
    assert first.stderr.startswith("\r[" + "." * 30 + "] 0/2"), first.stderr
    assert first.stderr.endswith("\r[" + "#" * 30 + "] 2/2\n"), first.stderr
    second = await _run(argv, env)
    assert json.loads(second.stdout)["skipped"] == 2
    assert second.stderr == ""  # …and never into a pipe or a log file
    # Killed after intake accepted a row but before the state file recorded it: the re-run
    # sends that row again and intake answers with the same report id, creating nothing.
    state = reports.with_name(reports.name + ".lifeline-state.jsonl")
    lines = state.read_text().splitlines()
    state.write_text("\n".join(lines[:-1]) + "\n")
    third = await _run(argv, env)
    resumed = json.loads(third.stdout)
    assert (resumed["accepted"], resumed["duplicates"], resumed["skipped"]) == (0, 1, 1)
    for name in NAMES:
        assert name not in first.stdout + first.stderr + second.stdout + second.stderr


async def _run(
    argv: list[str], env: dict[str, str], *, tty: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the CLI; with `tty`, its stderr is a terminal (a pseudo-terminal read back here)."""
    master, slave = pty.openpty() if tty else (-1, -1)
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=subprocess.PIPE, stderr=slave if tty else subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    if tty:
        os.close(slave)
        err = _drain(master)
    return subprocess.CompletedProcess(argv, proc.returncode or 0, out.decode(), err.decode())


def _drain(master: int) -> bytes:
    """All a pseudo-terminal holds after its writer exited (EIO marks the end on Linux)."""
    chunks = []
    try:
        while chunk := os.read(master, 65536):
            chunks.append(chunk)
    except OSError:
        pass
    finally:
        os.close(master)
    return b"".join(chunks).replace(b"\r\n", b"\n")  # the terminal turns \n into \r\n
