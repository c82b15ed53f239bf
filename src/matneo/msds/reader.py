"""Reading MSDS v2.0 tables into birth records, as ``data/mapping.json`` says.

An MSDS extract is a set of delimited files, one (or more) per table, named by the table
(``MSD401BabyDemographics.csv``, ``msd401_2024-04.csv``…). All the files of one directory are
one input: one entry in the load ledger, loaded atomically like one birth-record file. The
reader:

1. keeps, for each provider and reporting period, only the rows of its most recent
   submission (highest ``UniqSubmissionID``), as MSDS does; the rows of earlier submissions
   are set aside and counted in a notice;
2. joins each baby (MSD401) to its labour and delivery (MSD301), pregnancy (MSD101), mother
   (MSD001), care activities (MSD302, MSD405), neonatal admission (MSD402) and MatNeo's
   supplement (MATNEO01) within the same submission. A baby without a labour and delivery
   record, or whose identifier is in more than one row, cannot become a birth record: it goes
   to the rejection report with the reason;
3. turns the data items into birth-record fields with the mapping's rules, leaving a code it
   does not know as submitted so that validation rejects it showing the MSDS code.

The birth records then go through the same validation and the same atomic, idempotent load as
a birth-record file (``matneo.records.load``). Rejection report rows name the MSDS file, its
row (the header is row 1) and the data item, not the birth-record column.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from matneo.msds.mapping import FieldMap, Mapping, load_mapping
from matneo.records.parse import Parsed, convert
from matneo.records.schema import FIELD_NAMES
from matneo.records.status import plural

col = pl.col
SUFFIXES = (".csv", ".txt", ".psv")
TEXT = pl.String
LINE = "_line"
FILE = "_file"
#: Reasons a baby's row cannot be joined into a birth record (rule id → reason).
JOIN_REASONS = {
    "msds_no_labour_delivery": "has no labour and delivery record (MSD301) with its UniqPregID and "
    "LabourDeliveryID in the same submission",
    "msds_duplicate_baby": "Person_ID_Baby is in more than one row of the submissions loaded "
    "(a duplicate identifier across resubmissions); correct or remove the duplicates",
}


#: Rules whose items are copied to the birth record as they are (see :func:`_strict_items`).
LENIENT_RULES = ("copy", "number", "flag")
#: Data items the tables are joined on, besides each table's own key.
JOIN_ITEMS = ("UniqPregID", "LabourDeliveryID", "Person_ID_Mother", "Person_ID_Baby")
HASH = "_key_hash"  # one 64-bit hash of a row's join keys (see _join_last)


class MsdsProblem(Exception):
    """An MSDS extract that cannot be loaded at all (the loader turns it into ``UnreadableInput``)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass
class Extract:
    """One input: the table files of one directory, by table id."""

    path: Path
    files: dict[str, list[Path]]
    headers: dict[Path, list[str]] = field(default_factory=dict)  # data item names, spaces removed
    raw_headers: dict[Path, list[str]] = field(default_factory=dict)  # as in the file
    separators: dict[Path, str] = field(default_factory=dict)
    #: Files that may have untidy cells (spaces, tabs, empty quoted values); a file not named is assumed to.
    untidy: dict[Path, bool] = field(default_factory=dict)


@dataclass
class MsdsRead:
    """Birth records made from an extract, and what could not be made."""

    parsed: Parsed
    provenance: pl.DataFrame  # _row → the file and row of each table that supplied it
    unjoined: pl.DataFrame  # rejection rows (source_file, row, field, value, reason, rule) of babies not joined
    unjoined_babies: int
    notices: list[str]


def table_of(path: Path, mapping: Mapping | None = None) -> str | None:
    """The table id a file holds, from its name (``MSD401…``, ``msd401_2024-04``), or None."""
    mapping = mapping or load_mapping()
    if path.suffix.lower() not in SUFFIXES:
        return None
    stem = path.stem.upper()
    for table_id in mapping.tables:
        if re.match(rf"{table_id}(?![0-9])", stem):
            return table_id
    return None


def discover(paths: Sequence[Path]) -> list[Path]:
    """The inputs: each directory holding MSDS table files, and the directories of files named."""
    mapping = load_mapping()
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for table_file in sorted(p for p in path.rglob("*") if p.is_file() and table_of(p, mapping)):
                found.setdefault(table_file.parent)
        elif path.is_file() and table_of(path, mapping):
            found.setdefault(path.parent)  # a table file stands for its extract: the files of its directory
        else:
            found.setdefault(path)  # refused by extract() with the reason
    return list(found)


def extract(path: Path) -> Extract:
    """The table files of an input (a directory, or one file standing for its directory's tables)."""
    mapping = load_mapping()
    if not path.exists():
        raise MsdsProblem(path, "does not exist")
    folder = path if path.is_dir() else path.parent
    if path.is_file() and table_of(path, mapping) is None:
        raise MsdsProblem(path, "is not an MSDS table file: name it by its table, e.g. MSD401BabyDemographics.csv")
    files: dict[str, list[Path]] = {}
    for candidate in sorted(folder.iterdir()):
        table_id = table_of(candidate, mapping) if candidate.is_file() else None
        if table_id:
            files.setdefault(table_id, []).append(candidate)
    missing = [mapping.tables[t].name for t, table in mapping.tables.items() if table.required and t not in files]
    if missing:
        raise MsdsProblem(folder, f"has no {' or '.join(missing)} table: the birth records cannot be made without it")
    return Extract(folder, files)


def check_headers(item: Extract) -> list[str]:
    """Read every file's header; refuse a table without its key items. Returns notices of absent items."""
    mapping = load_mapping()
    absent: dict[str, list[str]] = {}
    for table_id, paths in item.files.items():
        table = mapping.tables[table_id]
        needed = list(table.key)
        if table_id != "MATNEO01":
            needed += [mapping.submission.identifier, mapping.submission.provider, mapping.submission.period_start]
        if table_id == "MSD401":
            needed += ["UniqPregID", "LabourDeliveryID", "Person_ID_Mother"]
        for path in paths:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                first = handle.readline()
            if not first.strip():
                raise MsdsProblem(path, "is empty: expected a header row of MSDS data item names")
            separator = "|" if first.count("|") > first.count(",") else ","
            raw = next(csv.reader([first.rstrip("\r\n")], delimiter=separator))
            header = [name.strip() for name in raw]
            item.headers[path], item.raw_headers[path], item.separators[path] = header, raw, separator
            lacking = [name for name in dict.fromkeys(needed) if name not in header]
            if lacking:
                raise MsdsProblem(path, f"({table.name}) is missing data items: {', '.join(lacking)}")
            for name in mapping.items_of(table_id):
                if name not in header and name not in needed:
                    absent.setdefault(table.name, []).append(name)
    notices = [
        f"{table} has no {', '.join(dict.fromkeys(names))}: the fields made from them are empty"
        for table, names in sorted(absent.items())
        if not (table.endswith(("CareActivityLabDel", "CareActivityBaby")))
    ]
    for table_id, table in mapping.tables.items():
        if table_id not in item.files:
            fields = [fm.field for fm in mapping.fields.values() if fm.table == table_id]
            notices.append(f"there is no {table.name} table: {', '.join(fields)} are empty")
    return notices


def _scan_table(item: Extract, table_id: str) -> pl.LazyFrame:
    """Every file of one table, all text, with the file name and row number of each row (lazily).

    Keys, codes and the items worked on have surrounding spaces removed and empty cells made
    missing (:func:`_strict_items`); the rest go to the birth-record parser as submitted.
    """
    mapping = load_mapping()
    wanted = mapping.items_of(table_id)
    strict = _strict_items(mapping, table_id)
    frames = []
    for path in item.files.get(table_id, []):
        header, raw = item.headers[path], item.raw_headers[path]
        present = [name for name in wanted if name in header]
        frame = pl.scan_csv(
            path, separator=item.separators[path], infer_schema=False, row_index_name=LINE, row_index_offset=2
        ).select(col(LINE).cast(pl.Int64), *[col(raw[header.index(name)]).alias(name) for name in present])
        missing = [pl.lit(None, dtype=TEXT).alias(n) for n in wanted if n not in present]
        named = pl.lit(path.name).cast(pl.Categorical).alias(FILE)  # one name per file: cheap to carry and aggregate
        tidy = [_tidy(n) for n in present if n in strict] if item.untidy.get(path, True) else []
        frames.append(frame.with_columns(*tidy, *missing, named).select(FILE, LINE, *wanted))
    if not frames:
        schema: dict[str, pl.DataType] = {FILE: pl.Categorical(), LINE: pl.Int64(), **dict.fromkeys(wanted, TEXT())}
        return pl.LazyFrame(schema=schema)
    return pl.concat(frames)


def _strict_items(mapping: Mapping, table_id: str) -> set[str]:
    """The data items of a table whose cells must be tidy before use: keys, codes, and items worked on.

    Items used only by the ``copy``, ``number`` and ``flag`` rules go to the birth record as
    they are: the birth-record parser already ignores their surrounding spaces and takes an
    empty cell as missing (``matneo.records.parse``), so tidying them here was a second pass.
    """
    fields = [fm for fm in mapping.fields.values() if fm.table == table_id]
    lenient = {item for fm in fields if fm.rule in LENIENT_RULES for item in fm.items}
    strict = {item for fm in fields if fm.rule not in LENIENT_RULES for item in fm.items}
    sub = mapping.submission
    strict |= {sub.identifier, sub.provider, sub.period_start, *mapping.tables[table_id].key, *JOIN_ITEMS}
    return {item for item in mapping.items_of(table_id) if item in strict or item not in lenient}


def _tidy(name: str) -> pl.Expr:
    """Surrounding spaces removed, and an empty cell missing."""
    stripped = col(name).str.strip_chars()
    return pl.when(stripped != "").then(stripped).alias(name)


def _latest_submissions(babies: pl.DataFrame, mapping: Mapping) -> pl.DataFrame:
    """The winning ``UniqSubmissionID`` of each provider and reporting period (highest wins)."""
    sub = mapping.submission
    order = col(sub.identifier).cast(pl.Int64, strict=False)
    ranked = babies.select(sub.provider, sub.period_start, sub.identifier).unique()
    ranked = ranked.with_columns(_n=order, _text=col(sub.identifier))
    return (
        ranked.sort(["_n", "_text"], nulls_last=False)
        .group_by(sub.provider, sub.period_start, maintain_order=True)
        .last()
        .select(sub.identifier)
    )


def read_extract(item: Extract) -> MsdsRead:
    """Join an extract's tables into birth-record rows (see the module docstring)."""
    mapping = load_mapping()
    sub = mapping.submission.identifier
    # One collect for all the tables: Polars reads them side by side (each file alone is read
    # mostly on one thread), which takes about a fifth off the wall time of reading them.
    scans = [_scan_table(item, table_id) for table_id in mapping.tables]
    tables = dict(zip(mapping.tables, pl.collect_all(scans, engine="in-memory"), strict=True))
    winners = _latest_submissions(tables["MSD401"], mapping)
    one_each = len(winners) == tables["MSD401"].get_column(sub).n_unique()
    notices: list[str] = []
    superseded = 0
    for table_id in mapping.tables:
        if table_id == "MATNEO01" or one_each:  # one submission per provider and period: nothing to set aside
            continue
        before = len(tables[table_id])
        tables[table_id] = tables[table_id].join(winners, on=sub, how="semi")
        superseded += before - len(tables[table_id])
    if superseded:
        notices.append(
            f"{plural(superseded, 'row')} of earlier submissions for the same provider and reporting period "
            "were set aside: the most recent submission (highest UniqSubmissionID) is used"
        )
    babies = tables["MSD401"].with_columns(_n=pl.len().over("Person_ID_Baby"))
    duplicate = babies.filter((col("_n") > 1) & col("Person_ID_Baby").is_not_null())
    babies = babies.filter((col("_n") == 1) | col("Person_ID_Baby").is_null()).drop("_n")
    labour = _provenance(tables["MSD301"], "MSD301").rename({"UniqPregID": "_preg_MSD301"})
    labour = labour.drop("Person_ID_Mother", mapping.submission.provider, mapping.submission.period_start, strict=False)
    joined = _join_last(babies, labour, [sub, "LabourDeliveryID"])
    linked = col("_line_MSD301").is_not_null() & (col("_preg_MSD301") == col("UniqPregID")).fill_null(False)
    no_labour = joined.filter(~linked).select(babies.columns)
    joined = joined.filter(linked).drop("_preg_MSD301")
    unjoined = pl.concat(
        [
            _unjoined(no_labour, "msds_no_labour_delivery", "LabourDeliveryID"),
            _unjoined(duplicate, "msds_duplicate_baby", "Person_ID_Baby"),
        ]
    )
    joined = joined.rename({FILE: "_file_MSD401", LINE: "_line_MSD401"})
    for table_id, keys in (("MSD001", ["Person_ID_Mother"]), ("MSD101", ["UniqPregID"])):
        other = _provenance(tables[table_id], table_id)
        extra = [c for c in other.columns if c in joined.columns and c not in (sub, *keys)]
        joined = _join_last(joined, other.drop(extra), [sub, *keys])
    admitted = tables["MSD402"].select(sub, "Person_ID_Baby", _admitted=pl.lit(True)).unique([sub, "Person_ID_Baby"])
    joined = joined.join(admitted, on=[sub, "Person_ID_Baby"], how="left")
    joined = _join_last(joined, _provenance(tables["MATNEO01"], "MATNEO01"), ["Person_ID_Baby"])
    found: list[pl.Series] = []
    for table_id, key in (("MSD302", "LabourDeliveryID"), ("MSD405", "Person_ID_Baby")):
        fields = [f for f in mapping.fields.values() if f.table == table_id and f.rule in ("observation", "finding")]
        found += _activity_values(joined.select(sub, key), tables[table_id], fields, sub, key)
    joined = joined.with_columns(found)
    return _birth_records(joined, unjoined, len(no_labour) + len(duplicate), notices, mapping)


def _birth_records(
    joined: pl.DataFrame, unjoined: pl.DataFrame, unjoined_babies: int, notices: list[str], mapping: Mapping
) -> MsdsRead:
    """The joined rows turned into birth-record fields, with the provenance of each row."""
    joined = joined.with_row_index("_row", offset=1).with_columns(col("_row").cast(pl.Int64))
    frame = joined.select("_row", *[_field_expr(mapping, name) for name in FIELD_NAMES])
    frame = frame.with_columns(_fix_outcome(frame))
    provenance = joined.select("_row", *[c for c in joined.columns if c.startswith(("_file_", "_line_"))])
    return MsdsRead(convert(frame), provenance, unjoined, unjoined_babies, notices)


def _provenance(frame: pl.DataFrame, table_id: str) -> pl.DataFrame:
    """The table with its file and row named for it, to be kept beside the baby's as provenance."""
    return frame.rename({FILE: f"_file_{table_id}", LINE: f"_line_{table_id}"})


def _join_last(left: pl.DataFrame, right: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Left join keeping, for a key in more than one row of ``right``, its last row (in file order).

    Joined on one 64-bit hash of the key items rather than on the text items themselves
    (Polars joins one integer column about twice as fast as two text columns), then checked:
    every matched row must have the same key items on both sides, and no row may have matched
    twice. A hash collision fails the check and the join is done again on the text items, so
    the result is always that of the exact join. Deduplicates only when the join shows a
    repeated key: a clean extract, the common case, pays for one join.
    """
    checks = {key: f"_check_{key}" for key in keys}
    hashed = right.with_columns(_key_hash(keys)).rename(checks)
    joined = left.with_columns(_key_hash(keys)).join(hashed, on=HASH, how="left", maintain_order="left")
    if len(joined) == len(left):
        differ = pl.any_horizontal([col(key) != col(check) for key, check in checks.items()]).fill_null(False)
        if not joined.select(differ.any()).item():
            return joined.drop(HASH, *checks.values())
    joined = left.join(right, on=keys, how="left", maintain_order="left")
    if len(joined) == len(left):
        return joined
    last = right.unique(subset=keys, keep="last", maintain_order=True)
    return left.join(last, on=keys, how="left", maintain_order="left")


def _key_hash(keys: list[str]) -> pl.Expr:
    """One 64-bit hash of the key items; missing where any is missing (a missing key matches nothing)."""
    complete = pl.all_horizontal([col(key).is_not_null() for key in keys])
    return pl.when(complete).then(pl.struct(keys).hash()).alias(HASH)


def _unjoined(rows: pl.DataFrame, rule: str, item: str) -> pl.DataFrame:
    return rows.select(
        col(FILE).cast(TEXT).alias("source_file"),
        col(LINE).alias("row"),
        pl.lit(f"MSD401BabyDemographics.{item}").alias("field"),
        col(item).alias("value"),
        pl.lit(f"the baby {JOIN_REASONS[rule]}").alias("reason"),
        pl.lit(rule).alias("rule"),
    )


def _activity_values(
    babies: pl.DataFrame, activity: pl.DataFrame, fields: list[FieldMap], sub: str, key: str
) -> list[pl.Series]:
    """Each field's value from a care-activity table, row for row with ``babies``, with its file and row.

    The value comes from the last row of the submission and key that records the field. Joined
    on the narrow key columns only (the babies' other columns are not copied), and deduplicated
    only when some key has more than one such row: national extracts have millions of rows.
    """
    found: list[pl.Series] = []
    for fm in fields:
        rows = _activity_rows(activity.lazy(), fm, sub, key).collect(engine="in-memory")
        picked = _join_last(babies, rows, [sub, key])
        found += [picked.get_column(name) for name in rows.columns if name not in (sub, key)]
    return found


def _activity_rows(activity: pl.LazyFrame, fm: FieldMap, sub: str, key: str) -> pl.LazyFrame:
    """The rows of a care-activity table that record the field: key, value, file and row."""
    value = f"_value_{fm.field}"
    item = "FindingCode" if fm.rule == "finding" else "ObsCode"
    rows = activity.filter(col(item).is_in(list(fm.codes))).select(
        sub,
        key,
        _activity_value(fm).alias(value),
        col(FILE).alias(f"_file_{fm.field}"),
        col(LINE).alias(f"_line_{fm.field}"),
    )
    return rows.filter(col(value).is_not_null())


def _activity_value(fm: FieldMap) -> pl.Expr:
    """The field's value on a care-activity row, or null if the row does not record it."""
    if fm.rule == "finding":
        mapped = {code: _as_text(value) for code, value in fm.codes.items()}
        return col("FindingCode").replace_strict(mapped, default=None, return_dtype=TEXT)
    number = col("ObsValue").cast(pl.Float64, strict=False)
    if fm.units:
        factors = {unit: float(f) for unit, f in fm.units.items()}
        factor = col("UCUMUnit").replace_strict(factors, default=None, return_dtype=pl.Float64)
    else:
        factor = pl.lit(1.0)
    scaled = (number * factor).round(6)
    whole = scaled.cast(pl.Int64, strict=False).cast(TEXT)
    value = pl.when(scaled == scaled.floor()).then(whole).otherwise(col("ObsValue"))
    return pl.when(col("ObsCode").is_in(list(fm.codes))).then(value)


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _date(item: str) -> pl.Expr:
    return col(item).str.strptime(pl.Date, "%Y-%m-%d", strict=False)


def _field_expr(mapping: Mapping, name: str) -> pl.Expr:
    """The text of one birth-record field, made from its data items by the mapping's rule."""
    fm = mapping.fields.get(name)
    if fm is None:
        return pl.lit(None, dtype=TEXT).alias(name)  # filled from the organisation reference
    items = [col(i) for i in fm.items]
    rule = fm.rule
    if rule in ("copy", "number", "flag"):
        expr = items[0]
    elif rule in ("code", "indicator", "pregnancy_outcome"):
        expr = _mapped(fm, items[0])
    elif rule == "date_time":
        expr = pl.when(items[1].is_not_null()).then(pl.concat_str(items, separator=" ")).otherwise(items[0])
    elif rule == "days_to_weeks":
        days = items[0].cast(pl.Int64, strict=False)
        expr = pl.when(days.is_not_null()).then((days // 7).cast(TEXT)).otherwise(items[0])
    elif rule == "days_remainder":
        days = items[0].cast(pl.Int64, strict=False)
        expr = pl.when(days.is_not_null()).then((days % 7).cast(TEXT)).otherwise(items[0])
    elif rule == "neonatal_death":
        death = pl.when(items[1].is_not_null()).then(pl.concat_str(items, separator=" ")).otherwise(items[0])
        born = _date("PersonBirthDateBaby")
        within = (_date(fm.items[0]) - born).dt.total_days() < 28
        expr = pl.when(within.fill_null(True)).then(death)
    elif rule == "age_at_birth":
        dob, born = _date(fm.items[0]), _date("PersonBirthDateBaby")
        day_of = [(d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)) for d in (born, dob)]
        years = born.dt.year().cast(pl.Int32) - dob.dt.year().cast(pl.Int32) - (day_of[0] < day_of[1]).cast(pl.Int32)
        expr = pl.when(dob.is_not_null()).then(years.cast(TEXT)).otherwise(items[0])
    elif rule == "sum":
        numbers = [i.cast(pl.Int64, strict=False) for i in items]
        any_given = pl.any_horizontal([i.is_not_null() for i in items])
        clean = pl.all_horizontal([i.is_null() | n.is_not_null() for i, n in zip(items, numbers, strict=True)])
        total = pl.sum_horizontal([n.fill_null(0) for n in numbers]).cast(TEXT)
        expr = pl.when(any_given & clean).then(total).when(any_given).then(pl.coalesce(items))
    elif rule in ("observation", "finding"):
        expr = col(f"_value_{name}")
    elif rule == "admitted":
        live = col("PregOutcome") == next(
            code for code, value in mapping.fields["outcome"].codes.items() if value == "live_birth"
        )
        expr = pl.when(col("_admitted").fill_null(False)).then(pl.lit("true")).when(live).then(pl.lit("false"))
    else:  # pragma: no cover - the mapping is checked when it is read
        raise ValueError(f"unknown rule {rule}")
    return expr.cast(TEXT).alias(name)


def _mapped(fm: FieldMap, item: pl.Expr) -> pl.Expr:
    """A code mapped to the field's value; unknown codes stay as submitted (validation rejects them)."""
    known = {code: _as_text(value) for code, value in fm.codes.items() if value is not None}
    empty = [code for code, value in fm.codes.items() if value is None]
    source = item
    if fm.first_character:
        source = pl.when(item.is_in(list(fm.codes))).then(item).otherwise(item.str.slice(0, 1))
    return pl.when(source.is_in(empty)).then(None).otherwise(source.replace(known))


def _fix_outcome(frame: pl.DataFrame) -> list[pl.Expr]:
    """A fetal death before 24+0 weeks is a late fetal loss, which has no stillbirth timing.

    Still-Birth (Definition) Act 1992 s.1 (https://www.legislation.gov.uk/ukpga/1992/29/section/1).
    """
    weeks = col("gestation_weeks").cast(pl.Int64, strict=False)
    early = (col("outcome") == "stillbirth") & (weeks < 24)
    return [
        pl.when(early).then(pl.lit("late_fetal_loss")).otherwise(col("outcome")).alias("outcome"),
        pl.when(early).then(None).otherwise(col("stillbirth_timing")).alias("stillbirth_timing"),
    ]


def describe(violations: pl.DataFrame, provenance: pl.DataFrame) -> pl.DataFrame:
    """Rejection rows in MSDS terms: the table's file and row, and the data item, for each broken rule."""
    mapping = load_mapping()
    if violations.is_empty():
        return pl.DataFrame(
            schema={"source_file": TEXT, "row": pl.Int64, "field": TEXT, "value": TEXT, "reason": TEXT, "rule": TEXT}
        )
    located = violations.join(provenance, on="_row", how="left")
    files, lines, labels = [], [], []
    for name in FIELD_NAMES:
        fm = mapping.fields.get(name)
        table = fm.table if fm else "MSD401"
        suffix = name if fm and fm.rule in ("observation", "finding") else table
        file_col, line_col = f"_file_{suffix}", f"_line_{suffix}"
        if file_col not in located.columns:
            file_col, line_col = "_file_MSD401", "_line_MSD401"
        condition = col("field") == name
        files.append((condition, pl.coalesce(col(file_col).cast(TEXT), col("_file_MSD401").cast(TEXT))))
        lines.append((condition, pl.coalesce(col(line_col), col("_line_MSD401"))))
        items = "+".join(fm.items) if fm else "OrgCodeProvider"
        labels.append((condition, pl.lit(f"{mapping.tables[table].name}.{items} ({name})")))
    return located.select(
        _choose(files, col("_file_MSD401").cast(TEXT)).alias("source_file"),
        _choose(lines, col("_line_MSD401")).cast(pl.Int64).alias("row"),
        _choose(labels, col("field")).alias("field"),
        "value",
        "reason",
        "rule",
    )


def _choose(cases: list[tuple[pl.Expr, pl.Expr]], otherwise: pl.Expr) -> pl.Expr:
    expr: Any = pl.when(cases[0][0]).then(cases[0][1])
    for condition, value in cases[1:]:
        expr = expr.when(condition).then(value)
    return expr.otherwise(otherwise)
