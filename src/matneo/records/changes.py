"""What a load does to the records of each trust-month, worked out before anything changes.

A load is one of two modes:

* ``resubmit`` — the file is the full resubmission of every trust-month it contains (as a
  monthly MSDS-style extract is): the earlier rows of those trust-months are replaced, and
  an earlier copy of a record it supplies is removed wherever it was;
* ``upsert`` — the file adds or corrects records: a record already stored (same trust and
  record id) is replaced by its new copy, wherever it was; every other row stays.

:func:`plan_changes` is the one place that says what goes and what comes, from record keys
alone (trust, record id, year, month). The loader uses it for the plan shown before a load
(``--dry-run``, the upload's confirmation page), for the outcome recorded after it, and to
restore a trust-month when a load is reverted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

MODES = ("resubmit", "upsert")
#: A full resubmission with fewer than this share of a trust-month's existing rows is a
#: partial month, refused unless confirmed. A product safeguard, not a clinical threshold.
SHRINK_SHARE = 0.5
KEYS = ("trust_code", "year", "month")
IDS = ("trust_code", "record_id")
KEY_SCHEMA = {"trust_code": pl.String, "record_id": pl.String, "year": pl.Int32, "month": pl.Int32}


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def month_label(key: str) -> str:
    """'2024-12' → 'December 2024'."""
    return dt.date(int(key[:4]), int(key[5:7]), 1).strftime("%B %Y")


@dataclass(frozen=True)
class MonthChange:
    """One trust-month a load changes: its rows before and after, and how.

    ``supplied`` rows come from the file: ``added`` records not stored before and
    ``replaced`` new copies of stored records. ``removed`` rows go without a replacement
    (a full resubmission that leaves them out); ``moved_out`` rows go because the file
    supplies the same record in another month.
    """

    trust_code: str
    month: str  # YYYY-MM
    existing_rows: int
    new_rows: int
    supplied: int = 0
    added: int = 0
    replaced: int = 0
    removed: int = 0
    moved_out: int = 0

    @property
    def shrinks(self) -> bool:
        """A resubmitted month left with fewer than half its rows: probably a partial extract."""
        return self.supplied > 0 and self.new_rows < self.existing_rows * SHRINK_SHARE

    def describe(self) -> str:
        """'This replaces 406 records of R0A December 2024 with 47.' and the like."""
        where = f"{self.trust_code} {month_label(self.month)}"
        if self.existing_rows == 0:
            return f"This adds {self.new_rows:,} records to {where}, which has none yet."
        if self.existing_rows == self.new_rows and not self.supplied:
            return f"{where} keeps {self.new_rows:,} records."
        return f"This replaces {self.existing_rows:,} records of {where} with {self.new_rows:,}."

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_changes(
    new: pl.DataFrame,
    live: pl.DataFrame,
    counts: dict[tuple[str, str], int],
    mode: str,
    months: pl.DataFrame | None = None,
) -> tuple[list[MonthChange], int, pl.DataFrame]:
    """The changes a load of ``new`` makes, as (trust-months changed, records moved, keys that go).

    ``new``: keys of the rows to store. ``live``: keys of the stored rows that could be
    affected — every stored row of a trust-month ``new`` supplies (or of ``months``) and every
    stored copy of a record ``new`` supplies; more is harmless. ``counts``: stored rows per
    (trust, YYYY-MM), for the rows before. ``months``: in ``resubmit`` mode, the trust-months
    replaced in full (default: those ``new`` supplies; a revert passes its own).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    ids, keys = list(IDS), list(KEYS)
    earlier = live.join(new.select(ids), on=ids, how="semi")  # stored copies of supplied records
    gone = earlier
    if mode == "resubmit":
        whole = new.select(keys).unique() if months is None else months.select(keys).unique()
        gone = pl.concat([earlier, live.join(whole, on=keys, how="semi")]).unique()
    replacing = new.join(live.select(ids).unique(), on=ids, how="semi")
    moved = earlier.join(new, on=ids, how="inner", suffix="_new").filter(
        (pl.col("year") != pl.col("year_new")) | (pl.col("month") != pl.col("month_new"))
    )
    removed = gone.join(new.select(ids), on=ids, how="anti")
    supplied, replaced = _per_month(new), _per_month(replacing)
    went, removed_n, moved_n = _per_month(gone), _per_month(removed), _per_month(moved)
    touched = sorted(set(supplied) | set(went) | (set(_per_month(months)) if months is not None else set()))
    changes = []
    for key in touched:
        existing = counts.get(key, 0)
        given, renewed = supplied.get(key, 0), replaced.get(key, 0)
        changes.append(
            MonthChange(
                trust_code=key[0],
                month=key[1],
                existing_rows=existing,
                new_rows=existing - went.get(key, 0) + given,
                supplied=given,
                added=given - renewed,
                replaced=renewed,
                removed=removed_n.get(key, 0),
                moved_out=moved_n.get(key, 0),
            )
        )
    return changes, moved.height, gone.select(list(KEY_SCHEMA))


def _per_month(frame: pl.DataFrame | None) -> dict[tuple[str, str], int]:
    if frame is None or frame.is_empty():
        return {}
    counted = frame.group_by(list(KEYS)).len()
    return {(trust, month_key(year, month)): n for trust, year, month, n in counted.iter_rows()}


def totals(changes: list[MonthChange]) -> dict[str, int]:
    """Rows added, replaced and removed over trust-months (moved records count as replaced)."""
    return {
        "rows_added": sum(c.added for c in changes),
        "rows_replaced": sum(c.replaced for c in changes),
        "rows_removed": sum(c.removed for c in changes),
    }
