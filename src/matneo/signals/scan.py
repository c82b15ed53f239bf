"""One scan of the records store for everything signal detection needs, held as NumPy arrays.

``detect`` needs, for every trust, each baby's observed event and case-mix risk for the
register's outcomes, composites and leading indicators (the CUSUM streams), and each trust-year's
observed and expected events for the adjusted funnel. Both come from the same national stratum
rates (indirect standardisation, ``casemix.py``), so :func:`scan_babies` reads the store once and
keeps, per baby and in trust-then-time order:

* the trust (an index into ``trusts``), the birth time and the birth year (the store's
  ``year`` partition, as the funnel's);
* for each measure, the observed event (1 / 0, or −1 where the baby is outside the measure's
  denominator) as ``int8``;
* for each set of strata (``casemix.STRATA_BY_MEASURE``), the baby's stratum *cell* as a small
  integer; each measure's reference rate is a float64 per cell (``rates``), so a baby's risk is
  ``rates[m][cells[m]]`` — the same float64 number as ``casemix.expected_risks`` gives, without
  keeping millions of float64 risks per measure.

Why: on ten national years ``detect`` spent 16 s of CPU deriving strata, joining rates and
sorting the same six million babies several times (a scan for the funnel, a scan and a seven-
measure frame for the CUSUMs), and most of its 1.6 GB peak was that frame. Here the strata are
grouped with ``numpy.bincount`` on dense cell numbers, and one stable sort orders the babies
(docs/performance.md, "Signals", 2026-12-03 evening).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from matneo.measures.definitions import DERIVED_COLUMNS, get_measures
from matneo.records.store import parse_partition
from matneo.reference.codes import BIRTH_WEIGHT_BANDS, ETHNIC_CATEGORIES, GESTATION_BANDS
from matneo.signals.casemix import MATERNAL_AGE_BANDS, STRATA_BY_MEASURE, _band_code

__all__ = ["Babies", "scan_babies"]

#: Ethnic groups in a fixed order (the derived ``ethnic_group`` column's values), so a group's
#: code does not depend on what else the process has turned into a category.
ETHNIC_GROUPS: tuple[str, ...] = (*dict.fromkeys(group for _, group in ETHNIC_CATEGORIES.values()), "Not stated")


def _dense_codes() -> dict[str, tuple[pl.Expr, int]]:
    """Each stratum column as a code 0..span−1 (0 = not recorded) and its span.

    One-to-one with the labels of ``casemix.stratum_expressions`` (the same bands, the same
    "not recorded" cell), so cells built from them are exactly the strata of the case-mix model.
    """
    plurality = pl.col("plurality")
    quintile = pl.col("imd_quintile")
    group_code = {group: index + 1 for index, group in enumerate(ETHNIC_GROUPS)}
    ethnic = {code: group_code[group] for code, (_, group) in ETHNIC_CATEGORIES.items()}
    ethnic["Not stated"] = group_code["Not stated"]
    return {
        "gestation_band": (_band_code(pl.col("ga_days"), GESTATION_BANDS) + 1, len(GESTATION_BANDS) + 1),
        "birth_weight_band": (
            _band_code(pl.col("birth_weight_g"), BIRTH_WEIGHT_BANDS) + 1,
            len(BIRTH_WEIGHT_BANDS) + 1,
        ),
        "plurality": (pl.when(plurality == 1).then(1).when(plurality >= 2).then(2).otherwise(0).cast(pl.Int64), 3),
        "maternal_age_band": (_band_code(pl.col("maternal_age"), MATERNAL_AGE_BANDS) + 1, len(MATERNAL_AGE_BANDS) + 1),
        # The derived ethnic_group (a CASE over the record's ethnic category, "Not stated" for
        # any other value or none), coded straight from the category: one lookup, not a CASE.
        "ethnic_group": (
            pl.col("ethnic_category")
            .cast(pl.String)
            .replace_strict(ethnic, default=ethnic["Not stated"], return_dtype=pl.Int64)
            .fill_null(ethnic["Not stated"]),
            len(ETHNIC_GROUPS) + 1,
        ),
        "imd_quintile": (pl.when(quintile.is_between(1, 5)).then(quintile.cast(pl.Int64)).otherwise(0), 6),
    }


@dataclass(frozen=True, eq=False)
class Babies:
    """Every baby in any requested measure's denominator, grouped by trust in time order.

    Attributes:
        trusts: trust codes; ``trust`` indexes them.
        trust: each baby's trust (int32).
        starts, stops: each trust's first and one-past-last baby (babies of trust ``i`` are
            ``starts[i]:stops[i]``).
        when: birth date and time (``datetime64[us]``).
        year: the store's ``year`` partition of each baby (int32).
        observed: measure id → int8 per baby: 1 event, 0 none, −1 not in the denominator.
        cells: measure id → the baby's stratum cell (int32) in that measure's set of strata.
        rates: measure id → reference rate per cell (float64; NaN for a cell with no babies in
            the denominator): the mean event among England's babies of the cell.
    """

    trusts: list[str]
    trust: npt.NDArray[np.int32]
    starts: npt.NDArray[np.int64]
    stops: npt.NDArray[np.int64]
    when: npt.NDArray[np.datetime64]
    year: npt.NDArray[np.int32]
    observed: dict[str, npt.NDArray[np.int8]]
    cells: dict[str, npt.NDArray[np.int32]]
    rates: dict[str, npt.NDArray[np.float64]]

    @property
    def size(self) -> int:
        return int(self.trust.size)

    def risk(self, measure_id: str) -> npt.NDArray[np.float64]:
        """Each baby's reference risk for the measure (NaN outside its denominator)."""
        risk = self.rates[measure_id][self.cells[measure_id]]
        risk[self.observed[measure_id] < 0] = np.nan
        return risk


def _empty(measure_ids: Sequence[str]) -> Babies:
    none = np.zeros(0, dtype=np.int64)
    return Babies(
        trusts=[],
        trust=np.zeros(0, dtype=np.int32),
        starts=none,
        stops=none,
        when=np.zeros(0, dtype="datetime64[us]"),
        year=np.zeros(0, dtype=np.int32),
        observed={m: np.zeros(0, dtype=np.int8) for m in measure_ids},
        cells={m: np.zeros(0, dtype=np.int32) for m in measure_ids},
        rates={m: np.zeros(0) for m in measure_ids},
    )


def scan_babies(files: list[Path], measure_ids: Sequence[str]) -> Babies:
    """Read the store once: each baby's trust, time, year, observed events and stratum cells.

    Babies in none of the measures' denominators are left out. Order: by trust, and within a
    trust by birth time to the minute, ties in the store's order — the order of
    ``casemix.expected_risks``, so every chart sees the babies exactly as it did.
    """
    measures = get_measures(list(dict.fromkeys(measure_ids)))
    ids = [m.id for m in measures]
    missing = [i for i in ids if i not in STRATA_BY_MEASURE]
    if missing:
        raise ValueError(f"no case-mix strata defined for {', '.join(missing)}")
    if not files:
        return _empty(ids)
    key_sets = sorted({STRATA_BY_MEASURE[i] for i in ids})
    codes = _dense_codes()
    keys = []
    for index, key_set in enumerate(key_sets):
        key = pl.lit(0, dtype=pl.Int64)
        for column in key_set:
            key = key * codes[column][1] + pl.col(f"__code_{column}")
        keys.append(key.cast(pl.Int32).alias(f"__cell{index}"))
    flags = []
    for m in measures:
        den = pl.sql_expr(m.denominator).fill_null(False)
        num = den & pl.sql_expr(m.numerator).fill_null(False)
        flags.append(pl.when(den).then(num.cast(pl.Int8)).otherwise(pl.lit(-1, dtype=pl.Int8)).alias(m.id))
    present = pl.any_horizontal([pl.col(i) >= 0 for i in ids])
    # Partitions in calendar order (the store lists month=10 before month=2), files of one
    # partition in their own order: babies of the same minute are in one partition, so this
    # changes no tie, and from a store written in time order the scan comes out in time order.
    files = sorted(files, key=lambda f: parse_partition(f.parent))
    source = pl.scan_parquet(files, hive_partitioning=True)
    derived = [pl.sql_expr(sql).alias(name) for name, sql in DERIVED_COLUMNS.items() if name != "ethnic_group"]
    used = sorted({c for key_set in key_sets for c in key_set})
    frame = source.with_columns(derived).with_columns(codes[c][0].alias(f"__code_{c}") for c in used)
    records = (
        frame.select(
            pl.col("trust_code").cast(pl.String).cast(pl.Categorical),
            (pl.col("birth_datetime").dt.epoch("s") // 60).alias("__minute"),
            pl.col("birth_datetime").cast(pl.Datetime("us")).alias("__when"),
            pl.col("year").cast(pl.Int32),
            *keys,
            *flags,
        )
        .filter(present)
        .collect()
    )
    if records.is_empty():
        return _empty(ids)
    # Grouped by trust, in time to the minute within each, ties in the scan's order: the order
    # of casemix.expected_risks (a stable sort on trust and minute). The scan is in time order
    # when each partition's file is, so a stable radix sort on the trust's number alone gives
    # that order; one pass checks it, and a full sort on (trust, minute) is the fallback.
    trust_number = _alphabetical_numbers(records.get_column("trust_code"))
    minute = records.get_column("__minute").to_numpy()
    narrow = trust_number.astype(np.uint16) if trust_number.max() < 2**16 else trust_number
    order = np.argsort(narrow, kind="stable")
    key = (trust_number.astype(np.int64) * (1 << 40) + minute)[order]
    if np.any(key[1:] < key[:-1]):
        # A few babies out of time order within their trust (a mother's second twin is written
        # after her first, before the trust's next birth): a stable sort of the nearly sorted
        # key (NumPy's timsort, close to one pass) puts them in place; equal keys keep the
        # scan's order, so the result is the stable sort on (trust, minute).
        order = order[np.argsort(key, kind="stable")]
    sorted_trust = trust_number[order]
    del key, minute
    boundaries = np.flatnonzero(np.diff(sorted_trust)) + 1
    starts = np.concatenate(([0], boundaries)).astype(np.int64)
    stops = np.concatenate((boundaries, [sorted_trust.size])).astype(np.int64)
    trusts = records.get_column("trust_code").gather(order[starts]).cast(pl.String).to_list()
    trust = np.repeat(np.arange(len(trusts), dtype=np.int32), stops - starts)
    del sorted_trust
    # Each measure's rate per cell: the mean event among the cell's babies in the denominator,
    # as casemix.expected_risks' mean per stratum (the same float: events / babies, both exact
    # integers); then the babies put in order in one parallel gather.
    rates: dict[str, npt.NDArray[np.float64]] = {}
    for index, key_set in enumerate(key_sets):
        cell = records.get_column(f"__cell{index}").to_numpy()
        span = int(np.prod([codes[c][1] for c in key_set]))
        for i in [i for i in ids if STRATA_BY_MEASURE[i] == key_set]:
            # cell × (outside, no event, event) counted in one pass of integers
            tally = np.bincount(cell * 3 + (records.get_column(i).to_numpy() + 1), minlength=3 * span)
            tally = tally.reshape(span, 3)
            counts = (tally[:, 1] + tally[:, 2]).astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                rates[i] = np.where(counts > 0, tally[:, 2] / np.where(counts > 0, counts, 1.0), np.nan)
    ordered = records.drop("trust_code", "__minute").gather(pl.Series(order))
    del records
    observed = {i: ordered.get_column(i).to_numpy() for i in ids}
    cells = {i: ordered.get_column(f"__cell{key_sets.index(STRATA_BY_MEASURE[i])}").to_numpy() for i in ids}
    return Babies(
        trusts=trusts,
        trust=trust,
        starts=starts,
        stops=stops,
        when=ordered.get_column("__when").to_numpy(),
        year=ordered.get_column("year").to_numpy(),
        observed=observed,
        cells=cells,
        rates=rates,
    )


def _alphabetical_numbers(trust_code: pl.Series) -> np.ndarray:
    """Each row's trust as its place among the trusts present in alphabetical order.

    Not the categorical's own codes: those number strings in the order the process first saw
    them (Polars' categories are global), so the trusts' order — and so the order of the
    signals found — would depend on what ran before in the same process.
    """
    distinct = trust_code.unique()
    codes = distinct.to_physical().to_numpy().astype(np.int64)
    names = np.array(distinct.cast(pl.String).to_list(), dtype=object)
    place = np.zeros(int(codes.max()) + 1, dtype=np.int64)
    place[codes[np.argsort(names, kind="stable")]] = np.arange(codes.size)
    return place[trust_code.to_physical().to_numpy()]
