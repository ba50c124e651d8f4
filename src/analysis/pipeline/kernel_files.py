"""Where a kernel's connection file and IPC sockets live: a folder of its own in the system's temporary folder,
held by the process that started the kernel until that process removes it.

A kernel manager removes its kernel's files as the kernel ends; a process that is killed removes nothing. Ctrl-C
ends a batch's workers outright, and the out-of-memory killer may end one: each such kernel left its sockets and its
connection file in the temporary folder for good. So each kernel's files go in a folder of their own, which the
process that started the kernel holds (an exclusive ``flock`` on the folder's lock file, released by the system
however the process ends); :func:`sweep` removes the folders no process holds. A local batch sweeps as it starts and
as it ends, after its workers have ended: a run interrupted, or a worker killed, leaves nothing once its batch ends,
and a report killed outright leaves its kernels' files until the next report on this machine (same user, same
temporary folder) executes a run. A kernel still starting when its process is killed can outlive the sweep by a
moment and write its connection file into the folder again (ipykernel makes the folder when it is missing): such a
folder, without a lock file, is swept once :data:`UNLOCKED_GRACE` seconds old. The workers of a Dask cluster on other
machines are swept by no report. Where ``flock`` does not exist (Windows), a folder is removed only by the process
that made it.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

from analysis.errors import TemporaryFolderError
from analysis.paths import KERNEL_FOLDER_PREFIX

try:
    import fcntl
except ImportError:  # what: Windows
    fcntl = None  # type: ignore[assignment]

#: The file in a kernel's folder that its process holds locked while the folder is in use.
LOCK = "held"
#: The longest name of a Unix socket, in bytes (``sun_path`` less its closing zero byte): 107 on Linux, 103 on macOS
#: and the BSDs.
SOCKET_NAME_BYTES = 107 if sys.platform.startswith("linux") else 103
#: What a kernel's folder adds to the temporary folder's path in its sockets' names: ``/detainers-kernel-XXXXXXXX``
#: (``tempfile``'s 8 random characters) and ``/kernel-NN`` (jupyter_client numbers a kernel's sockets from 1).
ADDED = len(f"/{KERNEL_FOLDER_PREFIX}XXXXXXXX/kernel-NN")
#: Seconds after which a kernel folder without its lock file is left over, not being made: a kernel still starting
#: when its process was killed wrote its connection file into a folder made again (ipykernel makes it when it is
#: missing), or a process was killed between making a folder and locking it.
UNLOCKED_GRACE = 60


def check_room(temporary: str | None = None) -> None:
    """Check that kernels' IPC sockets can be named in ``temporary`` (default: the system's temporary folder).

    Raises
    ------
    TemporaryFolderError
        When a socket's name there would be longer than the system allows (``$TMPDIR`` set to a deep folder), or
        is not UTF-8: ZeroMQ would refuse to make it, and no kernel could start.
    """
    folder = temporary or tempfile.gettempdir()
    try:
        os.fsencode(folder).decode("utf-8")
    except UnicodeDecodeError:
        raise TemporaryFolderError(
            f"the temporary folder {folder!r} cannot name a kernel's IPC sockets: its path is not UTF-8 text, as"
            " ZeroMQ writes socket names; set TMPDIR to a folder whose path is (/tmp, say)"
        ) from None
    needed = len(os.fsencode(folder)) + ADDED
    if needed > SOCKET_NAME_BYTES:
        raise TemporaryFolderError(
            f"the temporary folder {folder!r} is too deep for a kernel's IPC sockets: their names would be"
            f" {needed} bytes long, and this system allows {SOCKET_NAME_BYTES}; set TMPDIR to a folder whose path"
            f" is at most {SOCKET_NAME_BYTES - ADDED} bytes long (/tmp, say)"
        )


class KernelFolder:
    """A new folder for one kernel's files (:attr:`connection_file`, and the IPC sockets named from :attr:`ip`),
    held by this process until :meth:`remove` (called once the kernel has ended: a kernel still starting would
    make the folder again for its connection file).

    Raises
    ------
    TemporaryFolderError
        When the temporary folder is too deep for the sockets' names (:func:`check_room`).
    """

    def __init__(self) -> None:
        check_room()
        self.path = Path(tempfile.mkdtemp(prefix=KERNEL_FOLDER_PREFIX))
        self._lock: int | None = None
        if fcntl is not None:
            try:
                # What: locked before it takes its name, so a sweep never finds the lock file free in a folder in use.
                descriptor, name = tempfile.mkstemp(dir=self.path)
                self._lock = descriptor
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                os.rename(name, self.path / LOCK)
            except BaseException:
                self.remove()
                raise

    @property
    def connection_file(self) -> str:
        """The kernel's connection file."""
        return str(self.path / "kernel.json")

    @property
    def ip(self) -> str:
        """The name the kernel's IPC sockets are made from (``kernel-1``, ``kernel-2``, ...)."""
        return str(self.path / "kernel")

    def remove(self) -> None:
        """Remove the folder and whatever it still holds, then let go of it (at most once)."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def sweep(temporary: Path | None = None) -> list[Path]:
    """Remove this user's kernel folders in ``temporary`` (default: the system's temporary folder) that no process
    holds: those of kernels whose process was killed. Returns the folders removed.

    A folder without its lock file is left alone for :data:`UNLOCKED_GRACE` seconds (it may be being made this
    moment); another user's folder, or a link, always.
    """
    if fcntl is None:
        return []
    removed = []
    for folder in Path(temporary or tempfile.gettempdir()).glob(KERNEL_FOLDER_PREFIX + "*"):
        try:
            found = folder.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid():
            continue
        try:
            flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)  # what: never waits on a FIFO
            descriptor = os.open(folder / LOCK, flags)
        except FileNotFoundError:
            if time.time() - found.st_mtime > UNLOCKED_GRACE:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # what: held: its kernel's process is running
        else:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            with suppress(OSError):
                os.close(descriptor)
    return removed
