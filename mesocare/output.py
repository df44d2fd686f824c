"""Writing output: whole files or nothing, streams straight through, names that stay put.

- A regular file (or a new one) is written atomically: a temporary file in the same folder
  (unnamed while it is written where the system allows, see ``atomic_write``; then named with
  this process's id), flushed and fsync'd, then renamed over the target. A reader
  sees the old file or the new one, never half of one; two runs writing the same folder at
  once never share a temporary file.
- A symlink given as ``--out`` is followed: when it points to a regular file (or to nothing
  yet), that target is replaced atomically and the link stays a link.
- A device, a FIFO, ``/dev/stdout`` (anything that is not a regular file) is written
  straight through; a write error there is one OutputError.
- ``-`` means stdout.
- One file per patient in a folder: names come from the appointment time and the patient id
  (or the row), sanitised so nothing lands outside the folder; a clash gets ``-2``, ``-3``.
  Links in that folder are not followed: a file there is replaced, never its link's target.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from mesocare.errors import FolderError, OutputError

STDOUT = "-"
_PART = ".part"


def _payload(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _pieces(data: str | bytes | Iterable[str | bytes]) -> Iterable[bytes]:
    if isinstance(data, (str, bytes)):
        return (_payload(data),)
    return (_payload(piece) for piece in data)


def write(
    data: str | bytes | Iterable[str | bytes], out: str | Path, stdout: BinaryIO | None = None
) -> None:
    """Write ``data`` to ``out``: ``-`` is ``stdout``, a stream or device straight, a file
    atomically.

    ``data`` may be pieces (an iterable of str or bytes), written as they come: a long batch
    streams to stdout or a pipe, and a regular file is still replaced whole at the end.
    """
    if str(out) == STDOUT:
        if stdout is None:
            raise OutputError("-: there is no standard output to write to.")
        for piece in _pieces(data):
            stdout.write(piece)
            stdout.flush()
        return
    if not str(out):
        raise OutputError(
            "--out is empty: give a file name, - for standard output, or a folder ending in /."
        )
    path = Path(out)
    try:
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
        mode = os.stat(path).st_mode  # through links, /dev/stdout's too
    except FileNotFoundError:
        mode = None
    except OSError as e:  # a name too long, a folder we may not enter...
        raise OutputError(f"{out}: cannot be written ({e.strerror}).") from None
    if mode is not None and stat.S_ISDIR(mode):
        # (batch takes a folder as one file per patient before it gets here; prep cannot)
        raise OutputError(f"{out}: is a folder; give a file name (a folder holds no single file).")
    if mode is not None and not stat.S_ISREG(mode):
        write_through(path, data)
    else:
        sweep_stale(target.parent if str(target.parent) else Path("."), f".{target.name}.")
        atomic_write(target, data, shown=out)


def file_pieces(path: str | Path, size: int = 1 << 20) -> Iterator[bytes]:
    """A file's bytes in pieces of ``size``, for ``write`` (a long PDF is never held whole)."""
    with open(path, "rb") as f:
        while piece := f.read(size):
            yield piece


def write_through(path: Path, data: str | bytes | Iterable[str | bytes]) -> None:
    """Write to a device, a pipe or a terminal as it is (no temporary file, no rename)."""
    try:
        with open(path, "wb", buffering=0) as f:
            for piece in _pieces(data):
                view = memoryview(piece)
                while view:
                    view = view[f.write(view) :]
    except OSError as e:
        raise OutputError(f"{path}: cannot be written ({e.strerror}).") from None


def atomic_write(
    out: Path, data: str | bytes | Iterable[str | bytes], shown: str | Path | None = None
) -> None:
    """Replace (or create) the regular file ``out`` whole: a temporary file, fsync, rename.

    Where the system allows it (Linux, most file systems) the temporary file has no name while
    it is written (``O_TMPFILE``): a run killed part way leaves nothing behind. It is given its
    temporary name only once whole, just before the rename. Elsewhere it is named
    ``.NAME.PID.part`` from the start (removed on failure; ``sweep_stale`` clears those of
    killed runs). When ``data`` is pieces and making one fails part way, ``out`` is left as it was.
    """
    shown = out if shown is None else shown
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{shown}: the folder {folder} does not exist.")
    tmp = folder / f".{out.name}.{os.getpid()}{_PART}"
    fd, named = _unnamed(folder), False
    try:
        if fd is None:
            fd, named = _named(tmp), True
    except FileExistsError:  # left by a run of ours killed part way, with our pid reused
        os.unlink(tmp)
        return atomic_write(out, data, shown)
    except OSError as e:
        raise FolderError(f"{shown}: cannot write in {folder} ({e.strerror}).") from None
    try:
        with os.fdopen(fd, "wb") as f:
            for piece in _pieces(data):
                f.write(piece)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), 0o644)
            if not named:
                _give_name(f.fileno(), tmp)
                named = True
        os.replace(tmp, out)
    except BaseException as e:
        if named:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if isinstance(e, OSError):
            raise OutputError(f"{shown}: cannot be written ({e.strerror}).") from None
        raise


_LINKABLE: dict[int, bool] = {}  # per file system (st_dev): an unnamed file can be given a name


def _unnamed(folder: Path) -> int | None:
    """A new file without a name in ``folder`` (``O_TMPFILE``, see open(2)), or None where the
    system or the file system has none, or cannot name one later (tried once per file system)."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag:
        return None
    try:
        fd = os.open(folder, flag | os.O_WRONLY, 0o600)
    except OSError:  # EOPNOTSUPP, EISDIR on old kernels, EACCES...: the named way says why
        return None
    device = os.fstat(fd).st_dev
    if device not in _LINKABLE:
        probe = folder / f".mesocare-probe.{os.getpid()}{_PART}"
        try:
            _give_name(fd, probe)
            os.unlink(probe)
            _LINKABLE[device] = True
        except OSError:
            _LINKABLE[device] = False
        os.close(fd)
        return _unnamed(folder)
    if not _LINKABLE[device]:
        os.close(fd)
        return None
    return fd


def _named(tmp: Path) -> int:
    return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)


def _give_name(fd: int, tmp: Path) -> None:
    """Link the unnamed file ``fd`` as ``tmp``: linkat through /proc/self/fd, as open(2) shows,
    else linkat(AT_EMPTY_PATH) (where /proc cannot, and the process may)."""
    try:
        _link(fd, tmp)
    except FileExistsError:  # left by a run of ours killed part way, with our pid reused
        os.unlink(tmp)
        _link(fd, tmp)


_BY_PROC: list[bool] = [True]  # linkat through /proc works here (False once it failed)


def _link(fd: int, tmp: Path) -> None:
    if _BY_PROC[0]:
        try:
            os.link(f"/proc/self/fd/{fd}", tmp, follow_symlinks=True)
            return
        except FileExistsError:
            raise
        except OSError:
            _BY_PROC[0] = False
    errno = _libc().linkat(fd, b"", -100, os.fsencode(tmp), 0x1000)  # AT_FDCWD, AT_EMPTY_PATH
    if errno:
        errno = __import__("ctypes").get_errno()
        if errno == 17:  # EEXIST
            raise FileExistsError(errno, os.strerror(errno), str(tmp))
        raise OSError(errno, os.strerror(errno), str(tmp))


@lru_cache(maxsize=1)
def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


# ------------------------------------------------------------------ one file per patient

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_STALE = re.compile(r"^\..+\.(\d+)\.part$")
EXTENSIONS = {"text": "txt", "markdown": "md", "fhir": "fhir.json"}


def file_stem(when: str, patient_id: str | None, position: str) -> str:
    """A file name safe on every system, carrying no patient name: ``2024-06-10_1000_P-1042``,
    or ``2024-06-10_1000_row-3`` without a patient id. ``when`` is the appointment's time."""
    ident = _UNSAFE.sub("-", patient_id).strip("-.")[:40] if patient_id else ""
    return _UNSAFE.sub("-", f"{when}_{ident or _UNSAFE.sub('-', position).strip('-.')}").strip("-.")


def handout_stem(handout, position: str) -> str:
    when = (
        handout.start.strftime("%Y-%m-%d_%H%M")
        if handout.timed
        else handout.start.strftime("%Y-%m-%d_allday")
    )
    return file_stem(when, handout.patient_id, position)


def unique_names(stems: Iterable[str], fmt: str) -> list[str]:
    """One file name per stem, in order: a clash gets -2, -3, ... (never -2-2)."""
    name = UniqueNames(fmt)
    return [name(stem) for stem in stems]


class UniqueNames:
    """``unique_names`` one stem at a time, as a long batch makes its files."""

    def __init__(self, fmt: str):
        self.ext = EXTENSIONS.get(fmt, fmt)
        self.seen: set[str] = set()

    def __call__(self, stem: str) -> str:
        name, n = f"{stem}.{self.ext}", 1
        while name in self.seen:
            n += 1
            name = f"{stem}-{n}.{self.ext}"
        self.seen.add(name)
        return name


def open_folder(folder: Path) -> Path:
    """Make the folder when missing, and clear temporary files left by killed runs of ours."""
    try:
        folder.mkdir(parents=True, exist_ok=True)  # another run may make it at the same moment
    except FileExistsError:
        raise OutputError(f"{folder}: is not a folder.") from None
    except OSError as e:
        raise OutputError(f"{folder}: the folder cannot be made ({e.strerror}).") from None
    sweep_stale(folder)
    return folder


def sweep_stale(folder: Path, prefix: str = ".") -> None:
    """Remove ``.NAME.PID.part`` files (starting with ``prefix``) whose process is gone (a run
    killed part way, where a temporary file could not be unnamed)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:  # the write that follows says what is wrong with the folder
        return
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = _STALE.match(entry.name)
        if match and entry.is_file(follow_symlinks=False) and not _alive(int(match.group(1))):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def write_in_folder(folder: Path, name: str, data: str | bytes) -> Path:
    """Write one file named ``name`` inside ``folder``, atomically; never outside it."""
    if name in ("", ".", "..") or "/" in name or os.sep in name or name.startswith("."):
        raise OutputError(f"{folder}: '{name}' is not a safe file name.")
    path = folder / name  # a link already there is replaced, not followed
    atomic_write(path, data)
    return path
