"""How ``matneo serve`` runs uvicorn: no ``server`` banner, proxy headers only from named proxies.

Why a function: the tests serve the app with exactly the options the command uses.

* ``forwarded_allow_ips``: the reverse proxies (TLS terminators) whose ``X-Forwarded-For`` and
  ``X-Forwarded-Proto`` are believed. Only then is the client address the real client's (so
  each person behind the proxy has their own sign-in limit, :mod:`matneo.auth.throttle`) and
  does ``https`` at the proxy make cookies ``Secure`` and add HSTS. Nobody is trusted by
  default: a header from anyone else could otherwise pick its own address and dodge the limit.
* ``server_header=False``: no ``server: uvicorn`` banner telling an attacker what to look up.
"""

from __future__ import annotations

from typing import Any

import uvicorn


def server_config(app: Any, host: str, port: int, forwarded_allow_ips: str = "", **options: Any) -> uvicorn.Config:
    """The uvicorn configuration for ``app`` (``forwarded_allow_ips``: comma-separated, or "")."""
    trusted = ",".join(part.strip() for part in forwarded_allow_ips.split(",") if part.strip())
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or "",
        server_header=False,
        **{"log_level": "warning", **options},
    )
