"""The minimal web app over real HTTP: uvicorn on a free loopback port, httpx as the client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from matneo.config import Settings
from matneo.records.load import load_files
from matneo.web.app import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(sqlite_settings: Settings) -> Iterator[tuple[str, Settings]]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(sqlite_settings), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", sqlite_settings
    server.should_exit = True
    thread.join(10)


def test_home_page_says_what_is_loaded(served, make_row, write_csv, tmp_path: Path) -> None:
    base, settings = served
    empty = httpx.get(base + "/")
    assert empty.status_code == 200
    assert "No birth records are loaded yet" in empty.text
    load_files([write_csv(tmp_path / "b.csv", [make_row(), make_row()])], settings)
    page = httpx.get(base + "/")
    assert "2 birth records from 1 trust over 1 month (2019-06 to 2019-06)." in page.text
    assert '<html lang="en-GB">' in page.text


def test_status_json_matches_the_page(served, make_row, write_csv, tmp_path: Path) -> None:
    base, settings = served
    load_files([write_csv(tmp_path / "b.csv", [make_row(), make_row(gestation_days="9")])], settings)
    status = httpx.get(base + "/api/v1/status").json()
    assert (status["rows"], status["rows_rejected"]) == (1, 1)
    assert f"Rejected rows so far: {status['rows_rejected']:,}." in httpx.get(base + "/").text
    assert httpx.get(base + "/health").json() == {"status": "ok"}
    assert httpx.get(base + "/api/v1/openapi.json").status_code == 200
