"""Helpers for the tests that start the product's own processes: the production ones
(gunicorn, Celery worker and beat, through scripts/production.sh, with DEBUG off) and the
dev server (as scripts/dev.py starts it).

Each process runs in its own session with its output in a log file, and is stopped with
its whole group when the test ends, whatever happened; on Linux it also dies with pytest.
"""

import contextlib
import importlib.util
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_SCRIPT = "scripts/production.sh"


def load_dev_script():
    """scripts/dev.py as a module (it imports only the standard library at the top)."""
    spec = importlib.util.spec_from_file_location("licences_dev_script", ROOT / "scripts" / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = load_dev_script()


def clean_environment(**variables: str) -> dict[str, str]:
    """A process environment with nothing of pytest's in it (no DJANGO_SETTINGS_MODULE, no
    test SECRET_KEY): the venv's commands first on PATH, and the given variables."""
    env = {name: os.environ[name] for name in ("HOME", "LANG", "LC_ALL", "TMPDIR", "CI") if name in os.environ}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    env.update(variables)
    return env


def production_environment(**variables: str) -> dict[str, str]:
    """What production runs with (README, Configuration): DEBUG off, a real secret key,
    HTTPS on (secure cookies, HSTS, SSL redirect), named hosts."""
    production = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "HTTPS": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "https://licences.example.com",
    }
    return clean_environment(**{**production, **variables})


def manage(argv: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


# --- PostgreSQL: the server the tests use -----------------------------------------------


def server_settings() -> dict:
    return settings.DATABASES["default"]


def admin_connection(dbname: str = "postgres") -> psycopg.Connection:
    """An autocommit connection to the tests' PostgreSQL server, as the tests' user."""
    db = server_settings()
    return psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname=dbname,
        autocommit=True,
    )


def database_url(dbname: str, user: str | None = None, password: str | None = None) -> str:
    """A DATABASE_URL for a database on the tests' server (a socket directory as host is
    percent-encoded; dj-database-url decodes it)."""
    db = server_settings()
    if user is None:
        user, password = db["USER"] or "postgres", db["PASSWORD"]
    credentials = urllib.parse.quote(user, safe="")
    if password:
        credentials += ":" + urllib.parse.quote(password, safe="")
    host = urllib.parse.quote(db["HOST"] or "127.0.0.1", safe="")
    return f"postgres://{credentials}@{host}:{db['PORT'] or 5432}/{dbname}"


# --- Processes -----------------------------------------------------------------------


class Process:
    """A child process in its own session, writing to ``<log_dir>/<name>.log``. A daemon
    (gunicorn, worker, beat) must stay up; a step (migrate) must exit 0."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path, daemon: bool) -> None:
        self.name, self.daemon = name, daemon
        self.log = log_dir / f"{name}.log"
        with self.log.open("wb") as output:
            self.proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=dev.die_with_parent(),
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)


class Processes:
    """The processes one test (or module) started; ``stop_all`` ends every one."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Process] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], daemon: bool = True) -> Process:
        process = Process(name, argv, env, self.log_dir, daemon)
        self.started.append(process)
        return process

    def named(self, name: str) -> Process:
        return next(process for process in self.started if process.name == name)

    def finish(self, process: Process, timeout: float) -> None:
        """Wait for a step to end; fail with its output unless it exited 0."""
        try:
            code = process.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{process.name} did not finish within {timeout:.0f}s.\n{self.logs()}")
        if code != 0:
            pytest.fail(f"{process.name} exited with {code}.\n{self.logs()}")

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(f"--- {p.name} (exit {p.proc.poll()}) ---\n{p.output()[-tail:]}" for p in self.started)

    def wait_until(self, condition, timeout: float, what: str):
        """Poll ``condition`` until it returns something true, and return that; fail with
        every log if the time runs out or a daemon dies first."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            dead = [p.name for p in self.started if p.daemon and not p.alive()]
            if dead:
                pytest.fail(f"{', '.join(dead)} exited while waiting for {what}.\n{self.logs()}")
            if time.monotonic() > deadline:
                pytest.fail(f"Timed out after {timeout:.0f}s waiting for {what}.\n{self.logs()}")
            time.sleep(0.1)

    def stop_all(self, grace: float = 10.0) -> None:
        """SIGTERM every group at once (a warm shutdown for Celery), then SIGKILL what is left."""
        for process in self.started:
            process.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            process.signal_group(signal.SIGKILL)
            process.proc.wait(timeout=5)


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
