"""FHIR under /api/v1/fhir: measures out as Measure and MeasureReport, birth records in as a Bundle.

Thin: the resources are built by ``matneo.fhir`` and the figures come from the same scoped
``ResultCache.view`` as ``/api/v1/measures`` — unsuppressed within the reader's organisation,
suppressed through ``matneo.measures.publish`` for any other. A Bundle POSTed goes through
``load_files`` with the reader's scope, which refuses rows of other trusts on the values it
would store, as a Data-page upload does. Sign-in and CSRF come from the router (ADR 0008).
"""

from __future__ import annotations

import json
import shutil
import uuid
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import Path, Query, Request, Response

from matneo.auth.access import UPLOAD_ROLES
from matneo.fhir.measures import fhir_id, measure_report, measure_resource, parse_period, rolling_window
from matneo.measures.definitions import MEASURES, MEASURES_BY_ID
from matneo.measures.periods import period_label
from matneo.records.load import OutsideScope, PlanRefused, UnreadableInput, load_files, record_failure
from matneo.web.routing import SignedIn, signed_in_router
from matneo.web.services import BadRequest, NotFound, Services

router = signed_in_router(prefix="/api/v1/fhir")
FHIR_JSON = "application/fhir+json"
MAX_BUNDLE_BYTES = 64 * 1024 * 1024  # a trust's month is a few MB; larger goes through `matneo load`
BY_FHIR_ID = {fhir_id(m.id): m for m in MEASURES}


def _fhir(content: Any, status_code: int = 200) -> Response:
    return Response(json.dumps(content), status_code=status_code, media_type=FHIR_JSON)


def _services(request: Request) -> Services:
    return request.app.state.services


def _measure(identifier: str) -> Any:
    measure = MEASURES_BY_ID.get(identifier) or BY_FHIR_ID.get(identifier)
    if measure is None:
        raise NotFound(f"There is no measure {identifier!r}.")
    return measure


@router.get("/Measure/{measure_id}", tags=["fhir"], summary="A measure's definition as a FHIR Measure")
def measure_api(
    access: SignedIn, measure_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
) -> Response:
    return _fhir(measure_resource(_measure(measure_id)))


@router.get("/MeasureReport", tags=["fhir"], summary="One organisation's figures for a period as a FHIR MeasureReport")
def measure_report_api(
    request: Request,
    access: SignedIn,
    measure: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    org: Annotated[str, Query(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9]+$")],
    period: Annotated[
        str,
        Query(max_length=7, description="YYYY, YYYY-MM or YYYY-Qn; with period_type, the window's last month or year"),
    ],
    period_type: Annotated[
        Literal["rolling_12m", "rolling_3y"] | None,
        Query(description="a rolling window: rolling_12m with period=YYYY-MM, rolling_3y with period=YYYY"),
    ] = None,
) -> Response:
    services = _services(request)
    chosen = _measure(measure)
    try:
        if period_type is None:
            kind, start = parse_period(period)
            end = None
        else:
            kind = period_type
            start, end = rolling_window(period_type, period)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    organisation = services.hierarchy.organisations.get(org)
    if organisation is None:
        raise NotFound(f"There is no organisation with code {org!r}.")
    scope = None if access.sees_everything else access.scope
    rows = services.results.view(scope, chosen.id, kind, orgs=[org])
    rows = rows.filter(pl.col("period_start") == start)
    if end is not None:
        rows = rows.filter(pl.col("period_end") == end)
    if rows.is_empty():
        named = period if end is None else period_label(kind, start, end)
        raise NotFound(f"There are no figures of {chosen.id} for {org} in {named}.")
    return _fhir(measure_report(chosen, rows.row(0, named=True), organisation.name))


@router.post("", tags=["fhir"], summary="Load a FHIR Bundle of births (your organisation's trusts only)")
async def bundle_api(request: Request, access: SignedIn, mode: Literal["upsert", "resubmit"] = "upsert") -> Response:
    access.require_role(UPLOAD_ROLES, "load birth records")
    body = await request.body()
    if len(body) > MAX_BUNDLE_BYTES:
        raise BadRequest("The Bundle is larger than 64 MB: load it with `matneo load --format fhir`.")
    services = _services(request)
    folder = services.settings.home / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / "bundle.json"
    path.write_bytes(body)
    actor = access.user.email
    scope = None if access.sees_everything else access.scope
    try:
        batch = load_files(
            [path], services.settings, services.hierarchy, scope=scope, actor=actor, mode=mode, input_format="fhir"
        )
    except UnreadableInput as error:
        record_failure(services.settings, path, error.problem, actor=actor)
        raise BadRequest(f"The Bundle was not loaded: it {error.problem}.") from None
    except OutsideScope as refusal:
        return _fhir(_outcome("security", str(refusal)), 403)
    except PlanRefused as refusal:
        return _fhir(_outcome("business-rule", str(refusal)), 409)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    item = batch.files[0]
    message = (
        "This Bundle was loaded before; nothing changed."
        if item.status == "duplicate"
        else f"Loaded {item.rows_loaded:,} records; {item.rows_rejected:,} rejected."
    )
    outcome = _outcome("informational", message, "information")
    plan = batch.plan()
    return _fhir(outcome | {"matneo": {k: plan[k] for k in ("mode", "replaces", "loaded_rows", "rejected_rows")}})


def _outcome(code: str, text: str, severity: str = "error") -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": code, "diagnostics": text}]}
