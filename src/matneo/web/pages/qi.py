"""QI pages: one typed context per page, built from :mod:`matneo.qi.queries` (which applies the
access rules), with the SVG drawn by :mod:`matneo.qi.svg`. Routes live in ``web/routes_qi.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from matneo.auth.access import Access
from matneo.measures.definitions import MEASURES
from matneo.qi import queries
from matneo.qi.access import COLLABORATIVE_ROLES, PROJECT_EDIT_ROLES, QiNotFound
from matneo.qi.core import (
    ACT_CHOICES,
    COLLABORATIVE_KINDS,
    CUSTOM_UNITS,
    DIRECTIONS,
    FREQUENCIES,
    MEASURE_KINDS,
    PROJECT_STATUSES,
    RULE_SET_LABELS,
    TEAM_ROLES,
    FieldError,
    QiInputError,
    aim_gaps,
    progress_scale,
)
from matneo.qi.svg import driver_diagram_svg, run_chart_svg
from matneo.web.services import NotFound, Services

__all__ = [
    "CollaborativePage",
    "HomePage",
    "MeasurePage",
    "PdsaPage",
    "ProjectPage",
    "collaborative_page",
    "home_page",
    "measure_page",
    "pdsa_page",
    "project_page",
]


@dataclass
class Problems:
    """The errors of the form that failed, for the NHS.UK error summary and inline messages."""

    form: str = ""
    errors: list[FieldError] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, form: str, error: QiInputError, values: dict[str, str]) -> Problems:
        return cls(form, error.errors, values)

    def get(self, form: str, name: str) -> str | None:
        if form != self.form:
            return None
        return next((e.message for e in self.errors if e.field == name), None)

    def value(self, form: str, name: str, default: Any = "") -> Any:
        if form == self.form and name in self.values:
            return self.values[name]
        return default

    def __bool__(self) -> bool:
        return bool(self.errors)


def _not_found(error: QiNotFound) -> NotFound:
    return NotFound(str(error))


def _run_svg(m: queries.MeasureView, *, small: bool, element_id: str) -> Markup:
    return Markup(
        run_chart_svg(
            [(p.period_start, p.label, p.value) for p in m.points],
            m.analysis,
            [] if small else [(mk.on, mk.kind, mk.text) for mk in m.markers],
            title=m.title,
            unit=m.unit_label,
            small=small,
            width=320 if small else 720,
            height=140 if small else 320,
            element_id=element_id,
        )
    )


# -- home -------------------------------------------------------------------------------------
@dataclass
class HomePage:
    title: str
    collaboratives: list[dict[str, Any]]
    projects: list[dict[str, Any]]
    can_create_project: bool
    can_create_collaborative: bool
    trusts: list[tuple[str, str]]
    collaborative_orgs: list[tuple[str, str]]
    kinds: dict[str, str]
    problems: Problems

    def to_dict(self) -> dict[str, Any]:
        return {"collaboratives": self.collaboratives, "projects": self.projects}


def home_page(services: Services, access: Access, problems: Problems | None = None) -> HomePage:
    url = services.settings.database_url
    trusts = [(t.code, t.name) for t in services.hierarchy.trusts_under(access.user.org_code)]
    orgs = [
        (o.code, o.name)
        for o in services.hierarchy.organisations.values()
        if o.level in ("england", "region", "lmns") and access.in_scope(o.code)
    ]
    return HomePage(
        title="Quality improvement",
        collaboratives=queries.list_collaboratives(url, access),
        projects=queries.list_projects(url, access),
        can_create_project=access.user.role in PROJECT_EDIT_ROLES and bool(trusts),
        can_create_collaborative=access.user.role in COLLABORATIVE_ROLES,
        trusts=sorted(trusts, key=lambda t: t[1]),
        collaborative_orgs=sorted(orgs, key=lambda o: o[1])[:300],
        kinds=COLLABORATIVE_KINDS,
        problems=problems or Problems(),
    )


# -- collaborative ----------------------------------------------------------------------------
@dataclass
class CollaborativePage:
    title: str
    view: queries.CollaborativeView
    charts: dict[int, Markup]
    query: str
    scale: Any
    trusts: list[tuple[str, str]]
    problems: Problems

    def to_dict(self) -> dict[str, Any]:
        return self.view.to_dict()


def collaborative_page(
    services: Services, access: Access, collaborative_id: int, query: str = "", problems: Problems | None = None
) -> CollaborativePage:
    try:
        view = queries.collaborative_view(
            services.settings.database_url, access, services.results, collaborative_id, query
        )
    except QiNotFound as error:
        raise _not_found(error) from None
    charts = {
        p.id: _run_svg(p.key_measure, small=True, element_id=f"chart-{p.id}") for p in view.projects if p.key_measure
    }
    area = "ENG" if view.kind == "national" else view.org_code
    trusts = sorted(((t.code, t.name) for t in services.hierarchy.trusts_under(area)), key=lambda t: t[1])
    members = {m[0] for m in view.members}
    return CollaborativePage(
        title=view.name,
        view=view,
        charts=charts,
        query=query,
        scale=progress_scale(),
        trusts=[t for t in trusts if t[0] not in members],
        problems=problems or Problems(),
    )


# -- project ----------------------------------------------------------------------------------
@dataclass
class ProjectPage:
    title: str
    view: queries.ProjectView
    charts: dict[int, Markup]
    diagram: Markup
    aim_gaps: list[str]
    scale: Any
    statuses: dict[str, str]
    measure_kinds: dict[str, str]
    matneo_measures: list[tuple[str, str]]
    units: dict[str, str]
    frequencies: dict[str, str]
    directions: dict[str, str]
    rule_sets: dict[str, str]
    team_roles: tuple[str, ...]
    problems: Problems
    done: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return self.view.to_dict()

    @property
    def secondary_drivers(self) -> list[tuple[int, str]]:
        return [(s.id, s.text) for p in self.view.drivers for s in p.children]

    @property
    def primary_options(self) -> list[tuple[int, str]]:
        return [(p.id, p.text) for p in self.view.drivers]

    @property
    def all_driver_options(self) -> list[tuple[int, str]]:
        return [o for p in self.view.drivers for o in [(p.id, p.text), *((s.id, f"– {s.text}") for s in p.children)]]

    @property
    def library_options(self) -> list[tuple[int, str]]:
        return [(i, f"{t} ({w})") for i, t, w in self.view.ideas if w != "This project"]

    @property
    def measure_options(self) -> list[tuple[int, str]]:
        return [(m.id, m.title) for m in self.view.measures]

    @property
    def team_role_options(self) -> list[tuple[str, str]]:
        return [(r, r) for r in self.team_roles]

    @property
    def full_charts(self) -> dict[int, Markup]:
        """Full-size charts with their PDSA and note markers, for the printable project summary."""
        return {m.id: _run_svg(m, small=False, element_id=f"summary-chart-{m.id}") for m in self.view.measures}


def project_page(
    services: Services,
    access: Access,
    project_id: int,
    problems: Problems | None = None,
    done: str | None = None,
) -> ProjectPage:
    try:
        view = queries.project_view(services.settings.database_url, access, services.results, project_id)
    except QiNotFound as error:
        raise _not_found(error) from None
    return ProjectPage(
        title=view.title,
        view=view,
        charts={m.id: _run_svg(m, small=True, element_id=f"chart-{m.id}") for m in view.measures},
        diagram=Markup(driver_diagram(view)),
        aim_gaps=aim_gaps(view.aim_what, view.aim_how_much, view.aim_by_when),
        scale=progress_scale(),
        statuses=PROJECT_STATUSES,
        measure_kinds=MEASURE_KINDS,
        matneo_measures=[(m.id, m.title) for m in MEASURES],
        units=CUSTOM_UNITS,
        frequencies=FREQUENCIES,
        directions=DIRECTIONS,
        rule_sets=RULE_SET_LABELS,
        team_roles=TEAM_ROLES,
        problems=problems or Problems(),
        done=done,
    )


def driver_diagram(view: queries.ProjectView) -> str:
    return driver_diagram_svg(
        view.aim,
        [(p.text, [(s.text, [t for _, t in s.ideas]) for s in p.children]) for p in view.drivers],
    )


def diagram_svg(services: Services, access: Access, project_id: int) -> str:
    try:
        view = queries.project_view(services.settings.database_url, access, None, project_id)
    except QiNotFound as error:
        raise _not_found(error) from None
    return driver_diagram(view)


# -- measure ----------------------------------------------------------------------------------
@dataclass
class MeasurePage:
    title: str
    project: queries.ProjectView
    measure: queries.MeasureView
    chart: Markup
    rule_sets: dict[str, str]
    problems: Problems
    done: str | None = None
    report: Any = None

    def to_dict(self) -> dict[str, Any]:
        return self.measure.to_dict() | {"project": {"id": self.project.id, "title": self.project.title}}

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["period", "period_start", "value", "numerator", "denominator", "median"])
        writer.writerows(queries.export_rows(self.measure))
        return out.getvalue()

    @property
    def analysis_rows(self) -> list[tuple[str, str]]:
        a = self.measure.analysis
        if a is None:
            return []
        rows = [("Median (centre line)", f"{a.median:,.2f}" if a.median is not None else "–")]
        rows.append(("Points not on the median", str(a.n_useful)))
        if a.rule_set == "anhoej":
            rows += [
                (
                    "Longest run",
                    f"{a.longest_run} (signal if more than {a.longest_run_limit})" if a.longest_run else "–",
                ),
                (
                    "Crossings",
                    f"{a.crossings} (signal if fewer than {a.crossings_limit})" if a.crossings is not None else "–",
                ),
            ]
        else:
            rows += [
                ("Shifts (6 or more on one side)", str(len(a.shifts))),
                ("Trends (5 or more going one way)", str(len(a.trends))),
                (
                    "Runs",
                    f"{a.runs} (expected {a.runs_limits[0]} to {a.runs_limits[1]}; needs local confirmation)"
                    if a.runs_limits
                    else f"{a.runs} (the runs rule needs 10 to 60 points)",
                ),
            ]
        return rows


def measure_page(
    services: Services,
    access: Access,
    measure_id: int,
    rule_set: str | None = None,
    problems: Problems | None = None,
    done: str | None = None,
    report: Any = None,
) -> MeasurePage:
    if rule_set is not None and rule_set not in RULE_SET_LABELS:
        rule_set = None
    try:
        project, measure = queries.measure_view(
            services.settings.database_url, access, services.results, measure_id, rule_set
        )
    except QiNotFound as error:
        raise _not_found(error) from None
    return MeasurePage(
        title=measure.title,
        project=project,
        measure=measure,
        chart=_run_svg(measure, small=False, element_id="run-chart"),
        rule_sets=RULE_SET_LABELS,
        problems=problems or Problems(),
        done=done,
        report=report,
    )


# -- PDSA -------------------------------------------------------------------------------------
@dataclass
class PdsaPage:
    title: str
    project: queries.ProjectView
    cycle: queries.PdsaView | None
    acts: dict[str, str]
    problems: Problems

    def value(self, name: str) -> Any:
        if self.problems and name in self.problems.values:
            return self.problems.values[name]
        if self.cycle is None:
            return ""
        mapping = {"do_notes": "do_notes", "study_notes": "study_notes"}
        value = getattr(self.cycle, mapping.get(name, name), "")
        if isinstance(value, dt.date):
            return value.isoformat()
        return "" if value is None else value


def pdsa_page(
    services: Services, access: Access, project_id: int, pdsa_id: int | None = None, problems: Problems | None = None
) -> PdsaPage:
    try:
        project = queries.project_view(services.settings.database_url, access, None, project_id)
    except QiNotFound as error:
        raise _not_found(error) from None
    cycle = None
    if pdsa_id is not None:
        cycle = next((c for c in project.pdsa if c.id == pdsa_id), None)
        if cycle is None:
            raise NotFound("That PDSA cycle is not in this project.")
    title = cycle.title if cycle else "New PDSA cycle"
    return PdsaPage(title, project, cycle, ACT_CHOICES, problems or Problems("pdsa"))
