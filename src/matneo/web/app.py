"""The web application: NHS.UK-style pages and the JSON API over the same page contexts.

Open without signing in: the sign-in page, ``/health``, the OpenAPI document and static
files. Everything else is on a router made by :func:`matneo.web.routing.signed_in_router`,
which requires a session (anonymous page visits are sent to sign-in, anonymous API calls get
401) and, for unsafe methods, the CSRF token, before the body is read or any parameter is
validated (ADR 0008). Views are thin: they take the user's :class:`~matneo.auth.access.Access`
from the router, call a page builder or action in :mod:`matneo.web.pages` with it, and render
the result as HTML or JSON. Scope is checked there, on the rows used (ADR 0005).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matneo import __version__
from matneo.auth.access import ROLE_LABELS, Access, Forbidden
from matneo.config import Settings, get_mail_settings
from matneo.db.session import prepare
from matneo.measures.results import REQUESTER, Busy, one_version
from matneo.web.display import day, when
from matneo.web.jobs import BackgroundJobs, start_fork_server
from matneo.web.security import CsrfFailed, SignInRequired, security_headers, signed_in_user
from matneo.web.services import BadRequest, NotFound, Services, fmt

log = logging.getLogger(__name__)
#: One line per request: method, the route's path template, status, time taken. Never the real
#: path or query string: those can carry case numbers, e-mail addresses (``?done=added+…``) or
#: sign-in targets.
request_log = logging.getLogger("matneo.web.requests")
WEB_DIR = Path(__file__).parent


def log_to_stderr(level: int = logging.INFO) -> None:
    """Send MatNeo's log (requests, background jobs, problems) to stderr, once, for ``matneo serve``."""
    logger = logging.getLogger("matneo")
    if not any(getattr(h, "matneo_stderr", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.matneo_stderr = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level)


def route_template(request: Request) -> str:
    """The matched route's path with its parameters as names (``/harm/{case_id}``), or "(no route)"."""
    route = request.scope.get("route")
    return getattr(route, "path", None) or "(no route)"


DEMO_MARKER = "DEMO"  # a file in MATNEO_HOME written by `matneo demo`: pages then say the data is synthetic


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def access_for(request: Request) -> Access:
    """Deprecated (ADR 0008): a handler takes ``access: SignedIn`` from its signed-in router.

    Kept only so that a module written before can be merged and still refuse anonymous users
    while it moves to :func:`matneo.web.routing.signed_in_router`; the route walk
    (``tests/web/test_routes_walk.py``) fails for any route not on such a router.
    """
    access: Access | None = getattr(request.state, "access", None)
    if access is None:
        services: Services = request.app.state.services
        user = signed_in_user(request, services.settings.database_url)
        REQUESTER.set(user.user_id)  # expensive work in this request counts against this user
        access = Access(user, services.hierarchy)
        request.state.access = access
    return access


def templates() -> Jinja2Templates:
    engine = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    engine.env.auto_reload = False  # templates ship with the package: no stat of each one per page
    engine.env.globals.update(fmt=fmt, role_labels=ROLE_LABELS, version=__version__)
    from matneo.assurance.voice import period_words

    engine.env.filters.update(when=when, day=day, period_words=period_words)
    return engine


def render(request: Request, template: str, status_code: int = 200, **context: object) -> Response:
    """An HTML page with what every page needs: the user, their organisation, the CSRF token."""
    services: Services = request.app.state.services
    user = getattr(request.state, "user", None)
    org_name = services.hierarchy.get(user.org_code).name if user else None
    return request.app.state.templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "org_name": org_name,
            "csrf_token": user.csrf_token if user else None,
            "demo": (services.settings.home / DEMO_MARKER).exists(),
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )


def page_or_csv(request: Request, template: str, page: Any) -> Response:
    """The page, or with ``?format=csv&chart=ID`` the data table of one of its charts as CSV."""
    if request.query_params.get("format") == "csv":
        wanted = request.query_params.get("chart")
        chart = next((c for c in page.charts() if c.id == wanted), None)
        if chart is None:
            raise NotFound(f"This page has no chart {wanted!r}.")
        return Response(
            chart.to_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{chart.id}.csv"'},
        )
    return render(request, template, page=page)


def page_with_figures(request: Request, template: str, fragment: str, page: Any) -> Response:
    """Like :func:`page_or_csv` for pages whose figure part is cached: ``fragment`` is rendered
    once per ``page.cache_key`` (store version, scope, ...) and dropped into ``template``."""
    if request.query_params.get("format") == "csv":
        return page_or_csv(request, template, page)
    services: Services = request.app.state.services
    engine: Jinja2Templates = request.app.state.templates
    html = services.results.memo(("html", *page.cache_key), lambda: engine.get_template(fragment).render(page=page))
    return render(request, template, page=page, figures_html=Markup(html))


def _error(request: Request, status: int, message: str, title: str | None = None) -> Response:
    if is_api(request):
        return JSONResponse({"detail": message}, status_code=status)
    titles = {
        400: "There is a problem",
        403: "You cannot see this page",
        404: "Page not found",
        429: "Too many attempts",
    }
    title = title or titles.get(status, "Sorry, there is a problem")
    return render(request, "error.html", status, title=title, message=message)


SERVER_ERROR = "Sorry, there is a problem with the service. Try again later."


def _server_error(request: Request) -> Response:
    """The 500 answer: the usual error page, or plain words if even that cannot be drawn."""
    try:
        return _error(request, 500, SERVER_ERROR)
    except Exception:  # pragma: no cover - the error page itself failed
        return PlainTextResponse(SERVER_ERROR, status_code=500)


class RequestMiddleware:
    """What every response gets, as plain ASGI middleware: one log line, the security headers,
    ``Cache-Control: no-store`` outside ``/static``, an answer for unexpected errors, and one
    store version for the whole request (:func:`~matneo.measures.results.one_version`).

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` runs
    every response through an extra task and memory stream, a fixed cost on each request that
    profiling showed as about a fifth of the server's time on a cached page (issue 10).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        started = time.perf_counter()
        status: list[int] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                headers = MutableHeaders(scope=message)
                for name, value in security_headers(request).items():
                    headers[name] = value
                if not scope["path"].startswith("/static/") and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            with one_version():
                await self.app(scope, receive, send_with_headers)
        except Exception:
            # Answered here, not by Starlette's last-resort handler, so the 500 has the security
            # headers too and says nothing about the code.
            request_log.error("%s %s failed", request.method, route_template(request), exc_info=True)
            if status:  # the response had begun: nothing more can be sent
                raise
            await _server_error(request)(scope, receive, send_with_headers)
        elapsed = (time.perf_counter() - started) * 1000
        answered = status[0] if status else "-"
        request_log.info("%s %s %s %.0f ms", request.method, route_template(request), answered, elapsed)


def create_app(settings: Settings, *, warm: bool = False) -> FastAPI:
    """The app for ``settings``; ``warm=True`` computes the common tables in the background.

    The app database must be at the newest schema (:class:`~matneo.db.session.DatabaseBehind`
    otherwise): upgrading is ``matneo db upgrade``'s job, done once, not by each worker.
    """
    settings.ensure_dirs()
    services = Services.create(settings)
    prepare(settings.database_url, services.hierarchy)
    app = FastAPI(
        title="MatNeo API",
        version=__version__,
        description="Maternity and neonatal safety surveillance. Every endpoint except /health needs a signed-in "
        "session (cookie from /sign-in); unsafe methods also need the X-CSRF-Token header.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    app.state.templates = templates()
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")

    app.add_middleware(RequestMiddleware)

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, _: SignInRequired) -> Response:
        if is_api(request):
            return JSONResponse({"detail": "Sign in first."}, status_code=401, headers={"WWW-Authenticate": "Cookie"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={_quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> Response:
        return _error(request, 403, str(error))

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, error: CsrfFailed) -> Response:
        return _error(request, 403, str(error))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> Response:
        return _error(request, 404, str(error))

    @app.exception_handler(Busy)
    async def busy(request: Request, error: Busy) -> Response:
        title = "Too many requests at once" if error.status == 429 else "Sorry, the service is busy"
        response = _error(request, error.status, str(error), title)
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, error: BadRequest) -> Response:
        return _error(request, 400, str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        if is_api(request):
            return JSONResponse({"detail": _plain(error)}, status_code=422)
        return _error(request, 400, _plain(error))

    from matneo.web import routes_api, routes_fhir, routes_harm, routes_pages, routes_qi, routes_reviews
    from matneo.web.pages.data import UploadProblem

    @app.exception_handler(UploadProblem)
    async def upload_problem(request: Request, error: UploadProblem) -> Response:
        """An upload refused by a guard before its handler ran (its declared size): the Data page."""
        return await run_in_threadpool(
            routes_pages.data_problem, request, request.state.access, error.status, str(error)
        )

    from matneo.assurance.evidence import EvidenceProblem

    @app.exception_handler(EvidenceProblem)
    async def evidence_problem(request: Request, error: EvidenceProblem) -> Response:
        """An evidence upload refused by its guard (its declared size): the evidence library."""
        code = request.path_params.get("code", "")
        return await run_in_threadpool(
            routes_pages.evidence_problem, request, request.state.access, code, error.status, str(error)
        )

    from matneo.web.pages.voice import VoiceProblem

    @app.exception_handler(VoiceProblem)
    async def voice_problem(request: Request, error: VoiceProblem) -> Response:
        """A survey import refused by its guard (its declared size): the voice page."""
        code = request.path_params.get("code", "")
        return await run_in_threadpool(
            routes_pages.voice_problem, request, request.state.access, code, error.status, str(error)
        )

    # The pages router first: a request is matched against routes in order, twice over (FastAPI
    # 0.165), and the dashboards are what most requests ask for (profiled, issue 10).
    app.include_router(routes_pages.router)
    app.include_router(routes_api.router)
    app.include_router(routes_fhir.router)
    app.include_router(routes_harm.router)
    app.include_router(routes_reviews.router)
    app.include_router(routes_qi.router)
    app.include_router(routes_pages.public)
    app.include_router(routes_pages.uploads)
    app.include_router(routes_pages.evidence_uploads)
    app.include_router(routes_pages.voice_imports)

    @app.get("/health", tags=["service"], summary="Liveness check (no sign-in needed)")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    if warm:
        # After a load, keep serving the warm figures of the version before it until the new one is
        # warm too (issue 10: first views right after a load took 1.1–18 s).
        app.state.services.results.hold_previous_until_warm(app.state.services.warm)
        threading.Thread(target=_warm, args=(app.state.services,), daemon=True, name="matneo-warm").start()
        start_fork_server()  # the signals refresh children's imports, done before the first load
        jobs = BackgroundJobs(app.state.services, mail=get_mail_settings())
        threading.Thread(target=jobs.run_forever, daemon=True, name="matneo-jobs").start()
    return app


def _warm(services: Services) -> None:
    """Compute the tables the first pages need, so the first visitor does not wait for them."""
    log.info("job warm the results cache: started")
    try:
        done = services.warm()
    except Exception:  # pragma: no cover - warming is best effort; requests compute on demand
        log.exception("job warm the results cache: failed; pages compute their tables on demand")
        return
    log.info("job warm the results cache: finished: %s", done)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")


def _plain(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("query", "body", "path"))
        parts.append(f"{where}: {item.get('msg', 'invalid')}" if where else str(item.get("msg", "invalid")))
    return "; ".join(parts) or "The request is not valid."
