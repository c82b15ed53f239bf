"""Data page: the organisation's data coverage, its loads, and uploading a file with a plan first.

A load is shown to a user when every trust whose records it supplied is in their scope
(national analysts see every load, including failed ones). Rejection reports quote the bad
values from the file, which is patient-level data, so the same rule guards their download.
An upload may only contain records of trusts in the uploader's scope: the loader checks
that on the values it would store (:class:`~matneo.records.load.OutsideScope`), so there is
one rule, in the domain, and nothing here second-guesses the file.

An upload is never loaded straight away. It is received to disk (a chunk at a time, with the
size limit enforced while reading), the loader works out its plan without changing anything,
and the plan page says what would happen ("This replaces 406 records of R0A December 2024
with 47"). Only a confirmation, by the same person, loads it; a partial month needs a second,
explicit confirmation. The stored upload is deleted when it is loaded or cancelled (and
unconfirmed ones after a day).

An upload may be several files of one kind (a month sent as several FHIR Bundles, CSV or
Parquet files, or an MSDS extract's table files themselves): they are planned, confirmed,
loaded, put in the ledger and reverted as *one* load (``load_files(..., one_load=True)``; an
extract's tables are one input anyway), so one store version, with the size limit over them
all. Files of different kinds, or a file of no kind the page reads, refuse the upload by name.

The page takes what trust staff hold, and reads its format from the file's first bytes, not
its name (:func:`detect_format`): a birth-record CSV or Parquet file, a FHIR R4 Bundle (JSON)
or an MSDS v2.0 extract as a zip of its table files. Each goes to the loader's entry point
with its ``input_format``, exactly as ``matneo load --format csv|fhir|msds`` and
``POST /api/v1/fhir`` do, so the scope check, plan, rejection report, atomic load, ledger,
audit and revert are the same for all. A zip is unpacked (:mod:`matneo.web.pages.unzip`: names
checked, sizes limited) into a private temporary folder for each plan or load, and the folder
is removed as soon as the loader is done with it.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import os
import re
import shutil
import tempfile
import time
import uuid
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from matneo.auth.access import UPLOAD_ROLES, Access
from matneo.dates import moment_text
from matneo.db import ledger
from matneo.db.models import Load
from matneo.records.changes import MODES, month_label
from matneo.records.load import (
    BatchResult,
    OutsideScope,
    PlanChanged,
    PlanRefused,
    UnreadableInput,
    files_label,
    load_files,
    record_failure,
)
from matneo.records.revert import RevertRefused, revert_load
from matneo.records.status import plural
from matneo.records.store import RecordStore
from matneo.web.pages.guides import GUIDES, Guide
from matneo.web.pages.unzip import ZipProblem, unpack
from matneo.web.services import NotFound, Services

#: A FHIR Bundle's limit, as for ``POST /api/v1/fhir`` (``routes_fhir.MAX_BUNDLE_BYTES``): the reader holds it whole
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # a year of one trust's births is a few MB; a region's, a few hundred
FORM_OVERHEAD_BYTES = 64 * 1024  # the multipart envelope and the form's other fields
READ_CHUNK_BYTES = 1024 * 1024
#: The most files one upload may hold: a year of an MSDS extract's monthly table files, or a
#: month of a trust's FHIR Bundles sent one birth at a time. (Starlette keeps each file of the
#: form in memory up to 1 MB before it spools it to disk, so this also bounds that memory.)
MAX_UPLOAD_FILES = 500
PLAN_FILE = "plan.json"  # beside the received files in the upload's folder
PENDING_SECONDS = 24 * 3600  # an upload neither confirmed nor cancelled is deleted after a day
PLAN_ROWS_SHOWN = 100
COVERAGE_MONTHS = 12
TOKEN = re.compile(r"[0-9a-f]{32}")
MODE_LABELS = {
    "resubmit": "Full resubmission of the months in the file",
    "upsert": "Add or correct records",
    "revert": "Revert",
}
STATUS_LABELS = {"loaded": "Loaded", "failed": "Failed", "reverted": "Reverted", "revert": "Reverted load"}
CHOOSE_MODE = "Choose whether the file is a full resubmission of its months or adds and corrects records."
#: What an upload was read as (shown on the plan and the result), by the kind :func:`detect_format` finds.
FORMAT_LABELS = {
    "csv": "Birth-record CSV",
    "parquet": "Birth-record Parquet",
    "fhir": "FHIR R4 Bundle (JSON)",
    "msds": "MSDS v2.0 extract (zip of table files)",
}
#: The guide to each kind (:data:`matneo.web.pages.guides.GUIDES`), linked where the page says
#: what a file was read as, so the uploader can see what such a file must hold.
FORMAT_GUIDES = {"csv": "birth-record", "parquet": "birth-record", "fhir": "fhir", "msds": "msds"}
#: The loader's input format of each kind (``load_files(input_format=…)``, ``matneo load --format``).
INPUT_FORMATS = {"csv": "csv", "parquet": "csv", "fhir": "fhir", "msds": "msds"}
WRONG_FORMAT = (
    "The file must be a CSV (.csv) or Parquet (.parquet) file of birth records, a FHIR R4 Bundle (.json) "
    "or an MSDS v2.0 extract (a .zip of its table files)."
)
OFFICE_DOCUMENT = (
    "is an Excel workbook (or another Office document), not a zip of MSDS table files: "
    "save the sheet as CSV UTF-8 and upload that"
)
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first member, or the end record of an empty zip
#: Kinds only an upload of several files has: what :func:`detect_kinds` finds, beside FORMAT_LABELS.
FORMAT_LABELS["csv+parquet"] = "Birth-record CSV and Parquet files"
FORMAT_LABELS["msds-tables"] = "MSDS v2.0 extract (its table files)"
INPUT_FORMATS |= {"csv+parquet": "csv", "msds-tables": "msds"}
FORMAT_GUIDES |= {"csv+parquet": "birth-record", "msds-tables": "msds"}
ONE_KIND = (
    "Upload files of one kind together: birth-record CSV or Parquet files, FHIR R4 Bundles, "
    "or the table files of one MSDS extract (or one zip of them)."
)


class UploadProblem(Exception):
    """Something about an upload the user can fix: shown in the page's error summary."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# -- page contexts ------------------------------------------------------------------------------
@dataclass
class LoadRow:
    id: int
    file_name: str
    status: str  # loaded | failed | reverted | revert
    status_label: str
    finished_at: str | None  # UTC, ISO 8601, for the API
    finished: str | None  # for people: '2 Dec 2026, 17:46'
    mode: str | None
    mode_label: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_added: int
    rows_replaced: int
    rows_removed: int
    reverts_load_id: int | None
    trusts: list[str]
    has_rejections: bool
    error: str | None
    can_revert: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class UploadResult:
    file_name: str
    status: str  # loaded | duplicate | reverted
    message: str
    load_id: int | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    absent_columns: list[str] = field(default_factory=list)  # optional columns the file did not have
    format_label: str = ""  # what the file was read as: FORMAT_LABELS
    notices: list[str] = field(default_factory=list)  # what the reader wants the uploader to know
    files: list[str] = field(default_factory=list)  # the upload's files, as received (file_name names them all)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def format_guide(self) -> Guide | None:
        """The guide to what the file was read as (none for a result that names no format)."""
        kind = next((k for k, label in FORMAT_LABELS.items() if label == self.format_label), None)
        return GUIDES[FORMAT_GUIDES[kind]] if kind else None


@dataclass
class PlanRow:
    trust_code: str
    month: str
    month_label: str
    existing_rows: int
    new_rows: int
    added: int
    replaced: int
    removed: int
    moved_out: int
    shrinks: bool
    sentence: str


@dataclass
class UploadPlan:
    """What confirming an upload would do; shown before anything changes."""

    token: str
    file_name: str
    mode: str
    mode_label: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    moved_records: int
    top_reasons: list[tuple[str, int]]
    rows: list[PlanRow]
    more_rows: int
    shrinking: list[str]  # sentences for partial months (need a second confirmation)
    absent_columns: list[str] = field(default_factory=list)  # optional columns the file does not have
    kind: str = "csv"  # what detect_kinds found: a key of FORMAT_LABELS (a plan kept from before: CSV)
    format_label: str = FORMAT_LABELS["csv"]
    notices: list[str] = field(default_factory=list)  # what the reader wants the uploader to know
    files: list[str] = field(default_factory=list)  # its files as received (a plan kept from before: file_name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def format_guide(self) -> Guide:
        """The guide to what the file was read as."""
        return GUIDES[FORMAT_GUIDES[self.kind]]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UploadPlan:
        rows = [PlanRow(**row) for row in data["rows"]]
        reasons = [(reason, n) for reason, n in data["top_reasons"]]
        return cls(**{**data, "rows": rows, "top_reasons": reasons})


@dataclass
class CoverageRow:
    name: str
    code: str
    births: list[int]
    gaps: list[bool]  # no births in a month between months with births, or none in all the months shown


@dataclass
class Coverage:
    """Births per month per site (per trust for national users) over the last months loaded."""

    level: str  # site | trust
    months: list[str]  # 'Dec 2024'
    rows: list[CoverageRow]

    @property
    def gap_count(self) -> int:
        return sum(sum(row.gaps) for row in self.rows)


@dataclass
class DataPage:
    title: str
    scope_name: str
    can_upload: bool
    loads: list[LoadRow]
    coverage: Coverage | None = None
    upload: UploadResult | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "scope": self.scope_name,
            "can_upload": self.can_upload,
            "loads": [load.to_dict() for load in self.loads],
            "coverage": asdict(self.coverage) if self.coverage else None,
            "upload": self.upload.to_dict() if self.upload else None,
        }


def _visible(access: Access, trusts: set[str]) -> bool:
    return access.sees_everything or (bool(trusts) and trusts <= access.scope)


def _row(access: Access, load: Load, trusts: set[str]) -> LoadRow:
    status_label = STATUS_LABELS.get(load.status, load.status)
    if load.status == "revert" and load.reverts_load_id:
        status_label = f"Revert of load {load.reverts_load_id}"
    return LoadRow(
        id=load.id,
        file_name=Path(load.file_name).name,
        status=load.status,
        status_label=status_label,
        finished_at=load.finished_at.isoformat(timespec="minutes") + "Z" if load.finished_at else None,
        finished=moment_text(load.finished_at) if load.finished_at else None,
        mode=load.mode,
        mode_label=MODE_LABELS.get(load.mode or "", "–"),
        rows_read=load.rows_read,
        rows_loaded=load.rows_loaded,
        rows_rejected=load.rows_rejected,
        rows_added=load.rows_added,
        rows_replaced=load.rows_replaced,
        rows_removed=load.rows_removed,
        reverts_load_id=load.reverts_load_id,
        trusts=sorted(trusts),
        has_rejections=bool(load.rejection_file),
        error=load.error,
        can_revert=load.status == "loaded" and access.user.role in UPLOAD_ROLES and bool(trusts),
    )


def build(services: Services, access: Access, upload: UploadResult | None = None) -> DataPage:
    within = None if access.sees_everything else access.scope
    loads = [
        _row(access, load, trusts)
        for load, trusts in ledger.loads_with_trusts(services.settings.database_url, limit=50, within=within)
    ]
    can_upload = access.user.role in UPLOAD_ROLES
    return DataPage("Data", access.org_name, can_upload, loads, coverage(services, access), upload)


# -- coverage -----------------------------------------------------------------------------------
def coverage(services: Services, access: Access) -> Coverage | None:
    """The organisation's births per month per site, cached per store version and scope."""
    return services.results.memo(("data-coverage", access.scope_key), lambda: _coverage(services, access))


def _coverage(services: Services, access: Access) -> Coverage | None:
    store = RecordStore(services.settings.records_dir)
    manifest = store.manifest()
    if not manifest.months:
        return None
    keys = manifest.months[-COVERAGE_MONTHS:]
    by_trust = access.sees_everything
    trusts = None if by_trust else [t.code for t in services.hierarchy.trusts_under(access.user.org_code)]
    if by_trust:
        wanted = {t.code: t.name for t in services.hierarchy.trusts()}
        counts = {(trust, month): n for (trust, month), n in manifest.counts().items() if month in keys}
    else:
        wanted = {s.code: s.name for t in trusts or [] for s in services.hierarchy.sites_of(t)}
        counts = _site_counts(store, trusts or [], keys)
    rows = []
    for code, name in sorted(wanted.items(), key=lambda item: item[1]):
        births = [counts.get((code, key), 0) for key in keys]
        if not any(births) and by_trust:
            continue  # a trust with nothing loaded in these months is not a gap in the national view
        rows.append(CoverageRow(name, code, births, _gaps(births)))
    if not any(any(row.births) for row in rows):
        return None
    labels = [dt.date(int(k[:4]), int(k[5:]), 1).strftime("%b %Y") for k in keys]
    return Coverage("trust" if by_trust else "site", labels, rows)


def _site_counts(store: RecordStore, trusts: list[str], keys: list[str]) -> dict[tuple[str, str], int]:
    """Births per (site, YYYY-MM) of these trusts, from the first month in ``keys`` on."""
    if not trusts:
        return {}
    first = int(keys[0][:4]) * 12 + int(keys[0][5:])
    sql = (
        "SELECT site_code, year, month, count(*) FROM births "
        "WHERE year * 12 + month >= ? AND trust_code IN (SELECT unnest(?)) GROUP BY ALL"
    )
    found = store.connect().execute(sql, [first, trusts]).fetchall()
    return {(site, f"{year:04d}-{month:02d}"): n for site, year, month, n in found}


def _gaps(births: list[int]) -> list[bool]:
    """Months with no births between months with births; every month if there are none at all."""
    if not any(births):
        return [True] * len(births)
    first = next(i for i, n in enumerate(births) if n)
    last = max(i for i, n in enumerate(births) if n)
    return [n == 0 and first < i < last for i, n in enumerate(births)]


# -- receiving an upload ------------------------------------------------------------------------
def _too_large(several: bool = False) -> UploadProblem:
    limit = MAX_UPLOAD_BYTES // (1024 * 1024)
    if several:
        return UploadProblem(
            f"The files are larger than {limit} MB together. Upload fewer at a time, or split them by month.", 413
        )
    return UploadProblem(f"The file is larger than {limit} MB. Split it by month.", 413)


def check_declared_size(content_length: str | None) -> None:
    """Refuse an upload whose request says it is too large, before a byte of it is read."""
    if content_length is None or not content_length.isdigit():
        raise UploadProblem("Your browser did not say how large the file is. Try again.", 411)
    if int(content_length) > MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES:
        raise _too_large()


def _safe_name(name: str) -> str:
    """The name a received file is kept (and shown) by: its base name with anything but letters,
    digits, ``.``, ``_`` and ``-`` replaced, never the plan's own file nor ``.``/``..``."""
    base = Path(name or "upload").name
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", base)[:100]
    if safe in ("", ".", ".."):
        return "upload"
    return f"upload-{safe}" if safe == PLAN_FILE else safe


def _uploads(services: Services) -> Path:
    return services.settings.home / "uploads"


def _sweep_pending(services: Services) -> None:
    """Delete uploads nobody confirmed or cancelled within a day."""
    folder = _uploads(services)
    if folder.exists():
        for entry in folder.iterdir():
            if time.time() - entry.stat().st_mtime > PENDING_SECONDS:
                shutil.rmtree(entry, ignore_errors=True)


def _named(names: list[str]) -> str:
    """Files named in a message: as many names as fit in a sentence, then how many more."""
    return files_label(names, limit=200)


async def receive(services: Services, access: Access, files: list[UploadFile]) -> list[Path]:
    """Copy an upload's files to disk a chunk at a time, refusing them as soon as together they
    are too large (:data:`MAX_UPLOAD_BYTES`, over all the files).

    Each upload gets a folder of its own under ``uploads/``, named by a random token. The
    files keep their names, made safe (:func:`_safe_name`); two files that would have the same
    name, or an empty file, refuse the upload, naming the file.
    """
    access.require_role(UPLOAD_ROLES, "upload birth records")
    if len(files) > MAX_UPLOAD_FILES:
        raise UploadProblem(f"Choose at most {MAX_UPLOAD_FILES} files at a time.")
    names = [_safe_name(file.filename or "") for file in files]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UploadProblem(f"Two of the files have the same name, {repeated[0]}. Rename one of them and try again.")
    several = len(files) > 1
    _sweep_pending(services)
    folder = _uploads(services) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    paths: list[Path] = []
    total = 0
    try:
        for file, name in zip(files, names, strict=True):
            path = folder / name
            size = 0
            with open(path, "wb") as out:
                while chunk := await file.read(READ_CHUNK_BYTES):
                    size += len(chunk)
                    total += len(chunk)
                    if total > MAX_UPLOAD_BYTES:
                        raise _too_large(several)
                    await run_in_threadpool(out.write, chunk)
            if size == 0:
                raise UploadProblem(f"The file {name} is empty." if several else "The file is empty.")
            paths.append(path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return paths


def detect_format(path: Path) -> str:
    """What a received file is, from its first bytes (a key of :data:`FORMAT_LABELS`).

    Parquet and zip files say so in their first bytes; JSON starts with ``{`` (after any
    byte order mark and white space). Only text that is none of these goes by its name: a
    ``.csv`` is read as CSV, and a ``.json``, ``.zip`` or ``.parquet`` as what it is named, so
    that the reader says what is wrong with it. Anything else is refused (:data:`WRONG_FORMAT`).
    """
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(ZIP_MAGIC):
        return "msds"
    if head.removeprefix(codecs.BOM_UTF8).lstrip().startswith((b"{", b"[")):
        return "fhir"
    kind = {".csv": "csv", ".parquet": "parquet", ".json": "fhir", ".zip": "msds"}.get(path.suffix.lower())
    if kind is None:
        raise UploadProblem(WRONG_FORMAT)
    return kind


def _msds_table(name: str) -> bool:
    """Whether a zip member's base name is an MSDS table file (as ``matneo load --format msds`` finds them);
    hidden files (a Mac's ``._MSD001….csv``) are not."""
    from matneo.msds.reader import table_of  # only MSDS uploads pay for the MSDS mapping

    return not name.startswith(".") and table_of(Path(name)) is not None


def _msds_table_file(path: Path) -> bool:
    """Whether a CSV upload is one of an MSDS extract's table files, sent as it is rather than in
    a zip: named by its table (``MSD401BabyDemographics.csv``, as ``matneo load --format msds``
    finds them) and without the birth-record layout's ``record_id`` column in its first line."""
    if not path.name.upper().startswith(("MSD", "MATNEO")) or not _msds_table(path.name):
        return False
    with open(path, "rb") as handle:
        return b"record_id" not in handle.readline(64 * 1024)


def _office_document(path: Path) -> bool:
    """Whether a zip is an Office Open XML document (an Excel workbook is a zip too)."""
    try:
        with zipfile.ZipFile(path) as zipped:
            return "[Content_Types].xml" in zipped.namelist()
    except zipfile.BadZipFile:
        return False


def detect_kinds(paths: list[Path]) -> str:
    """What a received upload is (a key of :data:`FORMAT_LABELS`): each file's kind from its
    first bytes (:func:`detect_format`), a CSV named as an MSDS table being one of an extract's
    table files. Several files must be of one kind, as one load reads one input format (CSV and
    Parquet files are one: birth records); a file of no kind the page reads, files of several
    kinds or several zips refuse the upload, naming the files."""
    if len(paths) == 1:
        kind = detect_format(paths[0])
        return "msds-tables" if kind == "csv" and _msds_table_file(paths[0]) else kind
    kinds: dict[str, list[str]] = {}
    unread: list[str] = []
    for path in paths:
        try:
            kind = detect_format(path)
        except UploadProblem:
            unread.append(path.name)
            continue
        if kind == "msds" and _office_document(path):
            raise UploadProblem(f"Nothing was loaded: {path.name} {OFFICE_DOCUMENT}.")
        if kind == "csv" and _msds_table_file(path):
            kind = "msds-tables"
        kinds.setdefault(kind, []).append(path.name)
    if unread:
        what = "is not a file" if len(unread) == 1 else "are not files"
        each = WRONG_FORMAT.replace("The file must", "Each file must", 1)
        raise UploadProblem(f"Nothing was loaded: {_named(unread)} {what} of a kind this page reads. {each}")
    if set(kinds) == {"csv", "parquet"}:
        return "csv+parquet"
    if len(kinds) > 1:
        found = "; ".join(f"{FORMAT_LABELS[kind]}: {_named(names)}" for kind, names in kinds.items())
        raise UploadProblem(f"Nothing was loaded: the files are of different kinds ({found}). {ONE_KIND}")
    ((kind, names),) = kinds.items()
    if kind == "msds":
        raise UploadProblem(
            f"Nothing was loaded: {_named(names)} are all zips. Upload one MSDS extract's zip at a time, "
            "or its table files themselves together."
        )
    return kind


def _load(services: Services, access: Access, paths: list[Path], kind: str, **options: Any) -> BatchResult:
    """``load_files`` of one received upload, as the command line and the API call it; several
    files are one load (``one_load``; an MSDS extract's table files are one input anyway)."""
    common: dict[str, Any] = {"scope": _scope(access), "actor": access.user.email, **options}
    if kind == "msds":
        return _load_zip(services, paths[0], common)
    if kind == "msds-tables":
        return _load_tables(services, paths, common)
    settings, hierarchy = services.settings, services.hierarchy
    return load_files(paths, settings, hierarchy, input_format=INPUT_FORMATS[kind], one_load=True, **common)


def _load_zip(services: Services, path: Path, common: dict[str, Any]) -> BatchResult:
    """An MSDS zip is unpacked, flat, into a private folder (``mkdtemp``: only this process's user
    may read it) named as the zip, so the ledger and the Data page name the load by the zip's
    name; the folder is removed when the loader is done, whatever happened. A problem of one
    table file names the file."""
    private = Path(tempfile.mkdtemp(prefix="unzipped-", dir=path.parent))
    try:
        extract = private / path.name
        extract.mkdir()
        try:
            if not unpack(path, extract, _msds_table) and _office_document(path):
                raise ZipProblem(OFFICE_DOCUMENT)
        except ZipProblem as refused:
            raise UnreadableInput(path, str(refused)) from None
        try:
            return load_files([extract], services.settings, services.hierarchy, input_format="msds", **common)
        except UnreadableInput as error:
            if error.path.parent != extract:
                raise UnreadableInput(path, error.problem) from None
            what = re.sub(r"^\([^)]*\) ", "", error.problem)  # "(MSD401BabyDemographics) is missing…"
            raise UnreadableInput(path, f"holds {error.path.name}, which {what}") from None
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _load_tables(services: Services, paths: list[Path], common: dict[str, Any]) -> BatchResult:
    """An MSDS extract's table files, uploaded as they are: linked (hard links, not copies) into a
    private folder named by the files, so the ledger and the Data page name the load by them,
    and loaded as the one extract they are; the folder is removed when the loader is done. A
    problem of one file names it as it was uploaded; one of the extract names the upload."""
    folder = paths[0].parent
    private = Path(tempfile.mkdtemp(prefix="tables-", dir=folder))
    try:
        extract = private / files_label([path.name for path in paths])
        extract.mkdir()
        for path in paths:
            try:
                os.link(path, extract / path.name)
            except OSError:  # a file system without hard links
                shutil.copyfile(path, extract / path.name)
        try:
            return load_files([extract], services.settings, services.hierarchy, input_format="msds", **common)
        except UnreadableInput as error:
            if error.path.parent == extract or error.path == extract:
                raise UnreadableInput(folder / error.path.name, error.problem) from None
            raise
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _scope(access: Access) -> frozenset[str] | None:
    return None if access.sees_everything else access.scope


def _plan(folder: Path, paths: list[Path], mode: str, kind: str, batch: BatchResult) -> UploadPlan:
    item = batch.files[0]
    rows = [
        PlanRow(
            c.trust_code,
            c.month,
            month_label(c.month),
            c.existing_rows,
            c.new_rows,
            c.added,
            c.replaced,
            c.removed,
            c.moved_out,
            c.shrinks and mode == "resubmit",
            c.describe(),
        )
        for c in item.months
    ]
    names = [path.name for path in paths]
    return UploadPlan(
        token=folder.name,
        file_name=files_label(names),
        mode=mode,
        mode_label=MODE_LABELS[mode],
        rows_read=item.rows_read,
        rows_loaded=item.rows_loaded,
        rows_rejected=item.rows_rejected,
        moved_records=item.moved_records,
        top_reasons=list(item.top_reasons),
        rows=rows[:PLAN_ROWS_SHOWN],
        more_rows=max(0, len(rows) - PLAN_ROWS_SHOWN),
        shrinking=[c.describe() for c in batch.shrinking()],
        absent_columns=list(item.absent_columns),
        kind=kind,
        format_label=FORMAT_LABELS[kind],
        notices=list(item.notices),
        files=names,
    )


def _failed_file(error: UnreadableInput, paths: list[Path]) -> Path:
    """What a refused upload is put in the ledger as: the file the problem is in, else (a problem
    of several files together) the upload, named by its files."""
    by_name = {path.name: path for path in paths}
    return by_name.get(error.path.name) or paths[0].parent / files_label(list(by_name))


def _not_loaded(error: UnreadableInput, paths: list[Path]) -> str:
    """Why an upload was not loaded, naming the file the problem is in when there are several."""
    if len(paths) == 1:
        return f"The file was not loaded: it {error.problem}."
    if error.path.name in {path.name for path in paths}:
        return f"The files were not loaded: {error.path.name} {error.problem}."
    plural_verb = {"has": "have", "is": "are", "contains": "contain"}
    problem = re.sub(r"^(has|is|contains) ", lambda m: plural_verb[m.group(1)] + " ", error.problem)
    return f"The files were not loaded: together they {problem}."


def _outside(refusal: OutsideScope, paths: list[Path]) -> str:
    message = str(refusal)
    return message if len(paths) == 1 else message.replace("The file has ", "The files have ", 1)


def _dry_run(services: Services, access: Access, paths: list[Path], mode: str, kind: str) -> UploadPlan | UploadResult:
    """Plan a received upload; keep it pending (with its plan), or delete it if it cannot be loaded."""
    settings = services.settings
    folder = paths[0].parent
    names = [path.name for path in paths]
    try:
        batch = _load(services, access, paths, kind, mode=mode, dry_run=True)
    except UnreadableInput as error:
        try:  # ledger row and audit event: one transaction
            record_failure(settings, _failed_file(error, paths), error.problem, actor=access.user.email)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        raise UploadProblem(_not_loaded(error, paths)) from None
    except OutsideScope as refusal:
        shutil.rmtree(folder, ignore_errors=True)
        raise UploadProblem(_outside(refusal, paths), 403) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    item = batch.files[0]
    if item.status == "duplicate":
        shutil.rmtree(folder, ignore_errors=True)
        earlier = f" (load {item.duplicate_of})" if item.duplicate_of else ""
        what = "This file was" if len(paths) == 1 else "These files were"
        message = f"{what} loaded before{earlier}; nothing changed."
        return UploadResult(files_label(names), "duplicate", message, format_label=FORMAT_LABELS[kind], files=names)
    plan = _plan(folder, paths, mode, kind, batch)
    meta = {"owner": access.user.email, "version": batch.store_version or 0, "plan": plan.to_dict()}
    (folder / PLAN_FILE).write_text(json.dumps(meta))
    return plan


def plan_upload(services: Services, access: Access, paths: list[Path], mode: str | None) -> UploadPlan | UploadResult:
    """The plan of a received upload (one file or several, one load) in the chosen mode; nothing
    changes yet. Its kind is read from its files' first bytes (:func:`detect_kinds`)."""
    try:
        if mode not in MODES:
            raise UploadProblem(CHOOSE_MODE)
        kind = detect_kinds(paths)
        for path in paths if kind == "fhir" else []:  # the API's limit: the reader holds a Bundle whole
            if path.stat().st_size > MAX_BUNDLE_BYTES:
                limit = MAX_BUNDLE_BYTES // (1024 * 1024)
                bundle = "The FHIR Bundle" if len(paths) == 1 else f"The FHIR Bundle {path.name}"
                raise UploadProblem(f"{bundle} is larger than {limit} MB. Split it by month.", 413)
    except BaseException:
        shutil.rmtree(paths[0].parent, ignore_errors=True)
        raise
    return _dry_run(services, access, paths, mode, kind)


def _pending(services: Services, access: Access, token: str) -> tuple[Path, list[Path], dict[str, Any]]:
    """A pending upload of this user: (its folder, its files, its plan record); NotFound otherwise
    (the same for both)."""
    folder = _uploads(services) / token
    meta_file = folder / PLAN_FILE
    if not TOKEN.fullmatch(token) or not meta_file.is_file():
        raise NotFound("There is no upload waiting to be confirmed. Upload the file again.")
    meta = json.loads(meta_file.read_text())
    if meta["owner"] != access.user.email:
        raise NotFound("There is no upload waiting to be confirmed. Upload the file again.")
    names = meta["plan"].get("files") or [meta["plan"]["file_name"]]  # a plan kept from before: one file
    return folder, [folder / name for name in names], meta


def pending_plan(services: Services, access: Access, token: str) -> UploadPlan:
    return UploadPlan.from_dict(_pending(services, access, token)[2]["plan"])


class PlanNeedsAnotherLook(Exception):
    """The plan cannot be confirmed as it is; show it again with this message."""

    def __init__(self, plan: UploadPlan, message: str, status: int) -> None:
        super().__init__(message)
        self.plan = plan
        self.status = status


def confirm_upload(services: Services, access: Access, token: str, allow_shrink: bool) -> UploadResult:
    """Load a pending upload as planned, then delete it. The load is audited with its outcome."""
    access.require_role(UPLOAD_ROLES, "upload birth records")
    folder, paths, meta = _pending(services, access, token)
    plan = UploadPlan.from_dict(meta["plan"])
    several = len(paths) > 1
    try:
        options = {"mode": plan.mode, "allow_shrink": allow_shrink, "expect_version": meta["version"]}
        batch = _load(services, access, paths, plan.kind, **options)
    except PlanRefused:
        holds = "the files hold" if several else "the file holds"
        message = f"Confirm that {holds} every record of the months it shrinks, or cancel the upload."
        raise PlanNeedsAnotherLook(plan, message, 400) from None
    except PlanChanged:  # another load since: plan again, on the records as they are now
        fresh = _dry_run(services, access, paths, plan.mode, plan.kind)
        if isinstance(fresh, UploadResult):
            return fresh
        message = "The records changed since you checked this plan (another load). Check the new plan."
        raise PlanNeedsAnotherLook(fresh, message, 409) from None
    except (UnreadableInput, OutsideScope) as problem:  # checked by the plan; here only if the rules changed
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(problem, OutsideScope):
            raise UploadProblem(_outside(problem, paths), 403) from None
        raise UploadProblem("The files were not loaded." if several else "The file was not loaded.") from None
    shutil.rmtree(folder, ignore_errors=True)
    item = batch.files[0]
    load_id = batch.ledger_ids[0] if batch.ledger_ids else item.duplicate_of
    names = [path.name for path in paths]
    if item.status == "duplicate":
        message = f"{'These files were' if several else 'This file was'} loaded before; nothing changed."
        return UploadResult(plan.file_name, "duplicate", message, load_id, format_label=plan.format_label, files=names)
    message = (
        f"Loaded {plural(item.rows_loaded, 'row')} ({item.rows_added:,} added, {item.rows_replaced:,} replaced); "
        f"{plural(item.rows_removed, 'earlier row')} removed; {plural(item.rows_rejected, 'row')} rejected."
    )
    return UploadResult(
        plan.file_name,
        "loaded",
        message,
        load_id,
        item.rows_loaded,
        item.rows_rejected,
        item.top_reasons,
        list(item.absent_columns),
        plan.format_label,
        list(item.notices),
        files=names,
    )


def cancel_upload(services: Services, access: Access, token: str) -> None:
    """Delete a pending upload; nothing was loaded."""
    folder, _, _ = _pending(services, access, token)
    shutil.rmtree(folder, ignore_errors=True)


# -- reverting a load ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RevertMonth:
    trust_code: str
    month_label: str
    records_now: int
    records_after: int


@dataclass(frozen=True)
class RevertPlan:
    """What reverting a load would do, shown before anything changes (issue 10: confirmation
    before anything is replaced). ``blocked`` says why it cannot be done, when it cannot."""

    load_id: int
    file_name: str
    loaded: str | None
    months: list[RevertMonth]
    blocked: str | None


def revert_plan(services: Services, access: Access, load_id: int) -> RevertPlan:
    """The trust-months a revert would put back, with their record counts now and after."""
    access.require_role(UPLOAD_ROLES, "revert a load")
    url = services.settings.database_url
    found = ledger.get_load(url, load_id)
    if found is None or not _visible(access, found[1]):
        raise NotFound(f"There is no load {load_id} of your organisation's records.")
    load = found[0]
    blocked = None
    if load.status == "reverted":
        blocked = f"Load {load_id} has already been reverted."
    elif load.status != "loaded":
        blocked = f"Load {load_id} did not load any records, so there is nothing to revert."
    else:
        later = ledger.later_loads_touching(url, load_id)
        if later:
            blocked = (
                f"{plural(len(later), 'later load')} changed the same trust-months "
                f"(newest: load {later[-1].id}). Revert the later loads first, newest first."
            )
    # after a revert each trust-month holds what it held before the load; now it holds what the
    # load left (later loads would block the revert, so nothing else changed them since)
    months = [
        RevertMonth(m.trust_code, month_label(m.month.strftime("%Y-%m")), m.new_rows, m.existing_rows)
        for m in ledger.load_months(url, load_id)
    ]
    finished = moment_text(load.finished_at) if load.finished_at else None
    return RevertPlan(load_id, Path(load.file_name).name, finished, months, blocked)


def revert(services: Services, access: Access, load_id: int) -> UploadResult:
    """Revert a load of the organisation's records (atomic, audited); UploadProblem if it cannot be."""
    access.require_role(UPLOAD_ROLES, "revert a load")
    try:
        result = revert_load(services.settings, load_id, access.user.email, _scope(access))
    except RevertRefused as refusal:
        status = {"not_found": 404, "blocked": 409}.get(refusal.reason, 400)
        raise UploadProblem(f"{refusal} Nothing was changed.", status) from None
    restored = ", ".join(
        f"{c.trust_code} {month_label(c.month)} has {c.new_rows:,} records again" for c in result.months[:5]
    )
    more = f" and {plural(len(result.months) - 5, 'other trust-month')}" if len(result.months) > 5 else ""
    message = f"Load {load_id} was reverted" + (f": {restored}{more}." if restored else ".")
    return UploadResult(f"Load {load_id}", "reverted", message, result.load_id)


# -- rejection reports --------------------------------------------------------------------------
def rejection_report(services: Services, access: Access, load_id: int) -> Path:
    """The rejection report of a load in scope; NotFound otherwise (the same for both)."""
    found = ledger.get_load(services.settings.database_url, load_id)
    if found is None or not _visible(access, found[1]) or not found[0].rejection_file:
        raise NotFound(f"There is no rejection report for load {load_id} in your organisation's loads.")
    path = Path(found[0].rejection_file)
    if not path.is_file():
        raise NotFound(f"The rejection report for load {load_id} is no longer on disk.")
    return path
