"""What a user may see of QI work, as plain data for pages, the API and exports.

Every function takes the user's :class:`~matneo.auth.access.Access` and applies
:mod:`matneo.qi.access` in the query itself. MatNeo measures are read through the result
cache's :meth:`~matneo.measures.results.ResultCache.view`, so a measure of a trust outside the
user's scope comes suppressed exactly as on the organisation pages, and fills itself on every
load (a new records-store version recomputes the cache).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matneo.auth.access import Access
from matneo.dates import day_text
from matneo.db.models import (
    QiAnnotation,
    QiChangeIdea,
    QiCollaborative,
    QiDriver,
    QiDriverIdea,
    QiMeasure,
    QiMeasureValue,
    QiMember,
    QiPdsa,
    QiProject,
    QiProjectCollaborative,
    QiTeamMember,
    QiWave,
    Signal,
)
from matneo.db.session import transaction
from matneo.measures.definitions import MEASURES_BY_ID, UNIT_LABELS
from matneo.measures.sites import site_series
from matneo.qi.access import (
    QiNotFound,
    can_edit_project,
    can_manage_collaborative,
    collaborative_for,
    project_for,
    visible_collaborative_ids,
    visible_project_ids,
)
from matneo.qi.core import (
    CUSTOM_UNITS,
    PROJECT_STATUSES,
    Entry,
    ProgressSuggestion,
    Quarter,
    aim_statement,
    improved,
    last_quarters,
    matneosip_priorities,
    period_text,
    progress_scale,
    progress_suggestion,
    stage_per_quarter,
    sustained,
)
from matneo.qi.models import QiProgressChange, QiReviewActionLink
from matneo.reviews.models import Review, ReviewAction
from matneo.stats.runchart import RunChartResult, run_chart

#: Months of a MatNeo measure shown on a project chart: enough for a baseline and the change.
MATNEO_MONTHS = 36


@dataclass(frozen=True)
class Point:
    """One period of a measure as charted: value in the measure's unit (None: missing or suppressed)."""

    period_start: dt.date
    label: str
    value: float | None
    numerator: float | None
    denominator: float | None
    suppressed: bool = False


@dataclass(frozen=True)
class Marker:
    """A PDSA cycle or annotation pinned to a date on a chart."""

    on: dt.date
    kind: str  # pdsa | note
    text: str
    ref: int


@dataclass
class MeasureView:
    id: int
    project_id: int
    kind: str
    source: str
    matneo_measure: str | None
    title: str
    unit: str
    unit_label: str
    frequency: str
    direction: str
    rule_set: str
    baseline_points: int | None
    baseline_reason: str
    is_key: bool
    site_name: str | None = None  # a MatNeo measure of a site project: charted for this site only
    astronomical: list[dt.date] = field(default_factory=list)  # periods the team marked
    points: list[Point] = field(default_factory=list)
    analysis: RunChartResult | None = None
    markers: list[Marker] = field(default_factory=list)

    @property
    def site_label(self) -> str | None:
        """The words "Site: NAME" when the series counts one site's births only (said on every chart of it)."""
        return f"Site: {self.site_name}" if self.site_name else None

    @property
    def chart_title(self) -> str:
        return f"{self.title} · {self.site_label}" if self.site_label else self.title

    @property
    def improved(self) -> bool:
        return self.analysis is not None and improved(self.analysis, self.direction)

    @property
    def sustained(self) -> bool:
        return self.analysis is not None and sustained(self.analysis, self.direction)

    def to_dict(self) -> dict[str, Any]:
        a = self.analysis
        return {
            "id": self.id,
            "project_id": self.project_id,
            "kind": self.kind,
            "source": self.source,
            "matneo_measure": self.matneo_measure,
            "title": self.title,
            "unit": self.unit,
            "frequency": self.frequency,
            "direction": self.direction,
            "rule_set": self.rule_set,
            "baseline_points": self.baseline_points,
            "baseline_reason": self.baseline_reason,
            "is_key": self.is_key,
            "site_name": self.site_name,
            "astronomical": self.astronomical,
            "points": [
                {
                    "period_start": p.period_start,
                    "period": p.label,
                    "value": p.value,
                    "numerator": p.numerator,
                    "denominator": p.denominator,
                    "suppressed": p.suppressed,
                }
                for p in self.points
            ],
            "run_chart": None
            if a is None
            else {
                "rule_set": a.rule_set,
                "median": a.median,
                "n_useful": a.n_useful,
                "longest_run": a.longest_run,
                "longest_run_limit": a.longest_run_limit,
                "crossings": a.crossings,
                "crossings_limit": a.crossings_limit,
                "runs": a.runs,
                "runs_limits": list(a.runs_limits) if a.runs_limits else None,
                "shifts": [list(s) for s in a.shifts],
                "trends": [list(t) for t in a.trends],
                "astronomical": list(a.astronomical),
                "signal": a.signal,
                "improved": self.improved,
            },
            "markers": [{"on": m.on, "kind": m.kind, "text": m.text, "ref": m.ref} for m in self.markers],
        }


def _scope(access: Access) -> frozenset[str] | None:
    return None if access.sees_everything else access.scope


def matneo_points(results: Any, access: Access, measure_id: str, trust: str, site: str | None = None) -> list[Point]:
    """The last :data:`MATNEO_MONTHS` months of a MatNeo measure for a trust (or one of its sites),
    as this user may see them.

    A site's series counts that site's records only (:mod:`matneo.measures.sites`): unsuppressed
    for a reader whose scope holds the trust, as the trust's own figures are; suppressed for
    anyone else (small numbers, with secondary suppression against the trust's total).
    """
    try:
        if site is not None:
            rows = site_series(results, trust, site, measure_id, in_scope=access.in_scope(trust))
        else:
            rows = results.view(_scope(access), measure_id, "month", orgs=[trust])
    except FileNotFoundError:
        return []
    if rows.is_empty():
        return []
    rows = rows.sort("period_start").tail(MATNEO_MONTHS)
    points = []
    for r in rows.iter_rows(named=True):
        suppressed = bool(r["suppressed"])
        value = r["value"]
        if value is not None and value != value:  # NaN
            value = None
        points.append(
            Point(
                period_start=r["period_start"],
                label=period_text("month", r["period_start"]),
                value=None if suppressed else value,
                numerator=None if suppressed else r["numerator"],
                denominator=None if suppressed else r["denominator"],
                suppressed=suppressed,
            )
        )
    return points


def _custom_points(session: Session, measure: QiMeasure) -> list[Point]:
    return _custom_points_of(session, [measure]).get(measure.id, [])


def _custom_points_of(session: Session, measures: list[QiMeasure]) -> dict[int, list[Point]]:
    """Every custom measure's points in one query (a dashboard of 50 projects makes one, not 50)."""
    by_id = {m.id: m for m in measures if m.source == "custom"}
    out: dict[int, list[Point]] = defaultdict(list)
    if not by_id:
        return out
    rows = session.execute(
        select(
            QiMeasureValue.measure_id,
            QiMeasureValue.period_start,
            QiMeasureValue.numerator,
            QiMeasureValue.denominator,
            QiMeasureValue.value,
        )
        .where(QiMeasureValue.measure_id.in_(list(by_id)))
        .order_by(QiMeasureValue.measure_id, QiMeasureValue.period_start)
    )
    for mid, start, num, den, value in rows:
        m = by_id[mid]
        plotted = Entry(start, num, den, value).plotted(m.unit)
        out[mid].append(Point(start, period_text(m.frequency, start), plotted, num, den))
    return out


def _unit_label(unit: str) -> str:
    return UNIT_LABELS.get(unit) or CUSTOM_UNITS.get(unit, unit)


def _measure_view(
    session: Session,
    access: Access,
    results: Any,
    measure: QiMeasure,
    trust: str,
    markers: list[Marker],
    rule_set: str | None = None,
    custom: list[Point] | None = None,
    site: str | None = None,
) -> MeasureView:
    site_name = None
    if measure.source == "matneo" and measure.matneo_measure in MEASURES_BY_ID:
        points = matneo_points(results, access, measure.matneo_measure, trust, site) if results is not None else []
        site_name = _site_name(access, site)
    else:
        points = custom if custom is not None else _custom_points(session, measure)
    chosen = rule_set or measure.rule_set
    analysis = None
    marked = {dt.date.fromisoformat(d) for d in json.loads(measure.astronomical or "[]")}
    if points:
        baseline = (
            measure.baseline_points if measure.baseline_points and measure.baseline_points <= len(points) else None
        )
        analysis = run_chart(
            [p.value for p in points],
            rule_set=chosen,  # type: ignore[arg-type]
            baseline=baseline,
            astronomical=[i for i, p in enumerate(points) if p.period_start in marked],
        )
    first = points[0].period_start if points else None
    return MeasureView(
        id=measure.id,
        project_id=measure.project_id,
        kind=measure.kind,
        source=measure.source,
        matneo_measure=measure.matneo_measure,
        title=measure.title,
        unit=measure.unit,
        unit_label=_unit_label(measure.unit),
        frequency=measure.frequency,
        direction=measure.direction,
        rule_set=chosen,
        baseline_points=measure.baseline_points,
        baseline_reason=measure.baseline_reason,
        is_key=measure.is_key,
        site_name=site_name,
        astronomical=sorted(marked),
        points=points,
        analysis=analysis,
        markers=[m for m in markers if first is None or m.on >= first],
    )


def _site_name(access: Access, site: str | None) -> str | None:
    if site is None:
        return None
    found = access.hierarchy.sites.get(site)
    return found.name if found is not None else site


def _markers(session: Session, project_id: int, measure_id: int | None = None) -> list[Marker]:
    found = [
        Marker(c.starts_on, "pdsa", f"PDSA: {c.title}", c.id)
        for c in session.scalars(select(QiPdsa).where(QiPdsa.project_id == project_id))
    ]
    notes = select(QiAnnotation).where(QiAnnotation.project_id == project_id)
    for n in session.scalars(notes):
        if n.measure_id is None or n.measure_id == measure_id:
            found.append(Marker(n.on_date, "note", n.text, n.id))
    return sorted(found, key=lambda m: (m.on, m.kind, m.ref))


@dataclass
class DriverNode:
    id: int
    text: str
    ideas: list[tuple[int, str]] = field(default_factory=list)
    children: list[DriverNode] = field(default_factory=list)


@dataclass
class PdsaView:
    id: int
    title: str
    change_idea_id: int | None
    change_idea: str | None
    question: str
    prediction: str
    plan: str
    data_to_collect: str
    do_notes: str
    study_notes: str
    act: str | None
    act_notes: str
    starts_on: dt.date
    ends_on: dt.date | None

    @property
    def stage(self) -> str:
        if self.act:
            return "Act"
        if self.study_notes:
            return "Study"
        if self.do_notes:
            return "Do"
        return "Plan"


@dataclass
class ProjectView:
    id: int
    trust_code: str
    trust_name: str
    team: str
    title: str
    problem: str
    aim_what: str
    aim_how_much: str
    aim_by_when: dt.date | None
    status: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    motivation: str
    progress_score: float | None
    progress_set_by: str | None
    progress_set_at: dt.datetime | None
    can_edit: bool
    collaboratives: list[tuple[int, str]]
    team_members: list[tuple[str, str]]
    drivers: list[DriverNode]
    ideas: list[tuple[int, str, str]]  # id, title, where from
    measures: list[MeasureView]
    pdsa: list[PdsaView]
    annotations: list[tuple[int, dt.date, str, int | None]]
    suggestion: ProgressSuggestion
    signal: dict[str, Any] | None = None  # the signal that prompted it: details only within the trust's scope
    signal_linked: bool = False
    signal_options: list[tuple[int, str]] = field(default_factory=list)
    priority: str | None = None
    # Linked review actions: their text only for staff of the project's trust (as on the review page).
    review_actions: list[dict[str, Any]] = field(default_factory=list)
    review_actions_linked: int = 0
    review_action_options: list[tuple[int, str]] = field(default_factory=list)
    can_link_reviews: bool = False
    join_options: list[tuple[int, str]] = field(default_factory=list)  # collaboratives it could join
    site_code: str | None = None  # one site of the trust: its MatNeo measures count that site's births
    site_name: str | None = None
    site_options: list[tuple[str, str]] = field(default_factory=list)  # the trust's sites, to choose from

    @property
    def priority_name(self) -> str | None:
        return matneosip_priorities().names.get(self.priority or "", self.priority)

    @property
    def aim(self) -> str:
        return aim_statement(self.aim_what, self.aim_how_much, self.aim_by_when)

    @property
    def key_measure(self) -> MeasureView | None:
        keyed = [m for m in self.measures if m.is_key]
        outcome = [m for m in self.measures if m.kind == "outcome"]
        chosen = keyed or outcome or self.measures
        return chosen[0] if chosen else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "trust_code": self.trust_code,
            "trust_name": self.trust_name,
            "site_code": self.site_code,
            "site_name": self.site_name,
            "team": self.team,
            "title": self.title,
            "problem": self.problem,
            "aim": {"what": self.aim_what, "how_much": self.aim_how_much, "by_when": self.aim_by_when},
            "aim_statement": self.aim,
            "status": self.status,
            "starts_on": self.starts_on,
            "ends_on": self.ends_on,
            "motivation": self.motivation,
            "signal": self.signal,
            "signal_linked": self.signal_linked,
            "priority": self.priority,
            "priority_name": self.priority_name,
            "review_actions": self.review_actions,
            "review_actions_linked": self.review_actions_linked,
            "progress": {
                "score": self.progress_score,
                "set_by": self.progress_set_by,
                "set_at": self.progress_set_at,
                "suggestion": {
                    "score": self.suggestion.score,
                    "reason": self.suggestion.reason,
                    "label": self.suggestion.label,
                },
            },
            "collaboratives": [{"id": i, "name": n} for i, n in self.collaboratives],
            "team_members": [{"name": n, "role": r} for n, r in self.team_members],
            "driver_diagram": {
                "aim": self.aim,
                "primary": [
                    {
                        "id": p.id,
                        "text": p.text,
                        "secondary": [
                            {"id": s.id, "text": s.text, "change_ideas": [{"id": i, "title": t} for i, t in s.ideas]}
                            for s in p.children
                        ],
                    }
                    for p in self.drivers
                ],
            },
            "change_ideas": [{"id": i, "title": t, "from": w} for i, t, w in self.ideas],
            "measures": [m.to_dict() for m in self.measures],
            "pdsa_cycles": [
                {
                    "id": c.id,
                    "title": c.title,
                    "stage": c.stage,
                    "change_idea_id": c.change_idea_id,
                    "question": c.question,
                    "prediction": c.prediction,
                    "plan": c.plan,
                    "data_to_collect": c.data_to_collect,
                    "do": c.do_notes,
                    "study": c.study_notes,
                    "act": c.act,
                    "act_notes": c.act_notes,
                    "starts_on": c.starts_on,
                    "ends_on": c.ends_on,
                }
                for c in self.pdsa
            ],
            "annotations": [{"id": i, "on": d, "text": t, "measure_id": m} for i, d, t, m in self.annotations],
        }


def _drivers(session: Session, project_id: int) -> list[DriverNode]:
    rows = list(
        session.scalars(
            select(QiDriver).where(QiDriver.project_id == project_id).order_by(QiDriver.position, QiDriver.id)
        )
    )
    links: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if rows:
        joined = session.execute(
            select(QiDriverIdea.driver_id, QiChangeIdea.id, QiChangeIdea.title)
            .join(QiChangeIdea, QiChangeIdea.id == QiDriverIdea.idea_id)
            .where(QiDriverIdea.driver_id.in_([r.id for r in rows]))
            .order_by(QiChangeIdea.id)
        )
        for driver_id, idea_id, title in joined:
            links[driver_id].append((idea_id, title))
    primaries = [DriverNode(r.id, r.text) for r in rows if r.kind == "primary"]
    by_id = {p.id: p for p in primaries}
    for r in rows:
        if r.kind == "secondary" and r.parent_id in by_id:
            by_id[r.parent_id].children.append(DriverNode(r.id, r.text, links[r.id]))
    return primaries


def project_view(
    url: str, access: Access, results: Any, project_id: int, *, measure_rule_sets: dict[int, str] | None = None
) -> ProjectView:
    """Everything the project page shows, with each measure's chart analysed."""
    with transaction(url) as session:
        project = project_for(session, access, project_id)
        return _project_view(session, access, results, project, measure_rule_sets or {})


def _project_view(
    session: Session, access: Access, results: Any, project: QiProject, rule_sets: dict[int, str]
) -> ProjectView:
    pid = project.id
    collaboratives = list(
        session.execute(
            select(QiCollaborative.id, QiCollaborative.name)
            .join(QiProjectCollaborative, QiProjectCollaborative.collaborative_id == QiCollaborative.id)
            .where(QiProjectCollaborative.project_id == pid)
            .order_by(QiCollaborative.name)
        )
    )
    collab_ids = [c[0] for c in collaboratives]
    own_ideas = [
        (i.id, i.title, "This project")
        for i in session.scalars(select(QiChangeIdea).where(QiChangeIdea.project_id == pid))
    ]
    library = []
    if collab_ids:
        names = dict((c[0], c[1]) for c in collaboratives)
        library = [
            (i.id, i.title, f"{names[i.collaborative_id]} library")  # type: ignore[index]
            for i in session.scalars(
                select(QiChangeIdea).where(QiChangeIdea.collaborative_id.in_(collab_ids)).order_by(QiChangeIdea.title)
            )
            if i.project_id != pid
        ]
    idea_titles = {i: t for i, t, _ in own_ideas + library}
    measures = []
    for m in session.scalars(select(QiMeasure).where(QiMeasure.project_id == pid).order_by(QiMeasure.id)):
        measures.append(
            _measure_view(
                session,
                access,
                results,
                m,
                project.trust_code,
                _markers(session, pid, m.id),
                rule_sets.get(m.id),
                site=project.site_code,
            )
        )
    pdsa = [
        PdsaView(
            c.id,
            c.title,
            c.change_idea_id,
            idea_titles.get(c.change_idea_id) if c.change_idea_id else None,
            c.question,
            c.prediction,
            c.plan,
            c.data_to_collect,
            c.do_notes,
            c.study_notes,
            c.act,
            c.act_notes,
            c.starts_on,
            c.ends_on,
        )
        for c in session.scalars(select(QiPdsa).where(QiPdsa.project_id == pid).order_by(QiPdsa.starts_on, QiPdsa.id))
    ]
    team = [
        (t.name, t.role)
        for t in session.scalars(select(QiTeamMember).where(QiTeamMember.project_id == pid).order_by(QiTeamMember.id))
    ]
    outcome = [m for m in measures if m.kind == "outcome"]
    suggestion = progress_suggestion(
        has_aim=bool(project.aim_what and project.aim_how_much and project.aim_by_when),
        has_team=bool(team),
        measures_with_data=sum(1 for m in measures if m.points),
        pdsa_cycles=len(pdsa),
        adopted=sum(1 for c in pdsa if c.act == "adopt"),
        outcome_improved=any(m.improved for m in outcome),
        process_improved=any(m.improved for m in measures if m.kind == "process"),
        outcome_sustained=any(m.sustained for m in outcome),
    )
    notes = [
        (n.id, n.on_date, n.text, n.measure_id)
        for n in session.scalars(
            select(QiAnnotation).where(QiAnnotation.project_id == pid).order_by(QiAnnotation.on_date)
        )
    ]
    signal = None
    options: list[tuple[int, str]] = []
    if access.in_scope(project.trust_code):
        if project.signal_id is not None:
            row = session.get(Signal, project.signal_id)
            if row is not None:
                signal = {"id": row.id, "measure": row.measure, "status": row.status, "summary": row.summary}
        if can_edit_project(access, project):
            options = [
                (r.id, f"{r.summary} ({r.status})")
                for r in session.scalars(
                    select(Signal)
                    .where(Signal.trust_code == project.trust_code)
                    .order_by(Signal.first_signal_date.desc())
                )
            ]
    links = _review_links(session, access, project)
    joinable: list[tuple[int, str]] = []
    if can_edit_project(access, project):
        member_of = set(
            session.scalars(select(QiMember.collaborative_id).where(QiMember.trust_code == project.trust_code))
        )
        candidates = (member_of & visible_collaborative_ids(session, access)) - set(collab_ids)
        if candidates:
            joinable = [
                (c.id, c.name)
                for c in session.scalars(
                    select(QiCollaborative)
                    .where(QiCollaborative.id.in_(list(candidates)))
                    .order_by(QiCollaborative.name)
                )
            ]
    return ProjectView(
        **links,
        join_options=joinable,
        priority=project.priority,
        signal=signal,
        signal_linked=project.signal_id is not None,
        signal_options=options,
        id=pid,
        trust_code=project.trust_code,
        trust_name=access.hierarchy.get(project.trust_code).name,
        site_code=project.site_code,
        site_name=_site_name(access, project.site_code),
        site_options=[(x.code, x.name) for x in access.hierarchy.sites_of(project.trust_code)],
        team=project.team,
        title=project.title,
        problem=project.problem,
        aim_what=project.aim_what,
        aim_how_much=project.aim_how_much,
        aim_by_when=project.aim_by_when,
        status=project.status,
        starts_on=project.starts_on,
        ends_on=project.ends_on,
        motivation=project.motivation,
        progress_score=project.progress_score,
        progress_set_by=project.progress_set_by,
        progress_set_at=project.progress_set_at,
        can_edit=can_edit_project(access, project),
        collaboratives=[(c[0], c[1]) for c in collaboratives],
        team_members=team,
        drivers=_drivers(session, pid),
        ideas=own_ideas + library,
        measures=measures,
        pdsa=pdsa,
        annotations=notes,
        suggestion=suggestion,
    )


def can_link_reviews(access: Access, project: QiProject) -> bool:
    """Only staff of the project's own trust link it to review actions (they alone read the actions' text)."""
    return (
        can_edit_project(access, project)
        and access.user.role == "trust_staff"
        and access.user.org_code == project.trust_code
    )


def _review_links(session: Session, access: Access, project: QiProject) -> dict[str, Any]:
    """The review actions linked to ``project``: in full for its trust's staff; due date and status
    for others in the trust's scope; only how many for everyone else (the collaborative)."""
    own = access.user.org_code == project.trust_code and access.user.role == "trust_staff"
    rows = session.execute(
        select(ReviewAction, Review.death_date)
        .join(QiReviewActionLink, QiReviewActionLink.action_id == ReviewAction.id)
        .join(Review, Review.id == ReviewAction.review_id)
        .where(QiReviewActionLink.project_id == project.id)
        .order_by(ReviewAction.due_on, ReviewAction.id)
    ).all()
    linked = [
        {
            "id": a.id,
            "review_id": a.review_id,
            "description": a.description if own else None,
            "due_on": a.due_on,
            "status": a.status,
        }
        for a, _ in rows
    ]
    options: list[tuple[int, str]] = []
    can_link = can_link_reviews(access, project)
    if can_link:
        taken = {a["id"] for a in linked}
        options = [
            (a.id, f"{a.description[:120]} (review {a.review_id}, due {day_text(a.due_on)})")
            for a in session.scalars(
                select(ReviewAction)
                .join(Review, Review.id == ReviewAction.review_id)
                .where(Review.trust_code == project.trust_code, ReviewAction.status != "done")
                .order_by(ReviewAction.due_on, ReviewAction.id)
            )
            if a.id not in taken
        ]
    return {
        "review_actions": linked if access.in_scope(project.trust_code) else [],
        "review_actions_linked": len(linked),
        "review_action_options": options,
        "can_link_reviews": can_link,
    }


def projects_for_review_actions(
    session: Session, access: Access, action_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """The projects each review action is linked to, as far as this user can see them (the review side)."""
    if not action_ids:
        return {}
    visible = visible_project_ids(session, access)
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for action_id, pid, title in session.execute(
        select(QiReviewActionLink.action_id, QiProject.id, QiProject.title)
        .join(QiProject, QiProject.id == QiReviewActionLink.project_id)
        .where(QiReviewActionLink.action_id.in_(action_ids))
        .order_by(QiProject.title)
    ):
        if pid in visible:
            found[action_id].append({"id": pid, "title": title})
    return dict(found)


def projects_for_signals(url: str, access: Access, signal_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The projects each signal prompted, as far as this user can see them (the signals register side)."""
    if not signal_ids:
        return {}
    with transaction(url) as session:
        linked = session.execute(
            select(QiProject.id, QiProject.title, QiProject.signal_id, QiProject.trust_code)
            .where(QiProject.signal_id.in_(signal_ids))
            .order_by(QiProject.title)
        ).all()
        # Most signals prompted no project, and a project is mostly its own trust's: the wider
        # visibility (collaboratives, three queries) only when a linked project needs it. The
        # register shows on every overview and organisation page (issue 10: per-request time).
        outside = [pid for pid, _, _, trust in linked if not access.in_scope(trust)]
        visible = visible_project_ids(session, access) if outside else set()
        found: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for pid, title, signal_id, trust in linked:
            if signal_id is not None and (access.in_scope(trust) or pid in visible):
                found[signal_id].append({"id": pid, "title": title})
        return dict(found)


def measure_view(
    url: str, access: Access, results: Any, measure_id: int, rule_set: str | None = None
) -> tuple[ProjectView, MeasureView]:
    """One measure with its chart analysis (``rule_set`` overrides the saved one for this view)."""
    with transaction(url) as session:
        measure = session.get(QiMeasure, measure_id)
        if measure is None:
            from matneo.qi.access import QiNotFound

            raise QiNotFound(f"There is no measure {measure_id} that you can see.")
        project = project_for(session, access, measure.project_id)
        view = _project_view(session, access, results, project, {measure_id: rule_set} if rule_set else {})
    return view, next(m for m in view.measures if m.id == measure_id)


@dataclass
class ProjectSummary:
    id: int
    title: str
    trust_code: str
    trust_name: str
    status: str
    progress_score: float | None
    pdsa_cycles: int
    key_measure: MeasureView | None
    priority: str | None = None


@dataclass
class StageRow:
    """One trust's project on one MatNeoSIP priority: its stage (progress score) at each quarter's end."""

    trust_code: str
    trust_name: str
    priority: str
    priority_name: str
    project_id: int
    project_title: str
    stages: list[float | None]


@dataclass
class StageGrid:
    """The MatNeoSIP stage-per-quarter grid: which priorities each trust works on, and how far each got."""

    quarters: list[Quarter]
    rows: list[StageRow]

    def level_name(self, score: float | None) -> str:
        level = progress_scale().level(score)
        return level.name if level else "Not scored"

    def to_dict(self) -> dict[str, Any]:
        return {
            "quarters": [{"start": q.start, "end": q.end, "label": q.label} for q in self.quarters],
            "rows": [
                {
                    "trust_code": r.trust_code,
                    "priority": r.priority,
                    "project_id": r.project_id,
                    "stages": [
                        {"quarter": q.label, "score": v, "stage": self.level_name(v) if v is not None else None}
                        for q, v in zip(self.quarters, r.stages, strict=True)
                    ],
                }
                for r in self.rows
            ],
            "priorities_status": matneosip_priorities().status,
        }


#: Quarters the stage grid shows (two years).
GRID_QUARTERS = 8


def _stage_grid(session: Session, access: Access, projects: list[QiProject], today: dt.date) -> StageGrid:
    """Each project with a MatNeoSIP priority, its score at the end of each of the last quarters,
    read from the score history (``qi_progress_history``, written with every score set)."""
    quarters = last_quarters(today, GRID_QUARTERS)
    chosen = [p for p in projects if p.priority]
    history: dict[int, list[tuple[dt.datetime, float | None]]] = defaultdict(list)
    if chosen:
        for pid, set_at, score in session.execute(
            select(QiProgressChange.project_id, QiProgressChange.set_at, QiProgressChange.score)
            .where(QiProgressChange.project_id.in_([p.id for p in chosen]))
            .order_by(QiProgressChange.set_at, QiProgressChange.id)
        ):
            history[pid].append((set_at, score))
    names = matneosip_priorities().names
    order = {pid: i for i, pid in enumerate(names)}
    rows = [
        StageRow(
            p.trust_code,
            access.hierarchy.get(p.trust_code).name,
            p.priority or "",
            names.get(p.priority or "", p.priority or ""),
            p.id,
            p.title,
            stage_per_quarter(history[p.id], quarters),
        )
        for p in chosen
    ]
    rows.sort(key=lambda r: (r.trust_name, order.get(r.priority, len(order)), r.project_title))
    return StageGrid(quarters, rows)


def _key_measures(session: Session, access: Access, results: Any, projects: list[QiProject]) -> dict[int, MeasureView]:
    """Each project's key measure (marked key, else the first outcome, else the first), analysed.
    One query each for the measures and the custom values of every project, so a dashboard of
    fifty projects stays within its one-second budget."""
    project_ids = [p.id for p in projects]
    measures_of: dict[int, list[QiMeasure]] = defaultdict(list)
    if project_ids:
        for m in session.scalars(select(QiMeasure).where(QiMeasure.project_id.in_(project_ids)).order_by(QiMeasure.id)):
            measures_of[m.project_id].append(m)
    keys: dict[int, QiMeasure] = {}
    for pid, ms in measures_of.items():
        keys[pid] = next((m for m in ms if m.is_key), None) or next((m for m in ms if m.kind == "outcome"), ms[0])
    custom = _custom_points_of(session, list(keys.values()))
    by_id = {p.id: p for p in projects}
    return {
        pid: _measure_view(
            session,
            access,
            results,
            key,
            by_id[pid].trust_code,
            [],
            custom=custom.get(key.id, []),
            site=by_id[pid].site_code,
        )
        for pid, key in keys.items()
    }


@dataclass
class CollaborativeView:
    id: int
    name: str
    kind: str
    org_code: str
    org_name: str
    description: str
    can_manage: bool
    waves: list[tuple[int, str, dt.date | None, dt.date | None]]
    members: list[tuple[str, str, str | None]]  # code, name, wave
    projects: list[ProjectSummary]
    library: list[dict[str, Any]]
    stages: StageGrid | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "org_code": self.org_code,
            "description": self.description,
            "waves": [{"id": i, "name": n, "starts_on": s, "ends_on": e} for i, n, s, e in self.waves],
            "members": [{"trust_code": c, "name": n, "wave": w} for c, n, w in self.members],
            "projects": [
                {
                    "id": p.id,
                    "title": p.title,
                    "trust_code": p.trust_code,
                    "status": p.status,
                    "progress_score": p.progress_score,
                    "pdsa_cycles": p.pdsa_cycles,
                    "priority": p.priority,
                    "key_measure": p.key_measure.to_dict() if p.key_measure else None,
                }
                for p in self.projects
            ],
            "change_ideas": self.library,
            "stage_per_quarter": self.stages.to_dict() if self.stages else None,
        }


def list_collaboratives(url: str, access: Access) -> list[dict[str, Any]]:
    with transaction(url) as session:
        ids = visible_collaborative_ids(session, access)
        if not ids:
            return []
        counts = dict(
            session.execute(
                select(QiProjectCollaborative.collaborative_id, func.count())
                .where(QiProjectCollaborative.collaborative_id.in_(list(ids)))
                .group_by(QiProjectCollaborative.collaborative_id)
            ).all()
        )
        members = dict(
            session.execute(
                select(QiMember.collaborative_id, func.count())
                .where(QiMember.collaborative_id.in_(list(ids)))
                .group_by(QiMember.collaborative_id)
            ).all()
        )
        rows = session.scalars(
            select(QiCollaborative).where(QiCollaborative.id.in_(list(ids))).order_by(QiCollaborative.name)
        )
        return [
            {
                "id": c.id,
                "name": c.name,
                "kind": c.kind,
                "org_code": c.org_code,
                "projects": counts.get(c.id, 0),
                "members": members.get(c.id, 0),
            }
            for c in rows
        ]


def list_projects(url: str, access: Access) -> list[dict[str, Any]]:
    with transaction(url) as session:
        ids = visible_project_ids(session, access)
        if not ids:
            return []
        rows = session.scalars(select(QiProject).where(QiProject.id.in_(list(ids))).order_by(QiProject.title))
        return [
            {
                "id": p.id,
                "title": p.title,
                "trust_code": p.trust_code,
                "trust_name": access.hierarchy.get(p.trust_code).name,
                "status": p.status,
                "progress_score": p.progress_score,
                "can_edit": can_edit_project(access, p),
            }
            for p in rows
        ]


def collaborative_view(
    url: str, access: Access, results: Any, collaborative_id: int, query: str = "", today: dt.date | None = None
) -> CollaborativeView:
    """A collaborative's dashboard: members, every visible project's key measure, the shared library.

    ``query`` filters the change ideas library (title or description contains it).
    """
    with transaction(url) as session:
        c = collaborative_for(session, access, collaborative_id)
        visible = visible_project_ids(session, access)
        project_ids = [
            pid
            for pid in session.scalars(
                select(QiProjectCollaborative.project_id).where(
                    QiProjectCollaborative.collaborative_id == collaborative_id
                )
            )
            if pid in visible
        ]
        projects = (
            list(session.scalars(select(QiProject).where(QiProject.id.in_(project_ids)).order_by(QiProject.title)))
            if project_ids
            else []
        )
        pdsa_counts = (
            dict(
                session.execute(
                    select(QiPdsa.project_id, func.count())
                    .where(QiPdsa.project_id.in_(project_ids))
                    .group_by(QiPdsa.project_id)
                ).all()
            )
            if project_ids
            else {}
        )
        keyed = _key_measures(session, access, results, projects)
        summaries = [
            ProjectSummary(
                p.id,
                p.title,
                p.trust_code,
                access.hierarchy.get(p.trust_code).name,
                p.status,
                p.progress_score,
                pdsa_counts.get(p.id, 0),
                keyed.get(p.id),
                p.priority,
            )
            for p in projects
        ]
        waves = [
            (w.id, w.name, w.starts_on, w.ends_on)
            for w in session.scalars(
                select(QiWave).where(QiWave.collaborative_id == collaborative_id).order_by(QiWave.id)
            )
        ]
        wave_names = {w[0]: w[1] for w in waves}
        members = [
            (m.trust_code, access.hierarchy.get(m.trust_code).name, wave_names.get(m.wave_id) if m.wave_id else None)
            for m in session.scalars(select(QiMember).where(QiMember.collaborative_id == collaborative_id))
        ]
        members.sort(key=lambda m: m[1])
        library = _library(session, access, collaborative_id, visible, query)
        # What each testing project's key measure showed (issue 13: "what their measures showed").
        for idea in library:
            for tested in idea["tested_by"]:
                key = keyed.get(tested["project_id"])
                tested["key_measure"] = key.chart_title if key else None
                tested["key_measure_improved"] = key.improved if key else None
        return CollaborativeView(
            id=c.id,
            name=c.name,
            kind=c.kind,
            org_code=c.org_code,
            org_name=access.hierarchy.get(c.org_code).name,
            description=c.description,
            can_manage=can_manage_collaborative(access, c),
            waves=waves,
            members=members,
            projects=summaries,
            library=library,
            stages=_stage_grid(session, access, projects, today or dt.date.today()),
        )


def _library(
    session: Session, access: Access, collaborative_id: int, visible: set[int], query: str
) -> list[dict[str, Any]]:
    """Each library idea with the projects that tested it (PDSA cycles) and what they decided."""
    ideas = list(
        session.scalars(
            select(QiChangeIdea).where(QiChangeIdea.collaborative_id == collaborative_id).order_by(QiChangeIdea.title)
        )
    )
    q = query.strip().lower()
    if q:
        ideas = [i for i in ideas if q in i.title.lower() or q in i.description.lower()]
    tested: dict[int, dict[int, list[str | None]]] = defaultdict(lambda: defaultdict(list))
    if ideas:
        cycles = session.execute(
            select(QiPdsa.change_idea_id, QiPdsa.project_id, QiPdsa.act)
            .where(QiPdsa.change_idea_id.in_([i.id for i in ideas]))
            .order_by(QiPdsa.id)
        )
        for idea_id, project_id, act in cycles:
            if idea_id is not None and project_id in visible:
                tested[idea_id][project_id].append(act)
    project_ids = {pid for tests in tested.values() for pid in tests}
    titles = (
        dict(session.execute(select(QiProject.id, QiProject.title).where(QiProject.id.in_(list(project_ids)))).all())
        if project_ids
        else {}
    )
    return [
        {
            "id": idea.id,
            "title": idea.title,
            "description": idea.description,
            "tested_by": [
                {
                    "project_id": pid,
                    "title": titles.get(pid, ""),
                    "cycles": len(acts),
                    "decisions": [a for a in acts if a],
                }
                for pid, acts in sorted(tested[idea.id].items())
            ],
        }
        for idea in ideas
    ]


# -- LMNS / region overview -------------------------------------------------------------------
OVERVIEW_LEVELS = ("england", "region", "lmns", "trust")


@dataclass
class OverviewProject:
    id: int
    title: str
    trust_code: str
    trust_name: str
    priority: str | None
    status: str
    progress_score: float | None
    key_measure: str | None
    improved: bool
    sustained: bool


@dataclass
class OverviewView:
    """All improvement work in an organisation's trusts that the user can see, with its aggregates."""

    org_code: str
    org_name: str
    level: str
    trusts: list[tuple[str, str]]
    projects: list[OverviewProject]

    @property
    def by_priority(self) -> list[dict[str, Any]]:
        """Projects per MatNeoSIP priority (and those with none) and status, as counts."""
        names = matneosip_priorities().names
        rows: list[dict[str, Any]] = []
        for key, name in [*names.items(), (None, "No MatNeoSIP priority")]:
            chosen = [p for p in self.projects if p.priority == key]
            if not chosen:
                continue
            counts = {s: sum(1 for p in chosen if p.status == s) for s in PROJECT_STATUSES}
            rows.append(
                {
                    "priority": key,
                    "name": name,
                    "projects": len(chosen),
                    "trusts": len({p.trust_code for p in chosen}),
                    "statuses": counts,
                    "improving": sum(1 for p in chosen if p.improved),
                }
            )
        return rows

    @property
    def by_score(self) -> list[dict[str, Any]]:
        """How many projects are at each level of the progress scale (and how many have no score)."""
        scale = progress_scale()
        rows = [
            {
                "score": lv.score,
                "name": lv.name,
                "projects": sum(1 for p in self.projects if p.progress_score == lv.score),
            }
            for lv in scale.levels
        ]
        rows.append(
            {"score": None, "name": "Not scored", "projects": sum(1 for p in self.projects if p.progress_score is None)}
        )
        return rows

    @property
    def by_trust(self) -> list[dict[str, Any]]:
        rows = []
        for code, name in self.trusts:
            chosen = [p for p in self.projects if p.trust_code == code]
            scores = sorted(p.progress_score for p in chosen if p.progress_score is not None)
            rows.append(
                {
                    "trust_code": code,
                    "name": name,
                    "projects": len(chosen),
                    "active": sum(1 for p in chosen if p.status not in ("complete", "stopped")),
                    "highest_score": scores[-1] if scores else None,
                    "improving": sum(1 for p in chosen if p.improved),
                }
            )
        return rows

    @property
    def improving(self) -> int:
        return sum(1 for p in self.projects if p.improved)

    @property
    def sustained(self) -> int:
        return sum(1 for p in self.projects if p.sustained)

    def to_dict(self) -> dict[str, Any]:
        return {
            "org_code": self.org_code,
            "org_name": self.org_name,
            "level": self.level,
            "trusts": len(self.trusts),
            "projects": len(self.projects),
            "key_measure_improving": self.improving,
            "key_measure_sustained": self.sustained,
            "by_priority": self.by_priority,
            "by_progress_score": self.by_score,
            "by_trust": self.by_trust,
            "project_list": [
                {
                    "id": p.id,
                    "title": p.title,
                    "trust_code": p.trust_code,
                    "priority": p.priority,
                    "status": p.status,
                    "progress_score": p.progress_score,
                    "key_measure": p.key_measure,
                    "improved": p.improved,
                    "sustained": p.sustained,
                }
                for p in self.projects
            ],
        }


def overview(url: str, access: Access, results: Any, org_code: str) -> OverviewView:
    """QI work across the trusts of an LMNS, a region, England (or one trust) in the user's scope.

    Only projects the user can see are counted, and key measures are read through the same
    suppression as everywhere else; the page shows counts and each project's key-measure reading
    (improving or not), never patient-level data.
    """
    org = access.hierarchy.organisations.get(org_code)
    if org is None or org.level not in OVERVIEW_LEVELS:
        raise QiNotFound(f"There is no organisation {org_code} to show an overview of.")
    access.require_in_scope(org_code, "The improvement overview")
    trusts = sorted(((t.code, t.name) for t in access.hierarchy.trusts_under(org_code)), key=lambda t: t[1])
    codes = [t[0] for t in trusts]
    with transaction(url) as session:
        visible = visible_project_ids(session, access)
        projects = [
            p
            for p in session.scalars(select(QiProject).where(QiProject.trust_code.in_(codes)).order_by(QiProject.title))
            if p.id in visible
        ]
        keyed = _key_measures(session, access, results, projects)
    return OverviewView(
        org_code=org_code,
        org_name=org.name,
        level=org.level,
        trusts=trusts,
        projects=[
            OverviewProject(
                p.id,
                p.title,
                p.trust_code,
                access.hierarchy.get(p.trust_code).name,
                p.priority,
                p.status,
                p.progress_score,
                keyed[p.id].chart_title if p.id in keyed else None,
                keyed[p.id].improved if p.id in keyed else False,
                keyed[p.id].sustained if p.id in keyed else False,
            )
            for p in projects
        ],
    )


def export_rows(measure: MeasureView) -> list[list[Any]]:
    """A measure's chart data as CSV rows (period, value, numerator, denominator, centre line, and
    whose births: "Site: NAME" for a site project's MatNeo measure, else blank)."""
    median = measure.analysis.median if measure.analysis else None
    where = measure.site_label or ""
    return [
        [p.label, p.period_start.isoformat(), p.value, p.numerator, p.denominator, median, where]
        for p in measure.points
    ]


__all__ = [
    "MATNEO_MONTHS",
    "CollaborativeView",
    "MeasureView",
    "ProjectView",
    "collaborative_view",
    "export_rows",
    "list_collaboratives",
    "list_projects",
    "matneo_points",
    "measure_view",
    "overview",
    "project_view",
    "projects_for_review_actions",
    "projects_for_signals",
]
