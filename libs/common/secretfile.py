"""Files that hold secrets: written atomically with mode 0600, refused when others can read them.

Once this process holds a root key (`libs.common.seal.root`), every secret file is sealed on
write and opened on read, bound to its file name; a plain file is then refused, so one planted
on a seized disk is never taken for a key (see docs/sealing.md).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

from libs.common.errors import LifelineError
from libs.common.seal import root as seal_root
from libs.common.seal.domain import UnsealError, is_sealed, open_blob, seal_blob


class SecretFileError(LifelineError):
    """A secret file is missing, unsafe, or cannot be written."""

    status = 500
    code = "secret_file"


def write_private(path: Path, data: bytes, *, seal: bool = True, purpose: str = "") -> None:
    """Replace `path` with `data` atomically; the file is 0600 whatever the umask.

    Sealed under the root key if this process holds one (unless `seal` is False); `purpose`
    (default: the file's name) is what the sealed file is bound to.
    """
    root = seal_root.current() if seal else None
    if root is not None:
        data = seal_blob(root, purpose or path.name, data)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def create_private(path: Path, data: bytes, *, seal: bool = True) -> bool:
    """Create `path` with `data` only if it does not exist yet; True when this call created it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    write_private(tmp, data, seal=seal, purpose=path.name)
    try:
        # link() fails if the target exists: two processes racing on first start agree on one.
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    fsync_dir(path.parent)
    return True


def read_private(path: Path, *, seal: bool = True) -> bytes:
    """Read a secret file, refusing symlinks, other owners and group/other permissions.

    A sealed file is opened with this process's root key; while it holds one, a plain file is
    refused unless `seal` is False (a file that is never sealed).
    """
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        raise SecretFileError(f"{path} does not exist") from None
    if not stat.S_ISREG(st.st_mode):
        raise SecretFileError(f"{path} is not a regular file")
    if st.st_mode & 0o077:
        raise SecretFileError(f"{path} has mode {stat.S_IMODE(st.st_mode):04o}; it must be 0600")
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise SecretFileError(
            f"{path} belongs to another user; it must be owned by the service user"
        )
    raw = path.read_bytes()
    root = seal_root.current()
    if is_sealed(raw):
        if root is None:
            raise SecretFileError(f"{path} is sealed: the service must be unsealed first")
        try:
            return open_blob(root, path.name, raw)
        except UnsealError:
            raise SecretFileError(f"{path} does not open with this root key") from None
    if root is not None and seal:
        raise SecretFileError(f"{path} is not sealed; a sealed data directory holds no plain key")
    return raw


def read_key_file(path: Path) -> bytes:
    """A private key a service is handed: opened with the root key if sealed; a plain one is
    taken as a deploy bundle's Secret mounts it (owner and mode are the mount's)."""
    raw = path.read_bytes()
    return read_private(path) if is_sealed(raw) else raw


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a sidecar `.lock` file (the secret file itself gets replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename durable (not every filesystem allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
