"""The middleware puts each request in the right schema and always hands back public."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.urls import path

from customers.middleware import TenantContextMiddleware
from tests.builders import enter_manage_mode


def schema_probe(request):
    from django.http import HttpResponse

    return HttpResponse(connection.schema_name)


def failing_view(request):
    raise RuntimeError("boom")


urlpatterns = [path("probe/", schema_probe), path("fail/", failing_view)]


@pytest.fixture
def probe_urls(settings):
    settings.ROOT_URLCONF = __name__


@pytest.mark.parametrize(
    ("who", "schema"),
    [("dana", "acme"), ("lena", "acme"), ("erin", "globex"), ("frank", "initech"), ("alice", "public")],
)
def test_each_role_runs_in_its_own_schema(client, world, probe_urls, who, schema):
    client.force_login(world[who])
    response = client.get("/probe/")
    assert response.content.decode() == schema
    assert connection.schema_name == "public"


def test_partner_manager_runs_in_the_managed_customers_schema(client, alice, globex, probe_urls):
    client.force_login(alice)
    enter_manage_mode(client, globex)
    assert client.get("/probe/").content.decode() == "globex"


def test_connection_is_public_again_after_an_exception(client, dana, probe_urls):
    client.raise_request_exception = False
    client.force_login(dana)
    response = client.get("/fail/")
    assert response.status_code == 500
    assert connection.schema_name == "public"


def test_anonymous_request_stays_in_public(client, world, probe_urls):
    assert client.get("/probe/").content.decode() == "public"


def test_middleware_resets_schema_when_the_view_raises(dana):
    request = RequestFactory().get("/")
    request.user = dana
    request.session = {}

    def explode(request):
        assert connection.schema_name == "acme"
        raise ValueError("view failed")

    with pytest.raises(ValueError):
        TenantContextMiddleware(explode)(request)
    assert connection.schema_name == "public"
