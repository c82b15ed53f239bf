"""MSDS extracts as an input format of the loader (``matneo load --format msds``).

Only the finding, checking and reading of an extract live here; validation, the rejection
report, the plan and the atomic, idempotent load are the loader's own
(:mod:`matneo.records.load`), the same for every input format.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from matneo.msds import reader
from matneo.records.load import (
    InputFile,
    InputFormat,
    SourceRows,
    UnreadableInput,
    _hash_and_check_utf8,
)


class SpaceWatch:
    """Sees a file's bytes as they are hashed: does any cell possibly need tidying?

    A cell needs tidying (``reader._tidy``) only if it has a space or tab around it, or is
    an empty quoted value (``""``). A file with no space, no tab and no ``""`` anywhere has no
    such cell, and the reader skips the tidying pass over it (MSDS extracts are codes and
    identifiers: most files have none). The test is on whole chunks, so it costs one fast byte
    search per chunk; a ``""`` split across two chunks is caught by the byte kept from the last.
    """

    def __init__(self) -> None:
        self.found = False
        self.last = b""

    def __call__(self, chunk: bytes) -> None:
        if not self.found:
            self.found = b" " in chunk or b"\t" in chunk or b'""' in chunk or self.last + chunk[:1] == b'""'
            self.last = chunk[-1:]


def inspect(path: Path) -> InputFile:
    """Pre-flight checks of one extract: its tables are there, UTF-8, with their key data items.

    The extract's SHA-256 is that of its files' names and SHA-256s together, so loading the
    same extract again is skipped like a file loaded again.
    """
    try:
        extract = reader.extract(path)
        notices = reader.check_headers(extract)
    except reader.MsdsProblem as problem:
        raise UnreadableInput(problem.path, problem.problem) from None
    except (OSError, UnicodeDecodeError):
        raise UnreadableInput(path, "cannot be read as UTF-8 MSDS table files") from None
    parts = [part for table_id in sorted(extract.files) for part in extract.files[table_id]]
    watches = {part: SpaceWatch() for part in parts}
    with ThreadPoolExecutor(max_workers=2) as pool:  # hashing releases the GIL: two table files at once
        sums = list(pool.map(lambda part: _hash_and_check_utf8(part, True, watches[part]), parts))
    digest = hashlib.sha256()
    for part, sha256 in zip(parts, sums, strict=True):
        digest.update(f"{part.name}\n{sha256}\n".encode())
        extract.untidy[part] = watches[part].found
    size = sum(part.stat().st_size for part in parts)
    columns = sorted({name for header in extract.headers.values() for name in header})
    item = InputFile(
        path=extract.path,
        format="msds",
        sha256=digest.hexdigest(),
        size=size,
        columns=columns,
        header=columns,
        notices=notices,
        source=extract,
    )
    item.columns = []  # MSDS data items are not birth-record columns: none is "ignored"
    return item


def read(item: InputFile) -> SourceRows:
    """Join the extract's tables into birth-record rows; report rows name MSDS tables and data items."""
    extract: reader.Extract = item.source
    try:
        read_result = reader.read_extract(extract)
    except (pl.exceptions.PolarsError, OSError):
        raise UnreadableInput(
            item.path,
            "cannot be read as MSDS tables: check that every row has as many values as the header row "
            "and every quoted value has its closing quote",
        ) from None
    return SourceRows(
        read_result.parsed,
        locate=lambda violations: reader.describe(violations, read_result.provenance),
        unjoined=read_result.unjoined,
        unjoined_count=read_result.unjoined_babies,
        notices=read_result.notices,
    )


MSDS_EXTRACTS = InputFormat("msds", "MSDS table files (MSD001…MSD405)", reader.discover, inspect, read)
