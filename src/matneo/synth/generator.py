"""Generate one year of synthetic national birth records, one row per baby.

Why it is built this way:

* **Seeded per year.** Every year draws from ``np.random.SeedSequence([seed, year])``, so
  any year can be regenerated alone and comes out byte-identical. Within a year each
  component (dates, ethnicity, stillbirth, ...) has its own spawned stream and draws a
  full-length array whatever the data, so changing one input (a struggling trust) only
  changes the rows it should.
* **Vectorised.** Deliveries (mothers) are drawn first as NumPy arrays, then expanded to
  babies with ``np.repeat``; there is no per-row Python. A national year (~650,000 rows)
  takes one to two seconds.
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
from collections.abc import Sequence
from dataclasses import dataclass

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
from matneo.synth.sampling import (
    calibrate_intercept,
    categorical,
    expit,
    hex_ids,
    joined_ids,
    poisson_by_inversion,
    splitmix64,
)
from matneo.synth.targets import TARGETS, target

FIRST_YEAR = 2000  # the loader rejects births before 2000-01-01
TRIPLET_SHARE_OF_MULTIPLES = 0.01  # ≈1.5 triplet deliveries per 10,000
# Term singleton gestation 37+0–43+6: a normal curve (mean 39+3, sd 8.3 days) cut at both
# ends, so about 2% of term births are 42+0 or later.
TERM_DAYS = np.arange(259, 308)
TERM_DAY_PROBS = np.exp(-0.5 * ((TERM_DAYS - 276.0) / 8.3) ** 2)[None, :]

PRETERM_WEEKS = np.fromiter(m.PRETERM_WEEK_WEIGHTS, dtype=np.int64)
PRETERM_WEEK_PROBS = np.fromiter(m.PRETERM_WEEK_WEIGHTS.values(), dtype=float)[None, :]
_MODE = {name: i for i, name in enumerate(MODES_OF_DELIVERY)}
_ONSET = {name: i for i, name in enumerate(ONSETS_OF_LABOUR)}

# One spawned random stream per component. Append new names at the end: the position is
# the stream's identity, so reordering would change every generated file.
# fmt: off
_STREAMS = (
    "trust_counts", "ethnicity", "imd", "age", "parity", "smoking", "plurality", "band", "preterm",
    "gestation", "elective", "induction", "emergency", "vaginal_mode", "date", "minute", "twin_gap",
    "site", "continuity", "mgso4", "steroids", "booking", "pph", "tear", "maternal_death",
    "maternal_timing", "sex", "weight", "late_fetal_loss", "stillbirth", "stillbirth_timing",
    "brain_injury", "hie", "neonatal_death", "neonatal_timing", "apgar", "nnu", "missing",
)
# fmt: on

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
        raise ValueError(f"invalid struggling spec {spec!r}: expected TRUST:YYYY-MM:FACTOR, e.g. RXX:2019-06:2.0")
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
        self._gens = {name: np.random.default_rng(ss) for name, ss in zip(_STREAMS, children, strict=True)}

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._gens[name]


def year_days(year: int, as_of: dt.date) -> tuple[int, int]:
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


def _epoch_seconds(day: dt.date) -> int:
    """Seconds from 1970-01-01 to midnight starting ``day`` (timestamps are naive local time)."""
    return (day - dt.date(1970, 1, 1)).days * 86_400


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
    """Draw mothers, then their pregnancies and deliveries, then the babies and their outcomes."""
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    as_of = dt.date.today() if as_of is None else as_of
    days, available = year_days(year, as_of)
    rs = _Streams(seed, year)
    t = {name: target(name, year) for name in TARGETS}  # this year's national figures

    # How many deliveries: live births target × scale × share of the year available, over
    # the expected babies per delivery and the share of babies born alive.
    all_days, _ = _day_weights(year, days, available)
    year_fraction = all_days.sum() / _day_weights(year, days, days)[0].sum()
    babies_per_delivery = 1 + t["twin_delivery_pct"] / 100 * (1 + TRIPLET_SHARE_OF_MULTIPLES)
    born_alive = 1 - (t["stillbirth_per_1000"] + t["late_fetal_loss_per_1000"]) / 1000
    n_deliveries = round(scale * t["live_births"] * year_fraction / (babies_per_delivery * born_alive))

    mothers = _draw_mothers(rs, trusts, t, year, n_deliveries)
    deliveries = _draw_deliveries(rs, trusts, t, year, mothers, _day_weights(year, days, available))
    babies = _draw_babies(rs, trusts, t, mothers, deliveries, struggling)
    return _to_table(year, seed, trusts, mothers, deliveries, babies, as_of)


@dataclass(frozen=True)
class _Mothers:
    """Per-delivery characteristics of the mother (one delivery per mother), length n."""

    trust: np.ndarray
    ethnic: np.ndarray  # index into ETHNIC_CODES
    black: np.ndarray
    asian: np.ndarray
    south_asian: np.ndarray
    imd: np.ndarray  # 1 = most deprived
    age: np.ndarray
    parity: np.ndarray
    smoking: np.ndarray
    plurality: np.ndarray
    continuity: np.ndarray

    @property
    def n(self) -> int:
        return self.trust.size


def _draw_mothers(rs: _Streams, trusts: TrustTable, t: dict[str, float], year: int, n_deliveries: int) -> _Mothers:
    """Where each mother gives birth and who she is; case mix comes from her trust."""
    counts = rs["trust_counts"].multinomial(n_deliveries, trusts.share)
    trust = np.repeat(np.arange(trusts.n), counts)
    n = trust.size
    ethnic = categorical(rs["ethnicity"].random(n), trust, trusts.ethnic_probs)
    black = np.isin(ethnic, [ETHNIC_CODES.index(c) for c in BLACK_CODES])
    asian = np.isin(ethnic, [ETHNIC_CODES.index(c) for c in ASIAN_CODES])
    south_asian = np.isin(ethnic, [ETHNIC_CODES.index(c) for c in SOUTH_ASIAN_CODES])
    imd = categorical(rs["imd"].random(n), trust, trusts.imd_probs) + 1
    # Mothers are older in affluent areas and a little older every year.
    age_mean = trusts.age_mean_2017[trust] + 0.1 * (year - 2017) + 0.25 * (imd - 5.5)
    age = np.clip(np.rint(age_mean + 5.4 * rs["age"].standard_normal(n)), 14, 50).astype(np.int64)
    parity = np.minimum(rs["parity"].poisson(np.clip(0.075 * (age - 17), 0.05, 2.5)), 15)

    off = 0.22 * (5.5 - imd) - 0.05 * (age - 30) - 1.2 * (south_asian | black)
    smoking = rs["smoking"].random(n) < expit(calibrate_intercept(off, t["smoking_at_delivery_pct"] / 100 * n) + off)
    u = rs["plurality"].random((2, n))
    off = 0.06 * (age - 30)  # twinning rises with maternal age
    multi = u[0] < expit(calibrate_intercept(off, t["twin_delivery_pct"] / 100 * n) + off)
    plurality = 1 + multi + (multi & (u[1] < TRIPLET_SHARE_OF_MULTIPLES))
    # Continuity of carer was targeted at Black and Asian women and the most deprived areas.
    off = trusts.coc_effect[trust] + 0.4 * (black | asian) + 0.4 * (imd <= 2)
    continuity = rs["continuity"].random(n) < expit(
        calibrate_intercept(off, t["continuity_of_carer_pct"] / 100 * n) + off
    )
    return _Mothers(trust, ethnic, black, asian, south_asian, imd, age, parity, smoking, plurality, continuity)


@dataclass(frozen=True)
class _Deliveries:
    """Per-delivery pregnancy, labour, care and maternal outcome, length n."""

    band: np.ndarray  # born at 22+0–23+6
    gest_days: np.ndarray
    gweeks: np.ndarray
    onset: np.ndarray  # index into ONSETS_OF_LABOUR
    mode: np.ndarray  # index into MODES_OF_DELIVERY
    caesarean: np.ndarray
    intrapartum_concern: np.ndarray  # emergency caesarean, instrumental or breech birth
    minute_of_year: np.ndarray
    delivery_ts: np.ndarray  # seconds since the epoch, first baby
    gaps: np.ndarray  # (2, n) minutes between babies 1–2 and 2–3
    site: np.ndarray  # flat site index, -1 = none
    mgso4: np.ndarray
    steroids: np.ndarray  # index into ANTENATAL_STEROIDS
    booking: np.ndarray
    pph: np.ndarray
    tear: np.ndarray
    maternal_death_ts: np.ndarray
    maternal_cause: np.ndarray  # index into MATERNAL_DEATH_CAUSE_CLASSES, -1 = alive at a year
    missing: np.ndarray  # (4, n) uniforms deciding which optional fields were not recorded


def _draw_deliveries(
    rs: _Streams,
    trusts: TrustTable,
    t: dict[str, float],
    year: int,
    mo: _Mothers,
    day_weights: tuple[np.ndarray, np.ndarray],
) -> _Deliveries:
    """Gestation, labour and delivery, date and place, care received and maternal death.

    All per delivery, so the babies of a twin or triplet delivery share them.
    """
    n, trust, imd, age, plurality = mo.n, mo.trust, mo.imd, mo.age, mo.plurality
    twin_or_more, triplet, nullip = plurality >= 2, plurality >= 3, mo.parity == 0
    one_group = np.zeros(n, np.int64)

    # Gestation. 22–23 wk births (live or late fetal loss) are drawn first, then preterm
    # among births ≥24 wk, calibrated per baby so the rate matches the published series.
    not_live = (t["stillbirth_per_1000"] + t["late_fetal_loss_per_1000"]) / 1000
    off = np.log(4.0) * twin_or_more + 0.04 * (5.5 - imd) + 0.3 * mo.black
    band_share = t["live_births_22_23_pct"] / 100 * (1 - not_live) + t["late_fetal_loss_per_1000"] / 1000
    band = rs["band"].random(n) < expit(calibrate_intercept(off, band_share * plurality.sum(), plurality) + off)
    off = (
        2.7 * twin_or_more
        + 3.5 * triplet
        + 0.03 * (5.5 - imd)
        + 0.25 * mo.black
        + 0.2 * (age < 20)
        + 0.3 * (age >= 40)
        + 0.35 * mo.smoking
    )
    w_viable = plurality * ~band
    a = calibrate_intercept(off, t["preterm_pct"] / 100 * w_viable.sum(), w_viable)
    preterm = ~band & (rs["preterm"].random(n) < expit(a + off))
    g = rs["gestation"]
    day_of_week = g.integers(0, 7, n)
    band_week = np.where(g.random(n) < 0.4, 22, 23)
    preterm_week = PRETERM_WEEKS[categorical(g.random(n), one_group, PRETERM_WEEK_PROBS)]
    term_days = TERM_DAYS[categorical(g.random(n), one_group, TERM_DAY_PROBS)]
    multiple_term_days = np.where(triplet, 259 + g.integers(0, 7, n), 259 + g.integers(0, 14, n))  # planned 37–38 wk
    gest_days = np.select(
        [band, preterm, twin_or_more],
        [band_week * 7 + day_of_week, preterm_week * 7 + day_of_week, multiple_term_days],
        term_days,
    )
    gweeks = gest_days // 7
    very_preterm = (gweeks < 34) & ~band

    # Labour and delivery: planned caesarean, then induction and emergency caesarean among
    # women in labour, each calibrated to the year's national share.
    cs_trust = trusts.cs_effect[trust]
    off = 0.04 * (age - 30) + 1.5 * twin_or_more + 0.4 * ~nullip + 0.5 * very_preterm + cs_trust - 6.0 * band
    elective = rs["elective"].random(n) < expit(calibrate_intercept(off, t["elective_caesarean_pct"] / 100 * n) + off)
    labour = ~elective
    off = 1.6 * (gweeks >= 41) + 0.3 * (age >= 35) + 0.3 * (preterm & (gweeks >= 34)) - 3.0 * band
    a = calibrate_intercept(off, t["induction_pct"] / 100 * n, labour)
    induced = labour & (rs["induction"].random(n) < expit(a + off))
    off = 0.7 * nullip + 0.9 * very_preterm + 1.0 * twin_or_more + 0.03 * (age - 30) + 0.35 * induced + cs_trust
    off = off - 3.0 * band
    a = calibrate_intercept(off, (t["caesarean_pct"] - t["elective_caesarean_pct"]) / 100 * n, labour)
    emergency = labour & (rs["emergency"].random(n) < expit(a + off))
    vaginal_mode = categorical(rs["vaginal_mode"].random(n), (~nullip).astype(np.int64), m.VAGINAL_MODE_PROBS)
    mode = np.select([elective, emergency], [_MODE["elective_caesarean"], _MODE["emergency_caesarean"]], vaginal_mode)
    onset = np.select([elective, induced], [_ONSET["not_in_labour"], _ONSET["induced"]], _ONSET["spontaneous"])
    caesarean = elective | emergency
    instrumental = np.isin(mode, [_MODE["forceps"], _MODE["ventouse"]])
    intrapartum_concern = emergency | instrumental | np.isin(mode, [_MODE["breech"], _MODE["breech_extraction"]])

    # When and where. Planned caesareans happen on weekday daytimes; multiple births leave
    # room before midnight so all babies share a date.
    all_days, weekdays = day_weights
    u = rs["date"].random(n)
    day = np.empty(n, np.int64)
    day[elective] = categorical(u[elective], one_group[elective], weekdays[None, :])
    day[labour] = categorical(u[labour], one_group[labour], all_days[None, :])
    u = rs["minute"].random(n)
    minute = np.where(elective, 480 + np.floor(u * 540), np.floor(u * (1440 - 60 * (plurality - 1)))).astype(np.int64)
    gaps = rs["twin_gap"].integers(1, 21, (2, n))
    delivery_ts = _epoch_seconds(dt.date(year, 1, 1)) + day * 86_400 + minute * 60
    last_baby_ts = delivery_ts + 60 * (gaps[0] * (plurality >= 2) + gaps[1] * (plurality >= 3))
    site_band = np.where(gweeks >= 34, 0, np.where(gweeks >= 28, 1, 2))
    site_probs = trusts.site_probs.reshape(3 * trusts.n, -1)
    site = trusts.site_table[trust, categorical(rs["site"].random(n), site_band * trusts.n + trust, site_probs)]

    # Care received.
    mg_eligible = gweeks < 30
    off = trusts.mgso4_effect[trust] - 1.0 * band
    a = calibrate_intercept(off, t["mgso4_pct"] / 100 * mg_eligible.sum(), mg_eligible)
    mgso4 = rs["mgso4"].random(n) < expit(a + off)
    st_eligible = gweeks < 34
    off = trusts.steroids_effect[trust] - 1.0 * band
    a = calibrate_intercept(off, t["steroids_full_pct"] / 100 * st_eligible.sum(), st_eligible)
    u = rs["steroids"].random((2, n))
    steroids = np.select(
        [u[0] < expit(a + off), u[1] < np.where(band, 0.6, 0.25)],  # the second: none, of those without a full course
        [ANTENATAL_STEROIDS.index("full_course_within_7d"), ANTENATAL_STEROIDS.index("none")],
        ANTENATAL_STEROIDS.index("partial"),
    )
    b = rs["booking"]
    late_booker = b.random(n) < expit(-2.9 + 0.12 * (5.5 - imd) + 0.8 * (age < 20))
    booking = np.where(late_booker, 14 + b.integers(0, 16, n), 8 + np.minimum(b.poisson(1.8, n), 6))
    booking = np.where(b.random(n) < 0.03, b.integers(5, 8, n), booking)  # very early bookers
    booking = np.minimum(booking, gweeks)
    log_pph = np.log(380.0) + 0.38 * caesarean + 0.3 * twin_or_more + 0.15 * instrumental
    pph = np.clip(np.rint(np.exp(log_pph + 0.62 * rs["pph"].standard_normal(n)) / 10) * 10, 0, 20_000)
    tear = categorical(rs["tear"].random(n), (2 * instrumental + ~nullip).astype(np.int64), m.TEAR_PROBS)

    # Maternal death: direct + indirect within 42 days calibrated to the series; coincidental
    # and late (43 days–1 year) deaths at flat rates, as the measure must exclude them.
    off = (
        m.MATERNAL_BLACK_LOG_OR * mo.black
        + m.MATERNAL_ASIAN_LOG_OR * mo.asian
        + m.MATERNAL_DEPRIVATION_LOG_OR_PER_DECILE * (10 - imd)
        + m.MATERNAL_AGE_40_PLUS_LOG_OR * (age >= 40)
        + m.MATERNAL_CAESAREAN_LOG_OR * caesarean
        + 0.3 * twin_or_more
    )
    p_early = expit(calibrate_intercept(off, t["maternal_per_100000"] / 1e5 * n) + off)
    p_coincidental = t["maternal_coincidental_per_100000"] / 1e5
    p_late = t["maternal_late_per_100000"] / 1e5
    u = rs["maternal_death"].random((2, n))
    early = u[0] < p_early
    coincidental = ~early & (u[0] < p_early + p_coincidental)
    late = ~early & ~coincidental & (u[0] < p_early + p_coincidental + p_late)
    direct, indirect, coinc = (MATERNAL_DEATH_CAUSE_CLASSES.index(c) for c in ("direct", "indirect", "coincidental"))
    cause = np.select(
        [early, coincidental, late],
        [
            np.where(u[1] < 0.45, direct, indirect),
            coinc,
            np.select([u[1] < 0.25, u[1] < 0.8], [direct, indirect], coinc),
        ],
        -1,
    )
    mt = rs["maternal_timing"]
    early_minutes = np.where(mt.random(n) < 0.45, mt.integers(10, 1440, n), mt.integers(1440, 42 * 1440, n))
    late_minutes = mt.integers(43 * 1440, 364 * 1440, n)  # < 365 days after every baby of the delivery
    maternal_death_ts = last_baby_ts + 60 * np.where(late, late_minutes, early_minutes)

    return _Deliveries(
        band=band,
        gest_days=gest_days,
        gweeks=gweeks,
        onset=onset,
        mode=mode,
        caesarean=caesarean,
        intrapartum_concern=intrapartum_concern,
        minute_of_year=day * 1440 + minute,
        delivery_ts=delivery_ts,
        gaps=gaps,
        site=site,
        mgso4=mgso4,
        steroids=steroids,
        booking=booking,
        pph=pph.astype(np.int64),
        tear=tear,
        maternal_death_ts=maternal_death_ts,
        maternal_cause=cause,
        missing=rs["missing"].random((4, n)),
    )


@dataclass(frozen=True)
class _Babies:
    """Per-baby arrays, length nb, in generation order (deliveries expanded in place)."""

    delivery: np.ndarray  # index of the baby's delivery
    order: np.ndarray  # birth order 1..plurality
    birth_ts: np.ndarray
    sex: np.ndarray
    weight: np.ndarray
    outcome: np.ndarray  # index into OUTCOMES
    stillbirth_timing: np.ndarray
    brain_injury: np.ndarray
    hie_grade: np.ndarray  # 0 = none
    cooling: np.ndarray
    neonatal_death: np.ndarray
    neonatal_death_ts: np.ndarray
    apgar: np.ndarray
    nnu: np.ndarray


def _draw_babies(
    rs: _Streams,
    trusts: TrustTable,
    t: dict[str, float],
    mo: _Mothers,
    de: _Deliveries,
    struggling: Sequence[Struggling],
) -> _Babies:
    """Each baby's sex, weight and outcomes.

    Intercepts are calibrated with *expected* live births as weights, and struggling
    trusts' extra odds are added afterwards, so the calibration (and every other trust's
    outcomes) is the same with or without them.
    """
    d = np.repeat(np.arange(mo.n), mo.plurality)
    nb = d.size
    starts = np.concatenate(([0], np.cumsum(mo.plurality)[:-1]))
    order = np.arange(nb) - starts[d] + 1
    birth_ts = de.delivery_ts[d] + 60 * (de.gaps[0][d] * (order >= 2) + de.gaps[1][d] * (order >= 3))
    plurality, gest_days, gweeks, band = mo.plurality[d], de.gest_days[d], de.gweeks[d], de.band[d]
    black, asian, imd, age = mo.black[d], mo.asian[d], mo.imd[d], mo.age[d]
    viable = ~band
    one_group = np.zeros(nb, np.int64)

    sex = categorical(rs["sex"].random(nb), one_group, m.SEX_PROBS[None, :])
    median = m.median_weight(gest_days) * np.select([sex == 0, sex == 1], [1.025, 0.975], 1.0)
    multiple_factor = np.where(plurality >= 3, 0.80, np.where(plurality == 2, 0.88, 1.0))
    multiple_factor = 1 - (1 - multiple_factor) * np.clip((gest_days - 196) / 70, 0, 1)  # diverge after ~28 wk
    weight = median * multiple_factor * np.where(mo.south_asian[d], 0.95, 1.0) * np.where(mo.smoking[d], 0.93, 1.0)
    weight = weight * np.exp(m.WEIGHT_LOG_SD * rs["weight"].standard_normal(nb))
    small = np.clip(-np.log(weight / median) / m.WEIGHT_LOG_SD, 0, 4)  # SDs below the median for gestation

    struggle = np.zeros(nb)
    for s in struggling:
        struggle += np.log(s.factor) * (
            (mo.trust[d] == trusts.index_of(s.trust_code)) & (birth_ts >= _epoch_seconds(s.start))
        )

    # Late fetal loss among 22–23 wk births (more at 22 wk).
    off = 0.8 * (gweeks == 22)
    lfl_rate = t["late_fetal_loss_per_1000"] / 1000
    p_lfl = np.where(band, expit(calibrate_intercept(off, lfl_rate * nb / (1 + lfl_rate), band) + off), 0.0)
    lfl = band & (rs["late_fetal_loss"].random(nb) < p_lfl)

    # Stillbirth ≥24 wk per 1,000 total births (live + still).
    shared = (
        m.DEPRIVATION_LOG_OR_PER_DECILE * (10 - imd)
        + m.BLACK_LOG_OR * black
        + m.ASIAN_LOG_OR * asian
        + m.AGE_UNDER_20_LOG_OR * (age < 20)
        + m.AGE_35_39_LOG_OR * ((age >= 35) & (age < 40))
        + m.AGE_40_PLUS_LOG_OR * (age >= 40)
    )
    off = (
        m.STILLBIRTH_WEEK[gweeks]
        + m.SGA_LOG_OR_PER_SD * small
        + shared
        + m.TWIN_STILLBIRTH_LOG_OR * (plurality == 2)
        + m.TRIPLET_STILLBIRTH_LOG_OR * (plurality >= 3)
        + m.SMOKING_STILLBIRTH_LOG_OR * mo.smoking[d]
    )
    a = calibrate_intercept(off, t["stillbirth_per_1000"] / 1000 * (nb - int(lfl.sum())), viable)
    p_sb = np.where(viable, expit(a + off), 0.0)
    sb = viable & (rs["stillbirth"].random(nb) < expit(a + off + struggle))
    live = ~(lfl | sb)
    expected_live = np.where(viable, 1 - p_sb, 1 - p_lfl)

    # Brain injury per 1,000 live births; neonatal death per 1,000 live births ≥24 wk, with
    # 22–23 wk live births on their own intercept (the gap to the all-gestation rate).
    off = (
        m.BRAIN_INJURY_WEEK[gweeks]
        + 0.2 * small
        + 0.3 * de.intrapartum_concern[d]
        + 0.2 * black
        + 0.1 * asian
        + 0.5 * m.DEPRIVATION_LOG_OR_PER_DECILE * (10 - imd)
    )
    a = calibrate_intercept(off, t["brain_injury_per_1000"] / 1000 * expected_live.sum(), expected_live)
    brain_injury = live & (rs["brain_injury"].random(nb) < expit(a + off + struggle))
    off = m.NEONATAL_WEEK[gweeks] + 0.35 * small + shared + m.MULTIPLE_NEONATAL_LOG_OR * (plurality >= 2)
    w = expected_live * viable
    a24 = calibrate_intercept(off, t["neonatal_24_per_1000"] / 1000 * w.sum(), w)
    a22 = calibrate_intercept(off, t["neonatal_22_23_per_1000"] / 1000 * expected_live.sum(), expected_live * band)
    nnd = live & (rs["neonatal_death"].random(nb) < expit(np.where(band, a22, a24) + off + struggle))
    nt = rs["neonatal_timing"]
    u = nt.random(nb)
    nnd_minutes = np.select(
        [u < np.where(band, 0.8, 0.35), u < np.where(band, 0.95, 0.75)],  # first day, first week
        [nt.integers(1, 1440, nb), nt.integers(1440, 7 * 1440, nb)],
        nt.integers(7 * 1440, 27 * 1440, nb),  # < 27 days: also < 28 calendar days
    )

    # HIE among term brain injuries (grade 1 counts only if cooled), plus mild uncooled HIE.
    u = rs["hie"].random((3, nb))
    term_ish = gweeks >= 35
    hie_injury = brain_injury & term_ish & (u[0] < m.HIE_SHARE_OF_TERM_BRAIN_INJURY)
    hie_grade = np.where(hie_injury, categorical(u[1], one_group, m.HIE_GRADE_PROBS[None, :]) + 1, 0)
    mild_hie = live & ~brain_injury & term_ish & (u[0] < m.MILD_HIE_UNCOOLED_RATE)
    hie_grade = np.where(mild_hie, 1, hie_grade)
    cooling = hie_injury & (u[2] < m.COOLING_BY_HIE_GRADE[np.maximum(hie_grade, 1) - 1])

    lam = 0.35 + 0.25 * np.clip(37 - gweeks, 0, 15) + 3.0 * hie_grade * ~mild_hie + 1.0 * nnd
    apgar = 10 - poisson_by_inversion(rs["apgar"].random(nb), lam, 10)
    p_nnu = np.select([band, gweeks < 34, gweeks < 37], [0.5, 0.96, 0.35], 0.055)
    nnu = (rs["nnu"].random(nb) < p_nnu) | brain_injury | cooling
    sex = np.where(lfl & (rs["sex"].random(nb) < 0.1), SEXES.index("not_known"), sex)
    outcome = np.select(
        [lfl, sb], [OUTCOMES.index("late_fetal_loss"), OUTCOMES.index("stillbirth")], OUTCOMES.index("live_birth")
    )
    stillbirth_timing = categorical(rs["stillbirth_timing"].random(nb), one_group, m.STILLBIRTH_TIMING_PROBS[None, :])
    return _Babies(
        delivery=d,
        order=order,
        birth_ts=birth_ts,
        sex=sex,
        weight=np.clip(np.rint(weight), 200, 7000).astype(np.int64),
        outcome=outcome,
        stillbirth_timing=stillbirth_timing,
        brain_injury=brain_injury,
        hie_grade=hie_grade,
        cooling=cooling,
        neonatal_death=nnd,
        neonatal_death_ts=birth_ts + 60 * nnd_minutes,
        apgar=apgar,
        nnu=nnu,
    )


def _to_table(
    year: int, seed: int, trusts: TrustTable, mo: _Mothers, de: _Deliveries, ba: _Babies, as_of: dt.date
) -> pa.Table:
    """Order the rows, make identifiers, null what does not apply, and build the Arrow table.

    Rows are in order of delivery time with the babies of one delivery together; record ids
    number each trust's babies in that order; mother ids are pseudonymous but unique.
    """
    n, nb = mo.n, ba.delivery.size
    # The key (minute of year, delivery number) is unique, so a plain sort is deterministic.
    by_time = (np.sort((de.minute_of_year << 32) | np.arange(n)) & 0xFFFFFFFF).astype(np.int64)
    plural = mo.plurality[by_time]
    first_baby = np.concatenate(([0], np.cumsum(mo.plurality)[:-1]))
    rows = np.repeat(first_baby[by_time], plural) + np.arange(nb) - np.repeat(np.cumsum(plural) - plural, plural)

    def col(x: np.ndarray) -> np.ndarray:
        return x[rows]

    dr = col(ba.delivery)  # each row's delivery
    trust = mo.trust[dr]
    trust_small = trust.astype(np.int16 if trusts.n < 2**15 else np.int64)
    by_trust = np.argsort(trust_small, kind="stable")  # radix sort; keeps time order within a trust
    trust_start = np.concatenate(([0], np.cumsum(np.bincount(trust_small, minlength=trusts.n))[:-1]))
    seq = np.empty(nb, np.int64)
    seq[by_trust] = np.arange(nb) - trust_start[trust_small[by_trust]] + 1
    # (year, delivery number) is unique across a dataset and splitmix64 is a bijection, so
    # mother ids cannot collide; the seed key makes them differ between seeds.
    seed_key = splitmix64(np.array([seed], dtype=np.uint64))[0]
    mother_key = splitmix64(((np.uint64(year) << np.uint64(32)) | np.arange(n, dtype=np.uint64)) ^ seed_key)

    # Deaths after the extract date are not known yet.
    as_of_ts = _epoch_seconds(as_of)
    nnd_known = col(ba.neonatal_death & (ba.neonatal_death_ts < as_of_ts))
    maternal_known = ((de.maternal_cause >= 0) & (de.maternal_death_ts < as_of_ts))[dr]
    not_live = col(ba.outcome) != OUTCOMES.index("live_birth")
    site = de.site[dr]
    hie = col(ba.hie_grade)
    gweeks = de.gweeks[dr]
    missing = de.missing[:, dr]
    i16, i32, ts, boolean = pa.int16(), pa.int32(), pa.timestamp("s"), pa.bool_()
    no_lmns = np.array([c is None for c in trusts.lmns_codes])
    no_region = np.array([c is None for c in trusts.region_codes])
    columns = {
        "record_id": joined_ids(trusts.codes, trust, f"-{year}-", seq, 6),
        "trust_code": _codes(trusts.codes, trust),
        "site_code": _codes(trusts.site_codes or ("",), np.maximum(site, 0), site < 0),
        "lmns_code": _codes(trusts.lmns_codes, trust, no_lmns[trust]),
        "region_code": _codes(trusts.region_codes, trust, no_region[trust]),
        "birth_datetime": pa.array(col(ba.birth_ts), type=ts),
        "gestation_weeks": pa.array(gweeks, type=i16),
        "gestation_days": pa.array(de.gest_days[dr] % 7, type=i16),
        "birth_weight_g": _masked(col(ba.weight), missing[0] < 0.002, i16),
        "plurality": pa.array(mo.plurality[dr], type=i16),
        "birth_order": pa.array(col(ba.order), type=i16),
        "sex": _codes(SEXES, col(ba.sex)),
        "outcome": _codes(OUTCOMES, col(ba.outcome)),
        "stillbirth_timing": _codes(
            STILLBIRTH_TIMINGS, col(ba.stillbirth_timing), col(ba.outcome) != OUTCOMES.index("stillbirth")
        ),
        "onset_of_labour": _codes(ONSETS_OF_LABOUR, de.onset[dr]),
        "mode_of_delivery": _codes(MODES_OF_DELIVERY, de.mode[dr]),
        "neonatal_death_datetime": _masked(col(ba.neonatal_death_ts), ~nnd_known, ts),
        "brain_injury": _masked(col(ba.brain_injury), not_live, boolean),
        "hie_grade": _masked(hie, not_live | (hie == 0), i16),
        "therapeutic_cooling": _masked(col(ba.cooling), not_live, boolean),
        "maternal_age": pa.array(mo.age[dr], type=i16),
        "ethnic_category": _codes(ETHNIC_CODES, mo.ethnic[dr]),
        "imd_decile": _masked(mo.imd[dr], missing[1] < 0.005, i16),
        "smoking_at_delivery": _masked(mo.smoking[dr], missing[2] < 0.01, boolean),
        "parity": pa.array(mo.parity[dr], type=i16),
        "booking_gestation_weeks": _masked(de.booking[dr], missing[3] < 0.01, i16),
        "continuity_of_carer": pa.array(mo.continuity[dr], type=boolean),
        "mother_id": hex_ids("M", mother_key[dr]),
        "maternal_death_datetime": _masked(de.maternal_death_ts[dr], ~maternal_known, ts),
        "maternal_death_cause_class": _codes(
            MATERNAL_DEATH_CAUSE_CLASSES, np.maximum(de.maternal_cause[dr], 0), ~maternal_known
        ),
        "mgso4_within_24h": _masked(de.mgso4[dr], gweeks >= 30, boolean),
        "antenatal_steroids": _codes(ANTENATAL_STEROIDS, de.steroids[dr], gweeks >= 34),
        "birth_site_level": _codes(trusts.site_levels or ("none",), np.maximum(site, 0), site < 0),
        "nnu_admission": _masked(col(ba.nnu), not_live, boolean),
        "apgar_5min": _masked(col(ba.apgar), not_live, i16),
        "pph_ml": _masked(de.pph[dr], missing[2] > 0.98, i32),
        "perineal_tear_degree": _masked(de.tear[dr], de.caesarean[dr] | (missing[3] > 0.99), i16),
    }
    return pa.Table.from_arrays([columns[f.name] for f in ARROW_SCHEMA], schema=ARROW_SCHEMA)
