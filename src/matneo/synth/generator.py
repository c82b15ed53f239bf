"""Generate one year of synthetic national birth records, one row per baby.

Why it is built this way:

* **Seeded per year.** Every year draws from ``np.random.SeedSequence([seed, year])``, so
  any year can be regenerated alone and comes out byte-identical. Within a year each
  component (dates, ethnicity, stillbirth, ...) has its own spawned stream and draws a
  full-length array whatever the data, so changing one input (a struggling trust) only
  changes the rows it should.
* **Vectorised.** Deliveries (mothers) are drawn first as NumPy arrays, then expanded to
  babies with ``np.repeat``; there is no per-row Python. A national year (~650,000 rows)
  takes about a second.
* **Calibrated.** Outcome models fix relative risks (:mod:`matneo.synth.model`); each
  year's intercepts are solved so that the *expected* national rate equals the published
  figure in :mod:`matneo.synth.targets`. Expected (not realised) live births are used as
  weights, so calibration does not depend on the random outcome draws or on
  :class:`Struggling` trusts, whose extra odds are applied after calibration.
* **Valid by construction.** Every rule the loader enforces (stillbirths ≥24+0, neonatal
  deaths within 28 days of a live birth, twins sharing a mother and a day, ...) holds for
  every row; the tests check each one over a whole national year.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pyarrow as pa

from matneo.records.schema import (
    ANTENATAL_STEROIDS,
    ARROW_SCHEMA,
    MATERNAL_DEATH_CAUSE_CLASSES,
    MODES_OF_DELIVERY,
    ONSETS_OF_LABOUR,
    OUTCOMES,
    SEXES,
    STILLBIRTH_TIMINGS,
)
from matneo.synth import model as m
from matneo.synth.casemix import (
    ASIAN_CODES,
    BLACK_CODES,
    ETHNIC_CODES,
    SOUTH_ASIAN_CODES,
    HierarchyLike,
    TrustTable,
    build_trust_table,
)
from matneo.synth.sampling import calibrate_intercept, categorical, expit, hex_ids, joined_ids, splitmix64
from matneo.synth.targets import target

FIRST_YEAR = 2000  # the loader rejects births before 2000-01-01
TRIPLET_SHARE_OF_MULTIPLES = 0.01  # ≈1.5 triplet deliveries per 10,000
# Term singleton gestation 37+0–43+6: a normal curve (mean 39+3, sd 8.3 days) cut at both
# ends, so about 2% of term births are 42+0 or later.
TERM_DAYS = np.arange(259, 308)
TERM_DAY_PROBS = np.exp(-0.5 * ((TERM_DAYS - 276.0) / 8.3) ** 2)[None, :]

# One spawned random stream per component. Append new names at the end: the position is
# the stream's identity, so reordering would change every generated file.
_STREAMS = (
    "trust_counts", "ethnicity", "imd", "age", "parity", "smoking", "plurality", "band", "preterm",
    "gestation", "elective", "induction", "emergency", "vaginal_mode", "date", "minute", "twin_gap",
    "site", "continuity", "mgso4", "steroids", "booking", "pph", "tear", "maternal_death",
    "maternal_timing", "sex", "weight", "late_fetal_loss", "stillbirth", "stillbirth_timing",
    "brain_injury", "hie", "neonatal_death", "neonatal_timing", "apgar", "nnu", "missing",
)

_STRUGGLING_RE = re.compile(r"^(?P<trust>[A-Za-z0-9]+):(?P<year>\d{4})-(?P<month>\d{2}):(?P<factor>[^:]+)$")


@dataclass(frozen=True)
class Struggling:
    """A trust whose stillbirth, neonatal death and brain injury odds are multiplied by ``factor``
    for births on or after ``start`` (the first day of a month).

    Lets demos and tests plant a known deterioration that signal detection (CUSUM, funnels)
    should find, on top of otherwise calibrated national data.
    """

    trust_code: str
    start: dt.date
    factor: float

    def __post_init__(self) -> None:
        if not self.trust_code:
            raise ValueError("struggling trust code must not be empty")
        if not isinstance(self.start, dt.date):
            raise ValueError(f"struggling start must be a date, got {self.start!r}")
        if not (math.isfinite(self.factor) and self.factor > 0):
            raise ValueError(f"struggling factor must be a positive number, got {self.factor!r}")


def parse_struggling(spec: str) -> Struggling:
    """Parse ``"TRUST:YYYY-MM:FACTOR"`` (e.g. ``"RXX:2019-06:2.0"``), as given on the command line."""
    match = _STRUGGLING_RE.match(spec.strip())
    if match is None:
        raise ValueError(
            f"invalid struggling spec {spec!r}: expected TRUST:YYYY-MM:FACTOR, e.g. RXX:2019-06:2.0"
        )
    year, month = int(match["year"]), int(match["month"])
    if not 1 <= month <= 12:
        raise ValueError(f"invalid struggling spec {spec!r}: month must be 01–12, got {match['month']}")
    try:
        factor = float(match["factor"])
    except ValueError:
        raise ValueError(f"invalid struggling spec {spec!r}: factor {match['factor']!r} is not a number") from None
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"invalid struggling spec {spec!r}: factor must be a positive number")
    return Struggling(match["trust"], dt.date(year, month, 1), factor)


def default_hierarchy() -> HierarchyLike:
    """The reference organisation hierarchy (imported lazily: it is owned by ``matneo.reference``)."""
    from matneo.reference.organisations import load_hierarchy

    return load_hierarchy()


def generate_year(
    year: int,
    *,
    scale: float = 1.0,
    seed: int = 7,
    struggling: Sequence[Struggling] = (),
    hierarchy: HierarchyLike | None = None,
    as_of: dt.date | None = None,
) -> pa.Table:
    """One calendar year of births as a table with exactly ``ARROW_SCHEMA``.

    ``scale`` multiplies the number of births (1.0 ≈ England). ``as_of`` (default today) is
    the extract date: a year after it is refused, the year containing it stops the day
    before, and deaths after it are not yet known (left null). Past years are unaffected,
    so their output depends only on the arguments.
    """
    hierarchy = default_hierarchy() if hierarchy is None else hierarchy
    trusts = build_trust_table(hierarchy, seed)
    check_struggling(struggling, trusts)
    return _generate(year, trusts, scale=scale, seed=seed, struggling=struggling, as_of=as_of)


def check_struggling(struggling: Sequence[Struggling], trusts: TrustTable) -> None:
    """ValueError naming any struggling trust that is not in the hierarchy."""
    for s in struggling:
        trusts.index_of(s.trust_code)


class _Streams:
    """Named, independent random generators for one (seed, year)."""

    def __init__(self, seed: int, year: int) -> None:
        children = np.random.SeedSequence([seed, year]).spawn(len(_STREAMS))
        self._gens = {name: np.random.default_rng(ss) for name, ss in zip(_STREAMS, children)}

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._gens[name]


def _year_days(year: int, as_of: dt.date) -> tuple[int, int]:
    """(days in the year, days available for births before ``as_of``)."""
    if year < FIRST_YEAR:
        raise ValueError(f"year {year} is before {FIRST_YEAR}: the loader rejects births before 2000-01-01")
    if year > as_of.year:
        raise ValueError(f"year {year} is in the future (as of {as_of.isoformat()})")
    days = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    available = days if year < as_of.year else (as_of - dt.date(year, 1, 1)).days
    if available <= 0:
        raise ValueError(f"no complete day of {year} before {as_of.isoformat()} to generate births for")
    return days, available


def _day_weights(year: int, days: int, available: int) -> tuple[np.ndarray, np.ndarray]:
    """Relative births per day: mild seasonality (peak late September), fewer at weekends,
    and weekday-only weights for planned caesareans."""
    doy = np.arange(days)
    seasonal = 1.0 + 0.04 * np.cos(2 * np.pi * (doy - 265) / days)
    weekday = (dt.date(year, 1, 1).weekday() + doy) % 7  # 0 = Monday
    is_weekend = weekday >= 5
    all_days = seasonal * np.where(is_weekend, 0.89, 1.04)
    weekdays = seasonal * ~is_weekend
    all_days[available:] = 0.0
    weekdays[available:] = 0.0
    if weekdays.sum() == 0:
        weekdays = all_days.copy()
    return all_days, weekdays


def _masked(values: np.ndarray, mask: np.ndarray | None, type_: pa.DataType) -> pa.Array:
    """An Arrow array from NumPy values with ``mask`` (True = null)."""
    if mask is not None and not mask.any():
        mask = None
    return pa.array(values, type=type_, mask=mask)


def _codes(labels: Sequence[str | None], index: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Look up string labels by index; ``null`` marks rows with no value.

    Decoding a dictionary array is several times faster than ``take`` on strings.
    """
    dictionary = pa.array(list(labels), type=pa.string())
    indices = _masked(index.astype(np.int32), null, pa.int32())
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def _generate(
    year: int,
    trusts: TrustTable,
    *,
    scale: float,
    seed: int,
    struggling: Sequence[Struggling],
    as_of: dt.date | None,
) -> pa.Table:
    """The generator proper; see the module docstring for the design."""
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    as_of = dt.date.today() if as_of is None else as_of
    days, available = _year_days(year, as_of)
    rs = _Streams(seed, year)
    all_days, weekdays = _day_weights(year, days, available)
    t = {name: target(name, year) for name in (
        "live_births", "stillbirth_per_1000", "neonatal_24_per_1000", "neonatal_22_23_per_1000",
        "live_births_22_23_pct", "late_fetal_loss_per_1000", "preterm_pct", "brain_injury_per_1000",
        "maternal_per_100000", "maternal_coincidental_per_100000", "maternal_late_per_100000",
        "twin_delivery_pct", "caesarean_pct", "elective_caesarean_pct", "induction_pct",
        "smoking_at_delivery_pct", "continuity_of_carer_pct", "mgso4_pct", "steroids_full_pct",
    )}

    # ---- how many deliveries, and where -------------------------------------------------
    p_multi = t["twin_delivery_pct"] / 100
    babies_per_delivery = 1 + p_multi * (1 + TRIPLET_SHARE_OF_MULTIPLES)
    not_live = (t["stillbirth_per_1000"] + t["late_fetal_loss_per_1000"]) / 1000
    full_year = _day_weights(year, days, days)[0].sum()
    year_fraction = all_days.sum() / full_year
    n_deliveries = int(round(scale * t["live_births"] * year_fraction / (babies_per_delivery * (1 - not_live))))
    counts = rs["trust_counts"].multinomial(n_deliveries, trusts.share)
    trust = np.repeat(np.arange(trusts.n), counts)
    n = trust.size

    # ---- the mother --------------------------------------------------------------------------
    ethnic = categorical(rs["ethnicity"].random(n), trust, trusts.ethnic_probs)
    black = np.isin(ethnic, [ETHNIC_CODES.index(c) for c in BLACK_CODES])
    asian = np.isin(ethnic, [ETHNIC_CODES.index(c) for c in ASIAN_CODES])
    south_asian = np.isin(ethnic, [ETHNIC_CODES.index(c) for c in SOUTH_ASIAN_CODES])
    imd = categorical(rs["imd"].random(n), trust, trusts.imd_probs) + 1
    age_mean = trusts.age_mean_2017[trust] + 0.1 * (year - 2017) + 0.25 * (imd - 5.5)
    age = np.clip(np.rint(age_mean + 5.4 * rs["age"].standard_normal(n)), 14, 50).astype(np.int64)
    parity = np.minimum(rs["parity"].poisson(np.clip(0.075 * (age - 17), 0.05, 2.5)), 15)
    nullip = parity == 0

    off = 0.22 * (5.5 - imd) - 0.05 * (age - 30) - 1.2 * (south_asian | black)
    smoking = rs["smoking"].random(n) < expit(calibrate_intercept(off, t["smoking_at_delivery_pct"] / 100 * n) + off)

    u = rs["plurality"].random((2, n))
    off = 0.06 * (age - 30)
    multi = u[0] < expit(calibrate_intercept(off, p_multi * n) + off)
    plurality = 1 + multi + (multi & (u[1] < TRIPLET_SHARE_OF_MULTIPLES))
    twin_or_more, triplet = plurality >= 2, plurality >= 3
    n_babies_expected = float(plurality.sum())

    # ---- gestation (per delivery: babies of one delivery share it) ----------------------
    off = np.log(4.0) * twin_or_more + 0.04 * (5.5 - imd) + 0.3 * black
    band_share = t["live_births_22_23_pct"] / 100 * (1 - not_live) + t["late_fetal_loss_per_1000"] / 1000
    band = rs["band"].random(n) < expit(calibrate_intercept(off, band_share * n_babies_expected, plurality) + off)
    off = (2.7 * twin_or_more + 3.5 * triplet + 0.03 * (5.5 - imd) + 0.25 * black + 0.2 * (age < 20)
           + 0.3 * (age >= 40) + 0.35 * smoking)
    w_viable = plurality * ~band
    a = calibrate_intercept(off, t["preterm_pct"] / 100 * w_viable.sum(), w_viable)
    preterm = ~band & (rs["preterm"].random(n) < expit(a + off))
    g = rs["gestation"]
    day_of_week = g.integers(0, 7, n)
    band_week = np.where(g.random(n) < 0.4, 22, 23)
    weeks_pt = np.fromiter(m.PRETERM_WEEK_WEIGHTS.keys(), dtype=np.int64)
    probs_pt = np.fromiter(m.PRETERM_WEEK_WEIGHTS.values(), dtype=float)[None, :]
    preterm_week = weeks_pt[categorical(g.random(n), np.zeros(n, np.int64), probs_pt)]
    term_days = TERM_DAYS[categorical(g.random(n), np.zeros(n, np.int64), TERM_DAY_PROBS)]
    multiple_term_days = np.where(triplet, 259 + g.integers(0, 7, n), 259 + g.integers(0, 14, n))
    gest_days = np.select(
        [band, preterm, twin_or_more],
        [band_week * 7 + day_of_week, preterm_week * 7 + day_of_week, multiple_term_days],
        term_days,
    )
    gweeks = gest_days // 7
    very_preterm = (gweeks < 34) & ~band

    # ---- labour and delivery ------------------------------------------------------------------
    cs_trust = trusts.cs_effect[trust]
    off = 0.04 * (age - 30) + 1.5 * twin_or_more + 0.4 * ~nullip + 0.5 * very_preterm + cs_trust - 6.0 * band
    elective = rs["elective"].random(n) < expit(calibrate_intercept(off, t["elective_caesarean_pct"] / 100 * n) + off)
    labour = ~elective
    off = 1.6 * (gweeks >= 41) + 0.3 * (age >= 35) + 0.3 * (preterm & (gweeks >= 34)) - 3.0 * band
    a = calibrate_intercept(off, t["induction_pct"] / 100 * n, labour)
    induced = labour & (rs["induction"].random(n) < expit(a + off))
    off = (0.7 * nullip + 0.9 * very_preterm + 1.0 * twin_or_more + 0.03 * (age - 30) + 0.35 * induced + cs_trust
           - 3.0 * band)
    a = calibrate_intercept(off, (t["caesarean_pct"] - t["elective_caesarean_pct"]) / 100 * n, labour)
    emergency = labour & (rs["emergency"].random(n) < expit(a + off))
    vaginal_mode = categorical(rs["vaginal_mode"].random(n), (~nullip).astype(np.int64), m.VAGINAL_MODE_PROBS)
    mode = np.select([elective, emergency], [MODES_OF_DELIVERY.index("elective_caesarean"),
                                             MODES_OF_DELIVERY.index("emergency_caesarean")], vaginal_mode)
    onset = np.select([elective, induced], [ONSETS_OF_LABOUR.index("not_in_labour"),
                                            ONSETS_OF_LABOUR.index("induced")], ONSETS_OF_LABOUR.index("spontaneous"))
    caesarean = elective | emergency
    instrumental = np.isin(mode, [MODES_OF_DELIVERY.index("forceps"), MODES_OF_DELIVERY.index("ventouse")])
    intrapartum_concern = emergency | instrumental | np.isin(mode, [MODES_OF_DELIVERY.index("breech"),
                                                                   MODES_OF_DELIVERY.index("breech_extraction")])

    # ---- when and where -----------------------------------------------------------------------
    u = rs["date"].random(n)
    day = np.empty(n, np.int64)
    day[elective] = categorical(u[elective], np.zeros(int(elective.sum()), np.int64), weekdays[None, :])
    day[labour] = categorical(u[labour], np.zeros(int(labour.sum()), np.int64), all_days[None, :])
    u = rs["minute"].random(n)
    minute = np.where(elective, 480 + np.floor(u * 540), np.floor(u * (1440 - 60 * (plurality - 1)))).astype(np.int64)
    gaps = rs["twin_gap"].integers(1, 21, (2, n))  # minutes between successive babies
    year_start = int(dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc).timestamp())
    delivery_ts = year_start + day * 86_400 + minute * 60
    last_baby_ts = delivery_ts + 60 * (gaps[0] * (plurality >= 2) + gaps[1] * (plurality >= 3))
    site_band = np.where(gweeks >= 34, 0, np.where(gweeks >= 28, 1, 2))
    site_col = categorical(rs["site"].random(n), site_band * trusts.n + trust,
                           trusts.site_probs.reshape(3 * trusts.n, -1))
    site = trusts.site_table[trust, site_col]

    # ---- care received ------------------------------------------------------------------------
    off = trusts.coc_effect[trust] + 0.4 * (black | asian) + 0.4 * (imd <= 2)
    coc = rs["continuity"].random(n) < expit(calibrate_intercept(off, t["continuity_of_carer_pct"] / 100 * n) + off)
    mg_eligible = gweeks < 30
    off = trusts.mgso4_effect[trust] - 1.0 * band
    a = calibrate_intercept(off, t["mgso4_pct"] / 100 * mg_eligible.sum(), mg_eligible)
    mgso4 = rs["mgso4"].random(n) < expit(a + off)
    st_eligible = gweeks < 34
    off = trusts.steroids_effect[trust] - 1.0 * band
    a = calibrate_intercept(off, t["steroids_full_pct"] / 100 * st_eligible.sum(), st_eligible)
    u = rs["steroids"].random((2, n))
    steroids = np.where(
        u[0] < expit(a + off),
        ANTENATAL_STEROIDS.index("full_course_within_7d"),
        np.where(u[1] < np.where(band, 0.6, 0.25), ANTENATAL_STEROIDS.index("none"), ANTENATAL_STEROIDS.index("partial")),
    )
    b = rs["booking"]
    late_booker = b.random(n) < expit(-2.9 + 0.12 * (5.5 - imd) + 0.8 * (age < 20))
    booking = np.where(late_booker, 14 + b.integers(0, 16, n), 8 + np.minimum(b.poisson(1.8, n), 6))
    booking = np.where(b.random(n) < 0.03, b.integers(5, 8, n), booking)  # very early bookers
    booking = np.minimum(booking, gweeks)
    log_pph = (np.log(380.0) + 0.38 * caesarean + 0.3 * twin_or_more + 0.15 * instrumental
               + 0.62 * rs["pph"].standard_normal(n))
    pph = np.clip(np.rint(np.exp(log_pph) / 10) * 10, 0, 20_000).astype(np.int64)
    tear_group = 2 * instrumental + ~nullip
    tear = categorical(rs["tear"].random(n), tear_group.astype(np.int64), m.TEAR_PROBS)

    # ---- maternal death -----------------------------------------------------------------------
    off = (m.MATERNAL_BLACK_LOG_OR * black + m.MATERNAL_ASIAN_LOG_OR * asian
           + m.MATERNAL_DEPRIVATION_LOG_OR_PER_DECILE * (10 - imd) + m.MATERNAL_AGE_40_PLUS_LOG_OR * (age >= 40)
           + m.MATERNAL_CAESAREAN_LOG_OR * caesarean + 0.3 * twin_or_more)
    p_early = expit(calibrate_intercept(off, t["maternal_per_100000"] / 1e5 * n) + off)
    p_coincidental = t["maternal_coincidental_per_100000"] / 1e5
    p_late = t["maternal_late_per_100000"] / 1e5
    u = rs["maternal_death"].random((2, n))
    early_death = u[0] < p_early
    coincidental_death = ~early_death & (u[0] < p_early + p_coincidental)
    late_death = ~early_death & ~coincidental_death & (u[0] < p_early + p_coincidental + p_late)
    died = early_death | coincidental_death | late_death
    cause = np.select(
        [early_death, coincidental_death, late_death],
        [np.where(u[1] < 0.45, 0, 1), 2, np.where(u[1] < 0.25, 0, np.where(u[1] < 0.8, 1, 2))],
        -1,
    )
    mt = rs["maternal_timing"]
    first_day = mt.random(n) < 0.45
    early_minutes = np.where(first_day, mt.integers(10, 1440, n), mt.integers(1440, 42 * 1440, n))
    late_minutes = mt.integers(43 * 1440, 364 * 1440, n)  # < 365 days after every baby of the delivery
    maternal_death_ts = last_baby_ts + 60 * np.where(late_death, late_minutes, early_minutes)

    # ---- expand deliveries to babies ----------------------------------------------------------
    d = np.repeat(np.arange(n), plurality)
    nb = d.size
    starts = np.concatenate(([0], np.cumsum(plurality)[:-1]))
    order = np.arange(nb) - starts[d] + 1
    birth_ts = delivery_ts[d] + 60 * (gaps[0][d] * (order >= 2) + gaps[1][d] * (order >= 3))
    tb, gb, gwb, bandb = trust[d], gest_days[d], gweeks[d], band[d]
    viable = ~bandb
    sex = categorical(rs["sex"].random(nb), np.zeros(nb, np.int64), m.SEX_PROBS[None, :])
    sex_factor = np.select([sex == 0, sex == 1], [1.025, 0.975], 1.0)
    multiple_factor = np.where(plurality[d] >= 3, 0.80, np.where(plurality[d] == 2, 0.88, 1.0))
    multiple_factor = 1 - (1 - multiple_factor) * np.clip((gb - 196) / 70, 0, 1)  # twins diverge after ~28 wk
    median = m.median_weight(gb) * sex_factor
    weight_raw = median * multiple_factor * np.where(south_asian[d], 0.95, 1.0) * np.where(smoking[d], 0.93, 1.0)
    weight_raw = weight_raw * np.exp(m.WEIGHT_LOG_SD * rs["weight"].standard_normal(nb))
    weight = np.clip(np.rint(weight_raw), 200, 7000).astype(np.int64)
    z = np.log(weight_raw / median) / m.WEIGHT_LOG_SD
    small = np.clip(-z, 0, 4)

    # ---- outcomes -----------------------------------------------------------------------------
    struggle = np.zeros(nb)
    for s in struggling:
        start_ts = int(dt.datetime(s.start.year, s.start.month, s.start.day, tzinfo=dt.timezone.utc).timestamp())
        struggle += np.log(s.factor) * ((tb == trusts.index_of(s.trust_code)) & (birth_ts >= start_ts))

    off = 0.8 * (gwb == 22)
    p_lfl = np.where(bandb, expit(calibrate_intercept(off, t["late_fetal_loss_per_1000"] / 1000 * nb
                                                      / (1 + t["late_fetal_loss_per_1000"] / 1000), bandb) + off), 0)
    lfl = bandb & (rs["late_fetal_loss"].random(nb) < p_lfl)
    total_births = nb - int(lfl.sum())

    age_b, imd_b = age[d], imd[d]
    shared = (m.DEPRIVATION_LOG_OR_PER_DECILE * (10 - imd_b) + m.BLACK_LOG_OR * black[d]
              + m.ASIAN_LOG_OR * asian[d] + m.AGE_UNDER_20_LOG_OR * (age_b < 20)
              + m.AGE_35_39_LOG_OR * ((age_b >= 35) & (age_b < 40)) + m.AGE_40_PLUS_LOG_OR * (age_b >= 40))
    off = (m.STILLBIRTH_WEEK[gwb] + m.SGA_LOG_OR_PER_SD * small + shared + m.TWIN_STILLBIRTH_LOG_OR * (plurality[d] == 2)
           + m.TRIPLET_STILLBIRTH_LOG_OR * (plurality[d] >= 3) + m.SMOKING_STILLBIRTH_LOG_OR * smoking[d])
    a = calibrate_intercept(off, t["stillbirth_per_1000"] / 1000 * total_births, viable)
    p_sb_base = np.where(viable, expit(a + off), 0.0)
    sb = viable & (rs["stillbirth"].random(nb) < expit(a + off + struggle))
    live = ~(lfl | sb)
    expected_live = np.where(viable, 1 - p_sb_base, 1 - p_lfl)

    off = (m.BRAIN_INJURY_WEEK[gwb] + 0.2 * small + 0.3 * intrapartum_concern[d] + 0.2 * black[d] + 0.1 * asian[d]
           + 0.5 * m.DEPRIVATION_LOG_OR_PER_DECILE * (10 - imd_b))
    a = calibrate_intercept(off, t["brain_injury_per_1000"] / 1000 * expected_live.sum(), expected_live)
    brain_injury = live & (rs["brain_injury"].random(nb) < expit(a + off + struggle))

    off = (m.NEONATAL_WEEK[gwb] + 0.35 * small + shared + m.MULTIPLE_NEONATAL_LOG_OR * (plurality[d] >= 2))
    w = expected_live * viable
    a24 = calibrate_intercept(off, t["neonatal_24_per_1000"] / 1000 * w.sum(), w)
    a22 = calibrate_intercept(off, t["neonatal_22_23_per_1000"] / 1000 * expected_live.sum(), expected_live * bandb)
    nnd = live & (rs["neonatal_death"].random(nb) < expit(np.where(bandb, a22, a24) + off + struggle))

    u = rs["hie"].random((3, nb))
    term_ish = gwb >= 35
    hie_injury = brain_injury & term_ish & (u[0] < m.HIE_SHARE_OF_TERM_BRAIN_INJURY)
    hie_grade = np.where(hie_injury, categorical(u[1], np.zeros(nb, np.int64), m.HIE_GRADE_PROBS[None, :]) + 1, 0)
    mild_hie = live & ~brain_injury & term_ish & (u[0] < m.MILD_HIE_UNCOOLED_RATE)
    hie_grade = np.where(mild_hie, 1, hie_grade)
    cooling = hie_injury & (u[2] < m.COOLING_BY_HIE_GRADE[np.maximum(hie_grade, 1) - 1])

    nt = rs["neonatal_timing"]
    u = nt.random(nb)
    cut_day, cut_week = np.where(bandb, 0.8, 0.35), np.where(bandb, 0.95, 0.75)
    nnd_minutes = np.select(
        [u < cut_day, u < cut_week],
        [nt.integers(1, 1440, nb), nt.integers(1440, 7 * 1440, nb)],
        nt.integers(7 * 1440, 27 * 1440, nb),  # < 27 days: also < 28 calendar days
    )
    nnd_ts = birth_ts + 60 * nnd_minutes

    stillbirth_timing = categorical(rs["stillbirth_timing"].random(nb), np.zeros(nb, np.int64),
                                    m.STILLBIRTH_TIMING_PROBS[None, :])
    lam = 0.35 + 0.25 * np.clip(37 - gwb, 0, 15) + 3.0 * hie_grade * ~mild_hie + 1.0 * nnd
    apgar = np.clip(10 - rs["apgar"].poisson(lam), 0, 10)
    p_nnu = np.select([bandb, gwb < 34, gwb < 37], [0.5, 0.96, 0.35], 0.055)
    nnu = (rs["nnu"].random(nb) < p_nnu) | brain_injury | cooling

    outcome = np.select([lfl, sb], [OUTCOMES.index("late_fetal_loss"), OUTCOMES.index("stillbirth")],
                        OUTCOMES.index("live_birth"))
    u_missing = rs["missing"].random((4, n))

    # ---- order, identifiers, deaths known by the extract date ---------------------------------
    as_of_ts = int(dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.timezone.utc).timestamp())
    nnd_known = nnd & (nnd_ts < as_of_ts)
    maternal_known = died & (maternal_death_ts < as_of_ts)

    # Rows in order of delivery time, babies of one delivery together; the unique key
    # (minute of year, delivery number) sorts fast and leaves no ties to break.
    delivery_order = (np.sort(((day * 1440 + minute) << 32) | np.arange(n)) & 0xFFFFFFFF).astype(np.int64)
    rows = np.repeat(starts[delivery_order], plurality[delivery_order])
    rows += np.arange(nb) - np.repeat(np.cumsum(plurality[delivery_order]) - plurality[delivery_order],
                                      plurality[delivery_order])
    # record_id sequence: 1, 2, ... within each trust in row order (radix sort on int16).
    trust_rows = tb[rows].astype(np.int16 if trusts.n < 2**15 else np.int64)
    by_trust = np.argsort(trust_rows, kind="stable")
    trust_starts = np.concatenate(([0], np.cumsum(np.bincount(trust_rows, minlength=trusts.n))[:-1]))
    seq = np.empty(nb, np.int64)
    seq[by_trust] = np.arange(nb) - trust_starts[trust_rows[by_trust]] + 1

    seed_key = splitmix64(np.array([seed], dtype=np.uint64))[0]
    # (year, delivery number) is unique across a dataset and splitmix64 is a bijection, so
    # mother ids cannot collide; the seed key makes them differ between seeds.
    mother_key = splitmix64(((np.uint64(year) << np.uint64(32)) | np.arange(n, dtype=np.uint64)) ^ seed_key)

    def col(x: np.ndarray) -> np.ndarray:
        return x[rows]

    db = col(d)
    trust_r = col(tb)
    site_r = site[db]
    live_r, sb_r = col(live), col(sb)
    not_live_r = ~live_r
    gw_r = col(gwb)
    trust_codes = _codes(trusts.codes, trust_r)
    record_id = joined_ids(trusts.codes, trust_r, f"-{year}-", seq, 6)
    i16, i32 = pa.int16(), pa.int32()
    ts = pa.timestamp("s")
    columns = {
        "record_id": record_id,
        "trust_code": trust_codes,
        "site_code": _codes(trusts.site_codes or ("",), np.maximum(site_r, 0), site_r < 0),
        "lmns_code": _codes(trusts.lmns_codes, trust_r, np.array([c is None for c in trusts.lmns_codes])[trust_r]),
        "region_code": _codes(trusts.region_codes, trust_r,
                              np.array([c is None for c in trusts.region_codes])[trust_r]),
        "birth_datetime": pa.array(col(birth_ts), type=ts),
        "gestation_weeks": pa.array(gw_r, type=i16),
        "gestation_days": pa.array(col(gb) % 7, type=i16),
        "birth_weight_g": _masked(col(weight), u_missing[0][db] < 0.002, i16),
        "plurality": pa.array(plurality[db], type=i16),
        "birth_order": pa.array(col(order), type=i16),
        "sex": _codes(SEXES, col(np.where(lfl & (rs["sex"].random(nb) < 0.1), SEXES.index("not_known"), sex))),
        "outcome": _codes(OUTCOMES, col(outcome)),
        "stillbirth_timing": _codes(STILLBIRTH_TIMINGS, col(stillbirth_timing), ~sb_r),
        "onset_of_labour": _codes(ONSETS_OF_LABOUR, onset[db]),
        "mode_of_delivery": _codes(MODES_OF_DELIVERY, mode[db]),
        "neonatal_death_datetime": _masked(col(nnd_ts), ~col(nnd_known), ts),
        "brain_injury": _masked(col(brain_injury), not_live_r, pa.bool_()),
        "hie_grade": _masked(col(hie_grade), not_live_r | (col(hie_grade) == 0), i16),
        "therapeutic_cooling": _masked(col(cooling), not_live_r, pa.bool_()),
        "maternal_age": pa.array(age[db], type=i16),
        "ethnic_category": _codes(ETHNIC_CODES, ethnic[db]),
        "imd_decile": _masked(imd[db], u_missing[1][db] < 0.005, i16),
        "smoking_at_delivery": _masked(smoking[db], u_missing[2][db] < 0.01, pa.bool_()),
        "parity": pa.array(parity[db], type=i16),
        "booking_gestation_weeks": _masked(booking[db], u_missing[3][db] < 0.01, i16),
        "continuity_of_carer": pa.array(coc[db], type=pa.bool_()),
        "mother_id": hex_ids("M", mother_key[db]),
        "maternal_death_datetime": _masked(maternal_death_ts[db], ~maternal_known[db], ts),
        "maternal_death_cause_class": _codes(MATERNAL_DEATH_CAUSE_CLASSES, np.maximum(cause[db], 0),
                                             ~maternal_known[db]),
        "mgso4_within_24h": _masked(mgso4[db], ~mg_eligible[db], pa.bool_()),
        "antenatal_steroids": _codes(ANTENATAL_STEROIDS, steroids[db], ~st_eligible[db]),
        "birth_site_level": _codes(trusts.site_levels or ("none",), np.maximum(site_r, 0), site_r < 0),
        "nnu_admission": _masked(col(nnu), not_live_r, pa.bool_()),
        "apgar_5min": _masked(col(apgar), not_live_r, i16),
        "pph_ml": _masked(pph[db], u_missing[2][db] > 0.98, i32),
        "perineal_tear_degree": _masked(tear[db], caesarean[db] | (u_missing[3][db] > 0.99), i16),
    }
    return pa.Table.from_arrays([columns[f.name] for f in ARROW_SCHEMA], schema=ARROW_SCHEMA)
