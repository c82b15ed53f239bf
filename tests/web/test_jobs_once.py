"""Several server processes on one PostgreSQL: the background jobs run in one of them, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from matneo.config import Settings
from matneo.db.locks import ProcessLock
from matneo.db.session import upgrade
from matneo.records.load import load_files
from matneo.reference.organisations import load_hierarchy
from matneo.synth import write_dataset
from matneo.synth.generator import parse_struggling
from matneo.web.jobs import LOCK_NAME, BackgroundJobs
from matneo.web.services import Services

from .conftest import free_port

OVERDUE_STARTED = "job harm overdue check: started"


def _started(server: subprocess.Popen[str], port: int, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"the server on port {port} did not start"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)


@pytest.mark.postgres
def test_two_servers_on_one_postgresql_run_the_overdue_check_once(tmp_path: Path, postgres_url: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    upgrade(postgres_url, load_hierarchy())
    env = dict(os.environ, MATNEO_HOME=str(home), MATNEO_DATABASE_URL=postgres_url)
    servers, logs = [], []
    try:
        for n in range(2):
            port, log = free_port(), tmp_path / f"server{n}.log"
            with open(log, "w") as sink:
                server = subprocess.Popen(
                    [sys.executable, "-m", "matneo.cli.main", "serve", "--port", str(port)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=sink,
                    text=True,
                )
            servers.append(server)
            logs.append(log)
            _started(server, port, log)
        deadline = time.monotonic() + 60
        while not all("jobs: run in" in log.read_text() for log in logs):  # each jobs thread has had its first turn
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            time.sleep(0.2)
        time.sleep(2)  # time for a second overdue check to start, were there one
    finally:
        for server in servers:
            server.send_signal(signal.SIGINT)
        for server in servers:
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
    texts = [log.read_text() for log in logs]
    assert sum(text.count(OVERDUE_STARTED) for text in texts) == 1, texts
    assert sorted(("run in this process" in t, "run in another process" in t) for t in texts) == [
        (False, True),
        (True, False),
    ], texts


@pytest.mark.postgres
def test_the_signals_refresh_after_a_load_runs_in_one_process_and_another_takes_over(
    tmp_path: Path, postgres_url: str
) -> None:
    """Two job runners (two database sessions, as two processes have) on one instance."""
    settings = Settings(home=tmp_path / "home", database_url=postgres_url)
    settings.ensure_dirs()
    upgrade(postgres_url, load_hierarchy())
    first = BackgroundJobs(Services.create(settings))
    second = BackgroundJobs(Services.create(settings))
    try:
        assert first.run_once() == ["overdue check: 0 new notifications"]
        assert second.run_once() == [], "the other process runs the jobs"

        files = write_dataset(
            tmp_path / "synthetic", [2023], scale=0.02, seed=3, struggling=[parse_struggling("R0A:2023-01:6.0")]
        )
        load_files(files, settings)
        refreshed = first.run_once()
        # the new version's tables are warmed, then the signals refreshed: by this process alone
        assert [line for line in refreshed if line.startswith("signals refreshed for store version")], refreshed
        assert second.run_once() == []

        first.stop()  # e.g. that server stops: the other takes over and runs what is due there
        taken_over = second.run_once()
        assert taken_over[0] == "overdue check: 0 new notifications", taken_over
        assert first.run_once() == [], "and keeps the jobs while it lives"
    finally:
        first.stop()
        second.stop()


def test_on_sqlite_there_is_one_process_and_no_lock(sqlite_settings: Settings) -> None:
    one, two = (
        ProcessLock(sqlite_settings.database_url, LOCK_NAME),
        ProcessLock(sqlite_settings.database_url, LOCK_NAME),
    )
    assert one.acquire() and two.acquire()
    assert not one.shared


@pytest.mark.postgres
def test_a_lock_whose_connection_dies_is_free_for_another_process(postgres_url: str) -> None:
    holder, other = ProcessLock(postgres_url, "test-lock"), ProcessLock(postgres_url, "test-lock")
    try:
        assert holder.acquire() and holder.acquire(), "held, and still held"
        assert not other.acquire()
        assert holder._connection is not None
        holder._connection.invalidate()  # as when its process is killed: the server ends the session
        assert other.acquire()
        assert not holder.acquire(), "the first notices it lost the lock and does not run the jobs as well"
    finally:
        holder.release()
        other.release()
