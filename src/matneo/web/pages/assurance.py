"""Assurance pages: a trust's requirements across frameworks, and the matrix an LMNS or region sees.

A trust's page lists every requirement of every framework with its status, RAG, owner, due date,
sign-off and live figure; its own staff update them. An LMNS or region sees its trusts ×
requirements as a RAG matrix (statuses only; no trust's comments) and what is overdue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from matneo.assurance import evidence
from matneo.assurance.catalogue import LOCAL_FRAMEWORK, catalogue
from matneo.assurance.evidence import EvidenceCounts, EvidenceView
from matneo.assurance.figures import LiveFigure, live_figure
from matneo.assurance.frameworks import Framework, Item, frameworks, item
from matneo.assurance.rag import RAG_WORDS, STATUSES
from matneo.assurance.tracker import SIGN_OFF_ROLES, StatusView, history, requirement_of, statuses, update
from matneo.assurance.voice import ThemeSet, VoiceLine
from matneo.assurance.wording import MAX_WORDING, NOTE, record, wordings
from matneo.auth.access import Access
from matneo.dates import day_text, moment_text
from matneo.web.pages.funnel import FUNNEL_LEVELS
from matneo.web.pages.voice import lines_for as voice_lines
from matneo.web.pages.voice import themes_for
from matneo.web.services import BadRequest, NotFound, Services

__all__ = ["AssuranceItemPage", "AssurancePage", "build", "build_item", "save", "save_wording"]

RAG_TAGS = {
    "green": "nhsuk-tag--green",
    "amber": "nhsuk-tag--yellow",
    "red": "nhsuk-tag--red",
    "grey": "nhsuk-tag--grey",
}
RAG_LABELS = {"green": "Green", "amber": "Amber", "red": "Red", "grey": "Grey"}


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass
class Row:
    item: Item
    status: StatusView
    figure: LiveFigure | None
    wording: str | None = None  # the trust's own wording, shown in place of the packaged title


@dataclass
class AssurancePage:
    code: str
    name: str
    level: str
    can_edit: bool
    frameworks: list[tuple[Framework, list[Row]]] = field(default_factory=list)
    trusts: list[tuple[str, str]] = field(default_factory=list)  # matrix rows for an LMNS or region
    matrix: dict[tuple[str, str], StatusView] = field(default_factory=dict)
    evidence: dict[str, EvidenceCounts] = field(default_factory=dict)  # per trust: counts only
    lines: list[VoiceLine] = field(default_factory=list)  # family and staff voice, as the reader may see it
    themes: list[ThemeSet] = field(default_factory=list)  # MNVP feedback themes, as the reader may see them

    @property
    def title(self) -> str:
        return f"Assurance: {self.name}"

    rag_tags = RAG_TAGS
    rag_labels = RAG_LABELS
    rag_words = RAG_WORDS
    wording_note = NOTE

    @property
    def trust_names(self) -> dict[str, str]:
        return dict(self.trusts)

    @property
    def framework_names(self) -> dict[str, str]:
        return {fw.id: fw.short for fw in (*frameworks(), LOCAL_FRAMEWORK)}

    def label(self, requirement: Item) -> str:
        """ "MIS year 2 Safety action 8"; a local requirement by its own name ("Local requirement 3")."""
        if requirement.local:
            return requirement.section
        return f"{self.framework_names[requirement.framework]} {requirement.section}"

    def counts(self, trust: str) -> dict[str, int]:
        found = {"green": 0, "amber": 0, "red": 0, "grey": 0}
        for (code, _), view in self.matrix.items():
            if code == trust:
                found[view.rag] += 1
        return found

    def overdue(self) -> list[StatusView]:
        return sorted(
            (v for v in self.matrix.values() if v.rag == "red" and v.due is not None),
            key=lambda v: (v.due or dt.date.max, v.trust_code),
        )

    def to_dict(self) -> dict[str, Any]:
        views = [r.status for _, rows in self.frameworks for r in rows] or list(self.matrix.values())
        return {
            "code": self.code,
            "name": self.name,
            "evidence": {code: {"items": c.items, "requirements_with_evidence": c.requirements}
                         for code, c in self.evidence.items()},
            "voice": [{"source": v.layout.id, "measure": v.measure.id, "period": v.period, "value": v.value,
                       "worst_recently": v.worst_recently} for v in self.lines],
            "wordings": {r.item.key: r.wording for _, rows in self.frameworks for r in rows if r.wording},
            "statuses": [
                {"trust_code": v.trust_code, "requirement": v.item.key, "status": v.status, "rag": v.rag,
                 "due": v.due.isoformat() if v.due else None}
                for v in views
            ],
        }  # fmt: skip


def _organisation(services: Services, access: Access, code: str):  # type: ignore[no-untyped-def]
    org = services.organisation(code)
    if org.level not in FUNNEL_LEVELS:
        raise BadRequest("Assurance is for trusts, LMNS and regions.")
    if not access.in_scope(org.code):
        raise NotFound(f"There is no organisation with code {code!r} in your area.")
    return org


def build(services: Services, access: Access, code: str) -> AssurancePage:
    org = _organisation(services, access, code)
    today = _today()
    url = services.settings.database_url
    if org.level == "trust":
        known = catalogue(url, [org.code])
        views = statuses(url, [org.code], today, known)
        worded = wordings(url, [org.code])
        scope = None if access.sees_everything else access.scope
        grouped = [
            (
                fw,
                [
                    Row(
                        i,
                        views[(org.code, i.key)],
                        live_figure(i, results=services.results, scope=scope, url=url, trust=org.code, today=today),
                        worded.get((org.code, i.key)),
                    )
                    for i in items
                ],
            )
            for fw, items in known.for_trust(org.code)
        ]
        held = evidence.counts(url, [org.code])
        heard = voice_lines(services, access, org.code)
        own = access.user.org_code == org.code
        themes = themes_for(services, access, org.code)
        return AssurancePage(org.code, org.name, org.level, own, grouped, evidence=held, lines=heard, themes=themes)
    trusts = [(t.code, t.name) for t in services.hierarchy.trusts_under(org.code)]
    codes = [c for c, _ in trusts]
    matrix = statuses(url, codes, today)
    return AssurancePage(org.code, org.name, org.level, False, [], trusts, matrix, evidence.counts(url, codes))


@dataclass
class AssuranceItemPage:
    code: str
    name: str
    status: StatusView
    can_edit: bool
    history: list[dict[str, str]]
    evidence: list[EvidenceView]  # the trust's own staff only
    evidence_count: int  # what everyone else in scope sees
    wording: str | None = None  # the trust's own wording for a requirement that needs local confirmation
    owner_name: str | None = None  # who added a local requirement (the trust or its LMNS)
    statuses = STATUSES
    wording_note = NOTE
    max_wording = MAX_WORDING
    roles = SIGN_OFF_ROLES
    rag_tags = RAG_TAGS
    rag_labels = RAG_LABELS

    @property
    def title(self) -> str:
        return f"{self.status.item.section}: {self.name}"

    @property
    def framework_short(self) -> str:
        """The short name of the framework a local requirement is listed under."""
        under = self.status.item.under
        return next((fw.short for fw in frameworks() if fw.id == under), "")

    @property
    def follows(self) -> str | None:
        """ "MIS year 6 Safety action 1": the requirement this one carries forward from the previous version."""
        if self.status.item.previous is None:
            return None
        before = item(self.status.item.previous)
        return f"{next(fw.short for fw in frameworks() if fw.id == before.framework)} {before.section}"


def build_item(services: Services, access: Access, code: str, key: str) -> AssuranceItemPage:
    org = _organisation(services, access, code)
    if org.level != "trust":
        raise NotFound("Requirements are recorded per trust: open one of the LMNS's trusts.")
    url = services.settings.database_url
    try:
        requirement = requirement_of(url, org.code, key)
    except KeyError:
        raise NotFound(f"There is no requirement {key!r}.") from None
    known = catalogue(url, [org.code])
    view = statuses(url, [org.code], _today(), known).get((org.code, key))
    if view is None:  # a retired local requirement: no longer listed, its record still readable
        view = next(iter(statuses(url, [org.code], _today(), _just(known, requirement)).values()))
    own = access.user.org_code == org.code
    trail = [
        {
            "at": moment_text(h["at"]),
            "actor": h["actor"],
            "field": h["field"].replace("_", " "),
            # free text (comments, reasons) is the trust's own: others see that it changed, not what it says
            "before": _shown(h["field"], h["before"], own),
            "after": _shown(h["field"], h["after"], own),
        }
        for h in history(url, org.code, key, requirement.owner)
    ]
    held = evidence.for_requirement(url, org.code, key, actor_org=org.code) if own else []
    count = len(held) if own else evidence.counts(url, [org.code])[org.code].per_requirement.get(key, 0)
    if not own:
        view = StatusView(**{**view.__dict__, "comment": None, "reason": None})
    worded = wordings(url, [org.code]).get((org.code, key))
    owner = services.organisation(requirement.owner).name if requirement.owner else None
    return AssuranceItemPage(org.code, org.name, view, own and not requirement.retired, trail, held, count, worded,
                             owner)  # fmt: skip


def _just(known: Any, requirement: Item) -> Any:
    """A catalogue listing only ``requirement`` (to read the status of a retired one)."""
    from dataclasses import replace

    return replace(known, frameworks=(replace(LOCAL_FRAMEWORK, items=(requirement,)),))


def _shown(name: str, raw: str | None, own: bool) -> str:
    """A stored value in words: status labels, dates as "3 Mar 2026", the trust's free text only to it."""
    if raw is None:
        return "–"
    if name in ("comment", "reason") and not own:
        return "(shown to the trust only)"
    if name == "status":
        return STATUSES.get(raw, raw)
    if name in ("due", "signed_off_on", "default_due"):
        return day_text(dt.date.fromisoformat(raw))
    if name == "listed_under":
        return next((fw.short for fw in frameworks() if fw.id == raw), raw)
    return raw


def _requirement_of(services: Services, access: Access, code: str, key: str) -> str:
    """The code of the organisation whose requirement ``key`` is changed; NotFound for an unknown key."""
    org = _organisation(services, access, code)
    try:
        requirement_of(services.settings.database_url, org.code, key)
    except KeyError:
        raise NotFound(f"There is no requirement {key!r}.") from None
    return org.code


def save(services: Services, access: Access, code: str, key: str, form: dict[str, str]) -> StatusView:
    """Store the form's values; PermissionError (403), NotFound, or FieldProblem (shown in the page)."""
    return update(
        services.settings.database_url,
        _requirement_of(services, access, code, key),
        key,
        form,
        actor=access.user.email,
        actor_org=access.user.org_code,
        today=_today(),
    )


def save_wording(services: Services, access: Access, code: str, key: str, wording: str) -> str | None:
    """Store the trust's wording for a requirement; PermissionError (403), NotFound, or FieldProblem."""
    return record(
        services.settings.database_url,
        _requirement_of(services, access, code, key),
        key,
        wording,
        actor=access.user.email,
        actor_org=access.user.org_code,
    )


def due_text(view: StatusView) -> str:
    return day_text(view.due) if view.due else "–"
