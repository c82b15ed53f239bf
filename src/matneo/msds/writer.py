"""Birth records written out as MSDS v2.0 tables: the inverse of :mod:`matneo.msds.reader`.

Used by ``matneo synth --format msds`` so that the same synthetic births can be loaded both as
birth-record CSV and as MSDS tables, and a test can show the two loads give the same store.
Each provider's births of a month become one submission (``UniqSubmissionID``) for the
reporting period starting on the first of that month, as a monthly MSDS extract is. The codes
written are the mapping's own (``data/mapping.json``), so a code corrected there changes what
is written and what is read together.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from matneo.msds.mapping import FieldMap, load_mapping

col = pl.col
DATE = "%Y-%m-%d"
TIME = "%H:%M:%S"


def _inverse(fm: FieldMap) -> dict[str, str]:
    """Birth-record value → the first MSDS code that maps to it."""
    inverse: dict[str, str] = {}
    for code, value in fm.codes.items():
        if value is not None:
            inverse.setdefault(str(value).lower() if isinstance(value, bool) else str(value), code)
    return inverse


def _code(field: str, source: pl.Expr | None = None) -> pl.Expr:
    fm = load_mapping().fields[field]
    expr = col(field) if source is None else source
    return expr.cast(pl.String).replace_strict(_inverse(fm), default=None)


def _text(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String)


def msds_tables(births: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """MSDS tables (all values text, empty = missing) holding exactly the given birth records."""
    mapping = load_mapping()
    sub = mapping.submission
    period = col("birth_datetime").dt.truncate("1mo").dt.strftime(DATE)
    frame = births.with_columns(
        _period=period,
        _date=col("birth_datetime").dt.strftime(DATE),
    )
    submissions = (
        frame.select("trust_code", "_period").unique().sort("trust_code", "_period").with_row_index("_sub", offset=1)
    )
    # One pregnancy, and one labour and delivery, per trust, mother and day of birth; numbered
    # (as MSDS identifiers are numbers) so that the tables are no bigger than they need be.
    delivery = pl.struct("trust_code", "mother_id", "_date").rank("dense").cast(pl.String)
    frame = frame.join(submissions, on=["trust_code", "_period"], how="left").with_columns(
        _preg=delivery, _lab=delivery
    )
    head = [
        _text(col("_sub")).alias(sub.identifier),
        col("trust_code").alias(sub.provider),
        col("_period").alias(sub.period_start),
    ]
    mother_dob = pl.date(
        col("birth_datetime").dt.year() - col("maternal_age").cast(pl.Int32), col("birth_datetime").dt.month(), 1
    )
    baby = frame.select(
        *head,
        col("record_id").alias("Person_ID_Baby"),
        col("mother_id").alias("Person_ID_Mother"),
        col("_preg").alias("UniqPregID"),
        col("_lab").alias("LabourDeliveryID"),
        col("site_code").alias("OrgSiteIDActualDelivery"),
        col("_date").alias("PersonBirthDateBaby"),
        col("birth_datetime").dt.strftime(TIME).alias("PersonBirthTimeBaby"),
        _text(col("gestation_weeks").cast(pl.Int32) * 7 + col("gestation_days").cast(pl.Int32)).alias(
            "GestationLengthBirth"
        ),
        _text(col("birth_order")).alias("BabyBirthOrder"),
        _code("sex").alias("PersonPhenSex"),
        pl.when(col("outcome") == "live_birth")
        .then(pl.lit("01"))
        .when(col("outcome") == "late_fetal_loss")
        .then(pl.lit("04"))
        .otherwise(_code("stillbirth_timing"))
        .alias("PregOutcome"),
        _code("mode_of_delivery").alias("DeliveryMethodCode"),
        col("neonatal_death_datetime").dt.strftime(DATE).alias("PersonDeathDateBaby"),
        col("neonatal_death_datetime").dt.strftime(TIME).alias("PersonDeathTimeBaby"),
    )
    # Dates of birth are made to give the stored age: the first of the birth month, age years
    # before, is always a birthday already passed on the day of the birth.
    mother = frame.select(
        *head,
        col("mother_id").alias("Person_ID_Mother"),
        mother_dob.dt.strftime(DATE).alias("PersonBirthDateMother"),
        col("ethnic_category").alias("EthnicCategoryMother"),
        _text(col("imd_decile")).alias("Rank_IMD_Decile"),
        col("maternal_death_datetime").dt.strftime(DATE).alias("PersonDeathDateMother"),
        col("maternal_death_datetime").dt.strftime(TIME).alias("PersonDeathTimeMother"),
    ).unique(subset=[sub.identifier, "Person_ID_Mother"], keep="first", maintain_order=True)
    booking = frame.select(
        *head,
        col("_preg").alias("UniqPregID"),
        col("mother_id").alias("Person_ID_Mother"),
        _text(col("booking_gestation_weeks").cast(pl.Int32) * 7).alias("GestAgeBooking"),
        _text(col("parity")).alias("PreviousLiveBirths"),
        pl.when(col("parity").is_not_null()).then(pl.lit("0")).alias("PreviousStillBirths"),
        _code("continuity_of_carer").alias("ContCarePathInd"),
    ).unique(subset=[sub.identifier, "UniqPregID"], keep="first", maintain_order=True)
    labour = frame.select(
        *head,
        col("_lab").alias("LabourDeliveryID"),
        col("_preg").alias("UniqPregID"),
        col("mother_id").alias("Person_ID_Mother"),
        _text(col("plurality")).alias("BirthsPerLabandDel"),
        _code("onset_of_labour").alias("LabourOnsetMethod"),
    ).unique(subset=[sub.identifier, "LabourDeliveryID"], keep="first", maintain_order=True)
    return {
        "MSD001": mother,
        "MSD101": booking,
        "MSD301": labour,
        "MSD302": _activity(
            frame, head, "_lab", "LabourDeliveryID", ["smoking_at_delivery", "pph_ml", "perineal_tear_degree"]
        ),
        "MSD401": baby,
        "MSD402": frame.filter(col("nnu_admission").fill_null(False)).select(
            *head, col("record_id").alias("Person_ID_Baby")
        ),
        "MSD405": _activity(frame, head, "record_id", "Person_ID_Baby", ["birth_weight_g", "apgar_5min"]),
        "MATNEO01": _supplement(frame),
    }


def _activity(frame: pl.DataFrame, head: list[pl.Expr], key: str, key_item: str, fields: list[str]) -> pl.DataFrame:
    """One care-activity row per recorded value: a coded finding, or an observation with its unit."""
    mapping = load_mapping()
    parts = []
    date_item = "ClinInterDateMother" if key_item == "LabourDeliveryID" else "ClinInterDateBaby"
    for name in fields:
        fm = mapping.fields[name]
        rows = frame.filter(col(name).is_not_null())
        code = next(iter(fm.codes))
        if fm.rule == "finding":
            finding, observation, value, unit = _code(name), pl.lit(None), pl.lit(None), pl.lit(None)
        else:
            unit_name = next(u for u, factor in fm.units.items() if factor == 1) if fm.units else None
            finding, observation = pl.lit(None), pl.lit(code)
            value, unit = _text(col(name)), pl.lit(unit_name)
        part = rows.select(
            *head,
            col(key).alias(key_item),
            col("birth_datetime").dt.strftime(DATE).alias(date_item),
            finding.cast(pl.String).alias("FindingCode"),
            observation.cast(pl.String).alias("ObsCode"),
            value.cast(pl.String).alias("ObsValue"),
            unit.cast(pl.String).alias("UCUMUnit"),
        )
        parts.append(part.unique(subset=[mapping.submission.identifier, key_item], keep="first", maintain_order=True))
    return pl.concat(parts)


def _supplement(frame: pl.DataFrame) -> pl.DataFrame:
    mapping = load_mapping()
    supplied = [fm for fm in mapping.fields.values() if fm.table == "MATNEO01"]
    names = [fm.field for fm in supplied]
    rows = frame.filter(pl.any_horizontal([col(n).is_not_null() for n in names]))
    return rows.select(
        col("record_id").alias("Person_ID_Baby"),
        *[_text(col(fm.field)).alias(fm.items[0]) for fm in supplied],
    )


def write_msds(births: pl.DataFrame, out_dir: Path) -> list[Path]:
    """Write the tables as ``out_dir/<table name>.csv`` (comma-separated, UTF-8); return the paths."""
    mapping = load_mapping()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for table_id, table in msds_tables(births).items():
        path = out_dir / f"{mapping.tables[table_id].name}.csv"
        tmp = path.with_name(path.name + ".partial")
        table.write_csv(tmp)
        os.replace(tmp, path)
        paths.append(path)
    return paths
