"""Web: latency and throughput of the pages and API under 20 concurrent signed-in clients.

Serves a loaded instance (default ten national years, 2015–2024) with ``matneo serve`` in its
own process, so the load generator does not share a GIL with the server, and drives it over
loopback:

    .venv/bin/python benchmarks/bench_web.py                       # ~/.matneo-bench-web, made if empty
    .venv/bin/python benchmarks/bench_web.py --home /tmp/natl --requests 2000 --concurrency 20

Endpoints, each driven on its own by ``--concurrency`` threads (one signed-in httpx client
each) until ``--requests`` responses have come back:

* ``/`` — the England overview page (HTML);
* ``/organisations/R0A`` — a trust page (HTML);
* ``/api/v1/organisations/R0A?measure=stillbirth_rate`` — the same page context as JSON;
* ``/api/v1/funnel?measure=stillbirth_rate&level=trust&period=rolling_12m`` — a national funnel.

Each is run as a trust user at R0A (``trust_staff``: other organisations' figures come
suppressed) and as a national analyst (``national_analyst`` at ENG: unsuppressed).

Baseline: ``/health``, driven the same way. It does no work (no session lookup, no data), so
its latency is the floor this machine, uvicorn, FastAPI's middleware and the httpx client set
between them; each endpoint's p50/p95 is printed as a ratio to it, which separates what MatNeo
does per request from the cost of the HTTP round trip itself.

The first request of each endpoint after start-up computes and caches results for the store
version (the app warms the common tables in the background as it starts); its time is printed
separately as "cold". The table reports the warm state, after ``--warmup`` requests per
endpoint. Target: p95 ≤ 100 ms for every endpoint.

First views (issue 10): pages nobody has asked for yet in this store version — organisation pages
at each level for a trust user and an analyst, the case-mix adjusted funnel, and a breakdown by
ethnic group for a trust user (issue 11) — timed (a) once the start-up warming is done and (b)
right after a load, while clients keep the server busy: a year's resubmission (2024, a new
seed) is loaded by ``matneo load`` in another process; as soon as it has finished the first
views are requested again (the server still serves the previous version's warm results while it
warms the new one), and (c) once more as soon as the server serves the new version. Target
≤ 1 s each. Memory: the server's resident set is sampled every 0.1 s from the load until the
signals refresh has finished (and its child process's, where the refresh runs), with the
kernel's high-water mark. Target: server peak ≤ 2 GB. The time from the load's end until the
server logs the signals register refreshed is printed too (issue 16: ≤ 10 s after a load, while
serving; triangulation is worked out when a page asks, from the refreshed register).
Skip the after-load part with ``--no-load`` (it changes the instance's 2024 records).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil

from matneo.auth.users import add_user, list_users, set_active
from matneo.config import get_settings
from matneo.db.session import upgrade
from matneo.records.status import store_status
from matneo.reference.organisations import load_hierarchy

DEFAULT_HOME = Path("~/.matneo-bench-web")
YEARS = "2015-2024"
TARGET_P95_MS = 100.0
TRUST = "R0A"
USERS_FILE = "bench-web-users.json"
DOMAIN = "bench.matneo.invalid"
ROLES: dict[str, tuple[str, str, str]] = {  # short name → (e-mail, role, organisation)
    "trust": (f"trust@{DOMAIN}", "trust_staff", TRUST),
    "analyst": (f"analyst@{DOMAIN}", "national_analyst", "ENG"),
    # Other users keeping the server busy during the load: the first views' users have no
    # other work running (expensive work is capped per user).
    "busy_trust": (f"busy-trust@{DOMAIN}", "trust_staff", TRUST),
    "busy_analyst": (f"busy-analyst@{DOMAIN}", "national_analyst", "ENG"),
}
BASELINE = "/health"
LMNS, REGION, OTHER_TRUST = "QOP", "Y62", "RJ1"
FIRST_VIEWS: tuple[tuple[str, str], ...] = (  # (path, role): pages no one has opened in this store version
    (f"/organisations/{TRUST}?measure=pph_1500", "trust"),
    (f"/organisations/{LMNS}", "trust"),
    (f"/organisations/{REGION}?measure=preterm_birth_rate", "trust"),
    (f"/organisations/{OTHER_TRUST}?measure=caesarean_rate", "trust"),
    (f"/organisations/{TRUST}?measure=pph_1500", "analyst"),
    (f"/organisations/{REGION}", "analyst"),
    ("/funnel?measure=stillbirth_rate&level=trust&period=year&adjustment=adjusted", "trust"),
    ("/funnel?measure=stillbirth_rate&level=trust&period=year&adjustment=adjusted", "analyst"),
    ("/api/v1/measures?measure=stillbirth_rate&period=year&by=ethnic_group", "trust"),
)
#: Trusts (in five LMNSs) whose staff sign in for the first time once the server has warmed: their
#: scopes' suppression was not prepared, so their LMNS page is the slowest first view there is.
UNWARMED_TRUSTS = ("RR8", "RLT", "RC9", "RDU", "RTH")
TARGET_FIRST_VIEW_S = 1.0
TARGET_PEAK_RSS = 2 * 2**30
TARGET_SIGNALS_S = 10.0  # issue 16: signals (and triangulation, read on demand) after a load
ENDPOINTS: tuple[str, ...] = (
    "/",
    f"/organisations/{TRUST}",
    f"/api/v1/organisations/{TRUST}?measure=stillbirth_rate",
    "/api/v1/funnel?measure=stillbirth_rate&level=trust&period=rolling_12m",
)


@dataclasses.dataclass(frozen=True)
class Result:
    label: str
    requests: int
    concurrency: int
    latencies_ms: list[float]
    seconds: float
    errors: int
    mean_bytes: float
    server_cpu: float | None  # server process CPU seconds during the run

    def quantile(self, q: int) -> float:
        """The q-th percentile (1–99) of the latencies, in ms."""
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


# -- data and users ----------------------------------------------------------------------------
def matneo_command() -> list[str]:
    script = Path(sys.executable).parent / "matneo"
    return [str(script)] if script.exists() else [sys.executable, "-m", "matneo.cli.main"]


def ensure_data(home: Path) -> int:
    """Records in ``home``; generates and loads ten synthetic national years when there are none."""
    settings = get_settings(home)
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    rows = store_status(settings).rows
    if rows:
        return rows
    env = {**os.environ, "MATNEO_HOME": str(settings.home)}
    out = settings.home / "synthetic"
    print(f"no records in {settings.home}: generating {YEARS} at scale 1.0 into {out} and loading (about a minute)")
    start = time.perf_counter()
    synth = ["synth", "--years", YEARS, "--scale", "1.0", "--out", str(out), "--format", "parquet"]
    subprocess.run([*matneo_command(), *synth], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*matneo_command(), "load", str(out)], env=env, check=True, stdout=subprocess.DEVNULL)
    rows = store_status(settings).rows
    print(f"generated and loaded {rows:,} records in {time.perf_counter() - start:.0f} s")
    return rows


def ensure_users(home: Path, roles: list[str]) -> dict[str, tuple[str, str]]:
    """Short role name → (e-mail, password); creates missing users, passwords kept in ``home`` (owner only)."""
    settings = get_settings(home)
    path = settings.home / USERS_FILE
    saved: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    existing = {u.email for u in list_users(settings.database_url)}
    for name in roles:
        email, role, org = ROLES[name]
        if email not in existing:
            saved[email] = secrets.token_urlsafe(12)
            add_user(settings.database_url, email, role, org, saved[email], actor="benchmarks/bench_web.py")
        elif email not in saved:
            raise SystemExit(f"{email} exists in {settings.home} but its password is not in {path}")
    path.write_text(json.dumps(saved, indent=2))
    os.chmod(path, 0o600)
    return {name: (ROLES[name][0], saved[ROLES[name][0]]) for name in roles}


# -- server ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(home: Path, port: int, log: Any) -> Iterator[subprocess.Popen[bytes]]:
    """``matneo serve`` on loopback in its own process, until /health answers; stopped on exit.
    Its log (stdout and stderr) goes to ``log``, an open binary file."""
    env = {**os.environ, "MATNEO_HOME": str(home)}
    process = subprocess.Popen([*matneo_command(), "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise SystemExit(f"the server did not start:\n{log.read().decode(errors='replace')[-4000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}{BASELINE}", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class MemorySampler:
    """The resident set of a process and, separately, of its children, every 0.1 s while running."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.server_peak = 0
        self.child_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.server_peak = max(self.server_peak, self.process.memory_info().rss)
                children = sum(c.memory_info().rss for c in self.process.children(recursive=True))
                self.child_peak = max(self.child_peak, children)
            except psutil.Error:
                pass
            time.sleep(0.1)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def high_water_mark(pid: int) -> int:
    """The kernel's peak resident set of ``pid`` since it started (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def wait_for_log(log: Any, text: str, timeout: float = 600.0) -> float:
    """Seconds until ``text`` appears in the server's log file."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        with open(f"/proc/self/fd/{log.fileno()}", "rb") as own:  # own offset: the server appends to the file
            if text in own.read().decode(errors="replace"):
                return time.perf_counter() - start
        time.sleep(0.1)
    raise SystemExit(f"the server never logged {text!r}")


def logged_at(log: Any, text: str) -> float:
    """When (seconds since the epoch) the server logged its first line containing ``text``: the
    time in the line itself, so a wait for another line first does not add to it."""
    with open(f"/proc/self/fd/{log.fileno()}", "rb") as own:
        for line in own.read().decode(errors="replace").splitlines():
            if text in line:
                stamp = dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
                return stamp.timestamp()
    raise SystemExit(f"the server never logged {text!r}")


def first_views(clients: dict[str, list[httpx.Client]], heading: str) -> list[tuple[str, float, int]]:
    """Each of FIRST_VIEWS once, one after another, as the first client of its role."""
    print(heading)
    timings = []
    for path, role in FIRST_VIEWS:
        if role not in clients:
            continue
        start = time.perf_counter()
        status = clients[role][0].get(path, timeout=600).status_code
        seconds = time.perf_counter() - start
        verdict = "PASS" if seconds <= TARGET_FIRST_VIEW_S and status == 200 else "MISS"
        print(f"  {path + f' ({role})':88} {seconds * 1000:8.0f} ms  HTTP {status}  {verdict}")
        timings.append((f"{path} ({role})", seconds, status))
    return timings


def unwarmed_first_views(home: Path, base: str) -> list[tuple[str, float, int]]:
    """The LMNS page of a trust user of each of UNWARMED_TRUSTS, made for this run and signed in
    only now, so that the server never warmed their scope; each account is deactivated after
    (so that no later start-up warms it either)."""
    settings = get_settings(home)
    hierarchy = load_hierarchy(settings=settings)
    print("first views by trust users whose scope the server did not warm (their LMNS page; target ≤ 1 s):")
    timings = []
    for code in UNWARMED_TRUSTS:
        email, password = f"first-{code.lower()}-{secrets.token_hex(4)}@{DOMAIN}", secrets.token_urlsafe(12)
        user = add_user(settings.database_url, email, "trust_staff", code, password, actor="benchmarks/bench_web.py")
        try:
            client = signed_in_client(base, email, password)
            path = f"/organisations/{hierarchy.get(code).parent_code}"
            start = time.perf_counter()
            status = client.get(path, timeout=600).status_code
            seconds = time.perf_counter() - start
            client.close()
        finally:
            set_active(settings.database_url, user.id, False, actor="benchmarks/bench_web.py")
        verdict = "PASS" if seconds <= TARGET_FIRST_VIEW_S and status == 200 else "MISS"
        print(f"  {path + f' (trust user at {code})':88} {seconds * 1000:8.0f} ms  HTTP {status}  {verdict}")
        timings.append((f"{path} (trust user at {code}, scope not warmed)", seconds, status))
    return timings


def background_clients(clients: list[httpx.Client], paths: list[str], stop: threading.Event) -> list[threading.Thread]:
    """Clients requesting ``paths`` in turn until ``stop`` is set: the server is serving while it reloads."""

    def worker(client: httpx.Client) -> None:
        for path in itertools.cycle(paths):
            if stop.is_set():
                return
            try:
                client.get(path)
            except httpx.HTTPError:  # the server stopped: the main thread reports why
                return

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    return threads


def load_resubmission(home: Path) -> float:
    """Generate 2024 again with a new seed and load it with ``matneo load`` (another process)."""
    env = {**os.environ, "MATNEO_HOME": str(home)}
    out = Path(tempfile.mkdtemp(prefix="bench-web-reload-"))
    try:
        seed = str(int(time.time()) % 100_000)
        synth = ["synth", "--years", "2024", "--scale", "1.0", "--seed", seed, "--out", str(out), "--format", "parquet"]
        subprocess.run([*matneo_command(), *synth], env=env, check=True, stdout=subprocess.DEVNULL)
        start = time.perf_counter()
        load = [*matneo_command(), "load", "--allow-shrink", str(out)]  # another seed: some trust-months shrink
        subprocess.run(load, env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (all threads), from /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pid: int, timeout: float = 300.0) -> float:
    """Wait until the server is idle (under 5% of a CPU over half a second): its background warming is done."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        after = cpu_seconds(pid)
        if before is None or after is None or after - before < 0.025:
            break
    return time.perf_counter() - start


@contextmanager
def profiled(pid: int, out: Path | None) -> Iterator[None]:
    """py-spy samples of the server into ``out`` (collapsed stacks) while the block runs; nothing if None."""
    if out is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [spy, "record", "--pid", str(pid), "--rate", "250", "--format", "raw", "--output", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


IDLE_LEAVES = ("Condition.wait (threading.py", "select (selectors.py", "Event.wait (threading.py")
FRAMEWORK = ("threading.py", "asyncio/", "anyio/", "uvicorn/", "starlette/", "fastapi/", "typer/", "click/", "matneo:")


def hot_spots(collapsed: Path, top: int = 10) -> list[str]:
    """From py-spy's collapsed stacks, busy samples only (idle worker threads dropped): the functions
    with the largest inclusive share, framework frames left out, and the leaf functions (self time)."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        if not count.isdigit() or not frames or frames[-1].startswith(IDLE_LEAVES):
            continue
        total += int(count)
        leaves[frames[-1]] += int(count)
        for frame in set(frames):
            if not any(part in frame for part in FRAMEWORK):
                inclusive[frame] += int(count)
    if not total:
        return ["  (no busy samples)"]
    lines = [f"  {total:,} busy samples; inclusive:"]
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    lines.append("  self (leaf):")
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in leaves.most_common(top // 2)]
    return lines


# -- clients -----------------------------------------------------------------------------------
def signed_in_client(base: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    client.get("/sign-in").raise_for_status()
    form = {"email": email, "password": password, "csrf_token": client.cookies["matneo_csrf"], "next": "/"}
    response = client.post("/sign-in", data=form)
    if response.status_code != 303 or "matneo_session" not in client.cookies:
        raise SystemExit(f"sign-in as {email} failed: HTTP {response.status_code}")
    return client


def drive(clients: list[httpx.Client], path: str, requests: int, label: str, server_pid: int) -> Result:
    """``requests`` GETs of ``path`` from every client at once (one thread each), latency per request."""
    tickets = itertools.count()
    latencies: list[list[float]] = [[] for _ in clients]
    sizes: list[int] = [0] * len(clients)
    errors: list[int] = [0] * len(clients)
    ready = threading.Barrier(len(clients) + 1)

    def worker(index: int, client: httpx.Client) -> None:
        ready.wait()
        while next(tickets) < requests:
            start = time.perf_counter()
            response = client.get(path)
            latencies[index].append((time.perf_counter() - start) * 1000)
            sizes[index] += len(response.content)
            if response.status_code != 200:
                errors[index] += 1

    threads = [threading.Thread(target=worker, args=(i, c), daemon=True) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    cpu_before = cpu_seconds(server_pid)
    ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    cpu_after = cpu_seconds(server_pid)
    flat = [ms for chunk in latencies for ms in chunk]
    return Result(
        label=label,
        requests=len(flat),
        concurrency=len(clients),
        latencies_ms=flat,
        seconds=seconds,
        errors=sum(errors),
        mean_bytes=sum(sizes) / max(len(flat), 1),
        server_cpu=None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
    )


def slug(path: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in path.strip("/").split("?")[0]) or "root"


# -- report ------------------------------------------------------------------------------------
HEADER = (
    f"{'endpoint (user)':78} {'requests':>8} {'conc':>4} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7} "
    f"{'p50 ×':>6} {'p95 ×':>6} {'KB':>6} {'srv ms':>6} {'err':>4}  target"
)


def row(result: Result, baseline: Result) -> str:
    p50, p95, p99 = result.quantile(50), result.quantile(95), result.quantile(99)
    verdict = "(baseline)" if result is baseline else ("PASS" if p95 <= TARGET_P95_MS else "MISS")
    server_ms = "–" if result.server_cpu is None else f"{1000 * result.server_cpu / result.requests:.1f}"
    return (
        f"{result.label:78} {result.requests:8,d} {result.concurrency:4d} {p50:7.1f} {p95:7.1f} {p99:7.1f} "
        f"{result.rate:7.0f} {p50 / baseline.quantile(50):6.1f} {p95 / baseline.quantile(95):6.1f} "
        f"{result.mean_bytes / 1024:6.1f} {server_ms:>6} {result.errors:4d}  {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help=f"MatNeo home (default {DEFAULT_HOME})")
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per endpoint (default 2000)")
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests per endpoint first (default 200)")
    parser.add_argument("--roles", default="trust,analyst", help=f"users to drive as, of {', '.join(ROLES)}")
    parser.add_argument(
        "--profile", type=Path, help="directory: afterwards, py-spy the server per endpoint (pip install py-spy)"
    )
    parser.add_argument("--port", type=int, default=0, help="port to serve on (default: a free one)")
    parser.add_argument("--server-log", type=Path, help="keep the server's log (requests and background jobs) here")
    parser.add_argument("--no-load", action="store_true", help="skip the first views and memory after a load")
    args = parser.parse_args()
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    if unknown := [r for r in roles if r not in ROLES]:
        parser.error(f"unknown role(s) {', '.join(unknown)}: choose from {', '.join(ROLES)}")
    home = args.home.expanduser().resolve()
    rows = ensure_data(home)
    users = ensure_users(home, roles + ([] if args.no_load else ["busy_trust", "busy_analyst"]))
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    print(
        f"{rows:,} birth records in {home}; {os.cpu_count()} CPUs shared by server and load generator; "
        f"{args.concurrency} clients, {args.requests:,} requests per endpoint after {args.warmup:,} warm-up"
    )

    started = time.perf_counter()
    log_file = open(args.server_log, "w+b") if args.server_log else tempfile.TemporaryFile()  # noqa: SIM115
    with log_file as log, server(home, port, log) as process:
        up = time.perf_counter() - started
        clients = {name: [signed_in_client(base, *users[name]) for _ in range(args.concurrency)] for name in roles}
        plan = [(BASELINE, roles[0])] + [(path, name) for name in roles for path in ENDPOINTS]
        labels = {(path, name): path if path == BASELINE else f"{path} ({name})" for path, name in plan}

        print(f"\nserver answering /health {up:.1f} s after start; cold first requests (app warming in background):")
        for path, name in plan:
            start = time.perf_counter()
            status = clients[name][0].get(path, timeout=600).status_code
            print(f"  {labels[path, name]:78} {(time.perf_counter() - start) * 1000:9.1f} ms  HTTP {status}")

        warmed = wait_for_log(log, "job warm the results cache: f")  # finished (or failed: then pages compute)
        print(f"start-up warming done {warmed:.1f} s later; server idle again {settle(process.pid):.1f} s after that")
        first = first_views(clients, "\nfirst views once warming is done (target ≤ 1 s each):")
        first += unwarmed_first_views(home, base)
        after: list[tuple[str, float, int]] = []
        memory: tuple[int, int, int, float, float] | None = None
        if not args.no_load:
            print("\nloading a resubmission of 2024 in another process while clients keep the server busy ...")
            before_rss = psutil.Process(process.pid).memory_info().rss
            stop = threading.Event()
            others = [signed_in_client(base, *users[name]) for name in ("busy_trust", "busy_analyst") for _ in range(2)]
            busy = background_clients(others, list(ENDPOINTS), stop)  # two clients each of two other users
            with MemorySampler(process.pid) as sampler:
                load_seconds = load_resubmission(home)
                loaded_at = time.time()  # the server's log lines carry wall-clock times
                after = first_views(clients, f"first views right after the load ({load_seconds:.1f} s; target ≤ 1 s):")
                # The server serves the previous version until the new one is warm; then the same
                # pages are first views again, of the new version.
                served = wait_for_log(log, "now served")
                after += first_views(
                    clients, f"first views once the new version is served ({served:.1f} s later; target ≤ 1 s):"
                )
                refresh = wait_for_log(log, "job refresh the signals register: f")  # finished or failed
                signals_after_load = logged_at(log, "job refresh the signals register: f") - loaded_at
            stop.set()
            for thread in busy:
                thread.join()
            for client in others:
                client.close()
            memory = (before_rss, sampler.server_peak, sampler.child_peak, load_seconds, signals_after_load)
            peak = sampler.server_peak
            print(
                f"memory: server {before_rss / 2**20:,.0f} MB before the load, peak {peak / 2**20:,.0f} MB"
                f" until the signals refresh finished ({refresh:.0f} s after the first views; kernel high-water mark"
                f" since start {high_water_mark(process.pid) / 2**20:,.0f} MB); refresh child peak"
                f" {sampler.child_peak / 2**20:,.0f} MB"
            )
            settle(process.pid)
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
        results: list[Result] = []
        loadgen_cpu = time.process_time()
        for path, name in plan:
            if args.warmup:
                drive(clients[name], path, args.warmup, labels[path, name], process.pid)
            results.append(drive(clients[name], path, args.requests, labels[path, name], process.pid))
        loadgen_cpu = time.process_time() - loadgen_cpu
        profiles: dict[str, Path] = {}
        for index, (path, name) in enumerate(plan if args.profile else []):  # sampling slows the server: not timed
            out = args.profile / f"{index}-{name}-{slug(path)}.txt"
            with profiled(process.pid, out):
                drive(clients[name], path, min(args.requests, 500), labels[path, name], process.pid)
            profiles[labels[path, name]] = out
        for group in clients.values():
            for client in group:
                client.close()

    baseline = results[0]
    print(f"\nwarm: p50/p95 × = ratio to {BASELINE}; KB = mean response size; srv ms = server CPU per request")
    print(HEADER)
    for result in results:
        print(row(result, baseline))
    for label, out in profiles.items():
        print(f"\nserver profile (py-spy, untimed pass), {label}; {out}:")
        print("\n".join(hot_spots(out)))
    slow = [label for label, seconds, status in first + after if seconds > TARGET_FIRST_VIEW_S or status != 200]
    print(
        f"\nfirst views ≤ {TARGET_FIRST_VIEW_S:.0f} s: "
        + (f"MISS on {len(slow)} of {len(first) + len(after)}" if slow else f"PASS on all {len(first) + len(after)}")
        + (f"; slowest {max(s for _, s, _ in first + after):.2f} s" if first + after else "")
    )
    if memory is not None:
        verdict = "PASS" if memory[1] <= TARGET_PEAK_RSS else "MISS"
        print(f"server peak RSS during the post-load refresh {memory[1] / 2**20:,.0f} MB: {verdict} (target ≤ 2 GB)")
        verdict = "PASS" if memory[4] <= TARGET_SIGNALS_S else "MISS"
        print(
            f"signals register refreshed {memory[4]:.1f} s after the load finished, while serving: {verdict}"
            f" (issue 16 target ≤ {TARGET_SIGNALS_S:.0f} s, with triangulation; see bench_detect.py for the parts)"
        )
    misses = [r.label for r in results[1:] if r.quantile(95) > TARGET_P95_MS]
    print(
        f"\ntarget p95 ≤ {TARGET_P95_MS:.0f} ms: "
        + (f"MISS on {len(misses)} of {len(results) - 1}" if misses else f"PASS on all {len(results) - 1}")
        + f"; load generator used {loadgen_cpu:.0f} CPU s over the runs"
    )


if __name__ == "__main__":
    main()
