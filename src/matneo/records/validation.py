"""Validation rules for birth records, declared as data and run as vectorised Polars expressions.

Every rule names the field it is about, a plain-English reason a data manager can act on,
and an expression that is true when a row breaks it. The loader evaluates all of them in
one pass over a file's rows (:func:`flag_bad_rows`) and only for the few bad rows works out
which rules were broken (:func:`explain`), so validation costs little more than parsing.

Expressions see, for every field ``f`` of :mod:`matneo.records.schema`, the typed value
``f`` (null when empty or unparseable) and, for typed fields, ``f__unparsed`` (true when
text was given that is not a valid value); plus ``_ga_days`` (gestation in days),
``_ref_lmns_code``, ``_ref_region_code``, ``_ref_site_trust`` from the organisation
reference and ``_load_time`` (when the load started). A rule whose expression is null for
a row (say, a range check on an empty optional field) is not broken.

Sources: the cross-field rules restate definitions, not local clinical thresholds —
a stillbirth is a baby born with no signs of life at or after 24+0 weeks (Stillbirth
(Definition) Act 1992); a late fetal loss is a baby born with no signs of life at 22+0–23+6
weeks (MBRRACE-UK perinatal surveillance definitions); a neonatal death is the death of a
live-born baby before 28 completed days (ONS); brain injury is counted among babies admitted
to neonatal care, so only for live births (Imperial NDAU definition: Gale et al.,
Arch Dis Child Fetal Neonatal Ed 2018;103:F301–F306; denominator all live births in England);
a late maternal death is one more than 42 days but less than one year after the end of
pregnancy (MBRRACE-UK). Integer plausibility bounds live with the fields in ``schema.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from matneo.records.schema import FIELDS, FIELDS_BY_NAME, MAX_TEXT_LENGTH, Field

col = pl.col
TYPED_KINDS = ("int", "bool", "datetime")
EARLIEST_BIRTH = dt.datetime(2000, 1, 1)


@dataclass(frozen=True)
class Rule:
    """One check on a row. ``violated`` is an expression that is true when the row breaks it."""

    id: str
    field: str
    reason: str
    violated: pl.Expr


def unparsed(name: str) -> str:
    """Name of the flag column that marks text which is not a valid value of field ``name``."""
    return f"{name}__unparsed"


_TYPE_REASONS = {
    "int": "is not a whole number",
    "bool": "is not true or false",
    "datetime": "is not a date and time (use YYYY-MM-DD HH:MM:SS)",
}


def _field_rules(field: Field) -> list[Rule]:
    name, value = field.name, col(field.name)
    typed = field.type in TYPED_KINDS
    rules: list[Rule] = []
    if field.required:
        empty = value.is_null() & ~col(unparsed(name)) if typed else value.is_null()
        rules.append(Rule(f"{name}_required", name, f"{name} is required but is empty", empty))
    if typed:
        rules.append(Rule(f"{name}_type", name, f"{name} {_TYPE_REASONS[field.type]}", col(unparsed(name))))
    if field.type == "string":
        too_long = value.str.len_chars() > MAX_TEXT_LENGTH
        rules.append(Rule(f"{name}_length", name, f"{name} is longer than {MAX_TEXT_LENGTH} characters", too_long))
    if field.codes:
        rules.append(
            Rule(
                f"{name}_code",
                name,
                f"{name} must be one of: {', '.join(field.codes)}",
                value.is_not_null() & ~value.is_in(list(field.codes)),
            )
        )
    if field.minimum is not None and field.maximum is not None:
        rules.append(
            Rule(
                f"{name}_range",
                name,
                f"{name} must be between {field.minimum} and {field.maximum}",
                ~value.is_between(field.minimum, field.maximum),
            )
        )
    return rules


_NOT_LIVE = col("outcome").is_not_null() & (col("outcome") != "live_birth")
_KNOWN_TRUST = col("_ref_lmns_code").is_not_null()
_BORN = col("birth_datetime")

CROSS_FIELD_RULES: tuple[Rule, ...] = (
    Rule(
        "birth_datetime_plausible",
        "birth_datetime",
        "birth_datetime must be on or after 2000-01-01 and not in the future",
        (_BORN < EARLIEST_BIRTH) | (col("_load_time") + pl.duration(days=1) < _BORN),
    ),
    Rule(
        "trust_unknown",
        "trust_code",
        "trust_code is not a trust in the organisation reference",
        ~_KNOWN_TRUST,
    ),
    Rule(
        "site_not_of_trust",
        "site_code",
        "site_code is not a site of this trust in the organisation reference",
        col("site_code").is_not_null() & _KNOWN_TRUST & col("_ref_site_trust").ne_missing(col("trust_code")),
    ),
    Rule(
        "lmns_mismatch",
        "lmns_code",
        "lmns_code does not match the trust's LMNS in the organisation reference",
        col("lmns_code").is_not_null() & _KNOWN_TRUST & (col("lmns_code") != col("_ref_lmns_code")),
    ),
    Rule(
        "region_mismatch",
        "region_code",
        "region_code does not match the trust's region in the organisation reference",
        col("region_code").is_not_null() & _KNOWN_TRUST & (col("region_code") != col("_ref_region_code")),
    ),
    Rule(
        "birth_order_exceeds_plurality",
        "birth_order",
        "birth_order is greater than plurality",
        col("birth_order") > col("plurality"),
    ),
    Rule(
        "stillbirth_under_24_weeks",
        "gestation_weeks",
        "a stillbirth must be at 24+0 weeks or later (earlier losses are late fetal losses)",
        (col("outcome") == "stillbirth") & (col("_ga_days") < 24 * 7),
    ),
    Rule(
        "late_fetal_loss_gestation",
        "gestation_weeks",
        "a late fetal loss must be between 22+0 and 23+6 weeks",
        (col("outcome") == "late_fetal_loss") & ~col("_ga_days").is_between(22 * 7, 23 * 7 + 6),
    ),
    Rule(
        "stillbirth_timing_missing",
        "stillbirth_timing",
        "stillbirth_timing is required for a stillbirth (use 'unknown' if not known)",
        (col("outcome") == "stillbirth") & col("stillbirth_timing").is_null(),
    ),
    Rule(
        "stillbirth_timing_not_stillbirth",
        "stillbirth_timing",
        "stillbirth_timing must be empty unless the outcome is stillbirth",
        col("stillbirth_timing").is_not_null() & col("outcome").is_not_null() & (col("outcome") != "stillbirth"),
    ),
    Rule(
        "neonatal_death_not_live_birth",
        "neonatal_death_datetime",
        "a neonatal death can only be recorded for a live birth",
        col("neonatal_death_datetime").is_not_null() & _NOT_LIVE,
    ),
    Rule(
        "neonatal_death_before_birth",
        "neonatal_death_datetime",
        "neonatal_death_datetime is before birth_datetime",
        col("neonatal_death_datetime") < _BORN,
    ),
    Rule(
        "neonatal_death_after_28_days",
        "neonatal_death_datetime",
        "a neonatal death must be less than 28 days after birth",
        col("neonatal_death_datetime") >= _BORN + pl.duration(days=28),
    ),
    Rule(
        "brain_injury_not_live_birth",
        "brain_injury",
        "brain_injury can only be recorded for a live birth",
        col("brain_injury") & _NOT_LIVE,
    ),
    Rule(
        "hie_grade_not_live_birth",
        "hie_grade",
        "hie_grade can only be recorded for a live birth",
        col("hie_grade").is_not_null() & _NOT_LIVE,
    ),
    Rule(
        "therapeutic_cooling_not_live_birth",
        "therapeutic_cooling",
        "therapeutic_cooling can only be recorded for a live birth",
        col("therapeutic_cooling") & _NOT_LIVE,
    ),
    Rule(
        "nnu_admission_not_live_birth",
        "nnu_admission",
        "nnu_admission can only be recorded for a live birth",
        col("nnu_admission") & _NOT_LIVE,
    ),
    Rule(
        "booking_after_birth",
        "booking_gestation_weeks",
        "booking_gestation_weeks is later than the gestation at birth",
        col("booking_gestation_weeks") > col("gestation_weeks"),
    ),
    Rule(
        "maternal_death_class_without_death",
        "maternal_death_cause_class",
        "maternal_death_cause_class is given but maternal_death_datetime is empty",
        col("maternal_death_cause_class").is_not_null()
        & col("maternal_death_datetime").is_null()
        & ~col(unparsed("maternal_death_datetime")),
    ),
    Rule(
        "maternal_death_before_birth",
        "maternal_death_datetime",
        "maternal_death_datetime is before the date of birth",
        col("maternal_death_datetime").dt.date() < _BORN.dt.date(),
    ),
    Rule(
        "maternal_death_over_a_year",
        "maternal_death_datetime",
        "maternal_death_datetime is more than 365 days after birth (not a maternal death)",
        col("maternal_death_datetime") > _BORN + pl.duration(days=365),
    ),
)


def row_rules() -> tuple[Rule, ...]:
    """Every rule that looks at one row on its own, field rules first."""
    return tuple(rule for field in FIELDS for rule in _field_rules(field)) + CROSS_FIELD_RULES


@dataclass(frozen=True)
class CrossRowRule:
    """A rule about several rows of one file together."""

    id: str
    field: str
    reason: str


CROSS_ROW_RULES: tuple[CrossRowRule, ...] = (
    CrossRowRule("record_id_duplicate", "record_id", "record_id appears more than once in this file"),
    CrossRowRule(
        "plurality_inconsistent",
        "plurality",
        "babies of the same mother born on the same day have different plurality",
    ),
    CrossRowRule(
        "more_babies_than_plurality",
        "plurality",
        "more babies of the same mother born on the same day than the plurality says",
    ),
    CrossRowRule(
        "birth_order_repeated",
        "birth_order",
        "birth_order is repeated among babies of the same mother born on the same day",
    ),
)

VIOLATION_SCHEMA = pl.Schema(
    {"_row": pl.Int64, "rule": pl.String, "field": pl.String, "value": pl.String, "reason": pl.String}
)


def with_context(typed: pl.DataFrame, trust_ref: pl.DataFrame, site_ref: pl.DataFrame, load_time: dt.datetime):
    """Add what the rules look at besides the fields: gestation in days, reference lookups, load time."""
    return (
        typed.join(trust_ref, on="trust_code", how="left")
        .join(site_ref, on="site_code", how="left")
        .with_columns(
            _ga_days=col("gestation_weeks") * 7 + col("gestation_days"),
            _load_time=pl.lit(load_time, dtype=pl.Datetime("us")),
        )
    )


def flag_bad_rows(frame: pl.DataFrame) -> pl.Series:
    """True for every row that breaks at least one row rule (one vectorised pass)."""
    return frame.select(
        pl.any_horizontal([rule.violated.fill_null(False) for rule in row_rules()]).alias("_bad")
    ).to_series()


def _as_text(name: str) -> pl.Expr:
    field = FIELDS_BY_NAME[name]
    if field.type == "datetime":
        return col(name).dt.strftime("%Y-%m-%d %H:%M:%S")
    return col(name).cast(pl.String)


def explain(bad: pl.DataFrame, text: pl.DataFrame) -> pl.DataFrame:
    """One row per (row, rule) broken, for the rows of ``bad``, with the value as submitted.

    ``text`` holds the cells as submitted for the fields that were read as text (``_row``
    plus those columns); other fields were read already typed and are shown as text here.
    """
    if bad.is_empty():
        return pl.DataFrame(schema=VIOLATION_SCHEMA)
    submitted = bad.select("_row").join(text, on="_row", how="left")
    typed_only = [_as_text(f.name) for f in FIELDS if f.name not in text.columns]
    values = submitted.join(bad.select("_row", *typed_only), on="_row", how="left")
    parts = []
    for rule in row_rules():
        hits = bad.filter(rule.violated.fill_null(False)).select("_row")
        if hits.is_empty():
            continue
        parts.append(
            hits.join(values.select("_row", col(rule.field).alias("value")), on="_row", how="left").select(
                "_row",
                rule=pl.lit(rule.id),
                field=pl.lit(rule.field),
                value=col("value"),
                reason=pl.lit(rule.reason),
            )
        )
    return pl.concat(parts) if parts else pl.DataFrame(schema=VIOLATION_SCHEMA)


def cross_row_violations(frame: pl.DataFrame) -> pl.DataFrame:
    """Duplicate record ids and inconsistent multiple births among one file's rows."""
    by_id = {rule.id: rule for rule in CROSS_ROW_RULES}
    parts = []
    dup = by_id["record_id_duplicate"]
    ids = frame.filter(col("record_id").is_not_null()).select("_row", "record_id", n=pl.len().over("record_id"))
    parts.append(
        ids.filter(col("n") > 1).select(
            "_row",
            rule=pl.lit(dup.id),
            field=pl.lit(dup.field),
            value=col("record_id"),
            reason=pl.lit(dup.reason + " (") + col("n").cast(pl.String) + pl.lit(" rows)"),
        )
    )
    key = ["trust_code", "mother_id", "_date"]
    keyed = frame.filter(
        col("mother_id").is_not_null() & col("birth_datetime").is_not_null() & col("trust_code").is_not_null()
    ).select("_row", "trust_code", "mother_id", "plurality", "birth_order", _date=col("birth_datetime").dt.date())
    multi = keyed.filter(pl.len().over(key) > 1).with_columns(
        n=pl.len().over(key),
        n_plurality=col("plurality").n_unique().over(key),
        max_plurality=col("plurality").max().over(key),
        order_n=pl.len().over([*key, "birth_order"]),
    )
    plur, more, order = (
        by_id["plurality_inconsistent"],
        by_id["more_babies_than_plurality"],
        by_id["birth_order_repeated"],
    )
    parts.append(
        multi.filter(col("n_plurality") > 1).select(
            "_row",
            rule=pl.lit(plur.id),
            field=pl.lit(plur.field),
            value=col("plurality").cast(pl.String),
            reason=pl.lit(plur.reason),
        )
    )
    parts.append(
        multi.filter((col("n_plurality") == 1) & (col("n") > col("max_plurality"))).select(
            "_row",
            rule=pl.lit(more.id),
            field=pl.lit(more.field),
            value=col("plurality").cast(pl.String),
            reason=pl.lit(more.reason + " (")
            + col("n").cast(pl.String)
            + pl.lit(" babies, plurality ")
            + col("max_plurality").cast(pl.String)
            + pl.lit(")"),
        )
    )
    parts.append(
        multi.filter((col("order_n") > 1) & col("birth_order").is_not_null()).select(
            "_row",
            rule=pl.lit(order.id),
            field=pl.lit(order.field),
            value=col("birth_order").cast(pl.String),
            reason=pl.lit(order.reason),
        )
    )
    return pl.concat([part.cast(VIOLATION_SCHEMA) for part in parts])
