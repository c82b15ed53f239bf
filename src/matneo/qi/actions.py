"""Changes to QI work. Each action is one transaction: the change and its audit event commit
together or not at all (as :mod:`matneo.harm.cases`). Audit details hold ids, field names and
statuses, never free text, so the audit log stays free of anything a team typed.

Every action takes the signed-in user's :class:`~matneo.auth.access.Access` and checks the rules
in :mod:`matneo.qi.access` itself, so no caller (page, API, CLI) can skip them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matneo.auth.access import Access, Forbidden
from matneo.auth.users import audit
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
    utcnow,
)
from matneo.db.session import transaction
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.qi.access import (
    COLLABORATIVE_ROLES,
    QiNotFound,
    can_manage_collaborative,
    collaborative_for,
    editable_project,
    member_trusts,
    project_for,
    require_edit,
    require_manage,
    visible_collaborative_ids,
)
from matneo.qi.core import (
    ACT_CHOICES,
    COLLABORATIVE_KINDS,
    CUSTOM_UNITS,
    DIRECTIONS,
    FREQUENCIES,
    MAX_TEXT,
    MEASURE_KINDS,
    PROJECT_STATUSES,
    CsvImport,
    Entry,
    FieldError,
    QiInputError,
    check_entry,
    matneosip_priorities,
    parse_periods,
    parse_values_csv,
    progress_scale,
)
from matneo.qi.models import QiProgressChange, QiReviewActionLink
from matneo.reviews.models import Review, ReviewAction
from matneo.stats.runchart import RULE_SETS

__all__ = [
    "add_annotation",
    "add_change_idea",
    "add_driver",
    "add_measure",
    "add_member",
    "add_team_member",
    "add_value",
    "add_wave",
    "create_collaborative",
    "create_project",
    "delete_value",
    "import_values",
    "join_collaborative",
    "link_idea",
    "link_review_action",
    "remove_driver",
    "save_pdsa",
    "set_progress",
    "unlink_review_action",
    "update_measure",
    "update_project",
]

KIND_LEVELS = {"national": "england", "regional": "region", "lmns": "lmns"}


class _Form:
    """Reads and checks submitted fields, collecting every problem before refusing."""

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields
        self.errors: list[FieldError] = []

    def text(self, name: str, label: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
        raw = self.fields.get(name)
        value = "" if raw is None else str(raw).strip()
        if "\x00" in value:  # PostgreSQL cannot store NUL in text; no one types it
            self.errors.append(
                FieldError(name, f"{label[0].upper()}{label[1:]} contains a character that cannot be stored")
            )
            return ""
        if required and not value:
            self.errors.append(FieldError(name, f"Enter {label}"))
        elif len(value) > limit:
            self.errors.append(FieldError(name, f"{label[0].upper()}{label[1:]} must be {limit:,} characters or fewer"))
        return value

    def choice(
        self, name: str, label: str, choices: Mapping[str, str] | Sequence[str], default: str | None = None
    ) -> str:
        value = str(self.fields.get(name) or default or "").strip()
        if value not in choices:
            self.errors.append(FieldError(name, f"Choose {label}"))
        return value

    def date(self, name: str, label: str, *, required: bool = False) -> dt.date | None:
        raw = self.fields.get(name)
        if isinstance(raw, dt.date):
            return raw
        text = "" if raw is None else str(raw).strip()
        if not text:
            if required:
                self.errors.append(FieldError(name, f"Enter {label}"))
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.errors.append(FieldError(name, f"{label[0].upper()}{label[1:]} must be a real date, like 2026-09-30"))
            return None

    def done(self) -> None:
        if self.errors:
            raise QiInputError(self.errors)


def _actor(access: Access) -> str:
    return access.user.email


# -- collaboratives ---------------------------------------------------------------------------
def create_collaborative(url: str, access: Access, fields: Mapping[str, Any]) -> int:
    """A new collaborative run by ``org_code`` (England, a region or an LMNS in the user's scope)."""
    if access.user.role not in COLLABORATIVE_ROLES:
        raise Forbidden("only LMNS, regional and national leads can set up a collaborative")
    form = _Form(fields)
    name = form.text("name", "a name", required=True, limit=200)
    kind = form.choice("kind", "national, regional or LMNS", COLLABORATIVE_KINDS)
    org_code = form.text("org_code", "the organisation running it", required=True, limit=16)
    description = form.text("description", "a description")
    form.done()
    level = access.hierarchy.get(org_code).level if org_code in access.hierarchy.organisations else None
    if level != KIND_LEVELS[kind]:
        raise QiInputError(
            [FieldError("org_code", f"A {COLLABORATIVE_KINDS[kind]} collaborative is run by a {KIND_LEVELS[kind]}")]
        )
    access.require_in_scope(org_code, "Setting up a collaborative")
    with transaction(url) as session:
        row = QiCollaborative(
            name=name, kind=kind, org_code=org_code, description=description, created_by=_actor(access)
        )
        session.add(row)
        session.flush()
        audit(
            session,
            _actor(access),
            "qi.collaborative_created",
            "qi_collaborative",
            str(row.id),
            kind=kind,
            org=org_code,
        )
        return row.id


def add_wave(url: str, access: Access, collaborative_id: int, fields: Mapping[str, Any]) -> int:
    form = _Form(fields)
    name = form.text("name", "the wave's name", required=True, limit=100)
    starts = form.date("starts_on", "the start date")
    ends = form.date("ends_on", "the end date")
    if starts and ends and ends < starts:
        form.errors.append(FieldError("ends_on", "The end date must be on or after the start date"))
    form.done()
    with transaction(url) as session:
        collaborative = collaborative_for(session, access, collaborative_id)
        require_manage(access, collaborative)
        wave = QiWave(collaborative_id=collaborative_id, name=name, starts_on=starts, ends_on=ends)
        session.add(wave)
        session.flush()
        audit(session, _actor(access), "qi.wave_added", "qi_collaborative", str(collaborative_id), wave=wave.id)
        return wave.id


def add_member(url: str, access: Access, collaborative_id: int, trust_code: str, wave_id: int | None = None) -> int:
    """Add a trust to a collaborative (in a wave). A trust already in it is refused with a message."""
    org = access.hierarchy.organisations.get(trust_code)
    if org is None or org.level != "trust":
        raise QiInputError([FieldError("trust_code", f"There is no trust with code {trust_code!r}")])
    try:
        with transaction(url) as session:
            collaborative = collaborative_for(session, access, collaborative_id)
            require_manage(access, collaborative)
            if collaborative.kind != "national" and trust_code not in {
                t.code for t in access.hierarchy.trusts_under(collaborative.org_code)
            }:
                raise QiInputError(
                    [FieldError("trust_code", f"{org.name} is not in the area this collaborative covers")]
                )
            if wave_id is not None and session.get(QiWave, wave_id) is None:
                raise QiInputError([FieldError("wave_id", "Choose one of the collaborative's waves")])
            member = QiMember(
                collaborative_id=collaborative_id, trust_code=trust_code, wave_id=wave_id, joined_on=dt.date.today()
            )
            session.add(member)
            session.flush()
            audit(
                session, _actor(access), "qi.member_added", "qi_collaborative", str(collaborative_id), trust=trust_code
            )
            return member.id
    except IntegrityError:
        raise QiInputError([FieldError("trust_code", f"{org.name} is already a member")]) from None


# -- projects ---------------------------------------------------------------------------------
def _project_fields(form: _Form) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": form.text("title", "a title", required=True, limit=200),
        "team": form.text("team", "the team", limit=200),
        "problem": form.text("problem", "the problem"),
        "aim_what": form.text("aim_what", "what you will improve"),
        "aim_how_much": form.text("aim_how_much", "how much", limit=200),
        "aim_by_when": form.date("aim_by_when", "by when"),
        "status": form.choice("status", "the project's status", PROJECT_STATUSES, default="planning"),
        "starts_on": form.date("starts_on", "the start date"),
        "ends_on": form.date("ends_on", "the end date"),
        "motivation": form.text("motivation", "what prompted the project"),
    }
    priority = str(form.fields.get("priority") or "").strip()
    if priority and priority not in matneosip_priorities().names:
        form.errors.append(FieldError("priority", "Choose a MatNeoSIP priority from the list, or none"))
    values["priority"] = priority or None
    values["site_code"] = str(form.fields.get("site_code") or "").strip() or None
    starts, ends = values["starts_on"], values["ends_on"]
    if isinstance(starts, dt.date) and isinstance(ends, dt.date) and ends < starts:
        form.errors.append(FieldError("ends_on", "The end date must be on or after the start date"))
    raw = str(form.fields.get("signal_id") or "").strip()
    values["signal_id"] = int(raw) if raw.isdigit() and len(raw) < 10 else None
    if raw and values["signal_id"] is None:
        form.errors.append(FieldError("signal_id", "Choose one of the trust's signals"))
    return values


def _check_site(access: Access, trust: str, site_code: str | None) -> None:
    """A project's site must be one of its own trust's sites (the records' ``site_code``)."""
    if site_code is not None and site_code not in {s.code for s in access.hierarchy.sites_of(trust)}:
        raise QiInputError([FieldError("site_code", "Choose one of the trust's sites, or none")])


def _check_signal(session: Session, trust: str, signal_id: int | None) -> None:
    """A project can be linked only to a signal of its own trust (signals are shown only within scope)."""
    if signal_id is None:
        return
    signal = session.get(Signal, signal_id)
    if signal is None or signal.trust_code != trust:
        raise QiInputError([FieldError("signal_id", "Choose one of the trust's signals")])


def create_project(url: str, access: Access, fields: Mapping[str, Any], collaborative_ids: Sequence[int] = ()) -> int:
    """A new project of a trust in the user's scope, in collaboratives that have its trust as a member."""
    form = _Form(fields)
    trust = form.text("trust_code", "the trust", required=True, limit=16)
    values = _project_fields(form)
    form.done()
    org = access.hierarchy.organisations.get(trust)
    if org is None or org.level != "trust":
        raise QiInputError([FieldError("trust_code", "Choose a trust")])
    probe = QiProject(trust_code=trust)
    require_edit(access, probe)
    _check_site(access, trust, values["site_code"])
    with transaction(url) as session:
        visible = visible_collaborative_ids(session, access)
        for cid in collaborative_ids:
            if cid not in visible or trust not in member_trusts(session, cid):
                raise QiInputError([FieldError("collaboratives", f"{org.name} is not a member of that collaborative")])
        _check_signal(session, trust, values["signal_id"])
        now = utcnow()
        project = QiProject(trust_code=trust, created_by=_actor(access), created_at=now, updated_at=now, **values)
        session.add(project)
        session.flush()
        for cid in dict.fromkeys(collaborative_ids):
            session.add(QiProjectCollaborative(project_id=project.id, collaborative_id=cid))
        audit(
            session,
            _actor(access),
            "qi.project_created",
            "qi_project",
            str(project.id),
            trust=trust,
            collaboratives=list(collaborative_ids),
        )
        return project.id


def update_project(url: str, access: Access, project_id: int, fields: Mapping[str, Any]) -> None:
    """Change a project's title, problem, aim, team name, status or dates."""
    form = _Form(fields)
    values = _project_fields(form)
    form.done()
    if "signal_id" not in fields:  # a form without the field keeps the link
        values.pop("signal_id")
    if "priority" not in fields:  # likewise the priority (API callers sending a few fields)
        values.pop("priority")
    if "site_code" not in fields:  # and the site
        values.pop("site_code")
    with transaction(url) as session:
        project = editable_project(session, access, project_id)
        _check_signal(session, project.trust_code, values.get("signal_id"))
        _check_site(access, project.trust_code, values.get("site_code"))
        changed = sorted(k for k, v in values.items() if getattr(project, k) != v)
        for key, value in values.items():
            setattr(project, key, value)
        project.updated_at = utcnow()
        audit(session, _actor(access), "qi.project_updated", "qi_project", str(project_id), fields=changed)


def set_progress(url: str, access: Access, project_id: int, score: float | str | None) -> None:
    """The team sets its progress score on the IHI scale (0.5 to 5, in halves)."""
    try:
        value = float(score) if score not in (None, "") else None
    except (TypeError, ValueError):
        value = -1.0
    if value is not None and value not in progress_scale().scores:
        raise QiInputError([FieldError("progress_score", "Choose a score from 0.5 to 5")])
    with transaction(url) as session:
        project = editable_project(session, access, project_id)
        before = project.progress_score
        project.progress_score = value
        project.progress_set_by = _actor(access)
        project.progress_set_at = project.updated_at = utcnow()
        # The history is what the stage-per-quarter grid reads; the row keeps only the latest score.
        session.add(
            QiProgressChange(project_id=project_id, score=value, set_by=_actor(access), set_at=project.progress_set_at)
        )
        audit(session, _actor(access), "qi.progress_set", "qi_project", str(project_id), before=before, after=value)


def add_team_member(url: str, access: Access, project_id: int, fields: Mapping[str, Any]) -> int:
    form = _Form(fields)
    name = form.text("name", "the person's name", required=True, limit=200)
    role = form.text("role", "their role", required=True, limit=100)
    form.done()
    with transaction(url) as session:
        editable_project(session, access, project_id)
        member = QiTeamMember(project_id=project_id, name=name, role=role)
        session.add(member)
        session.flush()
        audit(session, _actor(access), "qi.team_member_added", "qi_project", str(project_id), member=member.id)
        return member.id


# -- driver diagram ---------------------------------------------------------------------------
def add_driver(url: str, access: Access, project_id: int, fields: Mapping[str, Any]) -> int:
    """A primary driver, or a secondary driver under one of the project's primary drivers."""
    form = _Form(fields)
    text = form.text("text", "the driver", required=True, limit=300)
    parent_raw = str(fields.get("parent_id") or "").strip()
    form.done()
    with transaction(url) as session:
        editable_project(session, access, project_id)
        parent_id: int | None = None
        if parent_raw:
            parent = session.get(QiDriver, int(parent_raw)) if parent_raw.isdigit() else None
            if parent is None or parent.project_id != project_id or parent.kind != "primary":
                raise QiInputError([FieldError("parent_id", "Choose one of this project's primary drivers")])
            parent_id = parent.id
        count = len(list(session.scalars(select(QiDriver.id).where(QiDriver.project_id == project_id))))
        driver = QiDriver(
            project_id=project_id,
            kind="secondary" if parent_id else "primary",
            parent_id=parent_id,
            text=text,
            position=count,
        )
        session.add(driver)
        session.flush()
        audit(
            session,
            _actor(access),
            "qi.driver_added",
            "qi_project",
            str(project_id),
            driver=driver.id,
            kind=driver.kind,
        )
        return driver.id


def remove_driver(url: str, access: Access, project_id: int, driver_id: int) -> None:
    with transaction(url) as session:
        editable_project(session, access, project_id)
        driver = session.get(QiDriver, driver_id)
        if driver is None or driver.project_id != project_id:
            raise QiNotFound("That driver is not in this project's diagram.")
        children = list(session.scalars(select(QiDriver.id).where(QiDriver.parent_id == driver_id)))
        ids = [driver_id, *children]
        session.execute(delete(QiDriverIdea).where(QiDriverIdea.driver_id.in_(ids)))
        session.execute(delete(QiDriver).where(QiDriver.parent_id == driver_id))
        session.delete(driver)
        audit(session, _actor(access), "qi.driver_removed", "qi_project", str(project_id), drivers=ids)


def add_change_idea(
    url: str,
    access: Access,
    fields: Mapping[str, Any],
    *,
    project_id: int | None = None,
    collaborative_id: int | None = None,
) -> int:
    """A change idea for a project (optionally under a secondary driver) or a collaborative's library.

    With ``collaborative_id`` the idea joins that collaborative's shared library; the user must
    manage the collaborative or be staff of a member trust. With ``project_id`` and a
    ``driver_id`` field it is also placed under that secondary driver.
    """
    form = _Form(fields)
    title = form.text("title", "the change idea", required=True, limit=200)
    description = form.text("description", "a description")
    driver_raw = str(fields.get("driver_id") or "").strip()
    form.done()
    with transaction(url) as session:
        if collaborative_id is not None:
            collaborative = collaborative_for(session, access, collaborative_id)
            members = member_trusts(session, collaborative_id)
            if not (can_manage_collaborative(access, collaborative) or access.user.org_code in members):
                raise Forbidden("only the collaborative's leads and member trusts can add to its library")
        project = None
        if project_id is not None:
            project = editable_project(session, access, project_id)
        idea = QiChangeIdea(
            collaborative_id=collaborative_id,
            project_id=project_id,
            title=title,
            description=description,
            created_by=_actor(access),
        )
        session.add(idea)
        session.flush()
        if driver_raw and project is not None:
            _link(session, project.id, int(driver_raw) if driver_raw.isdigit() else -1, idea.id)
        audit(
            session,
            _actor(access),
            "qi.change_idea_added",
            "qi_change_idea",
            str(idea.id),
            project=project_id,
            collaborative=collaborative_id,
        )
        return idea.id


def _link(session: Session, project_id: int, driver_id: int, idea_id: int) -> None:
    driver = session.get(QiDriver, driver_id)
    if driver is None or driver.project_id != project_id or driver.kind != "secondary":
        raise QiInputError([FieldError("driver_id", "Choose one of this project's secondary drivers")])
    if session.get(QiDriverIdea, (driver_id, idea_id)) is None:
        session.add(QiDriverIdea(driver_id=driver_id, idea_id=idea_id))


def link_idea(url: str, access: Access, project_id: int, driver_id: int, idea_id: int) -> None:
    """Place an idea (the project's own, or from its collaboratives' libraries) under a secondary driver."""
    with transaction(url) as session:
        editable_project(session, access, project_id)
        idea = session.get(QiChangeIdea, idea_id)
        collaboratives = set(
            session.scalars(
                select(QiProjectCollaborative.collaborative_id).where(QiProjectCollaborative.project_id == project_id)
            )
        )
        if idea is None or not (idea.project_id == project_id or idea.collaborative_id in collaboratives):
            raise QiInputError(
                [FieldError("idea_id", "Choose an idea of this project or of its collaboratives' libraries")]
            )
        _link(session, project_id, driver_id, idea_id)
        audit(
            session,
            _actor(access),
            "qi.change_idea_linked",
            "qi_project",
            str(project_id),
            driver=driver_id,
            idea=idea_id,
        )


# -- measures ---------------------------------------------------------------------------------
def add_measure(url: str, access: Access, project_id: int, fields: Mapping[str, Any]) -> int:
    """A measure of the project: a MatNeo measure (fills itself) or a custom one (entered by the team)."""
    form = _Form(fields)
    kind = form.choice("kind", "outcome, process or balancing", MEASURE_KINDS)
    source = form.choice("source", "where the data come from", ("matneo", "custom"))
    rule_set = form.choice("rule_set", "a rule set", RULE_SETS, default="anhoej")
    is_key = str(fields.get("is_key") or "").lower() in ("1", "true", "on", "yes")
    values: dict[str, Any] = {"kind": kind, "source": source, "rule_set": rule_set, "is_key": is_key}
    if source == "matneo":
        measure_id = str(fields.get("matneo_measure") or "").strip()
        measure = MEASURES_BY_ID.get(measure_id)
        if measure is None:
            form.errors.append(FieldError("matneo_measure", "Choose one of MatNeo's measures"))
        else:
            values |= {
                "matneo_measure": measure.id,
                "title": form.text("title", "a title", limit=200) or measure.title,
                "unit": measure.unit,
                "frequency": "month",
                "direction": "decrease" if measure.direction == "lower_is_better" else "increase",
            }
    elif source == "custom":
        values |= {
            "title": form.text("title", "a title", required=True, limit=200),
            "unit": form.choice("unit", "a unit", CUSTOM_UNITS),
            "frequency": form.choice("frequency", "monthly or weekly", FREQUENCIES, default="month"),
            "direction": form.choice("direction", "which way is better", DIRECTIONS),
        }
    form.done()
    with transaction(url) as session:
        editable_project(session, access, project_id)
        if is_key:
            for other in session.scalars(select(QiMeasure).where(QiMeasure.project_id == project_id)):
                other.is_key = False
        row = QiMeasure(project_id=project_id, created_by=_actor(access), **values)
        session.add(row)
        session.flush()
        audit(
            session,
            _actor(access),
            "qi.measure_added",
            "qi_measure",
            str(row.id),
            project=project_id,
            source=source,
            matneo_measure=values.get("matneo_measure"),
        )
        return row.id


def _measure(session: Session, access: Access, measure_id: int, *, edit: bool) -> QiMeasure:
    measure = session.get(QiMeasure, measure_id)
    if measure is None:
        raise QiNotFound(f"There is no measure {measure_id} that you can see.")
    project = project_for(session, access, measure.project_id)
    if edit:
        require_edit(access, project)
    return measure


def update_measure(url: str, access: Access, measure_id: int, fields: Mapping[str, Any]) -> None:
    """Change a measure's rule set, key flag or baseline. A new baseline needs a reason (it is kept)."""
    form = _Form(fields)
    rule_set = form.choice("rule_set", "a rule set", RULE_SETS, default="anhoej")
    raw = str(fields.get("baseline_points") or "").strip()
    baseline: int | None = None
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= 520:
            form.errors.append(FieldError("baseline_points", "Baseline must be a number of points, like 12"))
        else:
            baseline = int(raw)
    reason = form.text("baseline_reason", "why the baseline changes")
    marks_text = form.text("astronomical", "the astronomical points", limit=1000)
    form.done()
    with transaction(url) as session:
        measure = _measure(session, access, measure_id, edit=True)
        marks: list[dt.date] | None = None
        if "astronomical" in fields:  # a form without the field keeps the marks
            marks, bad = parse_periods(measure.frequency, marks_text)
            if bad:
                raise QiInputError(
                    [FieldError("astronomical", f"Enter periods as dates, like 2025-03 or 2025-03-03, not {bad[0]!r}")]
                )
        if baseline != measure.baseline_points and not reason:
            raise QiInputError([FieldError("baseline_reason", "Say why the baseline changes")])
        before: dict[str, Any] = {"rule_set": measure.rule_set, "baseline_points": measure.baseline_points}
        after: dict[str, Any] = {"rule_set": rule_set, "baseline_points": baseline}
        if marks is not None:
            stored = json.dumps([d.isoformat() for d in marks])
            if stored != measure.astronomical:
                before["astronomical"] = json.loads(measure.astronomical or "[]")
                after["astronomical"] = [d.isoformat() for d in marks]
                measure.astronomical = stored
        measure.rule_set = rule_set
        if baseline != measure.baseline_points:
            measure.baseline_points = baseline
            measure.baseline_reason = reason
        audit(
            session,
            _actor(access),
            "qi.measure_updated",
            "qi_measure",
            str(measure_id),
            before=before,
            after=after,
        )


def _taken(session: Session, measure_id: int) -> set[dt.date]:
    return set(session.scalars(select(QiMeasureValue.period_start).where(QiMeasureValue.measure_id == measure_id)))


def add_value(url: str, access: Access, measure_id: int, fields: Mapping[str, Any], *, today: dt.date) -> dt.date:
    """One period of a custom measure, checked by :func:`matneo.qi.core.check_entry`."""
    try:
        with transaction(url) as session:
            measure = _measure(session, access, measure_id, edit=True)
            if measure.source != "custom":
                raise QiInputError([FieldError("period", "This measure fills itself from the birth records")])
            entry = check_entry(
                measure.frequency,
                measure.unit,
                fields.get("period"),
                fields.get("numerator"),
                fields.get("denominator"),
                fields.get("value"),
                today=today,
                taken=_taken(session, measure_id),
            )
            session.add(_value_row(measure_id, entry, access))
            session.flush()
            audit(session, _actor(access), "qi.value_added", "qi_measure", str(measure_id), period=entry.period_start)
            return entry.period_start
    except IntegrityError:  # a concurrent entry of the same period won the race
        raise QiInputError(
            [FieldError("period", "That period already has a value: delete it first to enter a new one")]
        ) from None


def _value_row(measure_id: int, entry: Entry, access: Access) -> QiMeasureValue:
    """A checked entry (typed in or imported) as the measure's stored value, with who entered it."""
    return QiMeasureValue(
        measure_id=measure_id,
        period_start=entry.period_start,
        numerator=entry.numerator,
        denominator=entry.denominator,
        value=entry.value,
        entered_by=_actor(access),
    )


def delete_value(url: str, access: Access, measure_id: int, period: dt.date) -> None:
    with transaction(url) as session:
        _measure(session, access, measure_id, edit=True)
        result = session.execute(
            delete(QiMeasureValue).where(QiMeasureValue.measure_id == measure_id, QiMeasureValue.period_start == period)
        )
        gone = getattr(result, "rowcount", 0)  # a CursorResult for a DELETE: how many rows went
        if not gone:
            raise QiNotFound("That period has no value to delete.")
        audit(session, _actor(access), "qi.value_deleted", "qi_measure", str(measure_id), period=period)


def import_values(url: str, access: Access, measure_id: int, data: bytes, *, today: dt.date) -> CsvImport:
    """Import a CSV of periods: good rows are added, bad rows reported; an unreadable file changes nothing."""
    with transaction(url) as session:
        measure = _measure(session, access, measure_id, edit=True)
        if measure.source != "custom":
            raise QiInputError([FieldError("file", "This measure fills itself from the birth records")])
        result = parse_values_csv(data, measure.frequency, measure.unit, today=today, taken=_taken(session, measure_id))
        session.add_all(_value_row(measure_id, entry, access) for entry in result.accepted)
        audit(
            session,
            _actor(access),
            "qi.values_imported",
            "qi_measure",
            str(measure_id),
            added=len(result.accepted),
            rejected=len(result.rejected),
        )
        return result


# -- PDSA cycles and annotations --------------------------------------------------------------
def save_pdsa(url: str, access: Access, project_id: int, fields: Mapping[str, Any], pdsa_id: int | None = None) -> int:
    """Create or update a PDSA cycle: plan (question, prediction, who/what/when/where, data), do, study, act."""
    with transaction(url) as session:  # scope first: a stranger learns nothing from the fields' errors
        editable_project(session, access, project_id)
    form = _Form(fields)
    values: dict[str, Any] = {
        "title": form.text("title", "a title for the cycle", required=True, limit=200),
        "question": form.text("question", "the question this cycle answers", required=True),
        "prediction": form.text("prediction", "what you predict will happen", required=True),
        "plan": form.text("plan", "who, what, when and where"),
        "data_to_collect": form.text("data_to_collect", "the data to collect"),
        "do_notes": form.text("do_notes", "what happened"),
        "study_notes": form.text("study_notes", "the results against the prediction"),
        "act_notes": form.text("act_notes", "the next step"),
        "starts_on": form.date("starts_on", "the start date", required=True),
        "ends_on": form.date("ends_on", "the end date"),
    }
    act = str(fields.get("act") or "").strip()
    if act and act not in ACT_CHOICES:
        form.errors.append(FieldError("act", "Choose adopt, adapt or abandon"))
    if act and not values["study_notes"]:
        form.errors.append(FieldError("study_notes", "Study the results before deciding to adopt, adapt or abandon"))
    values["act"] = act or None
    starts, ends = values["starts_on"], values["ends_on"]
    if isinstance(starts, dt.date) and isinstance(ends, dt.date) and ends < starts:
        form.errors.append(FieldError("ends_on", "The end date must be on or after the start date"))
    idea_raw = str(fields.get("change_idea_id") or "").strip()
    form.done()
    with transaction(url) as session:
        editable_project(session, access, project_id)
        idea_id: int | None = None
        if idea_raw:
            idea = session.get(QiChangeIdea, int(idea_raw)) if idea_raw.isdigit() else None
            collaboratives = set(
                session.scalars(
                    select(QiProjectCollaborative.collaborative_id).where(
                        QiProjectCollaborative.project_id == project_id
                    )
                )
            )
            if idea is None or not (idea.project_id == project_id or idea.collaborative_id in collaboratives):
                raise QiInputError([FieldError("change_idea_id", "Choose one of the project's change ideas")])
            idea_id = idea.id
        now = utcnow()
        if pdsa_id is None:
            cycle = QiPdsa(
                project_id=project_id, change_idea_id=idea_id, created_by=_actor(access), created_at=now, **values
            )
            session.add(cycle)
            action = "qi.pdsa_created"
        else:
            found = session.get(QiPdsa, pdsa_id)
            if found is None or found.project_id != project_id:
                raise QiNotFound("That PDSA cycle is not in this project.")
            cycle = found
            for key, value in values.items():
                setattr(cycle, key, value)
            cycle.change_idea_id = idea_id
            action = "qi.pdsa_updated"
        cycle.updated_at = now
        session.flush()
        audit(session, _actor(access), action, "qi_pdsa", str(cycle.id), project=project_id, act=values["act"])
        return cycle.id


def add_annotation(url: str, access: Access, project_id: int, fields: Mapping[str, Any]) -> int:
    """A note pinned to a date on the project's charts (one measure, or all when none is chosen)."""
    form = _Form(fields)
    text = form.text("text", "the note", required=True, limit=300)
    on = form.date("on_date", "the date", required=True)
    measure_raw = str(fields.get("measure_id") or "").strip()
    form.done()
    with transaction(url) as session:
        editable_project(session, access, project_id)
        measure_id = None
        if measure_raw:
            measure = session.get(QiMeasure, int(measure_raw)) if measure_raw.isdigit() else None
            if measure is None or measure.project_id != project_id:
                raise QiInputError([FieldError("measure_id", "Choose one of the project's measures")])
            measure_id = measure.id
        note = QiAnnotation(
            project_id=project_id, measure_id=measure_id, on_date=on, text=text, created_by=_actor(access)
        )
        session.add(note)
        session.flush()
        audit(session, _actor(access), "qi.annotation_added", "qi_project", str(project_id), annotation=note.id)
        return note.id


# -- links to perinatal mortality review actions ------------------------------------------------
def _linkable_action(session: Session, access: Access, project: QiProject, action_id: int) -> ReviewAction:
    """A review action the user may link to ``project``: an action of a review of the project's own
    trust, linked by that trust's staff. Review actions' text is read only by the trusts taking part
    in the review (:mod:`matneo.reviews.queries`), so no one outside the trust links or reads them."""
    require_edit(access, project)
    if access.user.role != "trust_staff" or access.user.org_code != project.trust_code:
        raise Forbidden("only staff of the project's own trust can link it to review actions")
    action = session.get(ReviewAction, action_id)
    review = session.get(Review, action.review_id) if action is not None else None
    if action is None or review is None or review.trust_code != project.trust_code:
        raise QiInputError([FieldError("action_id", "Choose one of the trust's review actions")])
    return action


def link_review_action(url: str, access: Access, project_id: int, action_id: int) -> None:
    """Link a project to the review action it answers (shown on the project and on the review)."""
    try:
        with transaction(url) as session:
            project = project_for(session, access, project_id)
            action = _linkable_action(session, access, project, action_id)
            session.add(
                QiReviewActionLink(
                    project_id=project_id, action_id=action_id, created_by=_actor(access), created_at=utcnow()
                )
            )
            session.flush()
            audit(
                session,
                _actor(access),
                "qi.review_action_linked",
                "qi_project",
                str(project_id),
                action_id=action_id,
                review=action.review_id,
            )
    except IntegrityError:
        raise QiInputError([FieldError("action_id", "The project is already linked to that action")]) from None


def unlink_review_action(url: str, access: Access, project_id: int, action_id: int) -> None:
    with transaction(url) as session:
        project = project_for(session, access, project_id)
        action = _linkable_action(session, access, project, action_id)
        removed = session.execute(
            delete(QiReviewActionLink).where(
                QiReviewActionLink.project_id == project_id, QiReviewActionLink.action_id == action_id
            )
        )
        if not getattr(removed, "rowcount", 0):
            raise QiInputError([FieldError("action_id", "The project is not linked to that action")])
        audit(
            session,
            _actor(access),
            "qi.review_action_unlinked",
            "qi_project",
            str(project_id),
            action_id=action_id,
            review=action.review_id,
        )


def join_collaborative(url: str, access: Access, project_id: int, collaborative_id: int) -> None:
    """Add an existing project to another collaborative its trust is a member of (a project may
    belong to several: issue 13). Shared from then on with that collaborative's members."""
    try:
        with transaction(url) as session:
            project = editable_project(session, access, project_id)
            collaborative = session.get(QiCollaborative, collaborative_id)
            if (
                collaborative is None
                or collaborative_id not in visible_collaborative_ids(session, access)
                or project.trust_code not in member_trusts(session, collaborative_id)
            ):
                raise QiInputError(
                    [FieldError("collaborative_id", "Choose a collaborative the project's trust is a member of")]
                )
            session.add(QiProjectCollaborative(project_id=project_id, collaborative_id=collaborative_id))
            session.flush()
            audit(
                session,
                _actor(access),
                "qi.project_joined",
                "qi_project",
                str(project_id),
                collaborative=collaborative_id,
            )
    except IntegrityError:
        raise QiInputError([FieldError("collaborative_id", "The project is already in that collaborative")]) from None
