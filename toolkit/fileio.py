"""Writing files safely: atomic writes (a temporary file beside the target, fsync, then rename)
and an exclusive lock for a whole read-modify-write, so that a crash or a full disk leaves the old
file and concurrent writers in several processes lose nothing. The annotation store, the models,
the corpus and every report written use them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from toolkit.errors import LockError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and rename, so a crash leaves the old file."""
    atomic_write_bytes(path, text.encode("utf-8"))


_STREAMS = ("/dev/", "/proc/")
"""Where names of devices and open streams live (``/dev/stdout``, ``/proc/self/fd/1``)."""


def replaced_file(path: str | os.PathLike) -> Path | None:
    """The file an atomic write to ``path`` replaces: ``path`` itself, or, for a symbolic link, the
    file it points to (the link stays a link); ``None`` when ``path`` names a device, a pipe, an
    open stream or anything else under ``/dev`` or ``/proc`` (``/dev/stdout``, a link to
    ``/proc/self/fd/1``): that is written in place, never replaced, so output sent to
    ``/dev/stdout`` lands where stdout goes."""
    hop = Path(path)
    for _ in range(40):  # the kernel's own limit on links followed
        if str(hop).startswith(_STREAMS):
            return None
        if not hop.is_symlink():
            break
        link = Path(os.readlink(hop))
        hop = link if link.is_absolute() else hop.parent / link
    if hop.exists() and not hop.is_file():
        return None
    return Path(os.path.realpath(hop))


def temporary_beside(path: str | os.PathLike) -> Path | None:
    """A new empty temporary file beside the file a write to ``path`` replaces
    (:func:`replaced_file`), to write and then rename over it; ``None`` when ``path`` is written in
    place (a device such as ``/dev/stdout``, a pipe)."""
    target = replaced_file(path)
    if target is None:
        return None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    return Path(tmp)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory, fsync, then rename
    (a device or pipe is written in place). A failed write (a full disk) raises an ``OSError``
    naming ``path`` and leaves the old file and no temporary one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    target = replaced_file(path)
    tmp = temporary_beside(target) if target is not None else None
    try:
        with open(tmp or path, "wb") as handle:
            handle.write(data)
            handle.flush()
            if tmp:
                os.fsync(handle.fileno())
        if tmp:
            os.replace(tmp, target)
    except BaseException as exc:
        if tmp:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not exc.filename:
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


LOCK_TIMEOUT = 30.0
"""Seconds a writer waits for the store's lock (``$TOOLKIT_LOCK_TIMEOUT`` overrides)."""


@contextlib.contextmanager
def locked(path: str | os.PathLike, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock of the file at ``path`` (an ``flock`` on ``.NAME.lock`` beside it) for
    a whole read-modify-write, so writers in several processes (an import, a pull, the backend's
    retrain) cannot lose each other's labels or mix the files of two models. A writer that cannot
    get it within ``timeout`` seconds (default ``$TOOLKIT_LOCK_TIMEOUT``, else :data:`LOCK_TIMEOUT`)
    gets a one-line :class:`~toolkit.errors.LockError` and has changed nothing.

    The lock file exists only while it is held: the holder removes it before letting go, and a
    writer that got the lock of a file already removed tries again on the new one, so no data
    folder keeps a ``.lock`` file."""
    path = Path(path)
    if timeout is None:
        setting = os.environ.get("TOOLKIT_LOCK_TIMEOUT", str(LOCK_TIMEOUT))
        try:
            timeout = float(setting)
        except ValueError:
            raise LockError(f"TOOLKIT_LOCK_TIMEOUT={setting!r} is not a number of seconds") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    deadline = time.monotonic() + timeout
    while True:
        handle = open(lock, "a+b")
        try:
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockError(f"{path}: another writer has held it for {timeout:g} s; "
                                        "nothing was changed, try again") from None
                    time.sleep(0.02)
            if _same_file(handle, lock):
                break
        except BaseException:
            handle.close()
            raise
        handle.close()
    try:
        yield
    finally:
        try:
            lock.unlink(missing_ok=True)
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


def _same_file(handle, path: Path) -> bool:
    """Is the open ``handle`` still the file at ``path`` (not removed by the writer before)?"""
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(handle.fileno())
    return (on_disk.st_dev, on_disk.st_ino) == (mine.st_dev, mine.st_ino)
