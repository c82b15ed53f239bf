"""QI pages: one typed context per page, built from :mod:`matneo.qi.queries` (which applies the
access rules), with the SVG drawn by :mod:`matneo.qi.svg`. Routes live in ``web/routes_qi.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from matneo.auth.access import Access
from matneo.dates import moment_text
from matneo.db.models import utcnow
from matneo.measures.definitions import MEASURES, MEASURES_BY_ID
from matneo.qi import export, queries
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
    UNIT_MULTIPLIERS,
    FieldError,
    QiInputError,
    aim_gaps,
    matneosip_priorities,
    progress_scale,
)
from matneo.qi.svg import driver_diagram_svg, measure_spc_svg, run_chart_svg
from matneo.reviews.rules import ACTION_STATUSES
from matneo.web.services import NotFound, Services

__all__ = [
    "CollaborativePage",
    "HomePage",
    "MeasurePage",
    "OverviewPage",
    "PdsaPage",
    "ProjectPage",
    "collaborative_page",
    "home_page",
    "measure_page",
    "overview_page",
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
            title=m.chart_title,
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
    priorities: dict[str, str] = field(default_factory=dict)
    #: Sites a new project may be of: those of the trusts the user can start projects for (their own
    #: trust for trust staff). The domain (:func:`matneo.qi.actions.create_project`) checks the
    #: chosen site belongs to the chosen trust.
    site_options: list[tuple[str, str]] = field(default_factory=list)

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
        priorities=matneosip_priorities().names,
        site_options=_site_options(services, sorted(trusts, key=lambda t: t[1])),
    )


def _site_options(services: Services, trusts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(site code, label) for each site of these trusts; the trust's name is added when there are several."""
    several = len(trusts) > 1
    return [
        (site.code, f"{site.name} ({name})" if several else site.name)
        for code, name in trusts
        for site in services.hierarchy.sites_of(code)
    ]


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
    priorities: Any = None

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
        priorities=matneosip_priorities(),
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
    priorities: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return self.view.to_dict()

    @property
    def action_statuses(self) -> Mapping[str, str]:
        return ACTION_STATUSES

    @property
    def linked_action_options(self) -> list[tuple[int, str]]:
        return [
            (a["id"], f"Review {a['review_id']}: {(a['description'] or 'an action')[:120]}")
            for a in self.view.review_actions
        ]

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
        priorities=matneosip_priorities().names,
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
    spc_chart: Markup | None = None
    spc_words: str = ""

    def to_dict(self) -> dict[str, Any]:
        return self.measure.to_dict() | {"project": {"id": self.project.id, "title": self.project.title}}

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["period", "period_start", "value", "numerator", "denominator", "median", "counted_for"])
        writer.writerows(queries.export_rows(self.measure))
        return out.getvalue()

    @property
    def astronomical_text(self) -> str:
        """The marked periods as the settings form shows them (ISO months or week starts)."""
        fmt = "%Y-%m" if self.measure.frequency == "month" else "%Y-%m-%d"
        return ", ".join(d.strftime(fmt) for d in self.measure.astronomical)

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
                    "Astronomical points (marked by the team)",
                    ", ".join(self.measure.points[i].label for i in a.astronomical) or "None marked",
                ),
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
    spc_chart, spc_words = spc_of(measure)
    return MeasurePage(
        title=measure.title,
        project=project,
        measure=measure,
        chart=_run_svg(measure, small=False, element_id="run-chart"),
        rule_sets=RULE_SET_LABELS,
        problems=problems or Problems(),
        done=done,
        report=report,
        spc_chart=Markup(spc_chart) if spc_chart else None,
        spc_words=spc_words,
    )


def spc_of(m: queries.MeasureView) -> tuple[str | None, str]:
    """The measure's Making Data Count SPC chart (beside its run chart), or why there is none."""
    if m.source == "matneo" and m.matneo_measure in MEASURES_BY_ID:
        multiplier: float | None = float(MEASURES_BY_ID[m.matneo_measure].multiplier)
    else:
        multiplier = UNIT_MULTIPLIERS.get(m.unit)
    return measure_spc_svg(
        [p.period_start for p in m.points],
        [p.value for p in m.points],
        [p.numerator for p in m.points],
        [p.denominator for p in m.points],
        multiplier=multiplier,
        direction=m.direction,
        baseline=m.baseline_points,
        title=m.chart_title,
        unit=m.unit_label,
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


# -- exports: PNG and PDF ---------------------------------------------------------------------
@dataclass(frozen=True)
class Download:
    """A file to send as an attachment."""

    data: bytes
    media_type: str
    filename: str


MEDIA_TYPES = {"png": "image/png", "pdf": "application/pdf"}


def _made() -> str:
    return moment_text(utcnow())


def _figure(services: Services, svg: str, title: str, caption: str, fmt: str, filename: str) -> Download:
    chromium = services.settings.chromium
    if fmt == "png":
        data = export.figure_png(svg, title, caption, generated=_made(), chromium=chromium)
    else:
        data = export.pdf_of(export.figure_html(svg, title, caption, generated=_made()), chromium)
    return Download(data, MEDIA_TYPES[fmt], f"{filename}.{fmt}")


def diagram_download(services: Services, access: Access, project_id: int, fmt: str) -> Download:
    """The driver diagram as PNG or PDF (raises :class:`~matneo.qi.export.PdfUnavailable` without Chromium)."""
    try:
        view = queries.project_view(services.settings.database_url, access, None, project_id)
    except QiNotFound as error:
        raise _not_found(error) from None
    return _figure(
        services,
        driver_diagram(view),
        f"Driver diagram: {view.title}",
        f"{view.trust_name} improvement project",
        fmt,
        f"driver-diagram-{project_id}",
    )


def chart_download(
    services: Services, access: Access, measure_id: int, rule_set: str | None, chart: str, fmt: str
) -> Download:
    """A measure's run chart (with its markers) or SPC chart as PNG or PDF."""
    page = measure_page(services, access, measure_id, rule_set)
    m = page.measure
    if chart == "spc":
        svg, words = spc_of(m)
        if svg is None:
            raise NotFound(words)
        caption = f"{page.project.title} · {words}"
    else:
        svg = str(page.chart)
        caption = f"{page.project.title} · run chart, {page.rule_sets[m.rule_set]}"
    return _figure(services, svg, f"{m.chart_title} ({m.unit_label})", caption, fmt, f"measure-{measure_id}-{chart}")


def summary_download(services: Services, access: Access, project_id: int) -> Download:
    """The project summary as a PDF printed from a standalone copy of the summary page."""
    page = project_page(services, access, project_id)
    html = export.summary_html(page, page.full_charts, page.diagram, _made())
    return Download(
        export.pdf_of(html, services.settings.chromium), MEDIA_TYPES["pdf"], f"project-{project_id}-summary.pdf"
    )


# -- LMNS / region overview -------------------------------------------------------------------
@dataclass
class OverviewPage:
    title: str
    view: queries.OverviewView
    statuses: dict[str, str]
    scale: Any
    priorities: Any
    areas: list[tuple[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return self.view.to_dict()


def overview_page(services: Services, access: Access, org_code: str) -> OverviewPage:
    """Improvement work across an organisation's trusts (an LMNS, a region, England or one trust)."""
    try:
        view = queries.overview(services.settings.database_url, access, services.results, org_code)
    except QiNotFound as error:
        raise _not_found(error) from None
    return OverviewPage(
        title=f"Improvement work in {view.org_name}",
        view=view,
        statuses=PROJECT_STATUSES,
        scale=progress_scale(),
        priorities=matneosip_priorities(),
        areas=overview_areas(services, access),
    )


def overview_areas(services: Services, access: Access) -> list[tuple[str, str]]:
    """The user's own organisation and the LMNSs and regions in their scope, for the overview links."""
    own = services.hierarchy.get(access.user.org_code)
    found = [(own.code, own.name)]
    for level in ("region", "lmns"):
        found += sorted(
            (
                (o.code, o.name)
                for o in services.hierarchy.organisations.values()
                if o.level == level and o.code != own.code and access.in_scope(o.code)
            ),
            key=lambda o: o[1],
        )
    return found[:60]
