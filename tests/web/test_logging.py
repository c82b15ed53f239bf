"""``matneo serve`` logs each request and each background job to stderr, with no identifiers.

The real server in a child process, as it is run: its stderr is read after it is stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import OWN_TRUST, PASSWORD, free_port, sign_in

EMAIL = "logged.midwife@test.invalid"
CASE = "424242"


def test_server_logs_requests_and_jobs_to_stderr_without_identifiers(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = dict(os.environ, MATNEO_HOME=str(home), MATNEO_DATABASE_URL=f"sqlite:///{home / 'matneo.db'}")
    matneo = [sys.executable, "-m", "matneo.cli.main"]
    upgraded = subprocess.run([*matneo, "db", "upgrade"], env=env, capture_output=True, text=True)
    assert upgraded.returncode == 0, upgraded.stderr
    added = subprocess.run(
        [*matneo, "users", "add", "--email", EMAIL, "--role", "trust_staff", "--org", OWN_TRUST, "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
    )
    assert added.returncode == 0, added.stderr
    port = free_port()
    server = subprocess.Popen(
        [*matneo, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        with httpx.Client(base_url=base) as client:
            assert sign_in(client, EMAIL, PASSWORD).status_code == 303
            assert client.get(f"/harm/{CASE}", params={"done": f"added {EMAIL}"}).status_code == 404
            assert client.get("/admin/users", params={"done": f"added {EMAIL}"}).status_code == 403
            assert client.get(f"/no-such-page/{CASE}").status_code == 404
        time.sleep(1)  # the jobs thread logs the first overdue check at start
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, stderr = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    lines = stderr.splitlines()
    assert any("matneo.web.requests: GET /health 200" in line for line in lines), stderr
    assert any("POST /sign-in 303" in line for line in lines), stderr
    assert any("GET /harm/{case_id} 404" in line for line in lines), stderr
    assert any("GET /admin/users 403" in line for line in lines), stderr
    assert any("GET (no route) 404" in line for line in lines), stderr
    assert any("job harm overdue check: started" in line for line in lines), stderr
    assert any("job harm overdue check: finished in" in line and "0 new notifications" in line for line in lines)
    assert any("job warm the results cache: started" in line for line in lines), stderr
    # no identifiers: no case number from the path, no query string, no e-mail address
    assert CASE not in stderr and "@" not in stderr and "done=" not in stderr and "?" not in stderr, stderr
