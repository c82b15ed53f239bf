"""Sign-in plumbing for the web layer: session cookie, CSRF checks, throttling, headers.

* Session cookie ``matneo_session``: random token, ``HttpOnly``, ``SameSite=Lax``, ``Secure``
  whenever the request came over HTTPS (always behind the production TLS proxy; plain HTTP is
  for the loopback demo only), path ``/``.
* CSRF (OWASP CSRF Prevention Cheat Sheet, "synchronizer token"): each session has a token;
  every form carries it in a hidden field and every unsafe API call in ``X-CSRF-Token``. The
  sign-in form, which has no session yet, uses a double-submit cookie (``matneo_csrf``).
* Headers (:func:`security_headers`) on every response, errors included: a strict Content
  Security Policy, no framing, no sniffing, and HSTS when the request came over https. The
  ``server`` banner is off (:mod:`matneo.web.server`).
* Throttling (:mod:`matneo.auth.throttle`, in the database so every server process shares
  it): a progressive delay per e-mail address and a limit per client address, both HTTP 429.
  The client address is :func:`client_address`: behind a reverse proxy it is the real
  client's only when ``matneo serve --forwarded-allow-ips`` names the proxy, and then the
  proxy's ``X-Forwarded-Proto: https`` also makes cookies ``Secure``.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request

from matneo.auth.signin import SignedInUser, recent_session_user, session_user

SESSION_COOKIE = "matneo_session"
SIGN_IN_CSRF_COOKIE = "matneo_csrf"
CSRF_HEADER = "X-CSRF-Token"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # charts use Vega's expression interpreter (ast: true), so no 'unsafe-eval'
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


#: HTTP Strict Transport Security, sent only on responses that came over https (directly or
#: through a trusted proxy): browsers then refuse plain http to this host for a year. One year
#: as the GOV.UK Service Manual advises ("Using HTTPS",
#: https://www.gov.uk/service-manual/technology/using-https). No ``includeSubDomains``: the
#: trust's other sites under the same domain are not MatNeo's to decide (needs local confirmation).
HSTS = "max-age=31536000"


def security_headers(request: Request) -> dict[str, str]:
    """The headers every response gets, error responses included; HSTS only over https."""
    headers = dict(SECURITY_HEADERS)
    if is_secure(request):
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SignInRequired(Exception):
    """No valid session: pages redirect to sign-in, the API answers 401."""


class CsrfFailed(Exception):
    """A form or unsafe API call without the right CSRF token (HTTP 403)."""


def is_secure(request: Request) -> bool:
    """Came over https: directly, or through a trusted proxy that said so (``X-Forwarded-Proto``)."""
    return request.scope.get("scheme") == "https"  # the scope's, not request.url: no URL built per response


def client_address(request: Request) -> str:
    """The client's address: the peer, or the real client that a trusted proxy forwarded for."""
    return request.client.host if request.client else "unknown"


def recently_signed_in_user(request: Request, database_url: str) -> SignedInUser | None:
    """The request's user if their session was checked in the last few seconds (memory only)."""
    user = getattr(request.state, "user", None)
    user = user or recent_session_user(database_url, request.cookies.get(SESSION_COOKIE))
    if user is not None:
        request.state.user = user
    return user


def signed_in_user(request: Request, database_url: str) -> SignedInUser:
    user = getattr(request.state, "user", None)
    if user is None:
        user = session_user(database_url, request.cookies.get(SESSION_COOKIE))
        if user is None:
            raise SignInRequired
        request.state.user = user
    return user


def check_csrf(user: SignedInUser, supplied: str | None) -> None:
    if not supplied or not secrets.compare_digest(supplied, user.csrf_token):
        raise CsrfFailed("The form has expired or did not come from MatNeo. Go back, reload the page and try again.")


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(32)


def check_sign_in_csrf(cookie: str | None, supplied: str | None) -> None:
    if not cookie or not supplied or not secrets.compare_digest(cookie, supplied):
        raise CsrfFailed("The sign-in form has expired. Reload the page and try again.")
