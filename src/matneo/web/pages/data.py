"""Data page: loads and rejection reports for the user's organisation, and uploading a file.

A load is shown to a user when every trust whose records it supplied is in their scope
(national analysts see every load, including failed ones). Rejection reports quote the bad
values from the file, which is patient-level data, so the same rule guards their download.
An upload may only contain records of trusts in the uploader's scope: the loader checks
that on the values it would store (:class:`~matneo.records.load.OutsideScope`), so there is
one rule, in the domain, and nothing here second-guesses the file.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from matneo.auth.access import UPLOAD_ROLES, Access
from matneo.auth.users import audit
from matneo.db import ledger
from matneo.db.models import Load
from matneo.db.session import transaction
from matneo.records.load import OutsideScope, UnreadableInput, load_files, record_failure
from matneo.records.status import plural
from matneo.web.services import NotFound, Services

MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # a year of one trust's births is a few MB; a region's, a few hundred
FORM_OVERHEAD_BYTES = 64 * 1024  # the multipart envelope and the form's other fields
READ_CHUNK_BYTES = 1024 * 1024


@dataclass
class LoadRow:
    id: int
    file_name: str
    status: str
    finished_at: str | None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    trusts: list[str]
    has_rejections: bool
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class UploadResult:
    file_name: str
    status: str  # loaded | duplicate
    message: str
    load_id: int | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    top_reasons: list[tuple[str, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DataPage:
    title: str
    scope_name: str
    can_upload: bool
    loads: list[LoadRow]
    upload: UploadResult | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "scope": self.scope_name,
            "can_upload": self.can_upload,
            "loads": [load.to_dict() for load in self.loads],
            "upload": self.upload.to_dict() if self.upload else None,
        }


def _visible(access: Access, trusts: set[str]) -> bool:
    return access.sees_everything or (bool(trusts) and trusts <= access.scope)


def _row(load: Load, trusts: set[str]) -> LoadRow:
    return LoadRow(
        id=load.id,
        file_name=Path(load.file_name).name,
        status=load.status,
        finished_at=load.finished_at.isoformat(timespec="minutes") if load.finished_at else None,
        rows_read=load.rows_read,
        rows_loaded=load.rows_loaded,
        rows_rejected=load.rows_rejected,
        trusts=sorted(trusts),
        has_rejections=bool(load.rejection_file),
        error=load.error,
    )


def build(services: Services, access: Access, upload: UploadResult | None = None) -> DataPage:
    loads = [
        _row(load, trusts)
        for load, trusts in ledger.loads_with_trusts(services.settings.database_url, limit=200)
        if _visible(access, trusts)
    ]
    return DataPage("Data", access.org_name, access.user.role in UPLOAD_ROLES, loads[:50], upload)


def rejection_report(services: Services, access: Access, load_id: int) -> Path:
    """The rejection report of a load in scope; NotFound otherwise (the same for both)."""
    found = ledger.get_load(services.settings.database_url, load_id)
    if found is None or not _visible(access, found[1]) or not found[0].rejection_file:
        raise NotFound(f"There is no rejection report for load {load_id} in your organisation's loads.")
    path = Path(found[0].rejection_file)
    if not path.is_file():
        raise NotFound(f"The rejection report for load {load_id} is no longer on disk.")
    return path


class UploadProblem(Exception):
    """Something about an upload the user can fix: shown in the Data page's error summary."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _too_large() -> UploadProblem:
    return UploadProblem(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Split it by month.", 413)


def check_declared_size(content_length: str | None) -> None:
    """Refuse an upload whose request says it is too large, before a byte of it is read."""
    if content_length is None or not content_length.isdigit():
        raise UploadProblem("Your browser did not say how large the file is. Try again.", 411)
    if int(content_length) > MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES:
        raise _too_large()


def _safe_name(name: str) -> str:
    base = Path(name or "upload").name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", base)[:100] or "upload"


async def receive(services: Services, access: Access, file: UploadFile) -> Path:
    """Copy an uploaded file to disk a chunk at a time, refusing it as soon as it is too large.

    Each upload gets a folder of its own under ``uploads/``; :func:`upload` deletes it.
    """
    access.require_role(UPLOAD_ROLES, "upload birth records")
    name = _safe_name(file.filename or "")
    if not name.lower().endswith((".csv", ".parquet")):
        raise UploadProblem("The file must be a CSV (.csv) or Parquet (.parquet) file of birth records.")
    folder = services.settings.home / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / name
    size = 0
    try:
        with open(path, "wb") as out:
            while chunk := await file.read(READ_CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise _too_large()
                await run_in_threadpool(out.write, chunk)
        if size == 0:
            raise UploadProblem("The file is empty.")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path


def upload(services: Services, access: Access, path: Path) -> UploadResult:
    """Load one received file (audited), then delete it whatever happened.

    Never loads another organisation's records: the loader refuses them (one rule, in the domain).
    """
    settings = services.settings
    name = path.name
    actor = access.user.email
    scope = None if access.sees_everything else access.scope
    try:
        try:
            batch = load_files([path], settings, services.hierarchy, scope=scope, actor=actor)
        except UnreadableInput as error:
            record_failure(settings, path, error.problem)
            _audit(settings.database_url, actor, "records.upload_failed", name, problem=error.problem)
            raise UploadProblem(f"The file was not loaded: it {error.problem}.") from None
        except OutsideScope as refusal:
            raise UploadProblem(str(refusal), 403) from None
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    result = batch.files[0]
    load_id = batch.ledger_ids[0] if batch.ledger_ids else result.duplicate_of
    _audit(
        settings.database_url,
        actor,
        "records.upload",
        name,
        load_id=load_id,
        status=result.status,
        rows_loaded=result.rows_loaded,
        rows_rejected=result.rows_rejected,
    )
    if result.status == "duplicate":
        return UploadResult(name, "duplicate", "This file was loaded before; nothing changed.", load_id)
    message = f"Loaded {plural(result.rows_loaded, 'row')}; {plural(result.rows_rejected, 'row')} rejected."
    return UploadResult(
        name, "loaded", message, load_id, result.rows_loaded, result.rows_rejected, list(result.top_reasons)
    )


def _audit(url: str, actor: str, action: str, file_name: str, **details: Any) -> None:
    with transaction(url) as session:
        audit(session, actor, action, "upload", file_name[:64], **details)
