"""Real servers for the sign-in security tests: ``matneo serve`` processes, or the same uvicorn
configuration in a thread (when a test needs to add a route, such as one that fails)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx
import uvicorn
from fastapi import FastAPI

from matneo.config import Settings
from matneo.web.server import server_config

from .conftest import PASSWORD, free_port


def sign_in_form(client: httpx.Client) -> str:
    """Open the sign-in page; the double-submit token its form needs."""
    assert client.get("/sign-in").status_code == 200
    return client.cookies["matneo_csrf"]


def sign_in(client: httpx.Client, email: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    token = sign_in_form(client)
    data = {"email": email, "password": password, "csrf_token": token, "next": "/"}
    return client.post("/sign-in", data=data, headers=headers)


def start_process(settings: Settings, *options: str) -> tuple[str, subprocess.Popen]:
    """``matneo serve`` in its own process on a free loopback port, ready to answer."""
    port = free_port()
    env = dict(os.environ, MATNEO_HOME=str(settings.home), MATNEO_DATABASE_URL=settings.database_url)
    process = subprocess.Popen(
        [sys.executable, "-m", "matneo.cli.main", "serve", "--port", str(port), *options],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, "matneo serve stopped"
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return base_url, process
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "matneo serve did not start"
        time.sleep(0.2)


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def start_thread(app: FastAPI, forwarded_allow_ips: str = "") -> tuple[str, Callable[[], None]]:
    """``app`` served over real HTTP with the configuration ``matneo serve`` uses."""
    port = free_port()
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, forwarded_allow_ips, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return f"http://127.0.0.1:{port}", stop
