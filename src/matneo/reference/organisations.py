"""The organisation hierarchy: trust → LMNS → NHS region → England, and each trust's sites.

Every measure in MatNeo can be computed at any level of this hierarchy, and a user's access is
scoped to one organisation in it, so it must be exactly right. That is why loading is strict:
a file with a duplicate code, a dangling parent or a parent at the wrong level is refused with
a message naming the file, the line and the problem, instead of being half-loaded.

The packaged data (``reference/data/``, see its README for provenance) is an OGL-licensed
snapshot of ODS codes. Organisations merge and ICBs are reorganised every year, so a
deployment replaces the snapshot with its own extract: :func:`install_user_extract` validates
a pair of CSV files and copies them to ``$MATNEO_HOME/reference/``, where
:func:`load_hierarchy` finds them before the packaged files.

Sites: the packaged ``sites.csv`` references packaged trust codes, so it is only ever paired
with the packaged ``organisations.csv``. A user's organisations file is paired with the user's
sites file if there is one, otherwise the hierarchy simply has no sites.
"""

from __future__ import annotations

import atexit
import csv
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from matneo.config import get_settings

if TYPE_CHECKING:
    import pyarrow

LEVELS = ("trust", "lmns", "region", "england")
# The level each level's parent must be at; England is the root.
PARENT_LEVEL: dict[str, str | None] = {"trust": "lmns", "lmns": "region", "region": "england", "england": None}
# Neonatal unit designation of a site (BAPM levels 3/2/1, plus none for midwife-led units).
# Mirrors matneo.records.schema.NEONATAL_UNIT_LEVELS; a test keeps the two in step.
NEONATAL_UNIT_LEVELS = ("NICU", "LNU", "SCU", "none")

ORGANISATION_COLUMNS = ("code", "name", "level", "parent_code")
SITE_COLUMNS = ("code", "name", "trust_code", "neonatal_unit_level")
ORGANISATIONS_FILE = "organisations.csv"
SITES_FILE = "sites.csv"


class ReferenceDataError(ValueError):
    """Reference data that cannot be used, with the file, the line and the problem in plain English."""

    def __init__(self, source: str | Path, problem: str, line: int | None = None) -> None:
        self.source = str(source)
        self.problem = problem
        self.line = line
        where = f"{self.source}, line {line}" if line is not None else self.source
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[type[ReferenceDataError], tuple[str, str, int | None]]:
        # Rebuild from the parts, so the error survives pickling (e.g. from a worker process).
        return (type(self), (self.source, self.problem, self.line))


@dataclass(frozen=True)
class Organisation:
    """One node of the hierarchy. ``parent_code`` is None only for England."""

    code: str
    name: str
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class Site:
    """A place of birth run by a trust, with the level of its neonatal unit."""

    code: str
    name: str
    trust_code: str
    neonatal_unit_level: str


# -- validation shared by the CSV loader and the in-memory constructor ----------------------
# A parsed record and the line it came from (None when built in memory).
_OrgRow = tuple[Organisation, int | None]
_SiteRow = tuple[Site, int | None]


def _check_structure(
    organisations: Sequence[_OrgRow], sites: Sequence[_SiteRow], org_source: str, site_source: str
) -> None:
    """Relational rules: unique codes, one England, parents exist at the right level, sites' trusts exist.

    Field-level rules (non-empty code, known level) are checked again here so that an
    OrgHierarchy built in memory obeys the same contract as one read from files.
    """
    by_code: dict[str, _OrgRow] = {}
    england: Organisation | None = None
    for org, line in organisations:
        _check_org_fields(org, org_source, line)
        if org.code in by_code:
            raise ReferenceDataError(
                org_source, f"code {org.code!r} appears more than once{_first_seen(by_code[org.code][1])}", line
            )
        by_code[org.code] = (org, line)
        if org.level == "england":
            if england is not None:
                raise ReferenceDataError(
                    org_source,
                    f"more than one england row ({england.code!r} and {org.code!r}); there must be exactly one",
                    line,
                )
            england = org
    if england is None:
        raise ReferenceDataError(org_source, "there is no england row; the hierarchy needs exactly one root")

    for org, line in organisations:
        wanted = PARENT_LEVEL[org.level]
        if wanted is None:
            continue
        parent = by_code.get(org.parent_code or "")
        if parent is None:
            raise ReferenceDataError(
                org_source,
                f"{org.level} {org.code!r} has parent_code {org.parent_code!r}, which is not a code in this file",
                line,
            )
        if parent[0].level != wanted:
            raise ReferenceDataError(
                org_source,
                f"{org.level} {org.code!r} has parent {parent[0].code!r}, which is {_a(parent[0].level)}; "
                f"the parent of {_a(org.level)} must be {_a(wanted)}",
                line,
            )

    seen_sites: dict[str, int | None] = {}
    for site, line in sites:
        _check_site_fields(site, site_source, line)
        if site.code in seen_sites:
            raise ReferenceDataError(
                site_source, f"site code {site.code!r} appears more than once{_first_seen(seen_sites[site.code])}", line
            )
        seen_sites[site.code] = line
        owner = by_code.get(site.trust_code)
        if owner is None:
            raise ReferenceDataError(
                site_source,
                f"site {site.code!r} has trust_code {site.trust_code!r}, which is not an organisation in {org_source}",
                line,
            )
        if owner[0].level != "trust":
            raise ReferenceDataError(
                site_source,
                f"site {site.code!r} has trust_code {site.trust_code!r}, which is {_a(owner[0].level)}, not a trust",
                line,
            )


def _a(level: str) -> str:
    """A level with its article, for readable messages: 'an lmns', 'a trust'."""
    return f"an {level}" if level in ("lmns", "england") else f"a {level}"


def _first_seen(line: int | None) -> str:
    return f" (first seen on line {line})" if line is not None else ""


def _check_org_fields(org: Organisation, source: str, line: int | None) -> None:
    if not org.code:
        raise ReferenceDataError(source, "code is empty", line)
    if not org.name:
        raise ReferenceDataError(source, f"name is empty for code {org.code!r}", line)
    if org.level not in LEVELS:
        raise ReferenceDataError(
            source, f"level {org.level!r} for code {org.code!r} is not one of {', '.join(LEVELS)}", line
        )
    if org.level == "england" and org.parent_code:
        raise ReferenceDataError(source, f"england row {org.code!r} must have an empty parent_code", line)
    if org.level != "england" and not org.parent_code:
        raise ReferenceDataError(source, f"{org.level} {org.code!r} has no parent_code", line)


def _check_site_fields(site: Site, source: str, line: int | None) -> None:
    if not site.code:
        raise ReferenceDataError(source, "code is empty", line)
    if not site.name:
        raise ReferenceDataError(source, f"name is empty for site {site.code!r}", line)
    if not site.trust_code:
        raise ReferenceDataError(source, f"trust_code is empty for site {site.code!r}", line)
    if site.neonatal_unit_level not in NEONATAL_UNIT_LEVELS:
        raise ReferenceDataError(
            source,
            f"neonatal_unit_level {site.neonatal_unit_level!r} for site {site.code!r} "
            f"is not one of {', '.join(NEONATAL_UNIT_LEVELS)}",
            line,
        )


# -- the hierarchy ---------------------------------------------------------------------------
class OrgHierarchy:
    """The validated hierarchy with navigation helpers. Treat it as read-only.

    Building one checks the same structural rules as loading from files, so every
    OrgHierarchy (including small ones built in tests) is a proper tree rooted at England.
    """

    organisations: dict[str, Organisation]
    sites: dict[str, Site]
    version: str

    def __init__(self, organisations: dict[str, Organisation], sites: dict[str, Site], version: str) -> None:
        for key, org in organisations.items():
            if key != org.code:
                raise ReferenceDataError("<in memory>", f"organisation stored under {key!r} has code {org.code!r}")
        for key, site in sites.items():
            if key != site.code:
                raise ReferenceDataError("<in memory>", f"site stored under {key!r} has code {site.code!r}")
        _check_structure(
            [(org, None) for org in organisations.values()],
            [(site, None) for site in sites.values()],
            "<in memory organisations>",
            "<in memory sites>",
        )
        self.organisations = dict(organisations)
        self.sites = dict(sites)
        self.version = version
        children: dict[str, list[Organisation]] = {code: [] for code in self.organisations}
        for org in self.organisations.values():
            if org.parent_code is not None:
                children[org.parent_code].append(org)
        self._children = {code: sorted(kids, key=_by_code) for code, kids in children.items()}
        by_trust: dict[str, list[Site]] = {}
        for site in self.sites.values():
            by_trust.setdefault(site.trust_code, []).append(site)
        self._sites_by_trust = {code: sorted(found, key=_by_code) for code, found in by_trust.items()}

    def __repr__(self) -> str:
        counts = ", ".join(f"{len(self.at_level(level))} {level}" for level in LEVELS)
        return f"<OrgHierarchy version={self.version!r}: {counts}, {len(self.sites)} sites>"

    def get(self, code: str) -> Organisation:
        """The organisation with this code; KeyError naming the code if there is none."""
        try:
            return self.organisations[code]
        except KeyError:
            raise KeyError(f"unknown organisation code {code!r} (reference data version {self.version})") from None

    def at_level(self, level: str) -> list[Organisation]:
        """All organisations at one level, sorted by code."""
        _check_level(level)
        return sorted((o for o in self.organisations.values() if o.level == level), key=_by_code)

    def trusts(self) -> list[Organisation]:
        """All trusts, sorted by code."""
        return self.at_level("trust")

    def children(self, code: str) -> list[Organisation]:
        """The organisations directly below this one, sorted by code (empty for a trust)."""
        self.get(code)
        return list(self._children[code])

    def ancestors(self, code: str) -> list[Organisation]:
        """Parent first, then grandparent, up to and including England (empty for England)."""
        found: list[Organisation] = []
        org = self.get(code)
        while org.parent_code is not None:
            org = self.organisations[org.parent_code]
            found.append(org)
        return found

    def ancestor_at(self, code: str, level: str) -> Organisation:
        """The organisation at ``level`` above ``code`` (the org itself if it is at that level).

        ValueError if ``level`` is below the organisation's own level, e.g. the trust of an LMNS.
        """
        _check_level(level)
        org = self.get(code)
        if org.level == level:
            return org
        for ancestor in self.ancestors(code):
            if ancestor.level == level:
                return ancestor
        raise ValueError(f"{org.level} {code!r} has no {level} above it: {_a(level)} is not above {_a(org.level)}")

    def trusts_under(self, code: str) -> list[Organisation]:
        """Every trust at or below this organisation, sorted by code."""
        found: list[Organisation] = []
        stack = [self.get(code)]
        while stack:
            org = stack.pop()
            if org.level == "trust":
                found.append(org)
            else:
                stack.extend(self._children[org.code])
        return sorted(found, key=_by_code)

    def sites_of(self, trust_code: str) -> list[Site]:
        """The sites of a trust, sorted by code. ValueError if the code is not a trust."""
        org = self.get(trust_code)
        if org.level != "trust":
            raise ValueError(f"{trust_code!r} is {_a(org.level)}, not a trust; only trusts have sites")
        return list(self._sites_by_trust.get(trust_code, []))

    def trust_lookup(self) -> pyarrow.Table:
        """One row per trust with its LMNS and region, for joining onto birth records.

        Columns (all strings): trust_code, trust_name, lmns_code, lmns_name, region_code,
        region_name; rows sorted by trust_code.
        """
        import pyarrow as pa

        columns: dict[str, list[str]] = {name: [] for name in _LOOKUP_COLUMNS}
        for trust in self.trusts():
            lmns = self.ancestor_at(trust.code, "lmns")
            region = self.ancestor_at(trust.code, "region")
            for name, value in zip(
                _LOOKUP_COLUMNS, (trust.code, trust.name, lmns.code, lmns.name, region.code, region.name), strict=True
            ):
                columns[name].append(value)
        schema = pa.schema([(name, pa.string()) for name in _LOOKUP_COLUMNS])
        return pa.table(columns, schema=schema)


_LOOKUP_COLUMNS = ("trust_code", "trust_name", "lmns_code", "lmns_name", "region_code", "region_name")


def _by_code(item: Organisation | Site) -> str:
    return item.code


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}: must be one of {', '.join(LEVELS)}")


# -- reading files ---------------------------------------------------------------------------
def _read_rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[dict[str, str], int]]:
    """Rows of a CSV as stripped strings with their line numbers, after checking the header."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise ReferenceDataError(path, f"cannot be opened: {error.strerror or error}") from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames
        except (csv.Error, UnicodeDecodeError) as error:
            raise ReferenceDataError(path, f"is not a readable UTF-8 CSV file: {error}", 1) from None
        if not header:
            raise ReferenceDataError(path, f"is empty; expected a header row: {','.join(columns)}", 1)
        present = {name.strip() for name in header if name is not None}
        missing = [name for name in columns if name not in present]
        if missing:
            raise ReferenceDataError(
                path,
                f"header is missing column(s) {', '.join(missing)}; expected {','.join(columns)}",
                1,
            )
        reader.fieldnames = [name.strip() for name in header]
        try:
            for raw in reader:
                if None in raw:
                    raise ReferenceDataError(
                        path,
                        "row has more values than the header has columns (does a name with a comma lack quotes?)",
                        reader.line_num,
                    )
                row = {name: (raw.get(name) or "").strip() for name in columns}
                if not any(row.values()):
                    continue  # a blank line, e.g. a trailing one written by a spreadsheet
                yield row, reader.line_num
        except (csv.Error, UnicodeDecodeError) as error:
            raise ReferenceDataError(path, f"is not a readable UTF-8 CSV file: {error}", reader.line_num) from None


def _parse_organisations(path: Path) -> list[_OrgRow]:
    found: list[_OrgRow] = []
    for row, line in _read_rows(path, ORGANISATION_COLUMNS):
        org = Organisation(row["code"], row["name"], row["level"], row["parent_code"] or None)
        _check_org_fields(org, str(path), line)
        found.append((org, line))
    return found


def _parse_sites(path: Path) -> list[_SiteRow]:
    found: list[_SiteRow] = []
    for row, line in _read_rows(path, SITE_COLUMNS):
        site = Site(row["code"], row["name"], row["trust_code"], row["neonatal_unit_level"])
        _check_site_fields(site, str(path), line)
        found.append((site, line))
    return found


_FileKey = tuple[str, int, int]  # resolved path, mtime in ns, size


@functools.lru_cache(maxsize=16)
def _load_cached(
    org_key: _FileKey, site_key: _FileKey | None
) -> tuple[tuple[Organisation, ...], tuple[Site, ...], str]:
    """Parse and validate once per file state: an edited file has a new mtime/size, so it is re-read.

    Also returns a short content hash, the version label of a user extract.
    """
    org_path = Path(org_key[0])
    site_path = Path(site_key[0]) if site_key else None
    organisations = _parse_organisations(org_path)
    sites = _parse_sites(site_path) if site_path else []
    _check_structure(organisations, sites, str(org_path), str(site_path or "<no sites file>"))
    digest = hashlib.sha256(org_path.read_bytes())
    if site_path is not None:
        digest.update(b"\0" + site_path.read_bytes())
    return tuple(org for org, _ in organisations), tuple(site for site, _ in sites), digest.hexdigest()[:12]


def _file_key(path: Path) -> _FileKey:
    resolved = path.expanduser().resolve()
    try:
        stat = resolved.stat()
    except OSError as error:
        raise ReferenceDataError(path, f"cannot be read: {error.strerror or error}") from None
    if not resolved.is_file():
        raise ReferenceDataError(path, "is not a file")
    return (str(resolved), stat.st_mtime_ns, stat.st_size)


def _hierarchy_from(org_path: Path, site_path: Path | None, version: str | None = None) -> OrgHierarchy:
    """A fresh OrgHierarchy over cached, validated records (callers cannot disturb each other).

    ``version`` defaults to ``user-<hash of the files>`` so a report can cite exactly which
    extract it was computed against.
    """
    organisations, sites, digest = _load_cached(
        _file_key(org_path), _file_key(site_path) if site_path is not None else None
    )
    label = version or f"user-{digest}"
    return OrgHierarchy({o.code: o for o in organisations}, {s.code: s for s in sites}, label)


# -- packaged data ---------------------------------------------------------------------------
_resource_stack = ExitStack()
atexit.register(_resource_stack.close)


@functools.cache
def _packaged_path(name: str) -> Path:
    """A real filesystem path to a packaged data file (extracted once if installed zipped)."""
    resource = resources.files("matneo.reference").joinpath("data", name)
    return _resource_stack.enter_context(resources.as_file(resource))


def packaged_manifest() -> dict[str, dict[str, str]]:
    """The packaged ``manifest.json``: version, source and licence of each packaged file."""
    return json.loads(_packaged_path("manifest.json").read_text(encoding="utf-8"))


def _packaged_version() -> str:
    return packaged_manifest()["organisations"]["version"]


# -- public entry points ---------------------------------------------------------------------
def load_hierarchy(organisations_csv: Path | None = None, sites_csv: Path | None = None) -> OrgHierarchy:
    """Load and validate the hierarchy; ReferenceDataError says what is wrong and where.

    With no arguments: the user's extract in ``$MATNEO_HOME/reference/`` (default
    ``~/.matneo``) if ``organisations.csv`` is there, else the packaged snapshot. Explicit
    paths override. Packaged sites are only paired with packaged organisations.
    """
    packaged_orgs = _packaged_path(ORGANISATIONS_FILE)
    if organisations_csv is None:
        user_dir = get_settings().reference_dir
        if (user_dir / ORGANISATIONS_FILE).is_file():
            organisations_csv = user_dir / ORGANISATIONS_FILE
            if sites_csv is None and (user_dir / SITES_FILE).is_file():
                sites_csv = user_dir / SITES_FILE
        else:
            organisations_csv = packaged_orgs
    is_packaged = Path(organisations_csv).resolve() == packaged_orgs.resolve()
    if is_packaged and sites_csv is None:
        sites_csv = _packaged_path(SITES_FILE)
    packaged_pair = (
        is_packaged and sites_csv is not None and Path(sites_csv).resolve() == _packaged_path(SITES_FILE).resolve()
    )
    return _hierarchy_from(Path(organisations_csv), sites_csv, _packaged_version() if packaged_pair else None)


def install_user_extract(organisations_csv: Path, sites_csv: Path | None, home: Path) -> OrgHierarchy:
    """Validate an extract, then make it the one :func:`load_hierarchy` uses under ``home``.

    Nothing under ``home`` changes unless the files pass validation. The files are copied to
    temporary files beside their destination, the copies are validated again (so a file
    edited mid-install cannot slip through), and each is moved into place with
    ``os.replace``, so a reader never sees a half-written file. Without ``sites_csv`` any
    previously installed sites file is removed, because its trust codes belong to the old
    extract.
    """
    organisations_csv = Path(organisations_csv)
    sites_csv = Path(sites_csv) if sites_csv is not None else None
    _hierarchy_from(organisations_csv, sites_csv, version="candidate")  # refuse before touching home
    target = Path(home).expanduser() / "reference"
    target.mkdir(parents=True, exist_ok=True)
    staged: dict[str, Path] = {}
    try:
        for source, name in ((organisations_csv, ORGANISATIONS_FILE), (sites_csv, SITES_FILE)):
            if source is not None:
                staged[name] = _stage_copy(source, target, name)
        _hierarchy_from(staged[ORGANISATIONS_FILE], staged.get(SITES_FILE), version="candidate")
        if sites_csv is None:
            # Old sites go first: old organisations without sites is a valid state, new
            # organisations with the old sites may not be.
            (target / SITES_FILE).unlink(missing_ok=True)
        for name, temp in staged.items():
            os.replace(temp, target / name)
    finally:
        for temp in staged.values():
            temp.unlink(missing_ok=True)
    return _hierarchy_from(target / ORGANISATIONS_FILE, target / SITES_FILE if sites_csv is not None else None)


def _stage_copy(source: Path, directory: Path, name: str) -> Path:
    """Copy ``source`` to a durable temporary file in ``directory`` (same filesystem as the target)."""
    data = source.read_bytes()
    handle, temp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    return Path(temp_name)
