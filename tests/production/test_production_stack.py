"""The product started the way production runs it, then used.

Every process starts through scripts/production.sh, as in the Dockerfile and
docker-compose.yml, with DEBUG off, a real SECRET_KEY and HTTPS on: collectstatic into a
temporary STATIC_ROOT, migrate, then gunicorn (static files served by WhiteNoise), a
Celery worker and Celery beat, on the tests' PostgreSQL server and Redis.

- Database: a fresh one, created on the tests' PostgreSQL server for this module and
  dropped after it. The processes then share nothing with the test database (which
  pytest-django holds, and other tests truncate), and migrate runs as on a new
  deployment. The demo data (``seed_demo``, as an operator would run it) gives the
  guide's walk its partner and customer, and Acme's order whose 72-hour reminder is due.
- Redis: the tests' server, on a queue of this run's own (CELERY_TASK_DEFAULT_QUEUE), so
  no other worker takes these tasks and no earlier run's tasks reach this worker.
- HTTPS: gunicorn speaks plain http, as behind the TLS proxy of a real deployment, and
  the browser sends X-Forwarded-Proto: https on every request, as that proxy would. The
  browser's own origin is therefore http, so it is in CSRF_TRUSTED_ORIGINS; behind the
  real proxy the origin is the https site itself.
- Email: the file backend, into a temporary folder, written by the worker's processes.
"""

import email
import email.policy
import http.client
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.conf import settings
from playwright.sync_api import expect

from tests.production.conftest import (
    PRODUCTION_SCRIPT,
    Processes,
    admin_connection,
    database_url,
    dev,
    production_environment,
)

pytestmark = pytest.mark.production

SITE_URL = "https://licences.example.com"
DEMO_PASSWORD = "demo-licences-2026"
PARTNER_MANAGER = "alice@northwind.example"
ACME_MANAGER = "dana@acme.example"
REMINDER = re.compile(r"^Acme Manufacturing: \d+ licences? expires? on ")
FORWARDED_HTTPS = {"X-Forwarded-Proto": "https"}
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}

# Reports every Content-Security-Policy violation of every page to the test, and counts
# them in the page (so that the test can wait for one).
VIOLATION_LISTENER = """
window.cspViolations = 0;
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`);
  window.cspViolations += 1;
});
"""
INJECT_INLINE_SCRIPT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.inlineRan = true";
  document.head.append(script);
}"""


@dataclass
class Stack:
    url: str
    port: int
    outbox: Path
    processes: Processes

    def request(self, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.body = response.read()
        conn.close()
        return response

    def emails(self) -> list[email.message.EmailMessage]:
        """Every message the file backend wrote (one file per connection, messages
        separated by a line of 79 dashes)."""
        messages = []
        for path in sorted(self.outbox.glob("*.log")):
            for chunk in path.read_bytes().split(b"-" * 79 + b"\n"):
                if chunk.strip():
                    messages.append(email.message_from_bytes(chunk, policy=email.policy.default))
        return messages

    def wait_for_email(self, to: str, subject: re.Pattern) -> email.message.EmailMessage:
        def arrived():
            return next((m for m in self.emails() if m["To"] == to and subject.search(m["Subject"])), None)

        return self.processes.wait_until(arrived, timeout=30, what=f"an email to {to} matching {subject.pattern!r}")


def reachable_redis() -> str:
    url = settings.CELERY_BROKER_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping()
    except redis.RedisError as error:
        reason = f"No Redis answers at {url} ({error}); run the project's test command."
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    broker = reachable_redis()
    folder = tmp_path_factory.mktemp("production")
    run = uuid.uuid4().hex[:12]
    dbname, queue = f"production_test_{run}", f"production-test-{run}"
    port = dev.free_port()
    url = f"http://127.0.0.1:{port}"
    env = production_environment(
        SITE_URL=SITE_URL,
        BIND=f"127.0.0.1:{port}",
        DATABASE_URL=database_url(dbname),
        CELERY_BROKER_URL=broker,
        CELERY_TASK_DEFAULT_QUEUE=queue,
        CELERY_BEAT_SCHEDULE_FILE=str(folder / "celerybeat-schedule"),
        EXPIRY_SCAN_INTERVAL_SECONDS="2",
        STATIC_ROOT=str(folder / "static"),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(folder / "outbox"),
        CSRF_TRUSTED_ORIGINS=url,  # the browser's http origin; see the module's docstring
    )
    processes = Processes(folder)
    with admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    try:
        # The image's build step and the compose migrate service, side by side.
        collect = processes.start("collectstatic", [PRODUCTION_SCRIPT, "collectstatic"], env, daemon=False)
        migrate = processes.start("migrate", [PRODUCTION_SCRIPT, "migrate"], env, daemon=False)
        processes.finish(collect, timeout=60)
        processes.finish(migrate, timeout=60)
        # The services start while the operator loads the demo data.
        seed = processes.start("seed_demo", ["python", "manage.py", "seed_demo"], env, daemon=False)
        for service in ("web", "worker", "beat"):
            processes.start(service, [PRODUCTION_SCRIPT, service], env)
        processes.finish(seed, timeout=60)
        stack = Stack(url, port, folder / "outbox", processes)

        def web_answers():
            try:
                return stack.request("/accounts/login/", FORWARDED_HTTPS).status == 200
            except OSError:
                return False

        processes.wait_until(web_answers, timeout=30, what="gunicorn to answer")
        yield stack
    finally:
        processes.stop_all()
        with admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        client = redis.Redis.from_url(broker)
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def cookie_attributes(response, name: str) -> set[str]:
    [header] = [h for h in response.headers.get_all("Set-Cookie") if h.startswith(f"{name}=")]
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def test_plain_http_is_sent_to_https(stack):
    response = stack.request("/accounts/login/")
    assert response.status == 301
    assert response.headers["Location"] == f"https://127.0.0.1:{stack.port}/accounts/login/"


def test_pages_carry_hsts_the_policy_and_secure_cookies(stack):
    response = stack.request("/accounts/login/", FORWARDED_HTTPS)
    assert response.status == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    policy = dict(
        directive.strip().split(" ", 1) for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy == POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert {"secure", "samesite"} <= cookie_attributes(response, "csrftoken")


def test_collected_static_files_are_served_by_whitenoise(stack):
    page = stack.request("/accounts/login/", FORWARDED_HTTPS).body.decode()
    [stylesheet] = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    [script] = re.findall(r'<script src="([^"]+)"', page)
    for path, kind in ((stylesheet, "text/css"), (script, "text/javascript")):
        assert re.fullmatch(r"/static/(css/app|js/app)\.[0-9a-f]{12}\.(css|js)", path)  # the manifest's hashed name
        response = stack.request(path, {**FORWARDED_HTTPS, "Accept-Encoding": "gzip"})
        assert response.status == 200
        assert response.headers["Content-Type"].startswith(kind)
        assert response.headers["Content-Encoding"] == "gzip"
        assert "immutable" in response.headers["Cache-Control"]
        assert response.headers["Content-Security-Policy"]


def test_debug_is_off(stack):
    missing = stack.request("/no-such-page/", FORWARDED_HTTPS)
    assert missing.status == 404
    assert b"URLconf" not in missing.body and b"Traceback" not in missing.body
    # The local outbox exists only in development.
    assert stack.request("/outbox/", FORWARDED_HTTPS).status == 404


def test_the_expiry_reminder_arrives_through_beat_and_the_worker(stack):
    reminder = stack.wait_for_email(ACME_MANAGER, REMINDER)
    text = reminder.get_body(preferencelist=("plain",)).get_content()
    assert f"{SITE_URL}/licences/" in text
    worker, beat = stack.processes.named("worker").output(), stack.processes.named("beat").output()
    assert "Sending due task send-expiry-notifications" in beat
    assert re.search(r"Task notifications\.tasks\.send_due_expiry_notifications\[[\w-]+\] succeeded", worker)


def test_the_guides_first_steps_work_under_the_policy(stack, browser):
    context = browser.new_context(base_url=stack.url, locale="en-GB", extra_http_headers=FORWARDED_HTTPS)
    context.set_default_timeout(10_000)
    violations, errors = [], []
    context.expose_binding("reportViolation", lambda source, violation: violations.append(violation))
    context.add_init_script(VIOLATION_LISTENER)
    page = context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page, PARTNER_MANAGER, DEMO_PASSWORD)

        # Step 1: Company → Actions → Manage Company → Licences → Orders → Request Licences.
        page.get_by_role("link", name="Company").click()
        row = page.get_by_role("row").filter(has_text="Acme Manufacturing")
        row.get_by_text("Actions").click()
        row.get_by_role("button", name="Manage Company").click()
        expect(page.get_by_test_id("manage-banner")).to_contain_text("You are managing Acme Manufacturing")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Licences").click()
        page.get_by_role("navigation", name="Licences").get_by_role("link", name="Orders").click()
        page.get_by_role("link", name="Request Licences").click()
        page.get_by_label("Number of licences").fill("25")
        page.get_by_role("button", name="Save").click()
        requested = page.locator(".messages")
        expect(requested).to_contain_text(re.compile(r"Order #\d+ for 25 licences requested\."))
        order = re.search(r"Order #(\d+)", requested.inner_text()).group(1)

        # Step 2: Exit → Licences → Orders → Requested Orders → Add Filter → ⋯ → Assign.
        page.get_by_test_id("manage-banner").get_by_role("button", name="Exit").click()
        expect(page.get_by_test_id("manage-banner")).to_have_count(0)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Licences").click()
        page.get_by_role("navigation", name="Licences").get_by_role("link", name="Orders").click()
        expect(page.get_by_role("heading", name="Requested Orders")).to_be_visible()
        orders_url = page.url
        # app.js runs under the policy: Add Filter fetches the form into the page (without
        # script, the link reloads the page with the form open) ...
        add_filter = page.get_by_role("link", name="Add Filter")
        add_filter.click()
        expect(add_filter).to_have_attribute("aria-expanded", "true")
        # The customer picker (static/js/customer_picker.js) runs under the policy too.
        page.get_by_label("Customer").press_sequentially("Acme")
        page.get_by_role("listbox", name="Suggestions").get_by_role("option", name="Acme Manufacturing").click()
        assert page.url == orders_url
        # ... and leaves the empty fields out of the filtered list's address.
        page.get_by_role("button", name="Apply filters").click()
        expect(page).to_have_url(re.compile(r"/partner/licences/orders/\?customer=\d+$"))
        row = page.get_by_test_id("requested-orders").get_by_role("row").filter(has_text=f"#{order}")
        row.get_by_label("Order actions").click()
        row.get_by_role("menuitem", name="Assign").click()
        expect(page.locator(".messages")).to_contain_text(f"Order #{order} assigned: 25 licences for Acme")

        # The session and CSRF cookies are Secure; the session's is out of script's reach.
        cookies = {cookie["name"]: cookie for cookie in context.cookies()}
        assert cookies["sessionid"]["secure"] and cookies["sessionid"]["httpOnly"]
        assert cookies["csrftoken"]["secure"]

        assert violations == []
        assert errors == []

        # The listener does hear the policy: an inline script is refused and reported.
        page.evaluate(INJECT_INLINE_SCRIPT)
        page.wait_for_function("() => window.cspViolations > 0", timeout=5_000)
        assert violations == [f"script-src-elem blocked inline on {page.url}"]
        assert page.evaluate("() => window.inlineRan") is None
    finally:
        context.close()

    # The customer's manager is told through the worker that the licences are ready.
    ready = stack.wait_for_email(
        ACME_MANAGER, re.compile(r"^25 new licences ready for allocation at Acme Manufacturing$")
    )
    assert f"{SITE_URL}/" in ready.get_body(preferencelist=("plain",)).get_content()
