"""Learning across reviews: timeliness, panel composition, parents' involvement, grades, contributory factors
and actions, for every trust, LMNS, region and England, with the app's small-number suppression.

Each measure is a count of reviews (or actions) out of a count: the numerator and denominator are summed
up the hierarchy, like every other MatNeo measure. Figures of organisations in the reader's scope are
shown as they are; everyone else's go through :func:`matneo.measures.results.suppressed_by_period` with
the reader's own figures counted as known (the cross-measure protection of
``docs/adr/0005-organisation-scoped-access.md``), and with the identities between the measures (the grades
of one area add up to the reviews graded in it), so a hidden count cannot be recovered from the others.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import func, select

from matneo.auth.access import Access
from matneo.db.session import transaction
from matneo.measures.disclosure import Relation
from matneo.measures.results import suppressed_by_period
from matneo.reviews.models import (
    Review,
    ReviewAction,
    ReviewChange,
    ReviewGrade,
    ReviewIssue,
    ReviewMember,
    ReviewParentItem,
)
from matneo.reviews.rules import CARE_AREAS, CONTRIBUTORY_FACTORS, GRADES, ReviewOptions, stage_deadlines

__all__ = ["MEASURES", "charts", "learning", "learning_table"]

#: (id, title, denominator id). Denominators: ``reviews`` (all), ``born_alive`` (neonatal and post-neonatal
#: deaths), ``graded_<area>`` and ``actions``.
MEASURES: list[tuple[str, str, str]] = [
    ("notified_on_time", "Deaths notified by the deadline", "reviews"),
    ("started_on_time", "Reviews started by the deadline", "reviews"),
    ("draft_report_on_time", "Draft report written by the deadline", "reviews"),
    ("closed", "Reviews closed", "reviews"),
    ("external_member", "Panel with an external member", "reviews"),
    ("neonatologist", "Neonatal deaths reviewed with a neonatologist", "born_alive"),
    ("parents_told", "Parents told about the review", "reviews"),
    ("parents_questions", "Parents' questions or concerns recorded", "reviews"),
    ("relevant_issue", "An issue with care relevant to the outcome", "reviews"),
    *((f"factor_{k}", f"Contributory factor: {label}", "reviews") for k, label in CONTRIBUTORY_FACTORS.items()),
    *(
        (f"grade_{a.id}_{g.letter}", f"{a.label}: grade {g.letter}", f"graded_{a.id}")
        for a in CARE_AREAS
        for g in GRADES
    ),
    ("actions_done", "Actions done", "actions"),
    ("actions_overdue", "Actions overdue", "actions"),
]
DENOMINATORS = ("reviews", "born_alive", *(f"graded_{a.id}" for a in CARE_AREAS), "actions")
PERIOD = (dt.date(2000, 1, 1), dt.date(2100, 1, 1))  # one period: every review so far


def _per_review(url: str, today: dt.date, options: ReviewOptions | None) -> tuple[list[str], np.ndarray]:
    """(trust of each review, counts matrix: one row per review, columns DENOMINATORS then MEASURES).

    Plain column reads (no ORM objects) and the deadlines worked out once: this runs over every review
    in England for the national view.
    """
    rules = {d.stage: d for d in stage_deadlines(options)}
    notified_rule, started_rule, draft_rule = rules["notified"], rules["started"], rules["draft_report"]
    with transaction(url) as session:
        reviews = session.execute(
            select(
                Review.id,
                Review.trust_code,
                Review.category,
                Review.status,
                Review.death_date,
                Review.notified_on,
                Review.started_on,
                Review.draft_report_on,
                Review.parents_told_on,
            )
        ).all()
        members: dict[int, list[tuple[str, bool]]] = defaultdict(list)
        for rid, role, external in session.execute(
            select(ReviewMember.review_id, ReviewMember.role, ReviewMember.external)
        ):
            members[rid].append((role, bool(external)))
        with_items = set(session.scalars(select(ReviewParentItem.review_id).distinct()))
        issues: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for rid, relevant, codes in session.execute(
            select(ReviewIssue.review_id, ReviewIssue.relevant, ReviewIssue.factors)
        ):
            issues[rid].append((relevant, codes))
        grades: dict[int, dict[str, str]] = defaultdict(dict)
        for rid, area, grade in session.execute(select(ReviewGrade.review_id, ReviewGrade.area, ReviewGrade.grade)):
            grades[rid][area] = grade
        actions: dict[int, list[tuple[str, dt.date]]] = defaultdict(list)
        for rid, status, due_on in session.execute(
            select(ReviewAction.review_id, ReviewAction.status, ReviewAction.due_on)
        ):
            actions[rid].append((status, due_on))
    trusts: list[str] = []
    rows: list[list[int]] = []
    for rid, trust, category, status, death, notified, started, draft, told in reviews:
        panel = members[rid]
        factors = {f for _, text in issues[rid] for f in json.loads(text or "[]")}
        graded = grades[rid]
        acts = actions[rid]
        born_alive = category in ("neonatal_death", "post_neonatal_death")
        notified_due, started_due, draft_due = notified_rule.due(death), started_rule.due(death), draft_rule.due(death)
        denominators = {
            "reviews": 1,
            "born_alive": int(born_alive),
            **{f"graded_{a.id}": int(a.id in graded) for a in CARE_AREAS},
            "actions": len(acts),
        }
        values = {
            "notified_on_time": int(notified is not None and (notified_due is None or notified <= notified_due)),
            "started_on_time": int(started is not None and (started_due is None or started <= started_due)),
            "draft_report_on_time": int(draft is not None and (draft_due is None or draft <= draft_due)),
            "closed": int(status == "closed"),
            "external_member": int(any(external or role == "external_member" for role, external in panel)),
            "neonatologist": int(born_alive and any(role == "neonatologist" for role, _ in panel)),
            "parents_told": int(told is not None),
            "parents_questions": int(rid in with_items),
            "relevant_issue": int(any(relevant == "yes" for relevant, _ in issues[rid])),
            **{f"factor_{k}": int(k in factors) for k in CONTRIBUTORY_FACTORS},
            **{f"grade_{a.id}_{g.letter}": int(graded.get(a.id) == g.letter) for a in CARE_AREAS for g in GRADES},
            "actions_done": sum(s == "done" for s, _ in acts),
            "actions_overdue": sum(s != "done" and d < today for s, d in acts),
        }
        trusts.append(trust)
        rows.append([denominators[d] for d in DENOMINATORS] + [values[m] for m, _, _ in MEASURES])
    width = len(DENOMINATORS) + len(MEASURES)
    return trusts, np.array(rows, dtype=np.int64).reshape(-1, width)


def _relations() -> list[Relation]:
    """The identities between the published counts that hold by construction, whatever the data.

    Measures over the same denominator share it; the four grades of an area add up to the reviews graded
    in it. (Identities found from the data itself, as :func:`matneo.measures.disclosure.linear_relations`
    would, are mostly coincidences of a few reviews and make the suppression far slower; these are the
    ones a reader can always rely on.)
    """
    out: list[Relation] = []
    by_denominator: dict[str, list[str]] = defaultdict(list)
    for measure, _, denominator in MEASURES:
        by_denominator[denominator].append(measure)
    for measures in by_denominator.values():
        first = measures[0]
        out += [((first, "denominator", 1.0), (m, "denominator", -1.0)) for m in measures[1:]]
    for area in CARE_AREAS:
        letters = [f"grade_{area.id}_{g.letter}" for g in GRADES]
        out.append((*((m, "numerator", 1.0) for m in letters), (letters[0], "denominator", -1.0)))
    return out


_CACHE: dict[tuple[Any, ...], pl.DataFrame] = {}
_CACHE_SIZE = 64


def _fingerprint(url: str) -> tuple[int, int]:
    """Changes whenever any review changes: every change writes a trail row, every review is counted."""
    with transaction(url) as session:
        last = session.scalar(select(func.max(ReviewChange.id))) or 0
        reviews = session.scalar(select(func.count()).select_from(Review)) or 0
    return last, reviews


def learning_table(
    url: str, access: Access, today: dt.date | None = None, options: ReviewOptions | None = None
) -> pl.DataFrame:
    """Every measure for every organisation, as this reader may see it (suppressed outside their scope).

    Kept per reader scope, day and state of the reviews (the suppression is the costly part), like the
    measure results are; any change to any review makes a new one.
    """
    day = today or dt.date.today()
    key = (url, access.scope_key, access.user.role == "national_analyst", day, id(options), _fingerprint(url))
    if options is None and key in _CACHE:
        return _CACHE[key]
    table = _learning_table(url, access, day, options)
    if options is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = table
    return table


def _learning_table(url: str, access: Access, day: dt.date, options: ReviewOptions | None) -> pl.DataFrame:
    hierarchy = access.hierarchy
    trusts, counts = _per_review(url, day, options)
    ancestors: dict[str, list[str]] = {}
    for org in hierarchy.organisations.values():
        chain: list[str] = []
        code: str | None = org.code
        while code is not None:
            chain.append(code)
            code = hierarchy.get(code).parent_code
        ancestors[org.code] = chain
    width = counts.shape[1]
    totals: dict[str, np.ndarray] = {code: np.zeros(width, dtype=np.int64) for code in hierarchy.organisations}
    for trust, row in zip(trusts, counts, strict=True):
        for code in ancestors.get(trust, [trust]):
            if code in totals:
                totals[code] += row
    records = []
    for code, total in totals.items():
        level = hierarchy.get(code).level
        for i, (measure, _, denominator) in enumerate(MEASURES):
            d = int(total[DENOMINATORS.index(denominator)])
            n = int(total[len(DENOMINATORS) + i])
            records.append((measure, code, level, n, d, round(100 * n / d, 1) if d else None))
    raw = pl.DataFrame(
        records,
        schema={
            "measure": pl.String,
            "org_code": pl.String,
            "level": pl.String,
            "numerator": pl.Int64,
            "denominator": pl.Int64,
            "value": pl.Float64,
        },
        orient="row",
    ).with_columns(pl.lit(PERIOD[0]).alias("period_start"), pl.lit(PERIOD[1]).alias("period_end"))
    scope = access.scope
    if access.sees_everything:
        return raw.with_columns(pl.lit(False).alias("suppressed"))
    known = pl.col("org_code").is_in(list(scope))
    masked = raw.with_row_index("__position").with_columns(
        [pl.when(known).then(None).otherwise(pl.col(c)).alias(c) for c in ("numerator", "denominator")]
    )
    safe = suppressed_by_period(masked, hierarchy, {None: _relations()}).sort("__position").drop("__position")
    inside = raw.filter(known).with_columns(pl.lit(False).alias("suppressed"))
    outside = safe.filter(~pl.col("org_code").is_in(list(scope))).select(inside.columns)
    return pl.concat([inside, outside]).sort("measure", "org_code")


def learning(url: str, access: Access, org_code: str | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """The learning page: one organisation's measures beside its parents', and its children's."""
    hierarchy = access.hierarchy
    org = hierarchy.get(org_code or access.user.org_code)
    table = learning_table(url, access, today)
    chain = []
    code: str | None = org.code
    while code is not None:
        chain.append(code)
        code = hierarchy.get(code).parent_code
    children = [c.code for c in hierarchy.children(org.code)]
    wanted = set(chain) | set(children)
    rows = table.filter(pl.col("org_code").is_in(list(wanted))).to_dicts()
    by = {(r["measure"], r["org_code"]): r for r in rows}
    titles = {m: t for m, t, _ in MEASURES}

    def cell(measure: str, code: str) -> dict[str, Any]:
        r = by.get((measure, code)) or {}
        return {
            "numerator": r.get("numerator"),
            "denominator": r.get("denominator"),
            "value": r.get("value"),
            "suppressed": bool(r.get("suppressed")),
        }

    out = {
        "org_code": org.code,
        "org_name": org.name,
        "columns": [{"code": c, "name": hierarchy.get(c).name} for c in chain],
        "children": [{"code": c, "name": hierarchy.get(c).name} for c in children],
        "measures": [
            {"id": m, "title": titles[m], "cells": {c: cell(m, c) for c in [*chain, *children]}} for m, _, _ in MEASURES
        ],
        "rows": rows,
    }
    out["charts"] = charts(out)
    return out


#: The stages whose timeliness the learning page charts (each measure: reached by its deadline).
TIMELINESS = ("notified_on_time", "started_on_time", "draft_report_on_time")
#: How many contributory factors the chart shows, most frequent first.
TOP_FACTORS = 5


def _row(label: str, cell: dict[str, Any]) -> dict[str, Any]:
    return {"label": label, **cell}


def charts(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The learning page's four charts for its organisation, from the (already suppressed) figures.

    Nothing is worked out from hidden figures: a hidden count stays hidden in the chart, and the open
    actions (not done, not overdue) are shown only when the three counts they come from are all shown.
    """
    code = data["org_code"]
    by = {m["id"]: m for m in data["measures"]}

    def cell(measure: str) -> dict[str, Any]:
        return dict(by[measure]["cells"][code])

    timeliness = [_row(by[m]["title"], cell(m)) for m in TIMELINESS]
    grades = [
        {
            "label": a.label,
            "parts": [cell(f"grade_{a.id}_{g.letter}") for g in GRADES],
            "suppressed": any(cell(f"grade_{a.id}_{g.letter}")["suppressed"] for g in GRADES),
            "denominator": cell(f"grade_{a.id}_{GRADES[0].letter}")["denominator"],
        }
        for a in CARE_AREAS
    ]
    factors = [_row(label, cell(f"factor_{k}")) for k, label in CONTRIBUTORY_FACTORS.items()]
    shown = sorted(
        (f for f in factors if not f["suppressed"] and f["numerator"]), key=lambda f: (-f["numerator"], f["label"])
    )
    done, overdue = cell("actions_done"), cell("actions_overdue")
    known = not (done["suppressed"] or overdue["suppressed"]) and done["denominator"] is not None
    open_cell: dict[str, Any] = {
        "numerator": None,
        "denominator": done["denominator"],
        "value": None,
        "suppressed": True,
    }
    if known:
        total = done["denominator"] or 0
        n = total - (done["numerator"] or 0) - (overdue["numerator"] or 0)
        open_cell = {"numerator": n, "denominator": total, "value": round(100 * n / total, 1) if total else None,
                     "suppressed": False}  # fmt: skip
    return [
        {"id": "timeliness", "kind": "bars", "title": "Stages reached by their deadline", "rows": timeliness},
        {
            "id": "grades",
            "kind": "stacked",
            "title": "Grades of care by area",
            "parts": [f"Grade {g.letter}" for g in GRADES],
            "rows": grades,
        },
        {
            "id": "factors",
            "kind": "bars",
            "title": f"Most frequent contributory factors (top {TOP_FACTORS}, share of reviews)",
            "rows": shown[:TOP_FACTORS],
            "hidden": [f["label"] for f in factors if f["suppressed"]],
        },
        {
            "id": "actions",
            "kind": "bars",
            "title": "Actions from reviews: done, overdue and open",
            "rows": [
                _row("Done", done),
                _row("Overdue (not done by the due date)", overdue),
                _row("Open (not yet due)", open_cell),
            ],
        },
    ]
