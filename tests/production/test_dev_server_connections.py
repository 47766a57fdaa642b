"""The dev server, as ``scripts/dev.py start`` runs it, hands its PostgreSQL connection
back after each request.

runserver answers each browser connection in a thread of its own, alive for as long as
the browser keeps the connection open (HTTP keep-alive). With persistent database
connections each of those threads would hold one, and a burst of browser connections
would use up PostgreSQL's connections. Here the server signs in to PostgreSQL as a role
allowed only CONNECTION_LIMIT connections, and more browser connections than that stay
open at once, each having made a request that reads the database."""

import http.client
import secrets
import sys
import uuid

import pytest
from django.conf import settings
from psycopg import sql

from tests.production.conftest import admin_connection, clean_environment, database_url, dev

pytestmark = pytest.mark.production

CONNECTION_LIMIT = 3
KEPT_ALIVE = 8


@pytest.fixture
def limited_role(db):
    """A role allowed CONNECTION_LIMIT connections that may read the test database's
    public tables; its DATABASE_URL. Dropped at the end."""
    dbname = settings.DATABASES["default"]["NAME"]  # the test database, once set up
    role, password = f"dev_server_{uuid.uuid4().hex[:12]}", secrets.token_urlsafe(16)
    with admin_connection() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} CONNECTION LIMIT {}").format(
                sql.Identifier(role), sql.Literal(password), sql.Literal(CONNECTION_LIMIT)
            )
        )
    try:
        with admin_connection(dbname) as conn:
            conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(sql.Identifier(role)))
        yield role, database_url(dbname, role, password)
    finally:
        with admin_connection(dbname) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        with admin_connection() as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def connections_of(role: str) -> int:
    with admin_connection() as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", [role]).fetchone()[0]


def sign_in_page(conn: http.client.HTTPConnection) -> int:
    """GET the sign-in page with a session cookie, so that the request reads the session
    table; the response is read and the connection left open, as a browser leaves it."""
    conn.request("GET", "/accounts/login/", headers={"Cookie": f"sessionid={secrets.token_hex(16)}"})
    response = conn.getresponse()
    response.read()
    return response.status


def test_kept_alive_browser_connections_do_not_each_hold_a_database_connection(limited_role, processes):
    role, url = limited_role
    port = dev.free_port()
    argv, env = dev.dev_server(sys.executable, port, clean_environment(DEBUG="1", DATABASE_URL=url))
    processes.start("runserver", argv, env)

    def answers():
        try:
            return sign_in_page(http.client.HTTPConnection("127.0.0.1", port, timeout=5)) == 200
        except OSError:
            return False

    processes.wait_until(answers, timeout=30, what="the dev server")

    browsers = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(KEPT_ALIVE)]
    try:
        statuses = [sign_in_page(browser) for browser in browsers]
        assert statuses == [200] * KEPT_ALIVE, processes.logs()
        # Every browser connection is still open, yet at most one database connection is
        # (the one the server's main thread opened to check migrations at start).
        processes.wait_until(lambda: connections_of(role) <= 1, timeout=5, what="the connections to be handed back")
        assert sign_in_page(browsers[0]) == 200  # a kept-alive connection still works
    finally:
        for browser in browsers:
            browser.close()
