"""Perinatal mortality reviews: the JSON API under /api/v1/reviews and the pages under /reviews. Thin views.

Each view checks the session (and the CSRF token for changes), calls :mod:`matneo.web.pages.reviews` with the
user's access, and renders HTML or JSON. Changes are for trust staff of the trusts taking part (403 for anyone
else); a review outside the user's scope is 404. Invalid input: 400 with every field's problem (NHS.UK error
summary on the page, ``errors`` in the API), and the form shows what was typed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Form, Header, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from matneo.board.render import PdfUnavailable
from matneo.reviews.actions import ReviewError
from matneo.web.app import access_for, render
from matneo.web.pages import reviews
from matneo.web.routing import signed_in_router
from matneo.web.security import check_csrf
from matneo.web.services import Services

router = signed_in_router()

ReviewId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Section = Annotated[str, Path(pattern=r"^[a-z_]{1,20}$")]
ReportName = Annotated[str, Path(pattern=r"^(parents|panel)$")]
ReportFormat = Annotated[str, Path(pattern=r"^(html|pdf)$")]


def _services(request: Request) -> Services:
    return request.app.state.services


# -- API --------------------------------------------------------------------------------------
@router.get("/api/v1/reviews", tags=["reviews"], summary="Reviews in scope (stage dates, deadlines) and deaths due")
def list_api(request: Request) -> dict[str, Any]:
    return reviews.reviews_page(_services(request), access_for(request)).to_dict()


@router.get(
    "/api/v1/reviews/learning",
    tags=["reviews"],
    summary="Learning across reviews (timeliness, panel, parents, grades, factors, actions); CSV with format=csv",
)
def learning_api(request: Request, org: str | None = None, format: str = "json") -> Response:
    page = reviews.learning_page(_services(request), access_for(request), org)
    if format == "csv":
        return Response(
            page.csv(),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="review-learning.csv"'},
        )
    return JSONResponse(page.to_dict())


@router.get("/api/v1/reviews/{review_id}", tags=["reviews"], summary="A review; patient-level content for its trusts")
def review_api(request: Request, review_id: ReviewId) -> dict[str, Any]:
    return reviews.review_page(_services(request), access_for(request), review_id).to_dict()


@router.post("/api/v1/reviews", tags=["reviews"], summary="Open the review of a death in your trust's records")
def open_api(
    request: Request,
    body: Annotated[dict[str, str], Body()],
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> Response:
    access = access_for(request)
    check_csrf(access.user, x_csrf_token)
    try:
        review_id = reviews.open_review(_services(request), access, str(body.get("record_id") or ""))
    except ReviewError as error:
        return JSONResponse(reviews.api_errors(error), status_code=400)
    return JSONResponse({"id": review_id, "url": f"/reviews/{review_id}"}, status_code=201)


@router.post(
    "/api/v1/reviews/{review_id}/{section}",
    tags=["reviews"],
    summary="Change a review (section: stages, member, meeting, parents, question, answer, issue, grade, "
    "findings, action, action_update)",
)
def change_api(
    request: Request,
    review_id: ReviewId,
    section: Section,
    body: Annotated[dict[str, Any], Body()],
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> Response:
    access = access_for(request)
    check_csrf(access.user, x_csrf_token)
    services = _services(request)
    try:
        reviews.change_review(services, access, review_id, section, body)
    except ReviewError as error:
        return JSONResponse(reviews.api_errors(error), status_code=400)
    return JSONResponse(reviews.review_page(services, access, review_id).to_dict())


# -- pages ------------------------------------------------------------------------------------
@router.get("/reviews", include_in_schema=False)
def list_view(request: Request) -> Response:
    access = access_for(request)
    return render(request, "reviews.html", page=reviews.reviews_page(_services(request), access))


@router.get("/reviews/learning", include_in_schema=False)
def learning_view(request: Request, org: str | None = None) -> Response:
    page = reviews.learning_page(_services(request), access_for(request), org)
    return render(request, "reviews_learning.html", page=page)


@router.get(
    "/api/v1/reviews/{review_id}/reports",
    tags=["reviews"],
    summary="The readability of a review's parents' report and its report downloads (trusts taking part only)",
)
def reports_api(request: Request, review_id: ReviewId) -> dict[str, Any]:
    return reviews.reports_page(_services(request), access_for(request), review_id).to_dict()


@router.get("/reviews/{review_id}/reports", include_in_schema=False)
def reports_view(request: Request, review_id: ReviewId) -> Response:
    page = reviews.reports_page(_services(request), access_for(request), review_id)
    return render(request, "review_reports.html", page=page)


@router.get("/reviews/{review_id}/reports/{report}.{fmt}", include_in_schema=False)
def report_download(request: Request, review_id: ReviewId, report: ReportName, fmt: ReportFormat) -> Response:
    """A report as a download (an attachment, never shown inline), HTML or PDF."""
    try:
        data, media, filename = reviews.review_report(_services(request), access_for(request), review_id, report, fmt)
    except PdfUnavailable as error:
        return Response(str(error), status_code=503, media_type="text/plain; charset=utf-8")
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=media, headers=headers)


@router.post("/reviews/open", include_in_schema=False)
def open_view(
    request: Request, record_id: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = ""
) -> Response:
    access = access_for(request)
    check_csrf(access.user, csrf_token)
    services = _services(request)
    try:
        review_id = reviews.open_review(services, access, record_id)
    except ReviewError as error:
        page = reviews.reviews_page(services, access)
        page.error = [{"id": "record-id", "message": e.message} for e in error.errors]
        page.record_id = record_id
        return render(request, "reviews.html", 400, page=page)
    return RedirectResponse(f"/reviews/{review_id}", status_code=303)


@router.get("/reviews/{review_id}", include_in_schema=False)
def review_view(request: Request, review_id: ReviewId, done: str | None = None) -> Response:
    access = access_for(request)
    page = reviews.review_page(_services(request), access, review_id, done=done)
    return render(request, "review.html", page=page)


@router.post("/reviews/{review_id}/{section}", include_in_schema=False)
async def change_view(request: Request, review_id: ReviewId, section: Section) -> Response:
    form = await request.form()
    values: dict[str, Any] = {}
    for key in form:
        items = [v for v in form.getlist(key) if isinstance(v, str)]
        values[key] = items if key in ("attendees", "factors") else (items[-1] if items else "")
    access = await run_in_threadpool(access_for, request)
    check_csrf(access.user, values.get("csrf_token"))
    services = _services(request)
    try:
        await run_in_threadpool(reviews.change_review, services, access, review_id, section, values)
    except ReviewError as error:
        errors = reviews.form_errors(error, section, values)
        page = await run_in_threadpool(
            reviews.review_page, services, access, review_id, errors=errors, section=section, values=values
        )
        return render(request, "review.html", 400, page=page)
    return RedirectResponse(f"/reviews/{review_id}?done={section}#{section}", status_code=303)
