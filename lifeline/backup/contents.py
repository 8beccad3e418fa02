"""What a backup holds: which files of a data directory, under which names in the archive."""

from __future__ import annotations

import io
import json
import stat
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "lifeline-backup-manifest/1"
# Producers of `report.received` first: see docs/backup.md, "Consistency".
SERVICES = ("intake", "sharing", "alerts")
# The seal (how the root key is wrapped), the development root key when there is one, the
# bootstrap secret while no administrator exists, intake's pins of sharing's sealing keys.
TOP_FILES = ("seal.json", "dev-root-key", "admin-bootstrap-secret", "sharing-hpke.pins")
# The sealed key store and the bus's PKI (its CA is offline by design: it cannot be re-made
# without invalidating every certificate and event signature the services trust).
KEY_DIRS = ("keys", "bus")


def data_files(data_dir: Path) -> list[str]:
    """Relative paths of the files a backup keeps: keys, seal, bus PKI. Not the NATS store
    (restore starts with empty streams), the databases (copied apart), locks or `network.json`."""
    found = [name for name in TOP_FILES if (data_dir / name).is_file()]
    for sub in KEY_DIRS:
        folder = data_dir / sub
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            mode = path.lstat().st_mode
            if stat.S_ISREG(mode) and not path.name.endswith(".lock"):
                found.append(f"{sub}/{path.name}")
    return found


def database_member(service: str, kind: str) -> str:
    """Archive name of a service's database copy: a SQLite file, or PostgreSQL's rows."""
    return f"db/{service}.sqlite" if kind == "sqlite" else f"db/{service}.rows"


def database_url(service: str, data_dir: Path, urls: dict[str, str]) -> str:
    """The service's database: the configured URL, else its SQLite file in the data dir."""
    return urls.get(service) or f"sqlite+aiosqlite:///{data_dir / f'{service}.db'}"


def configured_urls(environ: Mapping[str, str]) -> dict[str, str]:
    """The services' database URLs as `lifeline up` passes them (`LIFELINE_<SERVICE>_...`)."""
    found = {s: environ.get(f"LIFELINE_{s.upper()}_DATABASE_URL", "") for s in SERVICES}
    return {s: url for s, url in found.items() if url}


def file_member(relative: str) -> str:
    """Archive name of a data-directory file."""
    return f"files/{relative}"


def manifest(
    created_at: str, files: list[str], counts: dict[str, dict[str, int]], kinds: dict[str, str]
) -> bytes:
    """What is inside (names and row counts only: no content)."""
    return json.dumps(
        {
            "format": MANIFEST_FORMAT,
            "created_at": created_at,
            "databases": kinds,
            "files": files,
            "rows": counts,
        },
        indent=2,
        sort_keys=True,
    ).encode()


def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """One regular file, owner-only, in the archive."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def safe_target(name: str) -> tuple[str, str]:
    """(kind, relative path) of an archive member, refusing anything outside the layout."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 1:
        raise ValueError(f"unexpected member {name!r}")
    if name == MANIFEST:
        return "manifest", name
    if path.parts[0] == "db" and len(path.parts) == 2 and path.suffix in (".sqlite", ".rows"):
        if path.stem not in SERVICES:
            raise ValueError(f"unexpected database {name!r}")
        if path.suffix == ".rows":
            return "rows", path.stem
        return "db", f"{path.stem}.db"
    if path.parts[0] == "files":
        rel = PurePosixPath(*path.parts[1:])
        ok = (len(rel.parts) == 1 and str(rel) in TOP_FILES) or (
            len(rel.parts) == 2 and rel.parts[0] in KEY_DIRS
        )
        if ok:
            return "file", str(rel)
    raise ValueError(f"unexpected member {name!r}")


def load_manifest(raw: bytes) -> dict[str, Any]:
    """Parse and check a manifest."""
    doc: dict[str, Any] = json.loads(raw)
    if doc.get("format") != MANIFEST_FORMAT:
        raise ValueError("unknown manifest format")
    return doc
