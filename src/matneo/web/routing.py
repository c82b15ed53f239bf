"""How a route is declared: signed in and CSRF-checked by construction (ADR 0008).

Every route outside the short public list (sign-in, ``/health``, the OpenAPI document,
static files) lives on a router made by :func:`signed_in_router`. That router carries two
FastAPI dependencies, so no handler can forget them:

* :func:`signed_in`: the session cookie must name a live session, or the request stops with
  :class:`~matneo.web.security.SignInRequired` (pages: redirect to sign-in; API: 401). A
  handler that needs the user takes ``access: SignedIn`` and gets the same, cached object.
* :func:`csrf_checked`: an unsafe method (POST, PUT, PATCH, DELETE) must carry the session's
  CSRF token, in the ``X-CSRF-Token`` header for the API (``/api/``) or the ``csrf_token``
  form field for HTML forms (one place each, so a good header never excuses a forged form),
  or it stops with :class:`~matneo.web.security.CsrfFailed` (403).

FastAPI reads and parses a request's body *before* it solves dependencies, so on their own
these would run after a malformed JSON body had already been answered with 422, and after an
anonymous client's form had been read. :class:`GuardedRoute`, the routers' route class, runs
the same guards first, before the body is read, so the order is always: signed in → (route's
own pre-body checks, e.g. the upload's declared size) → CSRF → parameter validation → handler.

Scope is not checked here: which organisation an id belongs to is only known to the domain,
so the page builders and actions take the :class:`~matneo.auth.access.Access` and ask it
about the organisation of the very row they are about to return or change (ADR 0005).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from matneo.auth.access import Access
from matneo.measures.results import REQUESTER
from matneo.web.security import CSRF_HEADER, check_csrf, recently_signed_in_user, signed_in_user

#: Methods that change nothing and so need no CSRF token (RFC 9110 §9.2.1 "safe methods").
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The form field that carries the token in HTML forms; API calls send the header instead.
CSRF_FIELD = "csrf_token"
API_PREFIX = "/api/"
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
#: Limits for reading a form to find its token: no form of MatNeo's sends more than one file
#: but the Data page's upload (whose router reads its form first, with a limit of its own) and
#: the longest, the harm report form, has about 120 fields.
FORM_LIMITS: dict[str, int] = {"max_files": 1, "max_fields": 1000}

Guard = Callable[[Request], Awaitable[Any]]


def guard(function: Guard) -> Guard:
    """Mark a dependency as a guard: :class:`GuardedRoute` runs it before the body is read.

    A guard takes only the request and must be idempotent (it runs again, cheaply, when
    FastAPI solves the route's dependencies).
    """
    function.matneo_guard = True  # type: ignore[attr-defined]
    return function


@guard
async def signed_in(request: Request) -> Access:
    """The signed-in user's :class:`Access` (looked up once per request), or SignInRequired."""
    access: Access | None = getattr(request.state, "access", None)
    if access is None:
        services = request.app.state.services
        url = services.settings.database_url
        user = recently_signed_in_user(request, url)  # memory only; else the database, in a worker thread
        if user is None:
            user = await run_in_threadpool(signed_in_user, request, url)
        REQUESTER.set(user.user_id)  # expensive work in this request counts against this user (speed caps)
        access = Access(user, services.hierarchy)
        request.state.access = access
    return access


@guard
async def csrf_checked(request: Request) -> None:
    """Unsafe methods need the session's CSRF token (OWASP synchronizer token pattern)."""
    if request.method in SAFE_METHODS or getattr(request.state, "csrf_checked", False):
        return
    access = await signed_in(request)
    supplied: str | None = None
    if request.url.path.startswith(API_PREFIX):  # API clients: the header only
        supplied = request.headers.get(CSRF_HEADER)
    elif request.headers.get("content-type", "").split(";", 1)[0].strip().lower() in FORM_TYPES:
        # HTML forms: the hidden field only. Starlette keeps the parsed form for the handler.
        value = (await request.form(**FORM_LIMITS)).get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    check_csrf(access.user, supplied)
    request.state.csrf_checked = True


SignedIn = Annotated[Access, Depends(signed_in)]
"""A handler parameter: the signed-in user's access (the router has already required it)."""


class GuardedRoute(APIRoute):
    """A route whose guard dependencies run before FastAPI reads the body or validates anything.

    So an anonymous client gets 401 (or the sign-in page), and a forged form 403, whatever
    the parameters and body they send: never 422 that would tell them about the route.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        guards = [d.dependency for d in self.dependencies if getattr(d.dependency, "matneo_guard", False)]

        async def guarded(request: Request) -> Response:
            try:
                for check in guards:
                    await check(request)  # type: ignore[misc]
                return await handler(request)
            finally:
                await request.close()  # a form read by a guard may hold a spooled file

        return guarded


def signed_in_router(*, before_csrf: Sequence[Guard] = (), **options: Any) -> APIRouter:
    """A router every route of which requires sign-in and, for unsafe methods, the CSRF token.

    ``before_csrf``: guards of this router's own that must run after sign-in but before the
    CSRF check reads a form body (the upload's declared-size check, which must answer before
    a byte of a too-large file is read).
    """
    checks = [signed_in, *before_csrf, csrf_checked]
    for check in checks:
        guard(check)
    dependencies = [Depends(check) for check in checks] + list(options.pop("dependencies", []))
    return APIRouter(route_class=GuardedRoute, dependencies=dependencies, **options)


def public_router(**options: Any) -> APIRouter:
    """A router with no sign-in: only for the sign-in form itself. Every route on it must be
    in the public list of ``tests/web/test_routes_walk.py``, with the reason it is public."""
    return APIRouter(**options)


def is_guarded(dependencies: Sequence[Any]) -> bool:
    """Whether a route's dependencies include both guards (what the route-walking test checks)."""
    calls = {getattr(d, "dependency", None) for d in dependencies}
    return signed_in in calls and csrf_checked in calls
