"""Validation rules for birth records, declared as data and run as vectorised SQL in DuckDB.

Every rule names the field it is about, a plain-English reason a data manager can act on,
and an SQL condition that is TRUE when a row breaks it. The loader evaluates all of them in
one pass over the input (``row_is_bad_sql``) and only for the rare bad rows works out which
rules were broken (``violations_sql``), so validation costs little more than parsing.

Conditions see, for every field ``f`` of :mod:`matneo.records.schema`:
``raw_f`` (the trimmed text as submitted, NULL when empty) and ``f`` (the typed value,
NULL when empty or unparseable); plus ``ga_days`` (gestation in days), ``ref_trust_known``,
``ref_lmns_code``, ``ref_region_code`` and ``ref_site_trust`` from the organisation reference,
and ``load_time`` (when the load started).

Sources: the cross-field rules restate definitions, not local clinical thresholds —
a stillbirth is a baby born with no signs of life at or after 24+0 weeks (Stillbirth
(Definition) Act 1992); a late fetal loss is a baby born with no signs of life at 22+0–23+6
weeks (MBRRACE-UK perinatal surveillance definitions); a neonatal death is the death of a
live-born baby before 28 completed days (ONS); brain injury is counted among babies admitted
to neonatal care, so only for live births (Imperial NDAU definition, research/national-figures.md).
Integer plausibility bounds live with the fields in ``schema.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from matneo.records.schema import FIELDS, Field


@dataclass(frozen=True)
class Rule:
    """One check on a row. ``violated`` is SQL that is TRUE when the row breaks the rule."""

    id: str
    field: str
    reason: str
    violated: str


def _q(name: str) -> str:
    return f'"{name}"'


def _text(value: str) -> str:
    """An SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def typed_expression(field: Field) -> str:
    """SQL that turns the trimmed text ``raw_<field>`` into the field's type, NULL if it cannot."""
    raw = _q(f"raw_{field.name}")
    if field.type == "int":
        # DuckDB would round '12.5' to 13 on a direct cast; accept only whole numbers.
        as_double = f"TRY_CAST({raw} AS DOUBLE)"
        return (
            f"CASE WHEN {as_double} = trunc({as_double}) AND abs({as_double}) < 1e9 "
            f"THEN CAST({as_double} AS INTEGER) END"
        )
    if field.type == "bool":
        return (
            f"CASE WHEN lower({raw}) IN ('true', 't', 'yes', 'y', '1') THEN TRUE "
            f"WHEN lower({raw}) IN ('false', 'f', 'no', 'n', '0') THEN FALSE END"
        )
    if field.type == "datetime":
        return f"TRY_CAST({raw} AS TIMESTAMP)"
    return raw


_TYPE_REASONS = {
    "int": "is not a whole number",
    "bool": "is not true or false",
    "datetime": "is not a date and time (use YYYY-MM-DD HH:MM:SS)",
}


def _field_rules(field: Field) -> list[Rule]:
    name, raw = field.name, _q(f"raw_{field.name}")
    rules: list[Rule] = []
    if field.required:
        rules.append(Rule(f"{name}_required", name, f"{name} is required but is empty", f"{raw} IS NULL"))
    if field.type in _TYPE_REASONS:
        rules.append(
            Rule(
                f"{name}_type", name, f"{name} {_TYPE_REASONS[field.type]}", f"{raw} IS NOT NULL AND {_q(name)} IS NULL"
            )
        )
    if field.codes:
        allowed = ", ".join(_text(code) for code in field.codes)
        rules.append(
            Rule(
                f"{name}_code",
                name,
                f"{name} must be one of: {', '.join(field.codes)}",
                f"{raw} IS NOT NULL AND {raw} NOT IN ({allowed})",
            )
        )
    if field.minimum is not None and field.maximum is not None:
        rules.append(
            Rule(
                f"{name}_range",
                name,
                f"{name} must be between {field.minimum} and {field.maximum}",
                f"{_q(name)} NOT BETWEEN {field.minimum} AND {field.maximum}",
            )
        )
    return rules


_LIVE_ONLY = "outcome IS NOT NULL AND outcome <> 'live_birth'"

CROSS_FIELD_RULES: tuple[Rule, ...] = (
    Rule(
        "birth_datetime_plausible",
        "birth_datetime",
        "birth_datetime must be on or after 2000-01-01 and not in the future",
        "birth_datetime < TIMESTAMP '2000-01-01' OR birth_datetime > load_time + INTERVAL 1 DAY",
    ),
    Rule(
        "trust_unknown", "trust_code", "trust_code is not a trust in the organisation reference", "NOT ref_trust_known"
    ),
    Rule(
        "site_not_of_trust",
        "site_code",
        "site_code is not a site of this trust in the organisation reference",
        "site_code IS NOT NULL AND ref_trust_known AND ref_site_trust IS DISTINCT FROM trust_code",
    ),
    Rule(
        "lmns_mismatch",
        "lmns_code",
        "lmns_code does not match the trust's LMNS in the organisation reference",
        "lmns_code IS NOT NULL AND ref_trust_known AND lmns_code <> ref_lmns_code",
    ),
    Rule(
        "region_mismatch",
        "region_code",
        "region_code does not match the trust's region in the organisation reference",
        "region_code IS NOT NULL AND ref_trust_known AND region_code <> ref_region_code",
    ),
    Rule(
        "birth_order_exceeds_plurality",
        "birth_order",
        "birth_order is greater than plurality",
        "birth_order > plurality",
    ),
    Rule(
        "stillbirth_under_24_weeks",
        "gestation_weeks",
        "a stillbirth must be at 24+0 weeks or later (earlier losses are late fetal losses)",
        "outcome = 'stillbirth' AND ga_days < 168",
    ),
    Rule(
        "late_fetal_loss_gestation",
        "gestation_weeks",
        "a late fetal loss must be between 22+0 and 23+6 weeks",
        "outcome = 'late_fetal_loss' AND ga_days NOT BETWEEN 154 AND 167",
    ),
    Rule(
        "stillbirth_timing_missing",
        "stillbirth_timing",
        "stillbirth_timing is required for a stillbirth (use 'unknown' if not known)",
        "outcome = 'stillbirth' AND raw_stillbirth_timing IS NULL",
    ),
    Rule(
        "stillbirth_timing_not_stillbirth",
        "stillbirth_timing",
        "stillbirth_timing must be empty unless the outcome is stillbirth",
        "raw_stillbirth_timing IS NOT NULL AND outcome IS NOT NULL AND outcome <> 'stillbirth'",
    ),
    Rule(
        "neonatal_death_not_live_birth",
        "neonatal_death_datetime",
        "a neonatal death can only be recorded for a live birth",
        f"neonatal_death_datetime IS NOT NULL AND {_LIVE_ONLY}",
    ),
    Rule(
        "neonatal_death_before_birth",
        "neonatal_death_datetime",
        "neonatal_death_datetime is before birth_datetime",
        "neonatal_death_datetime < birth_datetime",
    ),
    Rule(
        "neonatal_death_after_28_days",
        "neonatal_death_datetime",
        "a neonatal death must be less than 28 days after birth",
        "neonatal_death_datetime >= birth_datetime + INTERVAL 28 DAY",
    ),
    Rule(
        "brain_injury_not_live_birth",
        "brain_injury",
        "brain_injury can only be recorded for a live birth",
        f"brain_injury AND {_LIVE_ONLY}",
    ),
    Rule(
        "hie_grade_not_live_birth",
        "hie_grade",
        "hie_grade can only be recorded for a live birth",
        f"hie_grade IS NOT NULL AND {_LIVE_ONLY}",
    ),
    Rule(
        "therapeutic_cooling_not_live_birth",
        "therapeutic_cooling",
        "therapeutic_cooling can only be recorded for a live birth",
        f"therapeutic_cooling AND {_LIVE_ONLY}",
    ),
    Rule(
        "nnu_admission_not_live_birth",
        "nnu_admission",
        "nnu_admission can only be recorded for a live birth",
        f"nnu_admission AND {_LIVE_ONLY}",
    ),
    Rule(
        "booking_after_birth",
        "booking_gestation_weeks",
        "booking_gestation_weeks is later than the gestation at birth",
        "booking_gestation_weeks > gestation_weeks",
    ),
    Rule(
        "maternal_death_class_without_death",
        "maternal_death_cause_class",
        "maternal_death_cause_class is given but maternal_death_datetime is empty",
        "raw_maternal_death_cause_class IS NOT NULL AND raw_maternal_death_datetime IS NULL",
    ),
    Rule(
        "maternal_death_before_birth",
        "maternal_death_datetime",
        "maternal_death_datetime is before the date of birth",
        "CAST(maternal_death_datetime AS DATE) < CAST(birth_datetime AS DATE)",
    ),
    Rule(
        "maternal_death_over_a_year",
        "maternal_death_datetime",
        "maternal_death_datetime is more than 365 days after birth (not a maternal death)",
        "maternal_death_datetime > birth_datetime + INTERVAL 365 DAY",
    ),
)


def row_rules() -> tuple[Rule, ...]:
    """Every rule that looks at one row on its own, field rules first."""
    return tuple(rule for field in FIELDS for rule in _field_rules(field)) + CROSS_FIELD_RULES


@dataclass(frozen=True)
class CrossRowRule:
    """A rule about several rows of one load together (documented here, run by the loader)."""

    id: str
    field: str
    reason: str


CROSS_ROW_RULES: tuple[CrossRowRule, ...] = (
    CrossRowRule("record_id_duplicate", "record_id", "record_id appears more than once in this load"),
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


def _typed_select(source: str) -> str:
    """SQL for ``raw_*`` text columns, typed columns and reference lookups over ``source``.

    ``source`` yields ``_file``, ``_row`` and one text column per field (absent optional
    columns must already be supplied as NULL).
    """
    raws = ", ".join(f"NULLIF(trim({_q(f.name)}), '') AS {_q('raw_' + f.name)}" for f in FIELDS)
    typed = ", ".join(f"{typed_expression(f)} AS {_q(f.name)}" for f in FIELDS)
    return f"""
        WITH raw AS (SELECT _file, _row, {raws} FROM {source}),
        typed AS (SELECT raw.*, {typed} FROM raw)
        SELECT typed.*,
               CAST(typed.gestation_weeks AS INTEGER) * 7 + typed.gestation_days AS ga_days,
               ref.trust_code IS NOT NULL AS ref_trust_known,
               ref.lmns_code AS ref_lmns_code,
               ref.region_code AS ref_region_code,
               site.trust_code AS ref_site_trust
        FROM typed
        LEFT JOIN trust_ref AS ref ON typed.trust_code = ref.trust_code
        LEFT JOIN site_ref AS site ON typed.site_code = site.site_code
    """


def _is_violated(rule: Rule) -> str:
    return f"coalesce(({rule.violated}), FALSE)"


def checked_rows_sql(source: str, load_time_sql: str) -> str:
    """One pass: typed fields, partition keys, ``_bad`` and, for bad rows only, the raw text.

    Keeping the raw text only where ``_bad`` lets :func:`violations_sql` explain the few bad
    rows later without storing the whole input twice.
    """
    any_bad = " OR ".join(_is_violated(rule) for rule in row_rules())
    fields = []
    for f in FIELDS:
        if f.name in ("lmns_code", "region_code"):
            fields.append(f"coalesce({_q(f.name)}, {_q('ref_' + f.name)}) AS {_q(f.name)}")
        else:
            fields.append(_q(f.name))
    raw_if_bad = ", ".join(f"CASE WHEN _bad THEN {_q('raw_' + f.name)} END AS {_q('raw_' + f.name)}" for f in FIELDS)
    return f"""
        WITH checked AS (
            SELECT *, ({any_bad}) AS _bad
            FROM ({_typed_select(source)}) AS t, (SELECT {load_time_sql} AS load_time) AS lt
        )
        SELECT _file, _row, {", ".join(fields)},
               CAST(year(birth_datetime) AS INTEGER) AS year,
               CAST(month(birth_datetime) AS INTEGER) AS month,
               _bad, {raw_if_bad}
        FROM checked
    """


def violations_sql(bad_source: str, load_time_sql: str) -> str:
    """Every (row, rule) broken, for rows of ``bad_source`` (``_file``, ``_row``, ``raw_*``)."""
    renamed = ", ".join(f"{_q('raw_' + f.name)} AS {_q(f.name)}" for f in FIELDS)
    source = f"(SELECT _file, _row, {renamed} FROM {bad_source})"
    parts = [
        f"SELECT _file, _row, {_text(rule.id)} AS rule, {_text(rule.field)} AS field, "
        f"CAST({_q('raw_' + rule.field)} AS VARCHAR) AS value, {_text(rule.reason)} AS reason "
        f"FROM v WHERE {_is_violated(rule)}"
        for rule in row_rules()
    ]
    return (
        f"WITH v AS (SELECT * FROM ({_typed_select(source)}) AS t, (SELECT {load_time_sql} AS load_time) AS lt) "
        + " UNION ALL ".join(parts)
    )


def cross_row_violations_sql(table: str) -> str:
    """Duplicate record ids and inconsistent multiple births within one load's rows."""
    by_id = {r.id: r for r in CROSS_ROW_RULES}
    dup, plur, more, order = (
        by_id["record_id_duplicate"],
        by_id["plurality_inconsistent"],
        by_id["more_babies_than_plurality"],
        by_id["birth_order_repeated"],
    )
    return f"""
        WITH dup_ids AS (
            SELECT record_id, count(*) AS n FROM {table} WHERE record_id IS NOT NULL
            GROUP BY record_id HAVING count(*) > 1
        ),
        keyed AS (
            SELECT _file, _row, plurality, birth_order,
                   trust_code AS k_trust, mother_id AS k_mother, CAST(birth_datetime AS DATE) AS k_date
            FROM {table}
            WHERE mother_id IS NOT NULL AND birth_datetime IS NOT NULL AND trust_code IS NOT NULL
        ),
        deliveries AS (
            SELECT k_trust, k_mother, k_date, count(*) AS n, count(DISTINCT plurality) AS n_plurality,
                   max(plurality) AS max_plurality, count(birth_order) - count(DISTINCT birth_order) AS repeats
            FROM keyed GROUP BY k_trust, k_mother, k_date HAVING count(*) > 1
        ),
        multi AS (
            SELECT k._file, k._row, k.plurality, k.birth_order, d.n, d.n_plurality, d.max_plurality,
                   count(*) OVER (PARTITION BY k.k_trust, k.k_mother, k.k_date, k.birth_order) AS order_n
            FROM keyed AS k JOIN deliveries AS d USING (k_trust, k_mother, k_date)
            WHERE d.n_plurality > 1 OR d.n > d.max_plurality OR d.repeats > 0
        )
        SELECT t._file, t._row, {_text(dup.id)} AS rule, {_text(dup.field)} AS field, t.record_id AS value,
               {_text(dup.reason + " (")} || d.n || ' rows)' AS reason
        FROM {table} AS t JOIN dup_ids AS d USING (record_id)
        UNION ALL
        SELECT _file, _row, {_text(plur.id)}, {_text(plur.field)}, CAST(plurality AS VARCHAR), {_text(plur.reason)}
        FROM multi WHERE n_plurality > 1
        UNION ALL
        SELECT _file, _row, {_text(more.id)}, {_text(more.field)}, CAST(plurality AS VARCHAR),
               {_text(more.reason + " (")} || n || ' babies, plurality ' || max_plurality || ')'
        FROM multi WHERE n_plurality = 1 AND n > max_plurality
        UNION ALL
        SELECT _file, _row, {_text(order.id)}, {_text(order.field)}, CAST(birth_order AS VARCHAR), {_text(order.reason)}
        FROM multi WHERE order_n > 1 AND birth_order IS NOT NULL
    """
