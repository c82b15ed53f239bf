"""JSON API under /api/v1: the same page contexts as the HTML pages, plus scoped measure rows.

Every endpoint needs a signed-in session (401 otherwise); POSTs also need ``X-CSRF-Token``.
Both come from the router (:func:`matneo.web.routing.signed_in_router`, ADR 0008), checked
before any parameter is validated: an anonymous ``?period=bogus`` is 401, not 422.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any, Literal

import polars as pl
from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, Field

from matneo.auth.access import Access
from matneo.measures.compute import LEVELS, org_lookup
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.measures.disclosure import SUPPRESSION_THRESHOLD
from matneo.measures.results import BREAKDOWN_PERIODS
from matneo.quality import cached_cube
from matneo.quality.caveat import table_caveats
from matneo.quality.rules import rules_from
from matneo.records.status import scoped_status, store_status
from matneo.web.pages import data, data_quality, funnel, organisation, overview, signals
from matneo.web.routing import SignedIn, signed_in_router
from matneo.web.services import BadRequest, NotFound, Services, api_json, cached_page_json, to_json

router = signed_in_router(prefix="/api/v1")

if TYPE_CHECKING:  # a Literal built at run time is no type to a checker; FastAPI needs it to list the ids
    MeasureId = str
else:
    MeasureId = Literal[tuple(MEASURES_BY_ID)]
Level = Literal["trust", "lmns", "region", "england"]
FunnelLevel = Literal["trust", "lmns", "region"]
PeriodType = Literal["month", "quarter", "year", "financial_year", "rolling_12m", "rolling_3y"]
FunnelPeriod = Literal["year", "financial_year", "rolling_12m", "rolling_3y"]
OrgCode = Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9]+$")]
MEASURE_ROW_LIMIT = 50_000


class Acknowledgement(BaseModel):
    comment: str = Field(min_length=1, max_length=2000, description="What has been done or decided about the signal")


def _services(request: Request) -> Services:
    return request.app.state.services


@router.get("/me", tags=["session"], summary="Who is signed in, and their organisation scope")
def me(access: SignedIn) -> dict[str, Any]:
    return {
        "email": access.user.email,
        "role": access.user.role,
        "org_code": access.user.org_code,
        "org_name": access.org_name,
        "scope_size": len(access.scope),
        "csrf_token": access.user.csrf_token,  # same-origin only: other sites cannot read this response
    }


@router.get("/status", tags=["data"], summary="What is loaded (counts only, for your organisation's trusts)")
def status(request: Request, access: SignedIn) -> dict[str, Any]:
    if access.sees_everything:
        return store_status(_services(request).settings).to_dict()
    return scoped_status(_services(request).settings, access.scope)


@router.get("/overview", tags=["pages"], summary="England overview: ambition measures and signals in scope")
def overview_api(request: Request, access: SignedIn) -> Response:
    return cached_page_json(_services(request), overview.build(_services(request), access))


@router.get("/organisations/{code}", tags=["pages"], summary="An organisation's page: measures, charts, signals")
def organisation_api(
    request: Request, access: SignedIn, code: OrgCode, measure: MeasureId = "stillbirth_rate"
) -> Response:
    page = organisation.build(_services(request), access, code, measure)
    return cached_page_json(_services(request), page)


@router.get(
    "/organisations/{code}/data-quality",
    tags=["data"],
    summary="An organisation's data quality: completeness, validity, rejections, late and missing months",
)
def data_quality_api(
    request: Request,
    access: SignedIn,
    code: OrgCode,
    site: Annotated[str | None, Query(max_length=16, pattern=r"^[A-Za-z0-9]*$")] = None,
) -> Response:
    return api_json(data_quality.build(_services(request), access, code, site or None).to_dict())


@router.get("/funnel", tags=["pages"], summary="Funnel plot of one measure among organisations at one level")
def funnel_api(
    request: Request,
    access: SignedIn,
    measure: MeasureId = "stillbirth_rate",
    level: FunnelLevel = "trust",
    period: FunnelPeriod = "rolling_12m",
    adjustment: Literal["crude", "adjusted"] = "crude",
) -> Response:
    page = funnel.build(_services(request), access, measure, level, period, adjustment)
    return api_json(page.to_dict())


@router.get("/measures", tags=["data"], summary="Measure results, unsuppressed only within your scope")
def measures_api(
    request: Request,
    access: SignedIn,
    measure: MeasureId,
    level: Level = "trust",
    period: PeriodType = "year",
    org: Annotated[str | None, Query(max_length=16, pattern=r"^[A-Za-z0-9]+$")] = None,
    by: Literal["ethnic_group", "imd_quintile"] | None = None,
) -> Response:
    services = _services(request)
    if level not in LEVELS:  # pragma: no cover - the Literal type already refuses it
        raise BadRequest(f"level must be one of {', '.join(LEVELS)}")
    if by is not None and period not in BREAKDOWN_PERIODS:
        raise BadRequest(f"breakdowns are available for {', '.join(BREAKDOWN_PERIODS)} periods")
    if org is not None and org not in services.hierarchy.organisations:
        raise NotFound(f"There is no organisation with code {org!r}.")
    scope = None if access.sees_everything else access.scope
    rows = services.results.view(scope, measure, period, by, orgs=[org] if org else None)
    rows = rows.filter(pl.col("level") == level)
    rows = rows.sort("org_code", "period_start")
    rows = rows.join(_caveats(services, access, measure, level, period), on=["org_code", "period_start"], how="left")
    rows = rows.with_columns(pl.col("caveats").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    head = to_json(
        {"measure": measure, "level": level, "period": period, "by": by, "truncated": rows.height > MEASURE_ROW_LIMIT}
    )
    # The rows are encoded by Polars (dates as ISO dates, NaN and missing values as null, as
    # the dict-per-row encoding did): thousands of rows per breakdown, a second of Python under load (issue 11).
    body = head[:-1] + ',"rows":' + rows.head(MEASURE_ROW_LIMIT).write_json() + "}"
    return Response(body, media_type="application/json")


@router.get("/signals", tags=["signals"], summary="Signals register for the trusts in your scope")
def signals_api(request: Request, access: SignedIn, show: Literal["active", "all"] = "active") -> dict[str, Any]:
    return signals.build(_services(request), access, show).to_dict()


@router.post("/signals/{signal_id}/acknowledge", tags=["signals"], summary="Acknowledge a signal with a comment")
def acknowledge_api(
    request: Request,
    access: SignedIn,
    signal_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: Acknowledgement,
) -> dict[str, Any]:
    try:
        return signals.acknowledge(_services(request), access, signal_id, body.comment).to_dict()
    except ValueError as error:
        raise BadRequest(str(error)) from None


@router.get("/loads", tags=["data"], summary="Loads of your organisation's records, with rejection counts")
def loads_api(request: Request, access: SignedIn) -> dict[str, Any]:
    return data.build(_services(request), access).to_dict()


def _caveats(services: Services, access: Access, measure: str, level: str, period: str) -> pl.DataFrame:
    """Each row's data-quality caveats (docs/data-quality.md), once per store version and reader scope."""
    least = functools.partial(_least, access)
    return services.results.memo(
        ("measure-caveats", access.scope_key, measure, level, period),
        lambda: table_caveats(
            cached_cube(services.settings, services.results),
            measure,
            org_lookup(services.hierarchy, level),
            period,
            rules_from(services.settings),
            least,
        ),
    )


def _least(access: Access, org_code: str) -> int:
    return 0 if access.in_scope(org_code) else SUPPRESSION_THRESHOLD
