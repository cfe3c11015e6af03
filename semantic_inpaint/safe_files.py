"""Result files that survive a kill and a second run: a folder lock, atomic replacement, torn CSV tails.

An evaluation runs for hours and is resumed from what it wrote, so a SIGKILL (a job scheduler's
time limit, the out-of-memory killer) must never leave a file half written, and two runs into
one folder must not interleave their rows. POSIX only (fcntl.flock: Linux, macOS).
"""

from __future__ import annotations

import csv
import errno
import fcntl
import os
import secrets
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO

from semantic_inpaint.errors import InpaintInputError

LOCK_NAME = ".lock"
# Temp files are hidden and keep the target's suffix (matplotlib picks the format from it).
PARTIAL = ".partial"


class FolderLock:
    """An exclusive hold on `folder` from construction until `release` (or the process's end).

    flock on OUT/.lock: the kernel drops it when the process dies, however it dies, so a killed
    run never leaves a stale lock to clear by hand (a lock that is a file's mere existence
    would). The file is left in place on release: deleting it would let a process that opened
    the old file before the delete hold a lock on a file nobody else sees. It holds the
    holder's pid and host, for the message of the run that is refused.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 256).decode(errors="replace").strip() or "a process still starting"
            os.close(fd)
            raise InpaintInputError(
                f"{self.folder} is in use by another run ({holder}; lock {self.folder / LOCK_NAME}): "
                "two runs there would write the same files at once; wait for that run to finish, or write to another --out folder"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
        self._fd: int | None = fd

    def release(self) -> None:
        """Let the next run in (closing the file drops the flock); a second call does nothing."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.release()


def sync(f: IO) -> None:
    """Push what was written to `f` to the disk: Python's buffer would die with the process, the
    OS's with the machine; a row that is not on disk is computed again by the next run."""
    f.flush()
    try:
        os.fsync(f.fileno())
    except OSError as e:
        if e.errno != errno.EINVAL:  # EINVAL: /dev/null or a pipe, which have no disk to sync
            raise


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """A temp path beside `path` to write; once the block ends without an error, the temp file
    is synced and renamed over `path`. A reader (or a resumed run) so sees the old file or the
    new one, never a truncated one: os.replace within a folder is atomic. On an error the temp
    file is removed; after a kill, `remove_partial_files` clears it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named, not created: the writer creates it with the usual permissions (mkstemp's are 0600).
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{PARTIAL}{path.suffix}")
    try:
        yield temp
        with open(temp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    """`path` replaced by `text` atomically (see `replacing`)."""
    with replacing(path) as temp:
        temp.write_text(text)


def remove_partial_files(folder: str | os.PathLike) -> list[Path]:
    """Delete the temp files that runs killed mid-write left under `folder`; returns them.
    Call it only while holding the folder's lock: a running writer's temp file looks the same."""
    stale = sorted(Path(folder).rglob(f".*{PARTIAL}*"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def drop_torn_last_line(path: str | os.PathLike) -> str | None:
    """If the CSV at `path` ends in a torn line, rewrite it without that line; returns the line.

    A kill in the middle of an append can leave the last line without its line end, or cut
    before its last fields; read as it is, it would crash the next run or be taken for a row
    that is done. A torn line is one without a line end, or with another number of fields than
    the first line (the header); a torn header leaves an empty file. Rows are only ever appended,
    so only the last line can be torn.
    """
    path = Path(path)
    if not path.is_file():
        return None
    lines = path.read_bytes().splitlines(keepends=True)
    if not lines:
        return None
    fields = lambda line: len(next(csv.reader([line.decode(errors="replace")]), []))  # noqa: E731
    last = lines[-1]
    if last.endswith(b"\n") and fields(last) == fields(lines[0]):
        return None
    with replacing(path) as temp:
        temp.write_bytes(b"".join(lines[:-1]))
    torn = last.decode(errors="replace")
    warnings.warn(f"{path}: dropped its torn last line {torn!r}, left by a run killed while writing it; that row is computed again", stacklevel=2)
    return torn


__all__ = ["LOCK_NAME", "FolderLock", "drop_torn_last_line", "remove_partial_files", "replacing", "sync", "write_text"]
