"""HTML pages. Each view: page builder or action → template. No data access here.

Two routers: ``public`` holds only the sign-in form (its own double-submit CSRF cookie, no
session yet); ``router`` holds everything else and requires sign-in and, for forms, the CSRF
token by construction (:mod:`matneo.web.routing`, ADR 0008). Handlers take ``access: SignedIn``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote_plus, urlsplit

from fastapi import Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from matneo.assurance.evidence import EvidenceProblem
from matneo.assurance.tracker import FieldProblem
from matneo.auth.access import Access, Forbidden
from matneo.auth.signin import SESSION_IDLE, SignInFailed, TooManyAttempts, sign_in, sign_out
from matneo.records.load import rejection_report_csv
from matneo.triangulation.decisions import DecisionProblem
from matneo.web.app import page_or_csv, page_with_figures, render
from matneo.web.pages import (
    admin,
    assurance,
    board,
    data,
    data_quality,
    evidence,
    funnel,
    guides,
    local,
    organisation,
    overview,
    signals,
    triangulation,
    voice,
)
from matneo.web.routing import FORM_LIMITS, SAFE_METHODS, SignedIn, public_router, signed_in_router
from matneo.web.security import (
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    check_sign_in_csrf,
    client_address,
    is_secure,
    new_sign_in_token,
)
from matneo.web.services import NotFound, Services, api_json

public = public_router(include_in_schema=False)
router = signed_in_router(include_in_schema=False)


def _services(request: Request) -> Services:
    return request.app.state.services


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


# -- sign-in ----------------------------------------------------------------------------------
def _sign_in_form(
    request: Request, next: str, error: str | None = None, email: str = "", status: int = 200
) -> Response:
    """The sign-in page with a fresh double-submit CSRF token in its form and a cookie."""
    token = new_sign_in_token()
    response = render(
        request, "sign_in.html", status, next=_safe_next(next), sign_in_token=token, error=error, email=email
    )
    response.set_cookie(SIGN_IN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=is_secure(request))
    return response


@public.get("/sign-in")
def sign_in_page(request: Request, next: str = "/") -> Response:
    return _sign_in_form(request, next)


@public.post("/sign-in")
def sign_in_submit(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    services = _services(request)
    check_sign_in_csrf(request.cookies.get(SIGN_IN_CSRF_COOKIE), csrf_token)

    def again(message: str, status: int) -> Response:
        return _sign_in_form(request, next, message, email, status)

    if not email.strip() or not password:
        return again("Enter your e-mail address and password.", 400)
    try:
        session = sign_in(services.settings.database_url, email, password, address=client_address(request))
    except TooManyAttempts as error:
        return again(str(error), 429)
    except SignInFailed as error:
        return again(str(error), 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=int(SESSION_IDLE.total_seconds()) * 12,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )
    response.delete_cookie(SIGN_IN_CSRF_COOKIE)
    return response


@router.post("/sign-out")
def sign_out_submit(request: Request) -> Response:
    sign_out(_services(request).settings.database_url, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/sign-in?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- dashboards -------------------------------------------------------------------------------
@router.get("/")
def overview_page(request: Request, access: SignedIn) -> Response:
    page = overview.build(_services(request), access)
    return page_with_figures(request, "overview.html", "overview_figures.html", page)


@router.get("/organisations/{code}")
def organisation_page(request: Request, access: SignedIn, code: str, measure: str = "stillbirth_rate") -> Response:
    page = organisation.build(_services(request), access, code, measure)
    return page_with_figures(request, "organisation.html", "organisation_figures.html", page)


@router.get("/organisations/{code}/board-packs")
def board_packs_page(request: Request, access: SignedIn, code: str, done: int | None = None) -> Response:
    page = board.build(_services(request), access, code)
    return render(request, "board.html", page=page, done=done, error=None)


@router.post("/organisations/{code}/board-packs")
def board_pack_produce(request: Request, access: SignedIn, code: str, month: Annotated[str, Form()] = "") -> Response:
    """Produce, print and archive a pack (a few seconds: Chromium prints the PDF); problems in the page."""
    services = _services(request)
    try:
        made = board.make(services, access, code, month)
    except ValueError as error:
        page = board.build(services, access, code)
        return render(request, "board.html", 400, page=page, done=None, error=str(error))
    assert made.archived is not None
    return RedirectResponse(f"/organisations/{code}/board-packs?done={made.archived.id}", status_code=303)


@router.get("/organisations/{code}/board-packs/{pack_id}.{kind}")
def board_pack_file(request: Request, access: SignedIn, code: str, pack_id: int, kind: str) -> Response:
    """An archived pack exactly as produced: the web page, or the PDF as a download."""
    if kind not in ("html", "pdf"):
        return Response("Not found", status_code=404)
    data = board.archived_file(_services(request), access, code, pack_id, kind)
    if kind == "html":
        return Response(data, media_type="text/html; charset=utf-8")
    headers = {"Content-Disposition": f'attachment; filename="board-pack-{code}-{pack_id}.pdf"'}
    return Response(data, media_type="application/pdf", headers=headers)


@router.get("/organisations/{code}/data-quality")
def data_quality_page(request: Request, access: SignedIn, code: str, site: str | None = None) -> Response:
    page = data_quality.build(_services(request), access, code, site or None)
    return render(request, "data_quality.html", page=page)


@router.get("/organisations/{code}/assurance")
def assurance_page(request: Request, access: SignedIn, code: str) -> Response:
    page = assurance.build(_services(request), access, code)
    if request.query_params.get("format") == "json":  # the same page object, as JSON
        return api_json(page.to_dict())
    return render(request, "assurance.html", page=page)


@router.get("/organisations/{code}/assurance/{key}")
def assurance_item_page(request: Request, access: SignedIn, code: str, key: str, done: int | None = None) -> Response:
    page = assurance.build_item(_services(request), access, code, key)
    return render(request, "assurance_item.html", page=page, done=done, error=None, form=None)


@router.post("/organisations/{code}/assurance/{key}")
async def assurance_item_save(request: Request, access: SignedIn, code: str, key: str) -> Response:
    """Record the trust's position on one requirement; problems in the page with the form kept."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    form.pop("csrf_token", None)  # checked by the router
    services = _services(request)
    try:
        await run_in_threadpool(assurance.save, services, access, code, key, form)
    except PermissionError as error:
        raise Forbidden(str(error)) from None
    except FieldProblem as problem:
        page = await run_in_threadpool(assurance.build_item, services, access, code, key)
        return render(request, "assurance_item.html", 400, page=page, done=None, error=(problem.field, str(problem)),
                      form=form)  # fmt: skip
    return RedirectResponse(f"/organisations/{code}/assurance/{key}?done=1", status_code=303)


@router.post("/organisations/{code}/assurance/{key}/wording")
async def assurance_wording_save(request: Request, access: SignedIn, code: str, key: str) -> Response:
    """Record the trust's own wording for a requirement that needs local confirmation."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    services = _services(request)
    try:
        await run_in_threadpool(assurance.save_wording, services, access, code, key, form.get("wording", ""))
    except PermissionError as error:
        raise Forbidden(str(error)) from None
    except FieldProblem as problem:
        page = await run_in_threadpool(assurance.build_item, services, access, code, key)
        return render(request, "assurance_item.html", 400, page=page, done=None, error=(problem.field, str(problem)),
                      form={"wording": form.get("wording", "")})  # fmt: skip
    return RedirectResponse(f"/organisations/{code}/assurance/{key}?done=1", status_code=303)


# -- local requirements: a trust's or LMNS's own additions to the frameworks ----------------------
def _form(raw: object) -> dict[str, str]:
    return {k: v for k, v in raw.items() if isinstance(v, str) and k != "csrf_token"}  # type: ignore[attr-defined]


@router.get("/organisations/{code}/local-requirements")
def local_requirements_page(request: Request, access: SignedIn, code: str) -> Response:
    page = local.build(_services(request), access, code)
    if request.query_params.get("format") == "json":
        return api_json(page.to_dict())
    return render(request, "local_requirements.html", page=page, error=None, form=None)


@router.post("/organisations/{code}/local-requirements")
async def local_requirement_add(request: Request, access: SignedIn, code: str) -> Response:
    """Add a requirement to the organisation's list; problems in the page with the form kept."""
    form = _form(await request.form())
    services = _services(request)
    try:
        added = await run_in_threadpool(local.add, services, access, code, form)
    except PermissionError as error:
        raise Forbidden(str(error)) from None
    except FieldProblem as problem:
        page = await run_in_threadpool(local.build, services, access, code)
        return render(request, "local_requirements.html", 400, page=page, error=(problem.field, str(problem)),
                      form=form)  # fmt: skip
    return RedirectResponse(f"/organisations/{code}/local-requirements/{added.id}?done=1", status_code=303)


@router.get("/organisations/{code}/local-requirements/{local_id}")
def local_requirement_page(
    request: Request, access: SignedIn, code: str, local_id: int, done: int | None = None
) -> Response:
    page = local.build_item(_services(request), access, code, local_id)
    if request.query_params.get("format") == "json":
        return api_json(page.to_dict())
    return render(request, "local_requirement.html", page=page, error=None, form=None, reason=None, done=done)


@router.post("/organisations/{code}/local-requirements/{local_id}")
async def local_requirement_change(request: Request, access: SignedIn, code: str, local_id: int) -> Response:
    form = _form(await request.form())
    services = _services(request)
    try:
        await run_in_threadpool(local.change, services, access, code, local_id, form)
    except PermissionError as error:
        raise Forbidden(str(error)) from None
    except FieldProblem as problem:
        page = await run_in_threadpool(local.build_item, services, access, code, local_id)
        return render(request, "local_requirement.html", 400, page=page, error=(problem.field, str(problem)),
                      form=form, reason=None, done=None)  # fmt: skip
    return RedirectResponse(f"/organisations/{code}/local-requirements/{local_id}?done=1", status_code=303)


@router.post("/organisations/{code}/local-requirements/{local_id}/{action}")
def local_requirement_retire(
    request: Request,
    access: SignedIn,
    code: str,
    local_id: int,
    action: str,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Retire (with a reason) or reinstate a requirement; its record is kept either way."""
    services = _services(request)
    try:
        if action == "retire":
            local.retire(services, access, code, local_id, reason)
        elif action == "reinstate":
            local.reinstate(services, access, code, local_id)
        else:
            raise NotFound("There is no such page.")
    except PermissionError as error:
        raise Forbidden(str(error)) from None
    except FieldProblem as problem:
        page = local.build_item(services, access, code, local_id)
        return render(request, "local_requirement.html", 400, page=page, error=(problem.field, str(problem)),
                      form=None, reason=reason, done=None)  # fmt: skip
    return RedirectResponse(f"/organisations/{code}/local-requirements/{local_id}?done=1", status_code=303)


# -- evidence: attached once, mapped to many ----------------------------------------------------
async def evidence_size_declared(request: Request) -> None:
    """Refuse a too-large evidence upload from its declared length before the form is read."""
    evidence.check_declared_size(request.headers.get("content-length"))


evidence_uploads = signed_in_router(include_in_schema=False, before_csrf=[evidence_size_declared])


def evidence_problem(request: Request, access: Access, code: str, status: int, message: str,
                     form: dict[str, str] | None = None) -> Response:  # fmt: skip
    """The library page with the problem in its error summary (also for a refusal by the guard)."""
    page = evidence.build_library(_services(request), access, code, (form or {}).get("requirement"))
    field = "file" if status in (411, 413, 415) else "title"
    return render(request, "evidence.html", status, page=page, error=(field, message), form=form, done=None)


@router.get("/organisations/{code}/evidence")
def evidence_library(
    request: Request,
    access: SignedIn,
    code: str,
    key: str | None = None,
    done: int | None = None,
    removed: int | None = None,
) -> Response:
    page = evidence.build_library(_services(request), access, code, key)
    if request.query_params.get("format") == "json":
        return api_json(page.to_dict())
    return render(request, "evidence.html", page=page, error=None, form=None, done=done, removed=removed)


@evidence_uploads.post("/organisations/{code}/evidence")
async def evidence_add(request: Request, access: SignedIn, code: str) -> Response:
    """Attach one item: a file (type and size checked while it is copied) or a link; mapped to
    the chosen requirement. Problems are shown in the library page with the form kept."""
    services = _services(request)
    async with request.form(max_files=1, max_fields=20) as raw:
        form = {k: v for k, v in raw.items() if isinstance(v, str) and k != "csrf_token"}
        upload = raw.get("file")
        stored = None
        try:
            if isinstance(upload, UploadFile) and upload.filename:
                stored = await evidence.receive(services, access, code, upload, form)
            evidence_id = await run_in_threadpool(evidence.add, services, access, code, form, stored)
        except EvidenceProblem as error:
            return await run_in_threadpool(evidence_problem, request, access, code, error.status, str(error), form)
        except FieldProblem as problem:
            page = await run_in_threadpool(evidence.build_library, services, access, code, form.get("requirement"))
            return render(request, "evidence.html", 400, page=page, error=(problem.field, str(problem)), form=form,
                          done=None)  # fmt: skip
    return RedirectResponse(f"/organisations/{code}/evidence/{evidence_id}?done=1", status_code=303)


@router.get("/organisations/{code}/evidence/{evidence_id}")
def evidence_item(request: Request, access: SignedIn, code: str, evidence_id: int, done: int | None = None) -> Response:
    page = evidence.build_item(_services(request), access, code, evidence_id)
    if request.query_params.get("format") == "json":  # the same page object, as JSON
        return api_json(page.to_dict())
    return render(request, "evidence_item.html", page=page, done=done)


@router.get("/organisations/{code}/evidence/{evidence_id}/remove")
def evidence_remove_page(request: Request, access: SignedIn, code: str, evidence_id: int) -> Response:
    """Confirm first: what removing the item takes with it, and why it is being removed."""
    page = evidence.build_remove(_services(request), access, code, evidence_id)
    if request.query_params.get("format") == "json":
        return api_json(page.to_dict())
    return render(request, "evidence_remove.html", page=page, error=None, reason=None)


@router.post("/organisations/{code}/evidence/{evidence_id}/remove")
def evidence_remove(
    request: Request, access: SignedIn, code: str, evidence_id: int, reason: Annotated[str, Form()] = ""
) -> Response:
    """Remove a mistaken item with its mappings (audited with the reason); back to the library."""
    services = _services(request)
    try:
        evidence.remove(services, access, code, evidence_id, reason)
    except PermissionError as error:
        raise Forbidden(str(error)) from None
    except FieldProblem as problem:
        page = evidence.build_remove(services, access, code, evidence_id)
        return render(request, "evidence_remove.html", 400, page=page, error=(problem.field, str(problem)),
                      reason=reason)  # fmt: skip
    return RedirectResponse(f"/organisations/{code}/evidence?removed=1", status_code=303)


@router.post("/organisations/{code}/evidence/{evidence_id}/{action}")
def evidence_mapping(
    request: Request,
    access: SignedIn,
    code: str,
    evidence_id: int,
    action: str,
    key: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """Map the item to one more requirement, or take one off; back to the item (or the requirement)."""
    if action not in ("map", "unmap"):
        raise NotFound("There is no such page.")
    evidence.change_mapping(_services(request), access, code, evidence_id, key, action)
    if back == "requirement":
        return RedirectResponse(f"/organisations/{code}/assurance/{key}", status_code=303)
    return RedirectResponse(f"/organisations/{code}/evidence/{evidence_id}?done=1", status_code=303)


@router.get("/organisations/{code}/evidence/{evidence_id}/file")
def evidence_file(request: Request, access: SignedIn, code: str, evidence_id: int) -> Response:
    """The stored file, always as a download with the type MatNeo recognised: never shown inline."""
    path, name, content_type = evidence.download(_services(request), access, code, evidence_id)
    return FileResponse(
        path,
        media_type=content_type,
        filename=name,
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff"},
    )


# -- family and staff voice --------------------------------------------------------------------
async def voice_size_declared(request: Request) -> None:
    """Refuse a too-large survey file from its declared length before the form is read."""
    voice.check_declared_size(request.headers.get("content-length"))


voice_imports = signed_in_router(include_in_schema=False, before_csrf=[voice_size_declared])


def voice_problem(request: Request, access: Access, code: str, status: int, message: str) -> Response:
    page = voice.build(_services(request), access, code)
    return render(request, "voice.html", status, page=page, error=message)


@router.get("/organisations/{code}/voice")
def voice_page(request: Request, access: SignedIn, code: str) -> Response:
    page = voice.build(_services(request), access, code)
    if request.query_params.get("format") == "json":
        return api_json(page.to_dict())
    return render(request, "voice.html", page=page, error=None)


@voice_imports.post("/organisations/{code}/voice")
async def voice_import(request: Request, access: SignedIn, code: str) -> Response:
    """Import one survey CSV of aggregate figures; what was stored and refused is shown in the page."""
    services = _services(request)
    async with request.form(max_files=1, max_fields=5) as form:
        file, source = form.get("file"), form.get("source")
        try:
            upload = file if isinstance(file, UploadFile) else None
            result = await voice.import_file(services, access, code, source if isinstance(source, str) else "", upload)
        except voice.VoiceProblem as error:
            return await run_in_threadpool(voice_problem, request, access, code, error.status, str(error))
    page = await run_in_threadpool(voice.build, services, access, code, result)
    return render(request, "voice.html", page=page, error=None)


@router.get("/organisations/{code}/safety")
def safety_page(request: Request, access: SignedIn, code: str, done: int | None = None) -> Response:
    page = triangulation.build(_services(request), access, code)
    if request.query_params.get("format") == "json":
        return api_json(page.to_dict())
    return render(request, "safety.html", page=page, done=done, error=None)


@router.post("/organisations/{code}/safety/{trust}/decisions")
def safety_decision(
    request: Request,
    access: SignedIn,
    code: str,
    trust: str,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    review_on: Annotated[str, Form()] = "",
) -> Response:
    """Record an LMNS or region decision about a trust; problems in the page."""
    services = _services(request)
    try:
        triangulation.decide(
            services, access, code, trust, {"decision": decision, "note": note, "review_on": review_on}
        )
    except PermissionError as error:
        raise Forbidden(str(error)) from None
    except DecisionProblem as problem:
        page = triangulation.build(services, access, code)
        return render(request, "safety.html", 400, page=page, done=None, error=(trust, problem.field, str(problem)))
    return RedirectResponse(f"/organisations/{code}/safety?done=1", status_code=303)


@router.get("/funnel")
def funnel_page(
    request: Request,
    access: SignedIn,
    measure: str = "stillbirth_rate",
    level: str = "trust",
    period: str = "rolling_12m",
    adjustment: str = "crude",
    highlight: str | None = None,
) -> Response:
    page = funnel.build(_services(request), access, measure, level, period, adjustment, highlight)
    return page_or_csv(request, "funnel.html", page)


@router.get("/signals")
def signals_page(request: Request, access: SignedIn, show: str = "active", done: int | None = None) -> Response:
    return render(request, "signals.html", page=signals.build(_services(request), access, show), done=done, error=None)


@router.post("/signals/{signal_id}/acknowledge")
def acknowledge_signal(
    request: Request, access: SignedIn, signal_id: int, comment: Annotated[str, Form()] = ""
) -> Response:
    services = _services(request)
    try:
        signals.acknowledge(services, access, signal_id, comment)
    except ValueError as error:
        page = signals.build(services, access)
        return render(request, "signals.html", 400, page=page, done=None, error=(signal_id, str(error)))
    return RedirectResponse(f"/signals?done={signal_id}", status_code=303)


@router.get("/methods")
def methods_page(request: Request) -> Response:
    """Signed-in users only (the router), like every figure the guide explains."""
    return render(request, "guide.html", page=guides.build("methods"))


@router.get("/guides")
def guides_page(request: Request) -> Response:
    """The list of guides; signed-in users only, as the methods guide always was."""
    return render(request, "guides.html", guides=list(guides.GUIDES.values()))


@router.get("/guides/{guide}")
def guide_page(request: Request, guide: str) -> Response:
    """One guide (:data:`matneo.web.pages.guides.GUIDES`); the methods guide stays at /methods,
    where every figure's note links, so /guides/methods goes there."""
    if guide == "methods":
        return RedirectResponse("/methods", status_code=301)
    return render(request, "guide.html", page=guides.build(guide))


# -- data -------------------------------------------------------------------------------------
async def upload_size_declared(request: Request) -> None:
    """Refuse a too-large upload from its declared length before a byte of it is read, so
    before the CSRF check reads the form (``matneo.web.app`` shows the problem on the Data page)."""
    data.check_declared_size(request.headers.get("content-length"))


async def upload_form_read(request: Request) -> None:
    """Read the upload's form with its own limit of files (several: ``data.MAX_UPLOAD_FILES``)
    before the CSRF check reads it (Starlette keeps the form read first), so that too many files
    are refused on the Data page, in its error summary, rather than as a bare error."""
    if request.method in SAFE_METHODS:
        return
    try:
        await request.form(max_files=data.MAX_UPLOAD_FILES, max_fields=FORM_LIMITS["max_fields"])
    except HTTPException as error:
        if "files" not in str(error.detail):  # another malformed form: as for any other
            raise
        raise data.UploadProblem(f"Choose at most {data.MAX_UPLOAD_FILES} files at a time.") from None


uploads = signed_in_router(include_in_schema=False, before_csrf=[upload_size_declared, upload_form_read])


@router.get("/data")
def data_page(request: Request, access: SignedIn, cancelled: int | None = None) -> Response:
    result = None
    if cancelled:
        result = data.UploadResult("Upload cancelled", "cancelled", "The upload was deleted; nothing was loaded.")
    return render(request, "data.html", page=data.build(_services(request), access, result), error=None)


def data_problem(request: Request, access: Access, status: int, message: str) -> Response:
    """The Data page with the problem in its error summary (also for :class:`data.UploadProblem`
    raised before the handler, e.g. by the declared-size check: see ``matneo.web.app``)."""
    page = data.build(_services(request), access)
    return render(request, "data.html", status, page=page, error=message)


@uploads.post("/data/upload")
async def data_upload(request: Request, access: SignedIn) -> Response:
    """Receive the files chosen, a chunk at a time (never whole in memory), and show the plan of
    loading them as one load; nothing loads yet. They may be birth-record CSV or Parquet files,
    FHIR Bundles, an MSDS extract's table files, or one MSDS zip (``data.detect_kinds`` reads
    which from their first bytes).

    The declared size was checked before the body was read, and the CSRF token read from the
    form (whose file parts Starlette spools to disk), by the router's guards."""
    services = _services(request)
    try:
        async with request.form(max_files=data.MAX_UPLOAD_FILES, max_fields=5) as form:
            files = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
            if not files:
                return data_problem(request, access, 400, "Choose a file to upload.")
            mode = form.get("mode")
            paths = await data.receive(services, access, files)
        outcome = await run_in_threadpool(
            data.plan_upload, services, access, paths, mode if isinstance(mode, str) else None
        )
    except data.UploadProblem as error:
        return data_problem(request, access, error.status, str(error))
    except Forbidden as error:  # a role that may not upload
        return data_problem(request, access, 403, str(error))
    if isinstance(outcome, data.UploadResult):  # loaded before: nothing to confirm
        return render(request, "data.html", page=data.build(services, access, outcome), error=None)
    return render(request, "data_plan.html", plan=outcome, error=None)


@router.post("/data/uploads/{token}/confirm")
def data_upload_confirm(
    request: Request, access: SignedIn, token: str, allow_shrink: Annotated[str, Form()] = ""
) -> Response:
    """Load a pending upload as its plan said (a partial month needs ``allow_shrink=yes`` too)."""
    services = _services(request)
    try:
        result = data.confirm_upload(services, access, token, allow_shrink == "yes")
    except data.PlanNeedsAnotherLook as again:
        return render(request, "data_plan.html", again.status, plan=again.plan, error=str(again))
    except data.UploadProblem as error:
        return data_problem(request, access, error.status, str(error))
    except Forbidden as error:
        return data_problem(request, access, 403, str(error))
    return render(request, "data.html", page=data.build(services, access, result), error=None)


@router.post("/data/uploads/{token}/cancel")
def data_upload_cancel(request: Request, access: SignedIn, token: str) -> Response:
    data.cancel_upload(_services(request), access, token)
    return RedirectResponse("/data?cancelled=1", status_code=303)


@router.get("/data/loads/{load_id}/revert")
def data_load_revert_check(request: Request, access: SignedIn, load_id: int) -> Response:
    """What reverting the load would do; nothing changes until it is confirmed."""
    plan = data.revert_plan(_services(request), access, load_id)
    return render(request, "data_revert.html", plan=plan, error=None)


@router.post("/data/loads/{load_id}/revert")
def data_load_revert(
    request: Request, access: SignedIn, load_id: int, confirm: Annotated[str, Form()] = ""
) -> Response:
    """Revert a load of the organisation's records (atomic, audited) once confirmed; refusals in
    the page. Without ``confirm=yes`` it shows what the revert would do and changes nothing."""
    services = _services(request)
    if confirm != "yes":
        plan = data.revert_plan(services, access, load_id)
        error = "Check what reverting would do, then confirm." if not plan.blocked else None
        return render(request, "data_revert.html", 400, plan=plan, error=error)
    try:
        result = data.revert(services, access, load_id)
    except data.UploadProblem as error:
        return data_problem(request, access, error.status, str(error))
    except Forbidden as error:
        return data_problem(request, access, 403, str(error))
    return render(request, "data.html", page=data.build(services, access, result), error=None)


@router.get("/data/loads/{load_id}/rejections.csv")
def rejection_download(request: Request, access: SignedIn, load_id: int) -> Response:
    path = data.rejection_report(_services(request), access, load_id)
    return Response(
        rejection_report_csv(path),  # the file's name, not its server path; no spreadsheet formulas
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="load-{load_id}-rejections.csv"'},
    )


# -- administration ---------------------------------------------------------------------------
@router.get("/admin/users")
def admin_page(request: Request, access: SignedIn, done: str | None = None, before: int | None = None) -> Response:
    page = admin.build(_services(request), access, before=before)
    return render(request, "admin.html", page=page, done=done, error=None, form={})


@router.post("/admin/users")
def admin_add_user(
    request: Request,
    access: SignedIn,
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    org_code: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    services = _services(request)
    try:
        user = admin.create_user(services, access, email, role, org_code, password)
    except ValueError as error:
        form = {"email": email, "role": role, "org_code": org_code}
        page = admin.build(services, access)
        return render(request, "admin.html", 400, page=page, done=None, error=str(error), form=form)
    return RedirectResponse(f"/admin/users?done=added+{user.email}", status_code=303)


@router.post("/admin/users/{user_id}/{action}")
def admin_change_user(request: Request, access: SignedIn, user_id: int, action: str) -> Response:
    services = _services(request)
    try:
        user = admin.change_user(services, access, user_id, action)
    except ValueError as error:
        page = admin.build(services, access)
        return render(request, "admin.html", 400, page=page, done=None, error=str(error), form={})
    done = {"unlock": "cleared the sign-in delay of", "activate": "activated", "deactivate": "deactivated"}[action]
    return RedirectResponse(f"/admin/users?done={done}+{user.email}", status_code=303)


@router.post("/admin/sign-in-limits")
def admin_clear_limit(
    request: Request,
    access: SignedIn,
    kind: Annotated[str, Form()] = "",
    subject: Annotated[str, Form()] = "",
) -> Response:
    done = admin.clear_limit(_services(request), access, kind, subject)
    return RedirectResponse(f"/admin/users?done={quote_plus(done)}", status_code=303)
