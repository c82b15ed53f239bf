"""Archive of board packs: what a board saw, kept immutably so it can be shown again exactly.

Each pack's HTML (and PDF) is written once under ``<home>/board-packs/``, named by the SHA-256
of its bytes, and never overwritten; its row in ``board_packs`` and the audit event are written
in one transaction. Reading a pack back checks the bytes against the recorded hash, so an
altered file is refused rather than shown as what the board saw.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from matneo.auth.users import audit
from matneo.board.pack import BoardPack
from matneo.config import Settings
from matneo.db.models import BoardPackRecord
from matneo.db.session import transaction

__all__ = ["ArchivedPack", "TamperedPack", "archive", "archived_packs", "read_archived"]


class TamperedPack(RuntimeError):
    """An archived file no longer matches the hash recorded when it was archived."""


@dataclass(frozen=True)
class ArchivedPack:
    id: int
    org_code: str
    month: dt.date
    generated_at: dt.datetime
    generated_by: str
    store_version: int | None
    html_sha256: str
    pdf_sha256: str | None


def _directory(settings: Settings) -> Path:
    return settings.home / "board-packs"


def _write_once(directory: Path, data: bytes, suffix: str) -> str:
    """Store ``data`` as ``<sha256><suffix>`` (durably: fsync, then an atomic rename); return the hash."""
    digest = hashlib.sha256(data).hexdigest()
    target = directory / f"{digest}{suffix}"
    if target.exists():
        return digest  # same bytes already archived: content addressing makes this a no-op
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{digest}{suffix}.{os.getpid()}.partial"
    with partial.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, target)
    return digest


def _view(row: BoardPackRecord) -> ArchivedPack:
    return ArchivedPack(
        row.id,
        row.org_code,
        row.month,
        row.generated_at,
        row.generated_by,
        row.store_version,
        row.html_sha256,
        row.pdf_sha256,
    )


def archive(settings: Settings, pack: BoardPack, html: str, pdf: bytes | None, actor: str) -> ArchivedPack:
    """Keep this pack: its files by hash, then its row and audit event in one transaction."""
    directory = _directory(settings)
    html_hash = _write_once(directory, html.encode("utf-8"), ".html")
    pdf_hash = _write_once(directory, pdf, ".pdf") if pdf is not None else None
    with transaction(settings.database_url) as session:
        row = BoardPackRecord(
            org_code=pack.org_code,
            month=pack.month,
            generated_at=pack.generated_at.replace(tzinfo=None),
            generated_by=actor,
            store_version=pack.store_version,
            html_sha256=html_hash,
            pdf_sha256=pdf_hash,
        )
        session.add(row)
        session.flush()
        audit(
            session,
            actor,
            "board_pack.archive",
            "board_pack",
            str(row.id),
            org_code=pack.org_code,
            month=pack.month_label,
            html_sha256=html_hash,
        )
        return _view(row)


def archived_packs(url: str, org_codes: Collection[str]) -> list[ArchivedPack]:
    """Archived packs of these organisations, newest month first, then newest produced first."""
    with transaction(url) as session:
        rows = session.scalars(
            select(BoardPackRecord)
            .where(BoardPackRecord.org_code.in_(list(org_codes)))
            .order_by(BoardPackRecord.month.desc(), BoardPackRecord.id.desc())
        ).all()
        return [_view(r) for r in rows]


def read_archived(settings: Settings, pack_id: int, kind: str, org_codes: Collection[str]) -> bytes:
    """The archived ``html`` or ``pdf`` of pack ``pack_id``, checked against its recorded hash.

    ``org_codes``: the organisations the reader may see packs of; a pack of any other
    organisation is reported as not found (LookupError), as is a pack with no PDF.
    """
    if kind not in ("html", "pdf"):
        raise ValueError("kind must be html or pdf")
    with transaction(settings.database_url) as session:
        row = session.get(BoardPackRecord, pack_id)
        if row is None or row.org_code not in org_codes:
            raise LookupError(f"no board pack {pack_id}")
        digest = row.html_sha256 if kind == "html" else row.pdf_sha256
    if digest is None:
        raise LookupError(f"board pack {pack_id} has no {kind.upper()}")
    data = (_directory(settings) / f"{digest}.{kind}").read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise TamperedPack(f"board pack {pack_id}: the archived {kind.upper()} does not match its recorded hash")
    return data
