"""Case-mix adjustment by indirect standardisation.

A trust that books more older mothers, more twins or more women from deprived areas will have
a higher crude stillbirth rate without any difference in care. Indirect standardisation asks
"how many events would this trust have had if each of its babies (or maternities) had the
England rate for their stratum?" and compares the observed count O with that expected count E.

Method (PHE "Technical Guide: Confidence Intervals" (2018) and APHO Technical Briefing 3
(2008), as implemented by PHEindicatormethods v2.1.0 ``calculate_ISRatio``/``calculate_ISRate``;
restated in ``docs/casemix.md``), for the
strata i of one organisation-period with denominators nᵢ and observed events oᵢ, and reference
(England) events Xᵢ out of Nᵢ:

* reference rate rᵢ = Xᵢ / Nᵢ; E = Σ nᵢ·rᵢ; O = Σ oᵢ
* ratio = O / E; its confidence interval is the exact Poisson interval of O when O < 10
  (:data:`matneo.stats.ci.EXACT_COUNT_THRESHOLD`) and Byar's approximation from 10, divided by E
  (``calculate_ISRatio``: "exact" below 10, "byars" otherwise)
* adjusted rate = O / E × reference crude rate (Σ X / Σ N) × the measure's multiplier
  (``calculate_ISRate``), with the ratio's limits scaled the same way.

Why indirect rather than direct standardisation: trust-level stratum counts are small (a trust
has a handful of stillbirths a year spread over dozens of strata), so stratum-specific trust
rates are unstable; indirect standardisation only needs the trust's stratum *denominators*,
and the stable national rates. The price is that ratios of two trusts are not directly
comparable with each other, only each with England (Julious et al., BMJ 2001;322:1222 on SMRs).

The per-baby expected risk of :func:`expected_risk` is the same reference stratum rate, so the
sum of a trust's risks equals its E; the risk-adjusted CUSUM (:mod:`matneo.signals.cusum`)
uses it as the patient's predicted probability p_t.

No code was copied from other projects; PHEindicatormethods was read for the formulas only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from matneo.measures.counts import denominator_column, numerator_column
from matneo.measures.definitions import DERIVED_COLUMNS, MEASURES_BY_ID, Measure, get_measures
from matneo.reference.codes import BIRTH_WEIGHT_BANDS, GESTATION_BANDS, Band
from matneo.stats.ci import EXACT_COUNT_THRESHOLD, byar_ci, poisson_exact_ci

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

__all__ = [
    "MATERNAL_AGE_BANDS",
    "NOT_RECORDED",
    "STRATA_BY_MEASURE",
    "STRATUM_COLUMNS",
    "expected_risk",
    "expected_risks",
    "indirectly_standardise",
    "strata_counts",
    "stratum_expressions",
]

#: Label of the explicit stratum for a missing value. Missing data are a stratum of their own
#: rather than dropped, so every baby in a denominator is counted in both O and E, and a trust
#: that records less is compared with England's rate among unrecorded babies. (Ethnic group
#: keeps the registry's own "Not stated" group, which already holds missing and "not known"
#: codes: see ``matneo.measures.definitions.DERIVED_COLUMNS``.)
NOT_RECORDED = "not recorded"

MATERNAL_AGE_BANDS: tuple[Band, ...] = (
    Band("<20", 0, 19),
    Band("20–24", 20, 24),
    Band("25–29", 25, 29),
    Band("30–34", 30, 34),
    Band("35–39", 35, 39),
    Band("40+", 40, None),
)
"""Mother's age in completed years at the birth.

Source: the five-year bands with open ends at <20 and 40+ used by ONS "Births in England and
Wales" (age of mother) and by MBRRACE-UK's perinatal surveillance tables for maternal age.
"""

STRATUM_COLUMNS: tuple[str, ...] = (
    "gestation_band",
    "birth_weight_band",
    "plurality",
    "maternal_age_band",
    "ethnic_group",
    "imd_quintile",
)
"""Every stratum variable a measure may adjust for; each is a String column in the strata frame."""

STRATA_BY_MEASURE: dict[str, tuple[str, ...]] = {
    "stillbirth_rate": ("maternal_age_band", "ethnic_group", "imd_quintile", "plurality"),
    "neonatal_mortality_24wk": ("gestation_band", "maternal_age_band", "ethnic_group", "imd_quintile", "plurality"),
    "neonatal_mortality_all": ("gestation_band", "maternal_age_band", "ethnic_group", "imd_quintile", "plurality"),
    "perinatal_mortality": ("maternal_age_band", "ethnic_group", "imd_quintile", "plurality"),
    "brain_injury_rate": ("gestation_band", "maternal_age_band", "ethnic_group", "imd_quintile", "plurality"),
    "preterm_birth_rate": ("maternal_age_band", "ethnic_group", "imd_quintile", "plurality"),
    "term_nnu_admission": ("maternal_age_band", "ethnic_group", "imd_quintile", "plurality"),
    "caesarean_rate": ("maternal_age_band", "ethnic_group", "imd_quintile", "plurality"),
    "pph_1500": ("maternal_age_band", "ethnic_group", "imd_quintile", "plurality"),
    "third_fourth_degree_tear": ("maternal_age_band", "ethnic_group", "imd_quintile", "birth_weight_band"),
    "apgar_below_7_term": ("maternal_age_band", "ethnic_group", "imd_quintile", "plurality"),
}
"""Which strata each outcome measure is adjusted for, and why.

General rule: adjust only for characteristics fixed before the care being judged began (the
mother's age, ethnic group, deprivation of her area, and whether the pregnancy is multiple).
Never adjust for something the care can change or that is part of the outcome itself: that
would explain away exactly the variation the measure exists to find. Every set is the same
four-way stratification unless there is a reason to differ, so results are easy to explain.
Baby's sex, parity and previous caesarean are not available as strata in this module (they
are either not in the store schema's bands or not yet banded), which is a known gap.

* ``stillbirth_rate``: maternal age, ethnic group, IMD quintile, plurality. **Not** gestation
  at birth or birth weight: a stillborn baby's gestation and weight are consequences of the
  death (and of antenatal care, e.g. detection of growth restriction), so adjusting for them
  would remove the effect being monitored. This follows the factors in MBRRACE-UK's
  "stabilised & adjusted" stillbirth rates (Perinatal Mortality Surveillance Report, methods:
  mother's age, deprivation, baby's ethnicity, multiplicity and baby's sex; sex is not used
  here).
* ``neonatal_mortality_24wk`` / ``neonatal_mortality_all``: the same four plus gestation band,
  as MBRRACE-UK's stabilised & adjusted neonatal mortality rates also adjust for gestational
  age at birth (a live-born baby's gestation is the dominant predictor of neonatal death and is
  largely set before neonatal care starts). Caveat: adjusting for gestation hides deaths that
  follow avoidable preterm birth; read the preterm birth measure alongside.
* ``perinatal_mortality``: as stillbirths (no gestation band), because half or more of the
  numerator is stillbirths, for which gestation at birth is a consequence of the outcome.
  MatNeo choice, needs local confirmation.
* ``brain_injury_rate``: the four plus gestation band, because the national case definition
  includes injuries of prematurity (intraventricular haemorrhage, periventricular
  leukomalacia) whose risk is driven by gestation (Gale et al., ADC F&N 2017 report rates by
  gestation group). MatNeo choice, needs local confirmation.
* ``preterm_birth_rate``: the four social/obstetric factors only. It must **not** adjust for
  gestation (the outcome itself) or birth weight (a near-proxy of gestation). Plurality is kept:
  about half of twins are born preterm, and a tertiary centre that receives in-utero transfers
  of multiples should not appear worse for that reason. MatNeo choice, needs local
  confirmation.
* ``term_nnu_admission``: the four. Not birth weight: at term a low birth weight usually means
  fetal growth restriction, whose detection and timely delivery is part of the care being
  monitored (Saving Babies' Lives care bundle, element 2; ATAIN). MatNeo choice, needs local
  confirmation.
* ``caesarean_rate``: the four. Parity and previous caesarean, the largest drivers and the basis
  of Robson groups and of the NMPA's case-mix adjustment, are not available as strata here;
  mode of onset of labour is a care decision and is not used. MatNeo choice, needs local
  confirmation.
* ``pph_1500``: the four (a multiple pregnancy is an established PPH risk factor, RCOG Green-top
  Guideline 52). Not mode of birth, which is a care decision. MatNeo choice, needs local
  confirmation.
* ``third_fourth_degree_tear``: maternal age, ethnic group, IMD quintile and birth-weight band
  (RCOG Green-top Guideline 29 lists Asian ethnicity and birth weight over 4 kg as risk factors
  for obstetric anal sphincter injury; birth weight is a fetal characteristic, not a
  consequence of intrapartum care). Plurality is not used: the denominator is vaginal births,
  almost all singleton. MatNeo choice, needs local confirmation.
* ``apgar_below_7_term``: the four; not birth weight, for the reason given for term admissions.
  MatNeo choice, needs local confirmation.
"""


def _band_expr(value: pl.Expr, bands: tuple[Band, ...]) -> pl.Expr:
    """Label of the band holding ``value`` (inclusive integer bands); NOT_RECORDED for null or out of range."""
    chain: Then | ChainedThen = pl.when(value.is_null()).then(pl.lit(NOT_RECORDED))
    for band in bands:
        condition = value >= band.min_inclusive
        if band.max_inclusive is not None:
            condition = condition & (value <= band.max_inclusive)
        chain = chain.when(condition).then(pl.lit(band.label))
    return chain.otherwise(pl.lit(NOT_RECORDED))


def stratum_expressions() -> dict[str, pl.Expr]:
    """Polars expressions for every column of :data:`STRATUM_COLUMNS`, over a birth record.

    Needs the derived columns ``ga_days``, ``ethnic_group`` and ``imd_quintile`` of
    :data:`matneo.measures.definitions.DERIVED_COLUMNS` to be present. Bands come from
    :mod:`matneo.reference.codes` (gestation, birth weight) and :data:`MATERNAL_AGE_BANDS`, so a
    boundary is defined once. Plurality is "singleton" (1) or "multiple" (2 or more).
    """
    plurality = pl.col("plurality")
    quintile = pl.col("imd_quintile")
    return {
        "gestation_band": _band_expr(pl.col("ga_days"), GESTATION_BANDS),
        "birth_weight_band": _band_expr(pl.col("birth_weight_g"), BIRTH_WEIGHT_BANDS),
        "plurality": pl.when(plurality == 1)
        .then(pl.lit("singleton"))
        .when(plurality >= 2)
        .then(pl.lit("multiple"))
        .otherwise(pl.lit(NOT_RECORDED)),
        "maternal_age_band": _band_expr(pl.col("maternal_age"), MATERNAL_AGE_BANDS),
        "ethnic_group": pl.col("ethnic_group").cast(pl.String).fill_null(NOT_RECORDED),
        "imd_quintile": pl.when(quintile.is_between(1, 5))
        .then(quintile.cast(pl.String))
        .otherwise(pl.lit(NOT_RECORDED)),
    }


def _band_code(value: pl.Expr, bands: tuple[Band, ...]) -> pl.Expr:
    """Index of the band holding ``value`` (as :func:`_band_expr`), −1 for not recorded."""
    chain: Then | ChainedThen = pl.when(value.is_null()).then(pl.lit(-1))
    for index, band in enumerate(bands):
        condition = value >= band.min_inclusive
        if band.max_inclusive is not None:
            condition = condition & (value <= band.max_inclusive)
        chain = chain.when(condition).then(pl.lit(index))
    return chain.otherwise(pl.lit(-1)).cast(pl.Int64)


#: How many codes each stratum column can take (−1 for not recorded is shifted to 0), so a
#: cell's codes combine into one integer key without collisions.
_CODE_SPAN = 64


def stratum_code_expressions() -> dict[str, pl.Expr]:
    """Integer codes for the stratum columns: one-to-one with the labels of :func:`stratum_expressions`.

    Why: grouping six million babies by six string columns took seconds; integers that stand
    for exactly the same cells give the same rates in a fraction of the time.
    """
    plurality = pl.col("plurality")
    quintile = pl.col("imd_quintile")
    return {
        "gestation_band": _band_code(pl.col("ga_days"), GESTATION_BANDS),
        "birth_weight_band": _band_code(pl.col("birth_weight_g"), BIRTH_WEIGHT_BANDS),
        "plurality": pl.when(plurality == 1).then(1).when(plurality >= 2).then(2).otherwise(-1).cast(pl.Int64),
        "maternal_age_band": _band_code(pl.col("maternal_age"), MATERNAL_AGE_BANDS),
        "ethnic_group": pl.col("ethnic_group")
        .cast(pl.String)
        .fill_null(NOT_RECORDED)
        .cast(pl.Categorical)
        .to_physical()
        .cast(pl.Int64),
        "imd_quintile": pl.when(quintile.is_between(1, 5)).then(quintile.cast(pl.Int64)).otherwise(-1),
    }


def _cell_key(columns: Sequence[str]) -> pl.Expr:
    """One integer per combination of the coded stratum ``columns`` (mixed radix)."""
    key = pl.lit(0, dtype=pl.Int64)
    for column in columns:
        key = key * _CODE_SPAN + (pl.col(f"{column}__code") + 1)
    return key


def _prepared(source: pl.LazyFrame, measures: Sequence[Measure], columns: Sequence[str]) -> pl.LazyFrame:
    """Add derived columns, the requested stratum columns and each measure's 0/1 flags.

    The flags are exactly those of :func:`matneo.measures.counts.build_cube`: the denominator
    condition with null as false, and the numerator only within the denominator.
    """
    frame = source.with_columns([pl.sql_expr(sql).alias(name) for name, sql in DERIVED_COLUMNS.items()])
    expressions = stratum_expressions()
    frame = frame.with_columns([expressions[c].alias(c) for c in columns])
    flags = []
    for m in measures:
        den = pl.sql_expr(m.denominator).fill_null(False)
        num = pl.sql_expr(m.numerator).fill_null(False)
        flags += [den.alias(denominator_column(m)), (den & num).alias(numerator_column(m))]
    return frame.with_columns(flags)


def _strata_for(measure_ids: Sequence[str]) -> list[str]:
    missing = [i for i in measure_ids if i not in STRATA_BY_MEASURE]
    if missing:
        raise ValueError(
            f"no case-mix strata defined for {', '.join(missing)}; defined for: {', '.join(STRATA_BY_MEASURE)}"
        )
    wanted = {c for i in measure_ids for c in STRATA_BY_MEASURE[i]}
    return [c for c in STRATUM_COLUMNS if c in wanted]


def strata_counts(
    files: list[Path], measure_ids: Sequence[str], by: Sequence[str] = ("trust_code", "year")
) -> pl.DataFrame:
    """Numerator and denominator of each measure per organisation-period × stratum, in one scan.

    Returns one row per combination of the ``by`` columns and the union of the measures'
    strata (:data:`STRATA_BY_MEASURE`), with ``<measure>__num`` and ``<measure>__den`` Int64
    columns named as in the count cube. One frame for all requested measures (rather than one
    per measure) keeps it to a single pass over the Parquet files, as ``counts.build_cube``
    does; :func:`indirectly_standardise` sums away the strata a measure does not use.
    ``year`` and ``month`` come from the store's hive partitions (``year=2019/month=6``).

    Why the same SQL conditions as the count cube: the unadjusted and the adjusted figures of
    one measure must count exactly the same babies, so the crude rate here always equals the
    published one.
    """
    measures = get_measures(list(measure_ids))
    columns = _strata_for([m.id for m in measures])
    keys = [*by, *columns]
    counts = [c for m in measures for c in (numerator_column(m), denominator_column(m))]
    schema: dict[str, pl.DataType] = {k: pl.Int64() if k in ("year", "month") else pl.String() for k in keys}
    schema.update({c: pl.Int64() for c in counts})
    if not files:
        return pl.DataFrame(schema=schema)
    source = pl.scan_parquet(files, hive_partitioning=True)
    # Group on integer codes (and the ethnic group as a category), then turn the few thousand
    # result rows back into labels: grouping millions of rows on six strings cost seconds.
    frame = source.with_columns([pl.sql_expr(sql).alias(name) for name, sql in DERIVED_COLUMNS.items()])
    codes = stratum_code_expressions()
    coded = {
        c: (
            pl.col("ethnic_group").cast(pl.String).fill_null(NOT_RECORDED).cast(pl.Categorical)
            if c == "ethnic_group"
            else codes[c]
        ).alias(c)
        for c in columns
    }
    flags = []
    for m in measures:
        den = pl.sql_expr(m.denominator).fill_null(False)
        flags += [
            den.alias(denominator_column(m)),
            (den & pl.sql_expr(m.numerator).fill_null(False)).alias(numerator_column(m)),
        ]
    grouped = (
        frame.select(*by, *coded.values(), *flags).group_by(keys).agg(pl.col(counts).cast(pl.Int64).sum()).collect()
    )
    grouped = grouped.with_columns([_code_labels(c).alias(c) for c in columns])
    return grouped.select(*keys, *[pl.col(c).fill_null(0).cast(pl.Int64) for c in counts]).sort(keys)


def _code_labels(column: str) -> pl.Expr:
    """The label of each code of :func:`stratum_code_expressions` (the inverse, column by column)."""
    code = pl.col(column)
    if column == "ethnic_group":
        return code.cast(pl.String)
    if column == "plurality":
        return (
            pl.when(code == 1)
            .then(pl.lit("singleton"))
            .when(code == 2)
            .then(pl.lit("multiple"))
            .otherwise(pl.lit(NOT_RECORDED))
        )
    if column == "imd_quintile":
        return pl.when(code.is_between(1, 5)).then(code.cast(pl.String)).otherwise(pl.lit(NOT_RECORDED))
    bands = {"gestation_band": GESTATION_BANDS, "birth_weight_band": BIRTH_WEIGHT_BANDS}.get(column, MATERNAL_AGE_BANDS)
    labels = {i: b.label for i, b in enumerate(bands)}
    return code.replace_strict(labels, default=NOT_RECORDED, return_dtype=pl.String)


def _counts_by_stratum(frame: pl.DataFrame, measure: Measure, keys: Sequence[str]) -> pl.DataFrame:
    num, den = numerator_column(measure), denominator_column(measure)
    for column in (*keys, num, den):
        if column not in frame.columns:
            raise ValueError(f"strata frame has no column {column!r} (columns: {', '.join(frame.columns)})")
    sums = (pl.col(num).cast(pl.Float64).sum().alias("o"), pl.col(den).cast(pl.Float64).sum().alias("n"))
    return frame.group_by(list(keys)).agg(*sums) if keys else frame.select(*sums)


def _reference_rates(reference: pl.DataFrame, measure: Measure, strata: Sequence[str]) -> tuple[pl.DataFrame, float]:
    """Rate per stratum (strata with a zero denominator are dropped) and the crude reference rate."""
    totals = _counts_by_stratum(reference, measure, strata)
    events, population = float(totals["o"].sum()), float(totals["n"].sum())
    crude = events / population if population > 0 else float("nan")
    rates = totals.filter(pl.col("n") > 0).select(*strata, (pl.col("o") / pl.col("n")).alias("reference_rate"))
    return rates, crude


def indirectly_standardise(
    strata: pl.DataFrame,
    measure_id: str,
    reference: pl.DataFrame | None = None,
    *,
    by: Sequence[str] = ("trust_code", "year"),
    strata_columns: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pl.DataFrame:
    """Observed/expected ratio and indirectly standardised rate per organisation-period.

    ``strata`` is a frame like :func:`strata_counts` (``by`` columns, stratum columns,
    ``<measure>__num``/``<measure>__den``). ``reference`` is a frame of the same layout whose
    totals per stratum give the reference rates; by default it is ``strata`` itself summed over
    all organisations, i.e. England when ``strata`` covers England. ``strata_columns`` overrides
    :data:`STRATA_BY_MEASURE` (for sensitivity analyses and tests).

    Returned columns: the ``by`` columns; ``observed`` (O), ``expected`` (E), ``denominator``;
    ``crude_rate`` (O/n × multiplier); ``ratio`` (O/E, 1 = as expected) with ``ratio_lower`` and
    ``ratio_upper``; ``ci_method`` ("exact" for O < 10, "byar" otherwise, as
    ``calculate_ISRatio``); ``reference_rate`` (the reference crude rate × multiplier);
    ``adjusted_rate`` = O/E × reference crude rate × multiplier with ``adjusted_lower`` /
    ``adjusted_upper``; and ``unmatched_denominator``.

    Strata with a zero reference denominator have no reference rate. They contribute nothing:
    neither to E nor to O, and their denominator is reported as ``unmatched_denominator`` so it
    is visible. Counting their events in O without any expectation in E would inflate the ratio
    for a reason that is about the reference, not the care. With the default (England) reference
    this cannot happen, because every organisation's stratum is part of England's.

    E = 0 (every stratum has a zero reference rate) makes the ratio undefined: ``ratio`` and the
    adjusted figures are then null ("not available"), as is everything for an empty denominator.
    """
    measure = MEASURES_BY_ID.get(measure_id)
    if measure is None:
        raise ValueError(f"unknown measure {measure_id!r}")
    if strata_columns is None:
        strata_columns = _strata_for([measure_id])
    keys = list(strata_columns)
    rates, crude = _reference_rates(strata if reference is None else reference, measure, keys)
    cells = _counts_by_stratum(strata, measure, [*by, *keys])
    joined = cells.join(rates, on=keys, how="left") if keys else cells.join(rates, how="cross")
    matched = pl.col("reference_rate").is_not_null()
    summary = (
        joined.group_by(list(by))
        .agg(
            pl.col("o").filter(matched).sum().alias("observed"),
            (pl.col("n") * pl.col("reference_rate")).filter(matched).sum().alias("expected"),
            pl.col("n").filter(matched).sum().alias("denominator"),
            pl.col("n").filter(~matched).sum().alias("unmatched_denominator"),
        )
        .sort(list(by))
    )
    return _add_ratio(summary, crude, measure.multiplier, confidence)


def _add_ratio(summary: pl.DataFrame, crude: float, multiplier: int, confidence: float) -> pl.DataFrame:
    observed = summary["observed"].to_numpy().astype(np.float64)
    expected = summary["expected"].to_numpy().astype(np.float64)
    denominator = summary["denominator"].to_numpy().astype(np.float64)
    exact = observed < EXACT_COUNT_THRESHOLD
    lower_count, upper_count = (np.atleast_1d(np.asarray(b, dtype=np.float64)) for b in byar_ci(observed, confidence))
    exact_lower, exact_upper = (
        np.atleast_1d(np.asarray(b, dtype=np.float64)) for b in poisson_exact_ci(observed, confidence)
    )
    lower_count = np.where(exact, exact_lower, lower_count)
    upper_count = np.where(exact, exact_upper, upper_count)
    defined = expected > 0
    with np.errstate(all="ignore"):
        safe_e = np.where(defined, expected, 1.0)
        ratio = np.where(defined, observed / safe_e, np.nan)
        lower = np.where(defined, lower_count / safe_e, np.nan)
        upper = np.where(defined, upper_count / safe_e, np.nan)
        crude_rate = np.where(denominator > 0, observed / np.where(denominator > 0, denominator, 1.0), np.nan)
    scale = crude * multiplier
    return (
        summary.with_columns(
            pl.Series("crude_rate", crude_rate * multiplier),
            pl.Series("ratio", ratio),
            pl.Series("ratio_lower", lower),
            pl.Series("ratio_upper", upper),
            pl.Series("ci_method", np.where(exact, "exact", "byar")),
            pl.lit(scale, dtype=pl.Float64).alias("reference_rate"),
            pl.Series("adjusted_rate", ratio * scale),
            pl.Series("adjusted_lower", lower * scale),
            pl.Series("adjusted_upper", upper * scale),
        )
        .with_columns(pl.col(pl.Float64).fill_nan(None))
        .with_columns(pl.col("observed", "denominator", "unmatched_denominator").cast(pl.Int64))
    )


def expected_risk(
    files_or_frame: list[Path] | pl.DataFrame | pl.LazyFrame,
    measure_id: str,
    reference: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Each baby's (or maternity's) expected probability of the measure's event, from its stratum.

    ``files_or_frame`` is the store's Parquet files or a frame of birth records with the
    columns of ``matneo.records.parse.STORE_SCHEMA``. Only records in the measure's
    denominator are returned, one row each: ``trust_code``, ``birth_datetime``, ``observed``
    (1 if the record is in the numerator, else 0) and ``risk``, the reference rate of the
    record's stratum (:data:`STRATA_BY_MEASURE`). By default the reference is these same
    records pooled (England when they are England's); ``reference`` may be a
    :func:`strata_counts` frame instead. A record whose stratum has no reference denominator
    gets a null risk (it is excluded from E in :func:`indirectly_standardise` too).

    Why: this is the p_t a risk-adjusted CUSUM needs (Steiner et al., Biostatistics 2000), and
    because it is the same stratum rate, summing a trust's risks gives the E of
    :func:`indirectly_standardise`, so the chart and the O/E ratio always agree.
    """
    measure = MEASURES_BY_ID.get(measure_id)
    if measure is None:
        raise ValueError(f"unknown measure {measure_id!r}")
    columns = _strata_for([measure_id])
    if isinstance(files_or_frame, pl.DataFrame):
        source = files_or_frame.lazy()
    elif isinstance(files_or_frame, pl.LazyFrame):
        source = files_or_frame
    else:
        if not files_or_frame:
            schema = {"trust_code": pl.String(), "birth_datetime": pl.Datetime("us"), "observed": pl.Int8()}
            return pl.DataFrame(schema=schema | {"risk": pl.Float64})
        source = pl.scan_parquet(files_or_frame, hive_partitioning=True)
    num, den = numerator_column(measure), denominator_column(measure)
    records = (
        _prepared(source, [measure], columns)
        .filter(pl.col(den))
        .select("trust_code", "birth_datetime", *columns, num, den)
        .collect()
    )
    rates, _ = _reference_rates(records if reference is None else reference, measure, columns)
    return (
        records.join(rates, on=columns, how="left")
        .select(
            pl.col("trust_code").cast(pl.String),
            pl.col("birth_datetime"),
            pl.col(num).cast(pl.Int8).alias("observed"),
            pl.col("reference_rate").alias("risk"),
        )
        .sort("trust_code", "birth_datetime", maintain_order=True)
    )


def expected_risks(
    files_or_frame: list[Path] | pl.DataFrame | pl.LazyFrame, measure_ids: Sequence[str]
) -> pl.DataFrame:
    """Each record's observed event and expected risk for several measures at once, in one scan.

    Columns: ``trust_code``, ``birth_datetime`` and, for each measure, ``<id>__obs`` (1 if the
    record is in the numerator, 0 if not) and ``<id>__risk`` (the reference rate of the record's
    stratum, as :func:`expected_risk`), both null where the record is not in that measure's
    denominator. The reference is the records themselves pooled (England when they are
    England's). Grouped by trust (in order of first appearance), in time order within each.

    Why one frame for all measures: the signals of every trust need each baby's risk for three
    outcomes, two composites of them and four leading indicators; deriving the strata, joining
    the rates and sorting once, instead of once per measure, is most of what made ``detect``
    take 17–21 s on ten national years (docs/performance.md, "Signals"). Each stratum's rate is
    the mean event among its records in the denominator, aggregated over one integer key per
    set of strata (:func:`stratum_code_expressions`) and joined back; the result is the same
    number as :func:`expected_risk` gives for one measure.
    """
    measures = get_measures(list(measure_ids))
    columns = _strata_for([m.id for m in measures])
    source: pl.LazyFrame
    if isinstance(files_or_frame, pl.DataFrame):
        source = files_or_frame.lazy()
    elif isinstance(files_or_frame, pl.LazyFrame):
        source = files_or_frame
    else:
        if not files_or_frame:
            schema: dict[str, pl.DataType] = {"trust_code": pl.String(), "birth_datetime": pl.Datetime("us")}
            for m in measures:
                schema |= {f"{m.id}__obs": pl.Int8(), f"{m.id}__risk": pl.Float64()}
            return pl.DataFrame(schema=schema)
        source = pl.scan_parquet(files_or_frame, hive_partitioning=True)
    codes = stratum_code_expressions()
    frame = source.with_columns([pl.sql_expr(sql).alias(name) for name, sql in DERIVED_COLUMNS.items()])
    frame = frame.with_columns([codes[c].alias(f"{c}__code") for c in columns])
    key_sets = sorted({STRATA_BY_MEASURE[m.id] for m in measures})
    keys = [_cell_key(k).alias(f"__key{i}") for i, k in enumerate(key_sets)]
    flags = []
    for m in measures:
        den = pl.sql_expr(m.denominator).fill_null(False)
        num = den & pl.sql_expr(m.numerator).fill_null(False)
        flags.append(pl.when(den).then(num.cast(pl.Int8)).alias(f"{m.id}__obs"))
    present = pl.any_horizontal([pl.col(f"{m.id}__obs").is_not_null() for m in measures])
    records = (
        frame.select(pl.col("trust_code").cast(pl.String), "birth_datetime", *keys, *flags).filter(present).collect()
    )
    # Each stratum's rate is the mean event among its babies in the denominator (nulls are
    # outside it): an aggregation to a few hundred cells and a join back on one integer key,
    # several times cheaper than a window over the strata.
    for index, key_set in enumerate(key_sets):
        key = f"__key{index}"
        sharing = [m for m in measures if STRATA_BY_MEASURE[m.id] == key_set]
        rates = records.group_by(key).agg(
            pl.col(f"{m.id}__obs").cast(pl.Float64).mean().alias(f"{m.id}__rate") for m in sharing
        )
        records = records.join(rates, on=key, how="left").with_columns(
            pl.when(pl.col(f"{m.id}__obs").is_not_null()).then(pl.col(f"{m.id}__rate")).alias(f"{m.id}__risk")
            for m in sharing
        )
    records = records.select(
        "trust_code", "birth_datetime", *[c for m in measures for c in (f"{m.id}__obs", f"{m.id}__risk")]
    )
    # Group by trust, in time order within each trust, with one stable sort of one integer (the
    # trust's category code, then minutes since 1970): about a quarter of the CPU time of
    # sorting six million rows on a string and a datetime (docs/performance.md, "Signals").
    # Trusts come in order of first appearance, not alphabetically.
    trust = records.get_column("trust_code").cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
    minutes = records.get_column("birth_datetime").dt.epoch("s").to_numpy() // 60
    return records[np.argsort(trust * (1 << 40) + minutes, kind="stable")]
