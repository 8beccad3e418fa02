"""`lifeline backup verify` and `restore`: authenticate the whole file, then write an empty
data directory (and empty PostgreSQL databases) from it (docs/backup.md, "Restore")."""

from __future__ import annotations

import asyncio
import os
import shutil
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from libs.common.crypto.hpke_keys import HpkePrivateKey
from libs.common.db import create_engine, create_sync_engine, migrate
from lifeline.backup import contents, postgres
from lifeline.backup.archive import CHUNK, BackupFileError, DecryptingReader

MIGRATIONS = Path(__file__).resolve().parents[2] / "services"


@dataclass(frozen=True)
class Verified:
    """A backup file read to its end: every chunk authentic, every member expected."""

    created_at: str
    manifest: dict[str, Any]
    members: list[str]

    @property
    def on_postgres(self) -> list[str]:
        """The services whose databases were on PostgreSQL."""
        kinds: dict[str, str] = self.manifest.get("databases", {})
        return [s for s, kind in kinds.items() if kind == "postgresql"]


@contextmanager
def _members(path: Path, key: HpkePrivateKey) -> Iterator[Iterator[tuple[str, str, bytes]]]:
    with path.open("rb") as src, DecryptingReader(src, key) as reader:
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:

                def each() -> Iterator[tuple[str, str, bytes]]:
                    for info in tar:
                        if not info.isreg():
                            raise BackupFileError(f"unexpected member {info.name!r}")
                        try:
                            kind, rel = contents.safe_target(info.name)
                        except ValueError as exc:
                            raise BackupFileError(str(exc)) from None
                        handle = tar.extractfile(info)
                        assert handle is not None
                        yield kind, rel, handle.read()

                yield each()
            # tarfile stops at the end-of-archive blocks: read on to the final chunk, so a
            # file cut short after them is refused too.
            while reader.read(CHUNK):
                pass
        except tarfile.TarError as exc:
            raise BackupFileError(f"the backup's contents are damaged: {exc}") from None


def verify(path: Path, key: HpkePrivateKey) -> Verified:
    """Read the whole file: authentic, complete, and only the expected members (writes nothing)."""
    manifest: dict[str, Any] | None = None
    names: list[str] = []
    with _members(path, key) as members:
        for kind, rel, data in members:
            if kind == "manifest":
                try:
                    manifest = contents.load_manifest(data)
                except ValueError as exc:
                    raise BackupFileError(f"bad manifest: {exc}") from None
            elif kind == "db" and not data.startswith(b"SQLite format 3\x00"):
                raise BackupFileError(f"{rel} is not a SQLite database")
            names.append(rel.removesuffix(".db"))
    if manifest is None:
        raise BackupFileError("the backup has no manifest")
    missing = set(contents.SERVICES) - set(names)
    if missing:
        raise BackupFileError(f"the backup lacks the databases of {sorted(missing)}")
    return Verified(str(manifest["created_at"]), manifest, names)


def check_empty(data_dir: Path, urls: dict[str, str]) -> None:
    """Refuse a data directory that exists and holds anything, or a database with tables."""
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise FileExistsError(f"{data_dir} is not empty: restore into a new, empty directory")
    for url in urls.values():
        postgres.check_empty(url)


def extract(
    path: Path, key: HpkePrivateKey, data_dir: Path, urls: dict[str, str] | None = None
) -> Verified:
    """Verify, then write every member under `data_dir` (directories 0700, files 0600) and
    load PostgreSQL copies into the empty databases at `urls`."""
    verified = verify(path, key)
    # Only the services that ran on PostgreSQL go to a database; the others to files.
    urls = {s: u for s, u in (urls or {}).items() if s in verified.on_postgres}
    if unknown := set(verified.on_postgres) - set(urls):
        raise FileNotFoundError(f"the backup's {sorted(unknown)} ran on PostgreSQL: name an "
                                "empty database for each (--database-url SERVICE=URL)")  # fmt: skip
    check_empty(data_dir, urls)
    existed = data_dir.exists()
    try:
        rows = _write_files(path, key, data_dir)
        for service, data in rows.items():
            asyncio.run(_migrate(urls[service], MIGRATIONS / service / "migrations"))
            postgres.load(urls[service], data)
        _forget_bus_positions(contents.database_url("sharing", data_dir, urls))
    except BaseException:
        # Half a data directory must not be started: leave it as empty as it was found.
        shutil.rmtree(data_dir, ignore_errors=True)
        if existed:
            data_dir.mkdir(mode=0o700, exist_ok=True)
        raise
    return verified


def _write_files(path: Path, key: HpkePrivateKey, data_dir: Path) -> dict[str, bytes]:
    rows: dict[str, bytes] = {}
    old = os.umask(0o077)
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        data_dir.chmod(0o700)
        with _members(path, key) as members:
            for kind, rel, data in members:
                if kind == "rows":
                    rows[rel] = data
                if kind in ("manifest", "rows"):
                    continue
                target = data_dir / rel
                target.parent.mkdir(mode=0o700, exist_ok=True)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "wb") as sink:
                    sink.write(data)
    finally:
        os.umask(old)
    return rows


async def _migrate(url: str, script: Path) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine, script)
    finally:
        await engine.dispose()


def _forget_bus_positions(sharing_url: str) -> None:
    # Sharing's record of which stream sequence holds each stored report's copy refers to the
    # old NATS store; on the new, empty streams the same numbers name other messages.
    engine = create_sync_engine(sharing_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM vault_bus_copies"))
    finally:
        engine.dispose()
