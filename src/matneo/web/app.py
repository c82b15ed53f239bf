"""The web application.

Until the dashboards land this serves one page: what the instance holds (counts only,
no row-level data), the same summary as ``matneo status``, as HTML at ``/`` and JSON at
``/api/v1/status``. Both are rendered from one :class:`StoreStatus` object.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from matneo import __version__
from matneo.config import Settings, get_settings
from matneo.db.session import prepare
from matneo.records.status import StoreStatus, store_status


def render_home(summary: StoreStatus) -> str:
    """The home page as HTML; every value is escaped."""
    held = f"<p>{escape(summary.describe())}</p>"
    if not summary.rows:
        held += "<p>Load files with <code>matneo load</code>.</p>"
    rows = "".join(
        f"<tr><td>{load.id}</td><td>{escape(load.file_name.rsplit('/', 1)[-1])}</td><td>{escape(load.status)}</td>"
        f"<td>{load.rows_loaded:,}</td><td>{load.rows_rejected:,}</td></tr>"
        for load in summary.last_loads
    )
    loads = (
        "<table><caption>Recent loads</caption><thead><tr><th scope='col'>Load</th><th scope='col'>File</th>"
        f"<th scope='col'>Status</th><th scope='col'>Rows loaded</th><th scope='col'>Rows rejected</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    return f"""<!doctype html>
<html lang="en-GB">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>MatNeo – maternity and neonatal safety</title>
<style>
body {{ font-family: Arial, sans-serif; margin: 0; color: #212b32; background: #f0f4f5; }}
header {{ background: #005eb8; color: #fff; padding: 16px 24px; }}
main {{ max-width: 960px; margin: 0 auto; padding: 24px; }}
table {{ border-collapse: collapse; background: #fff; width: 100%; }}
th, td {{ text-align: left; padding: 8px; border-bottom: 1px solid #d8dde0; }}
caption {{ text-align: left; font-weight: bold; padding: 8px 0; }}
</style></head>
<body><header><strong>MatNeo</strong> – maternity and neonatal safety</header>
<main><h1>What this instance holds</h1>{held}
<p>Rejected rows so far: {summary.rows_rejected:,}.</p>{loads}
<p>Version {escape(__version__)}. Synthetic data only unless your organisation has loaded its own.</p></main>
</body></html>"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.ensure_dirs()
    prepare(settings.database_url)
    app = FastAPI(title="MatNeo", version=__version__, openapi_url="/api/v1/openapi.json")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/status")
    def status() -> dict:
        return store_status(settings).to_dict()

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return render_home(store_status(settings))

    return app
