"""Quality improvement: pages under /qi and the JSON API under /api/v1/qi. Thin views only.

Each view gets the user's access, checks the CSRF token for changes, calls :mod:`matneo.qi.actions`
or a page builder in :mod:`matneo.web.pages.qi`, and renders HTML or JSON. A form that fails
is shown again with the NHS.UK error summary (HTTP 400); a project or collaborative the user
cannot see is 404, one they can see but not change is 403.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Body, Header, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from matneo.auth.access import Access
from matneo.qi import actions, queries
from matneo.qi.access import QiNotFound
from matneo.qi.core import QiInputError, UnreadableFile
from matneo.qi.export import PdfUnavailable
from matneo.web.app import access_for, render
from matneo.web.pages import qi
from matneo.web.routing import signed_in_router
from matneo.web.security import check_csrf
from matneo.web.services import NotFound, Services, api_json

router = signed_in_router()

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
RuleSet = Annotated[str | None, Query(pattern=r"^(anhoej|ihi)$")]
Chart = Annotated[str, Query(pattern=r"^(run|spc)$")]


def _services(request: Request) -> Services:
    return request.app.state.services


def _url(request: Request) -> str:
    return _services(request).settings.database_url


def _today() -> dt.date:
    return dt.date.today()


async def _form(request: Request) -> tuple[Access, dict[str, str], dict[str, UploadFile]]:
    form = await request.form()
    access = await run_in_threadpool(access_for, request)
    check_csrf(access.user, form.get("csrf_token") if isinstance(form.get("csrf_token"), str) else None)  # type: ignore[arg-type]
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    files = {k: v for k, v in form.items() if isinstance(v, UploadFile)}
    return access, values, files


def _invalid(error: QiInputError) -> JSONResponse:
    return JSONResponse({"errors": [{"field": e.field, "message": e.message} for e in error.errors]}, status_code=400)


def _found(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except QiNotFound as error:
        raise NotFound(str(error)) from None


# -- pages: home and collaboratives -----------------------------------------------------------
@router.get("/qi", include_in_schema=False)
def home_view(request: Request) -> Response:
    access = access_for(request)
    return render(request, "qi_home.html", page=qi.home_page(_services(request), access))


@router.post("/qi/collaboratives", include_in_schema=False)
async def collaborative_create(request: Request) -> Response:
    access, form, _ = await _form(request)
    try:
        cid = await run_in_threadpool(actions.create_collaborative, _url(request), access, form)
    except QiInputError as error:
        page = await run_in_threadpool(
            qi.home_page, _services(request), access, qi.Problems.of("collaborative", error, form)
        )
        return render(request, "qi_home.html", 400, page=page)
    return RedirectResponse(f"/qi/collaboratives/{cid}", status_code=303)


@router.post("/qi/projects", include_in_schema=False)
async def project_create(request: Request) -> Response:
    access, form, _ = await _form(request)
    chosen = [int(v) for v in (await request.form()).getlist("collaboratives") if isinstance(v, str) and v.isdigit()]
    try:
        pid = await run_in_threadpool(actions.create_project, _url(request), access, form, chosen)
    except QiInputError as error:
        page = await run_in_threadpool(qi.home_page, _services(request), access, qi.Problems.of("project", error, form))
        return render(request, "qi_home.html", 400, page=page)
    return RedirectResponse(f"/qi/projects/{pid}?done=created", status_code=303)


@router.get("/qi/collaboratives/{collaborative_id}", include_in_schema=False)
def collaborative_view(request: Request, collaborative_id: Id, q: str = "") -> Response:
    access = access_for(request)
    page = qi.collaborative_page(_services(request), access, collaborative_id, q[:100])
    return render(request, "qi_collaborative.html", page=page)


@router.post("/qi/collaboratives/{collaborative_id}/{action}", include_in_schema=False)
async def collaborative_change(request: Request, collaborative_id: Id, action: str) -> Response:
    access, form, _ = await _form(request)
    url = _url(request)
    calls: dict[str, Callable[[], Any]] = {
        "members": lambda: actions.add_member(
            url,
            access,
            collaborative_id,
            form.get("trust_code", ""),
            int(form["wave_id"]) if form.get("wave_id", "").isdigit() else None,
        ),
        "waves": lambda: actions.add_wave(url, access, collaborative_id, form),
        "ideas": lambda: actions.add_change_idea(url, access, form, collaborative_id=collaborative_id),
    }
    if action not in calls:
        raise NotFound("There is no such page.")
    try:
        await run_in_threadpool(_found, calls[action])
    except QiInputError as error:
        page = await run_in_threadpool(
            qi.collaborative_page, _services(request), access, collaborative_id, "", qi.Problems.of(action, error, form)
        )
        return render(request, "qi_collaborative.html", 400, page=page)
    return RedirectResponse(f"/qi/collaboratives/{collaborative_id}?done={action}", status_code=303)


# -- pages: projects --------------------------------------------------------------------------
@router.get("/qi/projects/{project_id}", include_in_schema=False)
def project_view(request: Request, project_id: Id, done: str | None = None) -> Response:
    access = access_for(request)
    page = qi.project_page(_services(request), access, project_id, done=done)
    return render(request, "qi_project.html", page=page)


@router.get("/qi/projects/{project_id}/summary", include_in_schema=False)
def summary_view(request: Request, project_id: Id, download: int = 0) -> Response:
    """A project summary to print or save (HTML): aim, progress, driver diagram, every chart, PDSA cycles."""
    page = qi.project_page(_services(request), access_for(request), project_id)
    response = render(request, "qi_summary.html", page=page)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="project-{project_id}-summary.html"'
    return response


@router.get("/qi/projects/{project_id}/driver-diagram.svg", include_in_schema=False)
def diagram_view(request: Request, project_id: Id) -> Response:
    svg = qi.diagram_svg(_services(request), access_for(request), project_id)
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'inline; filename="driver-diagram-{project_id}.svg"'},
    )


def _download(request: Request, make: Callable[[], qi.Download]) -> Response:
    """A PNG or PDF made by headless Chromium, as an attachment; 503 with the reason if it cannot be made."""
    try:
        made = make()
    except PdfUnavailable as error:
        return render(request, "error.html", 503, title="The file could not be made", message=str(error))
    return Response(
        made.data,
        media_type=made.media_type,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )


@router.get("/qi/projects/{project_id}/summary.pdf", include_in_schema=False)
def summary_pdf(request: Request, project_id: Id) -> Response:
    """The project summary as a PDF (printed on the server from a standalone copy of the summary page)."""
    access = access_for(request)
    return _download(request, lambda: qi.summary_download(_services(request), access, project_id))


@router.get("/qi/projects/{project_id}/driver-diagram.png", include_in_schema=False)
def diagram_png(request: Request, project_id: Id) -> Response:
    access = access_for(request)
    return _download(request, lambda: qi.diagram_download(_services(request), access, project_id, "png"))


@router.get("/qi/projects/{project_id}/driver-diagram.pdf", include_in_schema=False)
def diagram_pdf(request: Request, project_id: Id) -> Response:
    access = access_for(request)
    return _download(request, lambda: qi.diagram_download(_services(request), access, project_id, "pdf"))


PROJECT_ACTIONS = (
    "update",
    "progress",
    "team",
    "driver",
    "driver-remove",
    "idea",
    "link",
    "measure",
    "annotation",
    "review-link",
    "review-unlink",
    "join",
)


@router.post("/qi/projects/{project_id}/{action}", include_in_schema=False)
async def project_change(request: Request, project_id: Id, action: str) -> Response:
    access, form, _ = await _form(request)
    url = _url(request)
    if action not in PROJECT_ACTIONS:
        raise NotFound("There is no such page.")

    def number(name: str) -> int:
        value = form.get(name, "")
        if not value.isdigit():
            raise QiInputError([qi.FieldError(name, "Choose one from the list")])
        return int(value)

    calls: dict[str, Callable[[], Any]] = {
        "update": lambda: actions.update_project(url, access, project_id, form),
        "progress": lambda: actions.set_progress(url, access, project_id, form.get("progress_score")),
        "team": lambda: actions.add_team_member(url, access, project_id, form),
        "driver": lambda: actions.add_driver(url, access, project_id, form),
        "driver-remove": lambda: actions.remove_driver(url, access, project_id, number("driver_id")),
        "idea": lambda: actions.add_change_idea(url, access, form, project_id=project_id),
        "link": lambda: actions.link_idea(url, access, project_id, number("driver_id"), number("idea_id")),
        "measure": lambda: actions.add_measure(url, access, project_id, form),
        "annotation": lambda: actions.add_annotation(url, access, project_id, form),
        "review-link": lambda: actions.link_review_action(url, access, project_id, number("action_id")),
        "review-unlink": lambda: actions.unlink_review_action(url, access, project_id, number("action_id")),
        "join": lambda: actions.join_collaborative(url, access, project_id, number("collaborative_id")),
    }
    try:
        await run_in_threadpool(_found, calls[action])
    except QiInputError as error:
        problems = qi.Problems.of(action, error, form)
        page = await run_in_threadpool(qi.project_page, _services(request), access, project_id, problems)
        return render(request, "qi_project.html", 400, page=page)
    anchor = {
        "driver": "#driver-diagram",
        "idea": "#driver-diagram",
        "link": "#driver-diagram",
        "measure": "#measures",
        "review-link": "#prompted",
        "review-unlink": "#prompted",
    }
    return RedirectResponse(f"/qi/projects/{project_id}?done={action}{anchor.get(action, '')}", status_code=303)


@router.get("/qi/projects/{project_id}/pdsa/new", include_in_schema=False)
def pdsa_new(request: Request, project_id: Id) -> Response:
    page = qi.pdsa_page(_services(request), access_for(request), project_id)
    return render(request, "qi_pdsa.html", page=page)


@router.get("/qi/projects/{project_id}/pdsa/{pdsa_id}", include_in_schema=False)
def pdsa_view(request: Request, project_id: Id, pdsa_id: Id) -> Response:
    page = qi.pdsa_page(_services(request), access_for(request), project_id, pdsa_id)
    return render(request, "qi_pdsa.html", page=page)


@router.post("/qi/projects/{project_id}/pdsa/{pdsa}", include_in_schema=False)
async def pdsa_save(request: Request, project_id: Id, pdsa: str) -> Response:
    access, form, _ = await _form(request)
    pdsa_id = None if pdsa == "new" else int(pdsa) if pdsa.isdigit() else -1
    if pdsa_id == -1:
        raise NotFound("There is no such PDSA cycle.")
    try:
        await run_in_threadpool(_found, lambda: actions.save_pdsa(_url(request), access, project_id, form, pdsa_id))
    except QiInputError as error:
        page = await run_in_threadpool(
            qi.pdsa_page, _services(request), access, project_id, pdsa_id, qi.Problems.of("pdsa", error, form)
        )
        return render(request, "qi_pdsa.html", 400, page=page)
    return RedirectResponse(f"/qi/projects/{project_id}?done=pdsa#pdsa", status_code=303)


# -- pages: measures --------------------------------------------------------------------------
@router.get("/qi/measures/{measure_id}", include_in_schema=False)
def measure_view(request: Request, measure_id: Id, rules: RuleSet = None, done: str | None = None) -> Response:
    page = qi.measure_page(_services(request), access_for(request), measure_id, rules, done=done)
    if request.query_params.get("format") == "csv":
        return Response(
            page.csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="measure-{measure_id}.csv"'},
        )
    return render(request, "qi_measure.html", page=page)


@router.get("/qi/measures/{measure_id}/chart.svg", include_in_schema=False)
def measure_svg(request: Request, measure_id: Id, rules: RuleSet = None, chart: Chart = "run") -> Response:
    page = qi.measure_page(_services(request), access_for(request), measure_id, rules)
    if chart == "spc" and page.spc_chart is None:
        raise NotFound(page.spc_words)
    return Response(
        str(page.spc_chart if chart == "spc" else page.chart),
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'inline; filename="measure-{measure_id}-{chart}.svg"'},
    )


@router.get("/qi/measures/{measure_id}/chart.png", include_in_schema=False)
def measure_png(request: Request, measure_id: Id, rules: RuleSet = None, chart: Chart = "run") -> Response:
    """The run chart (with its PDSA and note markers) or the SPC chart as a PNG."""
    access = access_for(request)
    return _download(request, lambda: qi.chart_download(_services(request), access, measure_id, rules, chart, "png"))


@router.get("/qi/measures/{measure_id}/chart.pdf", include_in_schema=False)
def measure_pdf(request: Request, measure_id: Id, rules: RuleSet = None, chart: Chart = "run") -> Response:
    access = access_for(request)
    return _download(request, lambda: qi.chart_download(_services(request), access, measure_id, rules, chart, "pdf"))


# -- pages: overview of an LMNS or region -----------------------------------------------------
OrgCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9]{1,16}$")]


@router.get("/qi/overview", include_in_schema=False)
def overview_home(request: Request) -> Response:
    """The overview of the user's own organisation (an LMNS or region lead's area, a trust's own work)."""
    return RedirectResponse(f"/qi/overview/{access_for(request).user.org_code}", status_code=303)


@router.get("/qi/overview/{code}", include_in_schema=False)
def overview_view(request: Request, code: OrgCode) -> Response:
    page = qi.overview_page(_services(request), access_for(request), code)
    return render(request, "qi_overview.html", page=page)


@router.get(
    "/api/v1/qi/overview/{code}",
    tags=["qi"],
    summary="Improvement work across an organisation's trusts: projects by priority and status, scores, improvement",
)
def overview_api(request: Request, code: OrgCode) -> Response:
    return api_json(qi.overview_page(_services(request), access_for(request), code).to_dict())


@router.post("/qi/measures/{measure_id}/{action}", include_in_schema=False)
async def measure_change(request: Request, measure_id: Id, action: str) -> Response:
    access, form, files = await _form(request)
    url = _url(request)
    report = None
    try:
        if action == "values":
            await run_in_threadpool(_found, lambda: actions.add_value(url, access, measure_id, form, today=_today()))
        elif action == "delete-value":
            day = dt.date.fromisoformat(form.get("period_start", "")) if form.get("period_start") else None
            if day is None:
                raise QiInputError([qi.FieldError("period_start", "Choose a period")])
            await run_in_threadpool(_found, lambda: actions.delete_value(url, access, measure_id, day))
        elif action == "settings":
            await run_in_threadpool(_found, lambda: actions.update_measure(url, access, measure_id, form))
        elif action == "import":
            upload = files.get("file")
            data = await upload.read(1_000_001) if upload else b""
            try:
                report = await run_in_threadpool(
                    _found, lambda: actions.import_values(url, access, measure_id, data, today=_today())
                )
            except UnreadableFile as unreadable:
                raise QiInputError([qi.FieldError("file", str(unreadable))]) from None
        else:
            raise NotFound("There is no such page.")
    except (QiInputError, ValueError) as error:
        problem = (
            error
            if isinstance(error, QiInputError)
            else QiInputError([qi.FieldError("period_start", "Choose a period")])
        )
        page = await run_in_threadpool(
            qi.measure_page, _services(request), access, measure_id, None, qi.Problems.of(action, problem, form)
        )
        return render(request, "qi_measure.html", 400, page=page)
    if report is not None:
        page = await run_in_threadpool(
            qi.measure_page, _services(request), access, measure_id, None, None, "import", report
        )
        return render(request, "qi_measure.html", page=page)
    return RedirectResponse(f"/qi/measures/{measure_id}?done={action}", status_code=303)


# -- API --------------------------------------------------------------------------------------
@router.get("/api/v1/qi/collaboratives", tags=["qi"], summary="Collaboratives you can see")
def collaboratives_api(request: Request) -> Response:
    return api_json(queries.list_collaboratives(_url(request), access_for(request)))


@router.get("/api/v1/qi/collaboratives/{collaborative_id}", tags=["qi"], summary="A collaborative's dashboard data")
def collaborative_api(request: Request, collaborative_id: Id, q: str = "") -> Response:
    page = qi.collaborative_page(_services(request), access_for(request), collaborative_id, q[:100])
    return api_json(page.to_dict())


@router.get("/api/v1/qi/projects", tags=["qi"], summary="Projects you can see")
def projects_api(request: Request) -> Response:
    return api_json(queries.list_projects(_url(request), access_for(request)))


@router.post("/api/v1/qi/projects", tags=["qi"], summary="Start a project", status_code=201)
def project_create_api(
    request: Request, body: Annotated[dict[str, Any], Body()], x_csrf_token: Annotated[str | None, Header()] = None
) -> Response:
    access = access_for(request)
    check_csrf(access.user, x_csrf_token)
    chosen = [int(c) for c in body.get("collaboratives") or [] if str(c).isdigit()]
    fields = {k: v for k, v in body.items() if k != "collaboratives" and isinstance(v, str | int | float | None)}
    try:
        pid = actions.create_project(_url(request), access, fields, chosen)
    except QiInputError as error:
        return _invalid(error)
    return JSONResponse(
        {"id": pid, "url": f"/qi/projects/{pid}"}, status_code=201, headers={"Location": f"/qi/projects/{pid}"}
    )


@router.get("/api/v1/qi/projects/{project_id}", tags=["qi"], summary="A project: aim, driver diagram, measures, PDSA")
def project_api(request: Request, project_id: Id) -> Response:
    return api_json(qi.project_page(_services(request), access_for(request), project_id).to_dict())


@router.post("/api/v1/qi/projects/{project_id}/pdsa", tags=["qi"], summary="Record a PDSA cycle", status_code=201)
def pdsa_api(
    request: Request,
    project_id: Id,
    body: Annotated[dict[str, Any], Body()],
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> Response:
    access = access_for(request)
    check_csrf(access.user, x_csrf_token)
    try:
        cid = _found(lambda: actions.save_pdsa(_url(request), access, project_id, body))
    except QiInputError as error:
        return _invalid(error)
    return JSONResponse({"id": cid}, status_code=201)


@router.get("/api/v1/qi/measures/{measure_id}", tags=["qi"], summary="A measure's data and run chart analysis")
def measure_api(request: Request, measure_id: Id, rules: RuleSet = None) -> Response:
    return api_json(qi.measure_page(_services(request), access_for(request), measure_id, rules).to_dict())


@router.post("/api/v1/qi/measures/{measure_id}/values", tags=["qi"], summary="Enter one period of a custom measure")
def value_api(
    request: Request,
    measure_id: Id,
    body: Annotated[dict[str, Any], Body()],
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> Response:
    access = access_for(request)
    check_csrf(access.user, x_csrf_token)
    try:
        period = _found(lambda: actions.add_value(_url(request), access, measure_id, body, today=_today()))
    except QiInputError as error:
        return _invalid(error)
    return JSONResponse({"period_start": period.isoformat()}, status_code=201)
