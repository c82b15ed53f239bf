"""The routing engine stays pure: importing it loads no database, web or portal code (ADR 0009)."""

from __future__ import annotations

import subprocess
import sys


def test_the_routing_engine_imports_without_the_database_or_the_portal() -> None:
    """A fresh interpreter imports every engine module; nothing stateful comes with them."""
    script = (
        "import sys\n"
        "import matneo.harm, matneo.harm.calendar, matneo.harm.report, matneo.harm.reference_doc\n"
        "import matneo.harm.routing, matneo.harm.rules\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'duckdb', 'polars')\n"
        "          or m.startswith(('matneo.db', 'matneo.web', 'matneo.harm.portal', 'matneo.auth'))]\n"
        "print(','.join(sorted(loaded)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
