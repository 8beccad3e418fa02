"""Files that hold secrets: written atomically with mode 0600, refused when others can read them.

A key handed to a service through a Kubernetes Secret volume (root's, 0440 in the pod's
`fsGroup`, behind `..data/` links) is read as well: see `_check_private`.

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
    """Read a secret file that only this service can read (`_check_private`).

    A sealed file is opened with this process's root key; while it holds one, a plain file is
    refused unless `seal` is False (a file that is never sealed).
    """
    raw = _read_checked(path)
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
    """A private key a service is handed (the bus bundle's): opened with the root key if
    sealed, taken plain otherwise; owner and mode checked either way."""
    raw = _read_checked(path)
    return read_private(path) if is_sealed(raw) else raw


def _read_checked(path: Path) -> bytes:
    """The file's bytes, read through one descriptor whose owner and mode were checked."""
    try:
        first = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        raise SecretFileError(f"{path} does not exist") from None
    target = _secret_volume_target(path) if stat.S_ISLNK(first.st_mode) else path
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        raise SecretFileError(f"{path} cannot be opened: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        _check_private(path, os.fstat(fh.fileno()))
        return fh.read()


def _secret_volume_target(link: Path) -> Path:
    # A Kubernetes Secret volume shows each key as `<name> -> ..data/<name>`, `..data` being a
    # link to the current timestamped copy (swapped atomically on update). Exactly that shape,
    # resolving inside the link's own directory, is followed; any other link is refused, so a
    # link planted in a data directory cannot point a key store at another file.
    if os.readlink(link) != f"..data/{link.name}":
        raise SecretFileError(f"{link} is a symlink; a key file must be a regular file")
    real = Path(os.path.realpath(link))
    if Path(os.path.realpath(link.parent)) not in real.parents:
        raise SecretFileError(f"{link} leads out of its directory")
    return real


def _check_private(path: Path, st: os.stat_result) -> None:
    """Refuse a secret file that anyone but this service user (or root) could read or change.

    - a regular file, owned by this user or by root (root reads every file anyway; a
      Kubernetes Secret volume's files are root's);
    - no permission for others, no write or execute for the group;
    - group read only in a Secret volume's shape: read-only for everyone (`defaultMode: 0440`:
      a key handed to the service, never one it writes) and in a group this process is in (the
      pod's `fsGroup`). A key file the service writes itself stays 0600.
    """
    if not stat.S_ISREG(st.st_mode):
        raise SecretFileError(f"{path} is not a regular file")
    mode = stat.S_IMODE(st.st_mode)
    handed = mode & 0o222 == 0 and st.st_gid in _own_groups()
    if mode & (0o037 if handed else 0o077):
        raise SecretFileError(
            f"{path} has mode {mode:04o}; it must be 0600 "
            "(or 0440 from a Secret volume, in this service's group)"
        )
    if hasattr(os, "geteuid") and st.st_uid not in (os.geteuid(), 0):
        raise SecretFileError(
            f"{path} belongs to another user; it must be owned by the service user"
        )


def _own_groups() -> set[int]:
    """The groups this process is in (its effective group and supplementary ones)."""
    if not hasattr(os, "getegid"):  # pragma: no cover - not POSIX
        return set()
    return {os.getegid(), *os.getgroups()}


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
