"""Unpacking an uploaded zip (an MSDS extract) safely, for the Data page upload.

Every member's name is checked before anything is written: a name that is absolute, has a
drive letter, a backslash or a ``..`` part (a "zip slip", which would write outside the
folder), or a member that is a link, refuses the whole zip. The members wanted are written
*flat*, by their base name, into a folder the caller made private (``tempfile.mkdtemp``), so
no name in the zip ever becomes a path of its own. The number of members and the bytes
written are limited, and the bytes are counted as they are written, not taken from the zip's
own (forgeable) sizes, so a "zip bomb" stops at the limit.
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

MAX_MEMBERS = 500  # an MSDS extract is about 10 tables; a year of monthly files is a few hundred
MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024  # about four times the upload limit: CSV compresses well
CHUNK = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


class ZipProblem(Exception):
    """A zip that cannot be unpacked. The message, in fixed words, never quotes a member's name
    unless it is one of the file names wanted, and follows "The file …" ("is not a zip file…")."""


def _check(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or _DRIVE.match(name) or ".." in parts:
        raise ZipProblem(
            "holds a file whose name leads outside the zip's own folder (an absolute path or “..”), "
            "so none of it was unpacked"
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ZipProblem("holds a link rather than a file, so none of it was unpacked")


def unpack(archive: Path, into: Path, wanted: Callable[[str], bool]) -> list[Path]:
    """Write the members whose base name ``wanted`` accepts into ``into`` (an empty private
    folder), flat; return their paths. :class:`ZipProblem` if the zip cannot be unpacked safely."""
    written: list[Path] = []
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            if len(members) > MAX_MEMBERS:
                raise ZipProblem(f"holds more than {MAX_MEMBERS} files: upload one extract per zip")
            for info in members:  # every name is checked before anything is written
                _check(info)
            total = 0
            for info in members:
                name = PurePosixPath(info.filename).name
                if info.is_dir() or not name or not wanted(name):
                    continue
                target = into / name
                if target.exists():
                    raise ZipProblem(f"holds two files named {name}: put one extract in each zip")
                with zipped.open(info) as source, open(target, "xb") as out:
                    while chunk := source.read(CHUNK):
                        total += len(chunk)
                        if total > MAX_UNPACKED_BYTES:
                            raise ZipProblem(
                                f"unpacks to more than {MAX_UNPACKED_BYTES // 1024**3} GB: split it by month"
                            )
                        out.write(chunk)
                written.append(target)
    except zipfile.BadZipFile:
        raise ZipProblem("is not a zip file that can be read (it may be damaged or cut short)") from None
    except (zlib.error, EOFError):
        raise ZipProblem("cannot be unpacked: the zip is damaged") from None
    except RuntimeError:  # a member protected by a password
        raise ZipProblem("cannot be unpacked: it is protected by a password") from None
    except NotImplementedError:  # a compression method Python does not read
        raise ZipProblem("cannot be unpacked: save it as an ordinary (deflated) zip") from None
    return written
