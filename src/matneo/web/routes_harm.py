"""Harm reports: the JSON API under /api/v1 and the pages under /harm. Thin views only.

The router requires the session (and the CSRF token for changes) before anything else runs
(:func:`matneo.web.routing.signed_in_router`, ADR 0008); each view calls
:mod:`matneo.web.pages.harm` with the user's access and renders HTML or JSON. Creating and changing reports is for trust
staff of the owning trust (403 for anyone else); a case outside the user's scope is 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import FormData

from matneo.harm.portal import CaseError
from matneo.harm.report import HarmReportError
from matneo.web.app import render
from matneo.web.pages import harm
from matneo.web.routing import SignedIn, signed_in_router
from matneo.web.services import Services

router = signed_in_router()

CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RouteId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Z_]+$")]


def _services(request: Request) -> Services:
    return request.app.state.services


class PatientIn(BaseModel):
    nhs_number: str | None = Field(None, max_length=20, description="10-digit NHS number (owning trust only)")
    label: str | None = Field(None, max_length=200, description="e.g. the mother's name or hospital number")


class HarmSubmission(BaseModel):
    report: dict[str, Any] | None = Field(
        None, description="The routing input (fields: the harm routing guide, /guides/harm-routing#input)"
    )
    patient: PatientIn | None = None
    idempotency_key: str | None = Field(None, max_length=100, description="Same key, same trust: same report")
    draft: bool = Field(False, description="Save as a draft (not validated) instead of submitting")
    draft_id: int | None = Field(None, ge=1, description="The draft this saves or submits")


class RouteUpdate(BaseModel):
    status: str = Field(description="done | not_applicable | due (reopen)")
    reference: str | None = Field(None, max_length=100, description="The receiving body's reference (for done)")
    done_on: str | None = Field(None, max_length=10, description="ISO date it was done (for done)")
    reason: str | None = Field(None, max_length=2000, description="Why it does not apply (for not_applicable)")


class AmendRequest(BaseModel):
    changes: dict[str, Any] = Field(
        description="Answers to change, by dotted field name (as in the harm routing guide, "
        "/guides/harm-routing#input), e.g. "
        '{"baby.mri_evidence_hypoxic_injury": true}; null = not known'
    )


class PreviewRequest(BaseModel):
    report: dict[str, Any] | None = Field(None, description="A partial or complete report (nested)")
    form: dict[str, str] | None = Field(None, description="Or the report form's flat values (the live preview)")


def _invalid(error: HarmReportError | CaseError) -> JSONResponse:
    return JSONResponse(harm.field_errors(error), status_code=400)


# -- API --------------------------------------------------------------------------------------
@router.post("/api/v1/harm-reports", tags=["harm"], summary="Submit a harm report, or save a draft", status_code=201)
def submit_api(request: Request, access: SignedIn, body: HarmSubmission) -> Response:
    try:
        result = harm.submit_json(_services(request), access, body.model_dump())
    except (HarmReportError, CaseError) as error:
        return _invalid(error)
    url = f"/harm/{result.id}"
    content = {"id": result.id, "status": result.status, "repeat": result.repeat, "url": url}
    return JSONResponse(content, status_code=200 if result.repeat else 201, headers={"Location": url})


@router.get("/api/v1/harm-reports", tags=["harm"], summary="Queue: open cases, overdue routes, per-trust counts")
def queue_api(request: Request, access: SignedIn) -> dict[str, Any]:
    return harm.queue_page(_services(request), access).to_dict()


@router.get("/api/v1/harm-reports/{case_id}", tags=["harm"], summary="A case: routes, contacts, candour, trail")
def case_api(request: Request, access: SignedIn, case_id: CaseId) -> dict[str, Any]:
    return harm.case_page(_services(request), access, case_id).to_dict()


@router.post("/api/v1/harm-reports/{case_id}/routes/{route_id}", tags=["harm"], summary="Change a route's status")
def route_api(request: Request, access: SignedIn, case_id: CaseId, route_id: RouteId, body: RouteUpdate) -> Response:
    services = _services(request)
    try:
        harm.change_case(services, access, case_id, "route", {"route_id": route_id, **body.model_dump()})
    except CaseError as error:
        return _invalid(error)
    route = next(r for r in harm.case_page(services, access, case_id).case["routes"] if r["route_id"] == route_id)
    return JSONResponse(route)


@router.post(
    "/api/v1/harm-reports/{case_id}/amend",
    tags=["harm"],
    summary="Amend a submitted report's answers and re-route it (owning trust's staff)",
)
def amend_api(request: Request, access: SignedIn, case_id: CaseId, body: AmendRequest) -> Response:
    services = _services(request)
    try:
        harm.amend(services, access, case_id, body.changes)
    except CaseError as error:
        return _invalid(error)
    return JSONResponse(harm.case_page(services, access, case_id).to_dict())


@router.post(
    "/api/v1/harm-reports/{case_id}/{action}",
    tags=["harm"],
    summary="Add a family contact, Duty of Candour step or attachment (action: contact | candour | attachment)",
)
def change_api(
    request: Request,
    access: SignedIn,
    case_id: CaseId,
    action: Annotated[str, Path(pattern=r"^(contact|candour|attachment)$")],
    body: Annotated[dict[str, str | None], Body()],
) -> Response:
    services = _services(request)
    try:
        harm.change_case(services, access, case_id, action, body)
    except CaseError as error:
        return _invalid(error)
    return JSONResponse(harm.case_page(services, access, case_id).to_dict())


@router.get(
    "/api/v1/harm-reports/{case_id}/export/{route_id}",
    tags=["harm"],
    summary="The payload for one route (SPEN / LFPSE / local); identifiers only for the owning trust",
)
def export_api(request: Request, access: SignedIn, case_id: CaseId, route_id: RouteId) -> Response:
    payload = harm.export(_services(request), access, case_id, route_id)
    filename = f"harm-{case_id}-{route_id.lower()}.json"
    return JSONResponse(payload, headers={"Content-Disposition": f'inline; filename="{filename}"'})


@router.post("/api/v1/harm-route", tags=["harm"], summary="Preview routes and deadlines without saving")
def preview_api(
    body: PreviewRequest,
) -> dict[str, Any]:
    if body.form is not None:
        return harm.preview(body.form, is_form=True)
    return harm.preview(body.report or {}, is_form=False)


@router.post("/api/v1/harm-notifications/read", tags=["harm"], summary="Mark your organisation's notices read")
def read_api(request: Request, access: SignedIn) -> dict[str, int]:
    return {"read": harm.read_notifications(_services(request), access)}


@router.post("/api/v1/harm-overdue-check", tags=["harm"], summary="Run the daily overdue check now (administrators)")
def overdue_api(request: Request, access: SignedIn) -> dict[str, int]:
    return {"created": harm.overdue_check(_services(request), access)}


# -- pages ------------------------------------------------------------------------------------
def _form_dict(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.get("/harm", include_in_schema=False)
def queue_view(request: Request, access: SignedIn, read: int | None = None) -> Response:
    return render(request, "harm_queue.html", page=harm.queue_page(_services(request), access), read=read)


@router.post("/harm/notifications/read", include_in_schema=False)
def read_view(request: Request, access: SignedIn) -> Response:
    count = harm.read_notifications(_services(request), access)
    return RedirectResponse(f"/harm?read={count}", status_code=303)


@router.get("/harm/new", include_in_schema=False)
def new_view(request: Request, access: SignedIn, draft: int | None = None, saved: int = 0) -> Response:
    return render(request, "harm_form.html", page=harm.new_form(_services(request), access, draft, bool(saved)))


@router.post("/harm/new", include_in_schema=False)
async def new_post(request: Request, access: SignedIn) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = _form_dict(await request.form())
    services = _services(request)
    action = form.get("action", "check")
    if action not in ("draft", "submit"):
        page = await run_in_threadpool(harm.check_form, services, access, form)
        return render(request, "harm_form.html", 200, page=page)
    try:
        result = await run_in_threadpool(harm.save_form, services, access, form, action)
    except harm.FormInvalid as invalid:
        return render(request, "harm_form.html", 400, page=invalid.page)
    if result.status == "draft":
        return RedirectResponse(f"/harm/new?draft={result.id}&saved=1", status_code=303)
    return RedirectResponse(f"/harm/{result.id}?submitted=1", status_code=303)


@router.get("/harm/{case_id}", include_in_schema=False)
def case_view(
    request: Request, access: SignedIn, case_id: int, submitted: int = 0, done: str | None = None
) -> Response:
    page = harm.case_page(_services(request), access, case_id)
    return render(request, "harm_case.html", page=page, submitted=bool(submitted), done=done, error=None)


@router.post("/harm/{case_id}/{action}", include_in_schema=False)
async def change_view(request: Request, access: SignedIn, case_id: int, action: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = _form_dict(await request.form())
    services = _services(request)
    try:
        await run_in_threadpool(harm.change_case, services, access, case_id, action, form)
    except CaseError as error:
        page = await run_in_threadpool(harm.case_page, services, access, case_id)
        error_text = harm.problem_words(error)
        return render(request, "harm_case.html", 400, page=page, submitted=False, done=None, error=error_text)
    return RedirectResponse(f"/harm/{case_id}?done={action}", status_code=303)
