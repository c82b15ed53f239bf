"""The data-quality report of one organisation: what `matneo quality`, the page and the API show.

Pure over its inputs: the quality cube (:mod:`matneo.quality.cube`), the store's manifest
(rows per trust-month: coverage) and the load ledger's facts (:func:`ledger_facts`: rejections,
when each trust-month first arrived, records sent again for another month). ``detail`` is the
scope rule (ADR 0005): in scope, every month, site (or trust) and load; outside it, aggregates
only — percentages to the whole percent, no counts, nothing whose population is smaller than
the suppression threshold (:data:`matneo.measures.disclosure.SUPPRESSION_THRESHOLD`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select

from matneo.dates import add_months, month_end, month_text
from matneo.db.models import Load, LoadTrustMonth
from matneo.db.session import transaction
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.measures.disclosure import SUPPRESSION_THRESHOLD
from matneo.quality.caveat import input_caveat, percent_text, totals, verb_of
from matneo.quality.cube import NO_SITE, cube_inputs, known_column, population_column
from matneo.quality.rules import ABSENCE_MEANS_NONE, FIELD_LABELS, QualityRules, measured_fields
from matneo.reference.organisations import OrgHierarchy

#: The report covers the latest months of the organisation's data: a year, like the measure summaries.
REPORT_MONTHS = 12
#: Months listed when a trust has many gaps (the count is always whole).
LISTED_MONTHS = 24


@dataclass(frozen=True)
class LedgerFacts:
    """What the load ledger says about some trusts, read once (:func:`ledger_facts`)."""

    #: (load id, file name, finished, rows read, rows rejected, rejection file) of live loads
    #: whose records were all from these trusts (a rejected row may not say its trust).
    loads: list[tuple[int, str, dt.datetime | None, int, int, str | None]] = field(default_factory=list)
    #: (trust, month start) → when it was first loaded, and whether that was the trust's first load.
    arrivals: dict[tuple[str, dt.date], tuple[dt.datetime | None, bool]] = field(default_factory=dict)
    #: (trust, month start) → records a later file sent again in another month (moved out).
    resent: dict[tuple[str, dt.date], int] = field(default_factory=dict)


def ledger_facts(url: str, trusts: Collection[str]) -> LedgerFacts:
    """Read the ledger for ``trusts``: their loads, each trust-month's first arrival, records resent."""
    wanted = frozenset(trusts)
    with transaction(url) as session:
        rows = session.execute(
            select(
                Load.id, Load.status, Load.finished_at, LoadTrustMonth.trust_code, LoadTrustMonth.month,
                LoadTrustMonth.rows, LoadTrustMonth.moved_rows,
            )
            .join(LoadTrustMonth, LoadTrustMonth.load_id == Load.id)
            .where(LoadTrustMonth.trust_code.in_(sorted(wanted)), Load.status.in_(("loaded", "reverted")))
            .order_by(Load.id)
        ).all()  # fmt: skip
        load_trusts: dict[int, set[str]] = {}
        for load_id, trust in session.execute(
            select(LoadTrustMonth.load_id, LoadTrustMonth.trust_code).where(
                LoadTrustMonth.load_id.in_(sorted({r[0] for r in rows}))
            )
        ):
            load_trusts.setdefault(load_id, set()).add(trust)
        own = sorted(i for i, t in load_trusts.items() if t <= wanted)
        loads = [
            (
                load.id,
                Path(load.file_name).name,
                load.finished_at,
                load.rows_read,
                load.rows_rejected,
                load.rejection_file,
            )
            for load in session.scalars(select(Load).where(Load.id.in_(own), Load.status == "loaded").order_by(Load.id))
        ]
    first_load: dict[str, int] = {}
    arrivals: dict[tuple[str, dt.date], tuple[dt.datetime | None, bool]] = {}
    resent: dict[tuple[str, dt.date], int] = {}
    for load_id, status, finished, trust, month, supplied, moved in rows:
        if supplied > 0:
            first_load.setdefault(trust, load_id)
            arrivals.setdefault((trust, month), (finished, first_load[trust] == load_id))
        if status == "loaded" and moved:
            resent[(trust, month)] = resent.get((trust, month), 0) + moved
    return LedgerFacts(loads, arrivals, resent)


def duplicate_ids_rejected(rejection_file: str | None) -> int:
    """Rows a load refused because their record id appeared more than once in the file."""
    if not rejection_file or not Path(rejection_file).is_file():
        return 0
    report = pl.read_csv(rejection_file, infer_schema=False, columns=["rule"])
    return report.filter(pl.col("rule") == "record_id_duplicate").height


@dataclass
class FieldRow:
    """One input over the report's period: how completely it was recorded among its population."""

    field: str
    label: str
    kind: str
    measures: list[str]
    population: int | None
    known: int | None
    percent: float | None
    percent_text: str | None
    threshold: float
    below_threshold: bool
    caveat: str | None


@dataclass
class UnitRow:
    """One month, site or trust: births and the inputs below their threshold there."""

    code: str
    name: str
    births: int
    below: list[str]
    lowest: str | None
    implausible_weights: int


@dataclass
class CoverageRow:
    trust_code: str
    trust_name: str
    first_month: str | None
    missing: int
    missing_months: list[str]
    late: int
    late_months: list[str]
    resent_records: int


@dataclass
class LoadRow:
    id: int
    file_name: str
    rows_read: int
    rows_rejected: int
    rejected_percent: str
    duplicate_ids: int


@dataclass
class QualityReport:
    code: str
    name: str
    level: str
    detail: bool
    period: str | None
    start: dt.date | None
    end: dt.date | None
    births: int | None
    default_threshold: float
    fields: list[FieldRow]
    not_measurable: list[str]
    birth_weight: dict[str, Any]
    rejections: dict[str, Any]
    coverage: list[CoverageRow]
    months: list[UnitRow]
    units: list[UnitRow]
    units_title: str
    loads: list[LoadRow]
    rules: dict[str, Any]
    site: str | None = None

    @property
    def caveats(self) -> list[str]:
        return [f.caveat for f in self.fields if f.caveat]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["caveats"] = self.caveats
        return data


def _latest_month(cube: pl.DataFrame, trusts: list[str]) -> dt.date | None:
    months = cube.filter(pl.col("trust_code").is_in(trusts))["month_start"]
    latest = months.max() if months.len() else None
    return latest if isinstance(latest, dt.date) else None


def _field_rows(summed: dict[str, int], rules: QualityRules, detail: bool) -> list[FieldRow]:
    rows = []
    for item in cube_inputs():
        population, known = summed.get(population_column(item), 0), summed.get(known_column(item), 0)
        percent = 100.0 * known / population if population else None
        hidden = not detail and 0 < population < SUPPRESSION_THRESHOLD
        text = input_caveat(item, known, population, rules) if not hidden else None
        rows.append(
            FieldRow(
                field=item.field,
                label=item.label,
                kind=item.kind,
                measures=[MEASURES_BY_ID[m].title for m in item.measures] or ["inequality breakdowns of every measure"],
                population=population if detail else None,
                known=known if detail else None,
                percent=None if hidden or percent is None else (round(percent, 1) if detail else float(int(percent))),
                percent_text=None if hidden or percent is None else percent_text(percent),
                threshold=rules.threshold(item.field),
                below_threshold=text is not None,
                caveat=text,
            )
        )
    return rows


def _unit_rows(cube: pl.DataFrame, by: str, names: dict[str, str], rules: QualityRules) -> list[UnitRow]:
    out = []
    for (value,), part in sorted(cube.partition_by(by, as_dict=True).items(), key=lambda kv: kv[0]):
        summed = totals(part, None, None, None)
        below, lowest, lowest_pct = [], None, 101.0
        for item in cube_inputs():
            population, known = summed[population_column(item)], summed[known_column(item)]
            if not population:
                continue
            percent = 100.0 * known / population
            if percent < rules.threshold(item.field):
                below.append(f"{item.label} {verb_of(item)} for {percent_text(percent)}")
            if percent < lowest_pct:
                lowest, lowest_pct = f"{item.label}: {percent_text(percent)}", percent
        code = value.isoformat() if isinstance(value, dt.date) else str(value)
        name = (
            month_text(value)
            if isinstance(value, dt.date)
            else names.get(str(value), str(value) or "Site not recorded")
        )
        out.append(UnitRow(code, name, summed["births"], below, lowest, summed["bw_implausible"]))
    return out


def _months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def _coverage(
    trusts: list[tuple[str, str]],
    counts: dict[tuple[str, str], int],
    store_last: dt.date | None,
    facts: LedgerFacts,
    rules: QualityRules,
    detail: bool,
) -> list[CoverageRow]:
    """Per trust: months with no records between its first month and the store's latest month
    (missing), months whose first load came more than ``late_after_days`` after the month ended
    (late; never those of the trust's first load), and records sent again for another month."""
    rows = []
    for code, name in trusts:
        held = sorted(dt.date.fromisoformat(m + "-01") for (t, m), n in counts.items() if t == code and n)
        if not held or store_last is None:
            rows.append(CoverageRow(code, name, None, 0, [], 0, [], 0))
            continue
        missing = [m for m in _months_between(held[0], store_last) if m not in set(held)]
        late = []
        for month in held:
            arrived, first = facts.arrivals.get((code, month), (None, True))
            if arrived is not None and not first and (arrived.date() - month_end(month)).days > rules.late_after_days:
                late.append(month)
        resent = sum(n for (t, _), n in facts.resent.items() if t == code)
        rows.append(
            CoverageRow(
                trust_code=code,
                trust_name=name,
                first_month=month_text(held[0]),
                missing=len(missing),
                missing_months=[month_text(m) for m in missing[-LISTED_MONTHS:]] if detail else [],
                late=len(late),
                late_months=[month_text(m) for m in late[-LISTED_MONTHS:]] if detail else [],
                resent_records=resent,
            )
        )
    return rows


def quality_report(
    cube: pl.DataFrame,
    counts: dict[tuple[str, str], int],
    facts: LedgerFacts,
    hierarchy: OrgHierarchy,
    code: str,
    rules: QualityRules,
    *,
    detail: bool,
    site: str | None = None,
    months: int = REPORT_MONTHS,
) -> QualityReport:
    """The report for organisation ``code`` over its latest ``months`` months (``site``: one site of a trust)."""
    org = hierarchy.get(code)
    trusts = [(t.code, t.name) for t in hierarchy.trusts_under(code)]
    trust_codes = [t for t, _ in trusts]
    own = cube.filter(pl.col("trust_code").is_in(trust_codes))
    if site is not None:
        own = own.filter(pl.col("site_code") == site)
    end = _latest_month(own, trust_codes)
    start = add_months(end, -(months - 1)) if end is not None else None
    window = own.filter((pl.col("month_start") >= start) & (pl.col("month_start") <= end)) if end else own.clear()
    summed = totals(window, None, None, None)
    fields = _field_rows(summed, rules, detail)
    judged, implausible = summed.get("bw_judged", 0), summed.get("bw_implausible", 0)
    small = not detail and 0 < judged < SUPPRESSION_THRESHOLD
    birth_weight = {
        "rule": "birth weight outside Tukey's fences for its week of gestation "
        f"(quartiles ± {rules.birth_weight_fence:g} × interquartile range, from every stored weight of that week)",
        "judged": judged if detail else None,
        "implausible": implausible if detail else None,
        "implausible_percent": None if small or not judged else (round(100 * implausible / judged, 2)),
        "needs_local_confirmation": True,
    }
    read = sum(load[3] for load in facts.loads)
    rejected = sum(load[4] for load in facts.loads)
    rejections = {
        "rows_read": read if detail else None,
        "rows_rejected": rejected if detail else None,
        "rejected_percent": round(100 * rejected / read, 2) if read else None,
        "loads": len(facts.loads),
    }
    loads = []
    if detail:
        for load_id, name, _finished, rows_read, rows_rejected, report_file in reversed(facts.loads[-50:]):
            share = 100 * rows_rejected / rows_read if rows_read else 0.0
            loads.append(
                LoadRow(load_id, name, rows_read, rows_rejected, f"{share:.1f}%", duplicate_ids_rejected(report_file))
            )
    store_last = cube["month_start"].max() if cube.height else None
    coverage = _coverage(trusts, counts, store_last if isinstance(store_last, dt.date) else None, facts, rules, detail)
    month_rows: list[UnitRow] = []
    units: list[UnitRow] = []
    if detail and window.height:
        month_rows = _unit_rows(window, "month_start", {}, rules)
        if org.level == "trust" and site is None:
            names = {s.code: s.name for s in hierarchy.sites_of(code)}
            units = _unit_rows(window, "site_code", names, rules)
        elif org.level != "trust":
            units = _unit_rows(window, "trust_code", dict(trusts), rules)
    used = measured_fields()
    return QualityReport(
        code=code,
        name=org.name,
        level=org.level,
        detail=detail,
        period=f"{month_text(start)} to {month_text(end)}" if start and end else None,
        start=start,
        end=end,
        births=summed.get("births", 0) if detail else None,
        default_threshold=rules.default_threshold,
        fields=fields,
        not_measurable=[FIELD_LABELS.get(f, f) for f in used if f in ABSENCE_MEANS_NONE],
        birth_weight=birth_weight,
        rejections=rejections,
        coverage=coverage,
        months=month_rows,
        units=units,
        units_title="Sites" if org.level == "trust" else "Trusts",
        loads=loads,
        rules={
            "default_threshold": rules.default_threshold,
            "thresholds": dict(rules.thresholds),
            "birth_weight_fence": rules.birth_weight_fence,
            "late_after_days": rules.late_after_days,
            "needs_local_confirmation": True,
        },
        site=site,
    )


def site_name(hierarchy: OrgHierarchy, trust: str, site: str) -> str:
    names = {s.code: s.name for s in hierarchy.sites_of(trust)}
    return names.get(site, "Site not recorded" if site == NO_SITE else site)
