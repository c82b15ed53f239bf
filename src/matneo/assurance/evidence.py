"""Evidence once, mapped to many: a trust's assurance evidence and the requirements it supports.

Trusts answer the same question for several frameworks (MIS safety action 9 and Ockenden IEA 1
both ask for the safety champions' meetings), so one item — an uploaded document, a link,
meeting minutes or a data extract — is attached once and mapped to every requirement it
supports. Writes go through :func:`add`, :func:`map_item` and :func:`unmap_item`, which check
that the actor is the trust's own staff and write the change and its audit event in one
transaction. Reads are scoped the same way: only the owning trust sees its items
(:func:`library`, :func:`for_requirement`, :func:`download`); anyone else gets counts
(:func:`counts`), because evidence documents can hold staff names and case details.

Uploaded files are stored safely, as OWASP's File Upload Cheat Sheet advises
(https://cheatsheetseries.owasp.org/cheatsheets/File_Upload_Cheat_Sheet.html, "File Upload
Protection"): the type is decided from the file's first bytes against an allow-list (never from
the name or the browser's claim), the size is limited while the file is copied to disk a chunk
at a time, the file is stored under its SHA-256 outside the web root with a name MatNeo chose,
and it is only ever served as a download (``Content-Disposition: attachment`` with
``X-Content-Type-Options: nosniff``, RFC 6266 §4.2).

A stored file is shared by every item holding the same bytes, so it exists exactly while some
item names it. Two short critical sections keep it so, each holding the file's lock
(:func:`_hold_file`) until its transaction ends: :func:`add` puts the received bytes in place (or
finds them there) and commits the item that names them; :func:`_delete_if_unused`, after a
removal has committed, checks that no item names the hash and deletes the file. Whichever goes
first, the other sees its result (ADR 0016, "2026-12-04: removal and upload of the same file").
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import os
import re
import tempfile
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from matneo.assurance.catalogue import catalogue
from matneo.assurance.frameworks import Item, frameworks
from matneo.assurance.tracker import FieldProblem, requirement_of
from matneo.auth.users import audit
from matneo.db.locks import lock_key
from matneo.db.models import EvidenceItem, EvidenceMapping, utcnow
from matneo.db.session import transaction

__all__ = [
    "KINDS",
    "MAX_BYTES",
    "TYPES",
    "EvidenceView",
    "Receiver",
    "StoredFile",
    "add",
    "counts",
    "download",
    "for_requirement",
    "library",
    "map_item",
    "one",
    "remove",
    "sniff",
    "store_dir",
    "suggestions",
    "unmap_item",
]

#: The kinds of evidence a trust attaches (the issue's list): each is a stored file or a link.
KINDS = {
    "document": "Document",
    "minutes": "Meeting minutes",
    "extract": "Data extract",
    "link": "Link",
}
#: The largest file accepted. Board papers and policies are a few MB; 25 MB leaves room for a
#: scanned set of minutes. MatNeo's choice, not a national rule (needs local confirmation).
MAX_BYTES = 25 * 1024 * 1024
CHUNK_BYTES = 256 * 1024
HEAD_BYTES = 512  # how much of the start of a file decides its type
MAX_TEXT = 2000


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extension: str


#: The allow-list: what MatNeo accepts and the type it serves the file back as.
TYPES = {
    "pdf": FileType("PDF", "application/pdf", ".pdf"),
    "docx": FileType(
        "Word document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"
    ),
    "xlsx": FileType("Excel workbook", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "png": FileType("PNG image", "image/png", ".png"),
    "jpeg": FileType("JPEG image", "image/jpeg", ".jpg"),
    "csv": FileType("CSV file", "text/csv", ".csv"),
}
#: File signatures ("magic bytes"): PDF 1.7 (ISO 32000-1:2008 §7.5.2, "%PDF-"); PNG (ISO/IEC
#: 15948:2004 §5.2, the 8-byte signature); JPEG (ITU-T T.81 Annex B, the SOI marker FF D8 then
#: a marker FF); Office Open XML files are ZIP packages (ECMA-376 Part 2 §8, local file header
#: "PK\x03\x04"), told apart by their main part (word/document.xml, xl/workbook.xml).
SIGNATURES = ((b"%PDF-", "pdf"), (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"PK\x03\x04", "zip"))
ALLOWED_WORDS = "a PDF, Word (.docx), Excel (.xlsx), PNG, JPEG or CSV file"


class EvidenceProblem(Exception):
    """A file MatNeo will not store (wrong type, too large, empty): the user can fix it."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def sniff(head: bytes, name: str) -> str | None:
    """The allow-list entry a file's first bytes match ("zip" for an Office file still to be
    told apart by :func:`office_kind`), or None. CSV has no signature: it is accepted only when
    named ``.csv`` and its first bytes are UTF-8 text without control characters (RFC 4180)."""
    for signature, kind in SIGNATURES:
        if head.startswith(signature):
            return kind
    if name.lower().endswith(".csv") and head:
        try:  # not final: a multi-byte character cut at the end of the chunk is not an error
            decoded = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
        except UnicodeDecodeError:
            return None
        if not any(ord(c) < 32 and c not in "\r\n\t" for c in decoded):
            return "csv"
    return None


def office_kind(path: Path) -> str | None:
    """ "docx" or "xlsx" for an Office Open XML package, from its parts' names (nothing is
    extracted, so a ZIP bomb costs only its directory); None for any other ZIP."""
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def store_dir(home: Path) -> Path:
    """Where files are kept: the instance's data directory, never under the web app's static files."""
    return home / "evidence"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    kind: str  # a key of TYPES
    file_name: str  # the uploader's name for it, made safe, with the extension of its real type
    #: The evidence store and the received bytes waiting in its ``incoming/`` folder: :func:`add`
    #: puts them in place with the item that names them (None for a value that only describes a file).
    store: Path | None = field(default=None, compare=False)
    received: Path | None = field(default=None, compare=False)


def _stored_path(store: Path, sha256: str) -> Path:
    return store / sha256[:2] / sha256


def _safe_name(name: str, extension: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._ -]+", "_", Path(name or "evidence").name).strip(" .")[:120] or "evidence"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem}{extension}"


class Receiver:
    """Copies one upload to the store's ``incoming/`` folder a chunk at a time: hashing, counting
    and checking as it goes.

    ``feed`` each chunk, then ``finish``; on any problem the partial file is deleted. The checked
    file waits in ``incoming/`` until :func:`add` moves it to ``<store>/<sha[:2]>/<sha>`` with the
    item that names it (or deletes it, the same bytes being stored already), so the same
    document uploaded twice is stored once.
    """

    def __init__(self, store: Path, name: str, limit: int = MAX_BYTES) -> None:
        self.store, self.name, self.limit = store, name, limit
        (store / "incoming").mkdir(parents=True, exist_ok=True)
        handle, raw = tempfile.mkstemp(dir=store / "incoming")
        self._file = os.fdopen(handle, "wb")
        self._path = Path(raw)
        self._hash = hashlib.sha256()
        self._size = 0
        self._kind: str | None = None
        self._head = b""

    def feed(self, chunk: bytes) -> None:
        try:
            if self._kind is None and len(self._head) < HEAD_BYTES:
                self._head += chunk[: HEAD_BYTES - len(self._head)]
                if len(self._head) >= HEAD_BYTES:  # refuse a wrong type as soon as its first bytes are in
                    self._decide()
            self._size += len(chunk)
            if self._size > self.limit:
                raise EvidenceProblem(f"The file is larger than {self.limit // (1024 * 1024)} MB.", 413)
            self._hash.update(chunk)
            self._file.write(chunk)
        except BaseException:
            self.discard()
            raise

    def _decide(self) -> None:
        self._kind = sniff(self._head, self.name)
        if self._kind is None:
            raise EvidenceProblem(f"The file must be {ALLOWED_WORDS}.", 415)

    def finish(self) -> StoredFile:
        try:
            self._file.close()
            if self._size == 0:
                raise EvidenceProblem("The file is empty.")
            if self._kind is None:  # a file smaller than the bytes looked at
                self._decide()
            kind = office_kind(self._path) if self._kind == "zip" else self._kind
            if kind is None or kind not in TYPES:
                raise EvidenceProblem(f"The file must be {ALLOWED_WORDS}.", 415)
            os.chmod(self._path, 0o600)
            return StoredFile(self._hash.hexdigest(), self._size, kind, _safe_name(self.name, TYPES[kind].extension),
                              self.store, self._path)  # fmt: skip
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._path.unlink(missing_ok=True)


# -- views ------------------------------------------------------------------------------------
@dataclass
class EvidenceView:
    id: int
    trust_code: str
    kind: str
    title: str
    description: str | None
    dated: dt.date | None
    link: str | None
    file_name: str | None
    type_label: str | None
    size_bytes: int | None
    added_by: str
    added_at: dt.datetime
    requirements: list[Item] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def size_text(self) -> str:
        if self.size_bytes is None:
            return ""
        if self.size_bytes < 1024 * 1024:
            return f"{max(1, round(self.size_bytes / 1024))} KB"
        return f"{self.size_bytes / (1024 * 1024):.1f} MB"


def _type_label(content_type: str | None) -> str | None:
    return next((t.label for t in TYPES.values() if t.content_type == content_type), None)


def _views(url: str, session: Any, rows: list[EvidenceItem]) -> list[EvidenceView]:
    ids = [r.id for r in rows]
    mapped: dict[int, list[Item]] = {i: [] for i in ids}
    if ids:
        known = catalogue(url, sorted({r.trust_code for r in rows}))
        order = {key: n for n, key in enumerate(known.by_key)}  # packaged first, then local by id
        for m in session.scalars(select(EvidenceMapping).where(EvidenceMapping.evidence_id.in_(ids))):
            if m.item_key in order:  # a requirement no longer in the framework data is not shown
                mapped[m.evidence_id].append(known.by_key[m.item_key])
        for found in mapped.values():
            found.sort(key=lambda i: order[i.key])
    return [
        EvidenceView(r.id, r.trust_code, r.kind, r.title, r.description, r.dated, r.link, r.file_name,
                     _type_label(r.content_type), r.size_bytes, r.added_by, r.added_at, mapped[r.id])
        for r in rows
    ]  # fmt: skip


def _require_own(trust: str, actor_org: str, what: str) -> None:
    if actor_org != trust:
        raise PermissionError(f"Only the trust's own staff can {what} its evidence.")


def library(url: str, trust: str, *, actor_org: str) -> list[EvidenceView]:
    """The trust's evidence, newest first, each with the requirements it is mapped to (own staff only)."""
    _require_own(trust, actor_org, "see")
    with transaction(url) as session:
        rows = list(
            session.scalars(
                select(EvidenceItem).where(EvidenceItem.trust_code == trust).order_by(EvidenceItem.id.desc())
            )
        )
        return _views(url, session, rows)


def one(url: str, trust: str, evidence_id: int, *, actor_org: str) -> EvidenceView:
    """One item of the trust's; LookupError if it has none with that id (also for another trust's id)."""
    _require_own(trust, actor_org, "see")
    with transaction(url) as session:
        row = session.get(EvidenceItem, evidence_id)
        if row is None or row.trust_code != trust:
            raise LookupError(f"There is no evidence item {evidence_id} of this trust.")
        return _views(url, session, [row])[0]


def for_requirement(url: str, trust: str, key: str, *, actor_org: str) -> list[EvidenceView]:
    """The trust's items mapped to requirement ``key`` (own staff only)."""
    _require_own(trust, actor_org, "see")
    with transaction(url) as session:
        rows = list(
            session.scalars(
                select(EvidenceItem)
                .join(EvidenceMapping, EvidenceMapping.evidence_id == EvidenceItem.id)
                .where(EvidenceMapping.trust_code == trust, EvidenceMapping.item_key == key)
                .order_by(EvidenceItem.id.desc())
            )
        )
        return _views(url, session, rows)


@dataclass(frozen=True)
class EvidenceCounts:
    items: int  # evidence items the trust holds
    requirements: int  # requirements with at least one item mapped
    per_requirement: Mapping[str, int]  # requirement key → items mapped


def counts(url: str, trusts: Collection[str]) -> dict[str, EvidenceCounts]:
    """For each trust: how many items it holds and how many requirements they cover — the only
    view of a trust's evidence its LMNS and region get (no titles, no files)."""
    with transaction(url) as session:
        held = dict(
            session.execute(
                select(EvidenceItem.trust_code, func.count())
                .where(EvidenceItem.trust_code.in_(list(trusts)))
                .group_by(EvidenceItem.trust_code)
            ).all()
        )
        per: dict[str, dict[str, int]] = {t: {} for t in trusts}
        for trust, key, n in session.execute(
            select(EvidenceMapping.trust_code, EvidenceMapping.item_key, func.count())
            .where(EvidenceMapping.trust_code.in_(list(trusts)))
            .group_by(EvidenceMapping.trust_code, EvidenceMapping.item_key)
        ):
            per[trust][key] = n
    return {t: EvidenceCounts(int(held.get(t, 0)), len(per[t]), per[t]) for t in trusts}


def suggestions(view: EvidenceView) -> list[Item]:
    """Requirements linked to those the item already supports (``maps_to`` either way, and the
    same requirement in the framework's previous or next version) and not yet mapped: where the
    same evidence probably counts too. A prompt, never applied by itself."""
    mapped = {i.key for i in view.requirements}
    linked: set[str] = set()
    for fw in frameworks():
        for i in fw.items:
            if i.key in mapped:
                linked.update(i.maps_to)
                linked.update([i.previous] if i.previous else [])
            elif mapped.intersection(i.maps_to) or i.previous in mapped:
                linked.add(i.key)
    return [i for fw in frameworks() for i in fw.items if i.key in linked - mapped]


def download(
    url: str, home: Path, trust: str, evidence_id: int, *, actor: str, actor_org: str
) -> tuple[Path, str, str]:
    """The stored file of one of the trust's items: (path, name to save as, content type).

    Each download is audited: evidence files can name staff and describe cases, so who took
    a copy is worth knowing later."""
    _require_own(trust, actor_org, "download")
    with transaction(url) as session:
        row = session.get(EvidenceItem, evidence_id)
        if row is None or row.trust_code != trust or row.sha256 is None:
            raise LookupError(f"There is no file for evidence item {evidence_id} of this trust.")
        path = _stored_path(store_dir(home), row.sha256)
        audit(session, actor, "assurance.evidence_downloaded", "evidence", str(row.id), trust=trust)
        return path, row.file_name or f"evidence-{row.id}", row.content_type or "application/octet-stream"


# -- writes -----------------------------------------------------------------------------------
def _text(values: Mapping[str, Any], name: str, limit: int = MAX_TEXT) -> str | None:
    raw = values.get(name)
    text = "" if raw is None else str(raw).strip()
    if len(text) > limit:
        raise FieldProblem(name, f"Keep this to {limit} characters or fewer.")
    return text or None


def clean(values: Mapping[str, Any], stored: StoredFile | None, today: dt.date) -> dict[str, Any]:
    """The item's fields to store, checked; :class:`FieldProblem` naming the first that cannot be."""
    kind = str(values.get("kind") or "")
    if kind not in KINDS:
        raise FieldProblem("kind", "Choose what kind of evidence this is.")
    title = _text(values, "title", 200)
    if not title:
        raise FieldProblem("title", "Enter a title for the evidence.")
    link = _text(values, "link", 2000)
    if link is not None:
        parts = urlsplit(link)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise FieldProblem("link", "Enter a web address that starts with https://")
    if kind == "link" and link is None:
        raise FieldProblem("link", "Enter the web address of the evidence.")
    if kind != "link" and stored is None and link is None:
        raise FieldProblem("file", "Choose a file to upload, or give the web address where it is kept.")
    if stored is not None and link is not None:
        raise FieldProblem("link", "Give a file or a web address, not both.")
    dated: dt.date | None = None
    raw = str(values.get("dated") or "").strip()
    if raw:
        try:
            dated = dt.date.fromisoformat(raw)
        except ValueError:
            raise FieldProblem("dated", "Enter a real date, for example 2026-03-31.") from None
        if dated > today:
            raise FieldProblem("dated", "The date cannot be in the future.")
    return {"kind": kind, "title": title, "description": _text(values, "description"), "dated": dated, "link": link}


def add(
    url: str,
    trust: str,
    values: Mapping[str, Any],
    stored: StoredFile | None,
    *,
    maps_to: Collection[str] = (),
    actor: str,
    actor_org: str,
    today: dt.date,
) -> int:
    """Attach one item to the trust's library, mapped to ``maps_to`` (requirement keys); its id.

    PermissionError for anyone outside the trust, KeyError for an unknown requirement,
    :class:`FieldProblem` for a value that cannot be stored; the item, its mappings and the
    audit event are written together or not at all. A received file is put in place (or found
    there) and the item committed while its lock is held, so a removal of another item with the
    same bytes cannot delete it in between; if anything fails, the received file is deleted and
    so is a file put in place that no item names.
    """
    try:
        _require_own(trust, actor_org, "add")
        keys = [_listed(url, trust, k).key for k in dict.fromkeys(maps_to) if k]
        cleaned = clean(values, stored, today)
        return _insert(url, trust, cleaned, keys, stored, actor)
    finally:
        if stored is not None and stored.received is not None:
            stored.received.unlink(missing_ok=True)  # put in place, or not wanted


def _insert(
    url: str, trust: str, cleaned: dict[str, Any], keys: list[str], stored: StoredFile | None, actor: str
) -> int:
    now = utcnow()
    placed = False
    try:
        with transaction(url) as session:
            if stored is not None:
                _hold_file(session, stored.sha256)
                placed = _put_in_place(stored)
            return _insert_row(session, trust, cleaned, keys, stored, actor, now)
    except BaseException:
        if placed and stored is not None and stored.store is not None:
            _delete_if_unused(url, stored.store, stored.sha256)  # the item that was to name it never came
        raise


def _put_in_place(stored: StoredFile) -> bool:
    """The upload's half of the critical section (the file's lock held): make sure the file is in
    the store — it may have been deleted by a removal since it was received — before the item
    naming it commits. Whether this put it there."""
    if stored.store is None:
        raise ValueError("a file must come from a Receiver to be added")
    target = _stored_path(stored.store, stored.sha256)
    if target.is_file():
        return False  # the same bytes are stored already; the received copy is deleted by add()
    if stored.received is None or not stored.received.is_file():
        raise EvidenceProblem("The file was not received completely. Choose it and upload it again.")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(stored.received, target)
    return True


def _insert_row(
    session: Session,
    trust: str,
    cleaned: dict[str, Any],
    keys: list[str],
    stored: StoredFile | None,
    actor: str,
    now: dt.datetime,
) -> int:
    row = EvidenceItem(trust_code=trust, added_by=actor, added_at=now, **cleaned)
    if stored is not None:
        row.file_name, row.size_bytes, row.sha256 = stored.file_name, stored.size, stored.sha256
        row.content_type = TYPES[stored.kind].content_type
    session.add(row)
    session.flush()
    for key in keys:
        session.add(EvidenceMapping(evidence_id=row.id, trust_code=trust, item_key=key, mapped_by=actor,
                                    mapped_at=now))  # fmt: skip
    details: dict[str, Any] = {"trust": trust, "kind": cleaned["kind"], "requirements": keys}
    if stored is not None:
        details |= {"file": stored.file_name, "sha256": stored.sha256}
    audit(session, actor, "assurance.evidence_added", "evidence", str(row.id), **details)
    return row.id


def _listed(url: str, trust: str, key: str) -> Item:
    """A requirement the trust works to and that is still listed: KeyError for a retired local one
    (its evidence stays mapped and shown, but nothing new is mapped to it)."""
    requirement = requirement_of(url, trust, key)
    if requirement.retired:
        raise KeyError(f"assurance requirement {key!r} is retired")
    return requirement


def _own_row(session: Any, trust: str, evidence_id: int) -> EvidenceItem:
    row = session.get(EvidenceItem, evidence_id)
    if row is None or row.trust_code != trust:
        raise LookupError(f"There is no evidence item {evidence_id} of this trust.")
    return row


def map_item(url: str, trust: str, evidence_id: int, key: str, *, actor: str, actor_org: str) -> bool:
    """Map an item to one more requirement; False if it already was (nothing written)."""
    _require_own(trust, actor_org, "map")
    requirement = _listed(url, trust, key)
    with transaction(url) as session:
        row = _own_row(session, trust, evidence_id)
        exists = session.scalars(
            select(EvidenceMapping).where(EvidenceMapping.evidence_id == row.id, EvidenceMapping.item_key == key)
        ).first()
        if exists is not None:
            return False
        session.add(EvidenceMapping(evidence_id=row.id, trust_code=trust, item_key=requirement.key,
                                    mapped_by=actor, mapped_at=utcnow()))  # fmt: skip
        audit(session, actor, "assurance.evidence_mapped", "evidence", str(row.id), trust=trust, requirement=key)
        return True


def unmap_item(url: str, trust: str, evidence_id: int, key: str, *, actor: str, actor_org: str) -> bool:
    """Take a requirement off an item; False if it was not mapped (nothing written)."""
    _require_own(trust, actor_org, "unmap")
    with transaction(url) as session:
        row = _own_row(session, trust, evidence_id)
        mapping = session.scalars(
            select(EvidenceMapping).where(EvidenceMapping.evidence_id == row.id, EvidenceMapping.item_key == key)
        ).first()
        if mapping is None:
            return False
        session.delete(mapping)
        audit(session, actor, "assurance.evidence_unmapped", "evidence", str(row.id), trust=trust, requirement=key)
        return True


def remove(url: str, home: Path, trust: str, evidence_id: int, reason: str, *, actor: str, actor_org: str) -> bool:
    """Remove a mistaken item of the trust's, with its mappings; whether its file was deleted too.

    The item, its mappings and the audit event (with the reason, the title, the file's name and
    SHA-256, and the requirements it supported) go in one transaction. Files are stored by
    content, so two items (of any trust) holding the same bytes share one file: it is deleted
    only after that transaction has committed and only if no item still names its hash, checked
    and deleted under the file's lock (:func:`_delete_if_unused`) — a failed removal never loses a
    file, and a file still used, or being added again at that moment, is never lost. There is no
    restore: the audit event keeps what the item was, and the trust adds it again if it was right
    after all.
    """
    _require_own(trust, actor_org, "remove")
    why = " ".join(str(reason or "").split())
    if not why:
        raise FieldProblem("reason", "Say why the evidence item is being removed.")
    if len(why) > MAX_TEXT:
        raise FieldProblem("reason", f"Keep this to {MAX_TEXT} characters or fewer.")
    with transaction(url) as session:
        row = _own_row(session, trust, evidence_id)
        sha256 = row.sha256
        mappings = list(session.scalars(select(EvidenceMapping).where(EvidenceMapping.evidence_id == row.id)))
        for mapping in mappings:
            session.delete(mapping)
        supported = sorted(m.item_key for m in mappings)
        audit(session, actor, "assurance.evidence_removed", "evidence", str(row.id), trust=trust, reason=why,
              title=row.title, file=row.file_name, sha256=sha256, requirements=supported)  # fmt: skip
        session.flush()
        session.delete(row)
    if sha256 is None:
        return False
    return _delete_if_unused(url, store_dir(home), sha256)


def _hold_file(session: Session, sha256: str) -> None:
    """Hold the lock of the stored file ``sha256`` until the session's transaction ends; the first
    statement of that transaction.

    PostgreSQL (several server processes may share it): a transaction-level advisory lock keyed by
    the hash (``pg_advisory_xact_lock``, PostgreSQL manual, "Advisory Locks",
    https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS), released by the
    commit or rollback — after the commit is visible, so the next holder's reads see it. SQLite
    (one machine): ``BEGIN IMMEDIATE``, the database's write lock, which every process and thread
    writing to it waits for (https://www.sqlite.org/lang_transaction.html, "Read transactions
    versus write transactions"), up to the connection's busy timeout.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("BEGIN IMMEDIATE"))
    else:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(f"evidence-file:{sha256}")})


def _delete_if_unused(url: str, store: Path, sha256: str) -> bool:
    """The removal's half of the critical section: with the file's lock held, delete the stored
    file ``sha256`` if no evidence item names it; whether it was deleted.

    Called after the removal committed. An upload of the same bytes either committed its item
    before this took the lock (the count sees it, the file stays) or waits for the lock and then
    finds the file gone and puts its received copy in place (:func:`_put_in_place`): no item is
    ever left naming a deleted file."""
    with transaction(url) as session:
        _hold_file(session, sha256)
        used = session.scalar(select(func.count()).select_from(EvidenceItem).where(EvidenceItem.sha256 == sha256))
        if used:
            return False
        path = _stored_path(store, sha256)
        if not path.is_file():
            return False
        path.unlink()
        return True
