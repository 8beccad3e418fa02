"""Sharing's signing keys: one keyring per data dir, rotation without rejecting a valid token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from libs.common import db
from libs.common.auth.scopes import JWKS_PATH, WHOAMI_PATH
from libs.common.clock import FakeClock
from services.sharing.access.tokens.keystore import KeystoreError, SigningKeystore
from services.sharing.access.tokens.maintenance import Maintenance
from services.sharing.app import MIGRATIONS
from tests.integration.auth.conftest import Network

WEEK = 7 * 86400


async def test_rotation_publishes_first_and_keeps_old_tokens_valid(network: Network) -> None:
    sharing, http = network.sharing, network.sharing.http
    client = await sharing.client("reports:submit")
    before = await client.token(http)
    old_kid = jwt.get_unverified_header(before)["kid"]
    published = [k["kid"] for k in (await http.get(sharing.url + JWKS_PATH)).json()["keys"]]
    assert published[0] == old_kid and len(published) == 2  # active, and the next one already out
    next_kid = published[1]

    # Every verifier refreshes its JWKS in the 120 s the next key is published before use.
    for app in network.apps.values():
        await app.state.verifier.jwks.refresh_all()
    # A week later the maintenance job (here: run by hand with a later clock) rotates.
    week_later = FakeClock(datetime.now(UTC) + timedelta(seconds=WEEK))
    later = SigningKeystore(sharing.settings.signing_key_file(), clock=week_later)
    assert later.maintain() is True
    after = await client.token(http)
    assert jwt.get_unverified_header(after)["kid"] == next_kid
    jwks = [k["kid"] for k in (await http.get(sharing.url + JWKS_PATH)).json()["keys"]]
    assert jwks[0] == next_kid and old_kid in jwks
    for token in (before, after):
        for name in ("sharing", "intake"):
            resp = await http.get(
                network.urls[name] + WHOAMI_PATH, headers={"Authorization": f"Bearer {token}"}
            )
            assert resp.status_code == 200, (name, resp.text)


async def test_only_one_replica_holds_the_maintenance_lease(db_url: str, tmp_path: Path) -> None:
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine, MIGRATIONS)
        sessions = db.session_factory(engine)
        clock = FakeClock()
        keystore = SigningKeystore(tmp_path / "signing.json", clock=clock)
        replicas = [Maintenance(sessions, keystore, interval=10, clock=clock) for _ in range(3)]
        holders = []
        for replica in replicas:
            await replica.tick()
            holders.append(await _holds(replica, sessions, clock.time()))
        assert holders == [True, False, False]
        clock.advance(31)  # the holder stopped renewing for three intervals: another takes over
        await replicas[2].tick()
        assert await _holds(replicas[2], sessions, clock.time())
        assert not await _holds(replicas[0], sessions, clock.time())
    finally:
        await engine.dispose()


async def _holds(replica: Maintenance, sessions, now: float) -> bool:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from services.sharing.models import LEASES

    async with sessions() as session:
        row = (await session.execute(select(LEASES.c.holder))).first()
    return row is not None and row.holder == replica.holder


def test_every_replica_of_one_data_dir_signs_with_the_same_keys(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.json"
    first, second = SigningKeystore(path), SigningKeystore(path)
    assert first.keyring().active().kid == second.keyring().active().kid
    assert path.stat().st_mode & 0o777 == 0o600
    assert first.maintain() is True  # publishes a next key ...
    assert len(second.jwks()["keys"]) == 2  # ... which the other replica sees at once


def test_a_keyring_others_can_read_or_that_was_edited_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing.json"
    SigningKeystore(path)
    path.chmod(0o644)
    with pytest.raises(Exception, match="0600"):
        SigningKeystore(path)
    path.chmod(0o600)
    path.write_text(path.read_text().replace('"kid": "', '"kid": "X', 1))
    with pytest.raises(KeystoreError):
        SigningKeystore(path)
