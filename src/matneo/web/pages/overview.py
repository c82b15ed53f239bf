"""England overview: the ambition measures (trend since 2010, trajectory to 2025, latest value
with its interval and status) and the signals open in the user's scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from matneo.auth.access import Access
from matneo.measures.ambition import ambition_report, ambition_window
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.quality import cached_cube
from matneo.quality.caveat import figure_caveats
from matneo.quality.rules import rules_from
from matneo.web import charts
from matneo.web.pages.signals import SignalRow, signal_rows
from matneo.web.services import Chart, Services, draw, figure, fmt, json_float, trend_points, unit_label

ENGLAND = "ENG"
STATUS_LABELS = {
    "ahead": "Ahead of trajectory",
    "on_track": "On trajectory",
    "off_track": "Off trajectory",
}
STATUS_TAGS = {"ahead": "nhsuk-tag--green", "on_track": "nhsuk-tag--blue", "off_track": "nhsuk-tag--red"}


@dataclass
class AmbitionCard:
    measure: str
    title: str
    unit: str
    latest_period: str | None
    latest_value: float | None
    lower95: float | None
    upper95: float | None
    suppressed: bool
    target_2025: float | None
    expected_at_latest: float | None
    status: str | None
    problem: str | None
    chart: Chart
    #: Data-quality caveats of the latest England figure (:func:`matneo.quality.caveat.figure_caveats`).
    caveats: list[str] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status or "", "No status")

    @property
    def status_tag(self) -> str:
        return STATUS_TAGS.get(self.status or "", "nhsuk-tag--grey")

    @property
    def shown_value(self) -> str:
        return "suppressed" if self.suppressed else fmt(self.latest_value, 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "title": self.title,
            "unit": self.unit,
            "latest_period": self.latest_period,
            "latest_value": self.latest_value,
            "lower95": self.lower95,
            "upper95": self.upper95,
            "suppressed": self.suppressed,
            "target_2025": self.target_2025,
            "expected_at_latest": self.expected_at_latest,
            "status": self.status,
            "problem": self.problem,
            "chart": self.chart.to_dict(),
            "caveats": self.caveats,
        }


@dataclass
class OverviewPage:
    title: str
    store_version: int | None
    cards: list[AmbitionCard]
    signals: list[SignalRow]
    signals_scope: str
    cache_key: tuple[str, ...]
    notes: list[str] = field(default_factory=list)

    def csv_link(self, chart_id: str) -> str:
        return f"/?format=csv&chart={chart_id}"

    def figures_dict(self) -> dict[str, Any]:
        return {"ambition": [card.to_dict() for card in self.cards]}

    def live_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "store_version": self.store_version,
            "signals_scope": self.signals_scope,
            "signals": [s.to_dict() for s in self.signals],
            "notes": self.notes,
        }

    def charts(self) -> list[Chart]:
        return [card.chart for card in self.cards]

    def to_dict(self) -> dict[str, Any]:
        return self.live_dict() | self.figures_dict()


def build(services: Services, access: Access) -> OverviewPage:
    version = services.results.version()
    if version is None:
        notes = ["No birth records are loaded yet."]
        return OverviewPage("England overview", None, [], [], access.org_name, ("overview", "empty"), notes)
    report = services.results.memo(
        ("ambition", ENGLAND),
        lambda: ambition_report(None, cube=services.results.cube(), hierarchy=services.hierarchy),
    )
    scope = None if access.sees_everything else access.scope
    key = ("overview", access.scope_key if scope is not None else "*")
    cards = services.results.memo(key, lambda: [_card(services, scope, progress) for progress in report])
    signals = signal_rows(services, access, include_closed=False)
    return OverviewPage("England overview", version, cards, signals, access.org_name, key)


def _card(services: Services, scope: frozenset[str] | None, progress: Any) -> AmbitionCard:
    measure = MEASURES_BY_ID[progress.measure]
    period = "rolling_3y" if measure.default_period == "rolling_3y" else "year"
    rows = (
        services.results.view(scope, measure.id, period, orgs=[ENGLAND])
        .filter(pl.col("months") == (36 if period == "rolling_3y" else 12))
        .sort("period_start")
    )
    series = trend_points(rows)
    target: list[dict[str, Any]] = []
    p = progress.progress
    if p is not None:
        triennial = period == "rolling_3y"
        target = [
            {
                "period_end": ambition_window(point.year, triennial)[1],
                "period": progress.period_name(point.year),
                "value": json_float(point.expected),
            }
            for point in p.trajectory
            if json_float(point.expected) is not None
        ]
    title = f"{measure.title}, England"
    chart = Chart(
        id=f"trend-{measure.id}",
        title=title,
        spec=draw(
            charts.trend_chart,
            series,
            unit_label=unit_label(measure),
            title=title,
            period_type=period,
            target=target or None,
        ),
        columns=["Period", f"Value ({unit_label(measure)})", "Lower 95% CI", "Upper 95% CI"],
        rows=[[r["period"], r["value"], r["lower95"], r["upper95"]] for r in series],
    )
    latest = rows.filter(pl.col("period_start") == rows["period_start"].max()) if rows.height else rows
    last = latest.row(0, named=True) if latest.height else None
    target_2025 = next((json_float(t.rounded) for t in p.targets if t.year == 2025), None) if p else None
    latest_figure = figure(last)
    return AmbitionCard(
        measure=measure.id,
        title=measure.title,
        unit=unit_label(measure),
        latest_period=last["period"] if last else None,
        latest_value=latest_figure.pop("value"),
        **latest_figure,
        target_2025=target_2025,
        expected_at_latest=json_float(p.expected_at_latest) if p else None,
        status=p.status if p else None,
        problem=progress.problem,
        chart=chart,
        caveats=figure_caveats(
            cached_cube(services.settings, services.results),
            [measure.id],
            None,
            last["period_start"],
            last["period_end"],
            rules_from(services.settings),
        )[measure.id]
        if last
        else [],
    )
