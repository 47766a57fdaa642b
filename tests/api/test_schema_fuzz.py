"""The API against its own OpenAPI document, with schemathesis: for every operation,
generated valid and invalid requests (a bounded number of each, to keep the suite
quick), sent through the whole Django stack (WSGI, every middleware). No answer may
be a server error, and every answer must match the document: its status, content
type, headers and body; invalid input must be refused.

The path ids are the partner's own (a customer, a requested order, a learner), so
the generated bodies and queries reach the services rather than stopping at 404.
One setting is ours: a schema-valid request may still be refused with 422 when a
rule the schema cannot say refuses it (a date range the wrong way round, a filter
naming another partner's customer), so 422 counts as accepting valid data.

(Schemathesis' own pytest plugin does not run on pytest 9 yet, so each operation is
a parametrized test driving the operation's Hypothesis strategy.)"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from api.v1 import api
from tests.builders import assigned_order, make_learners, make_token, order_for

EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 5}
# Creating a customer migrates a new schema (a second or more): fewer of those.
SLOW = {("POST", "/api/v1/customers"): 2}


def operations():
    document = api.get_openapi_schema(path_prefix="/api/")
    return [(method.upper(), path) for path, methods in document["paths"].items() for method in methods]


@pytest.fixture
def api_schema(db, settings, alice, acme):
    token = make_token(alice)
    assigned_order(acme, 5, alice)
    order = order_for(acme, alice, 3)
    (learner,) = make_learners(acme, 1)
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    config = schemathesis.Config.from_dict(
        {
            # The document's bearer scheme: schemathesis also tries without it (expecting 401).
            "auth": {"openapi": {"TokenAuth": {"bearer": token}}},
            "parameters": {"customer_id": acme.pk, "order_id": order.pk, "learner_id": learner},
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]}
            },
        }
    )
    # Django's test client does the same: the test's transaction must outlive each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application(), config=config)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda mode: mode.value)
@pytest.mark.parametrize("method,path", operations())
def test_every_operation_keeps_to_its_schema(api_schema, method, path, mode):
    operation = api_schema[path][method]
    examples = min(EXAMPLES[mode], SLOW.get((method, path), EXAMPLES[mode]))

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
    )
    def run(case):
        case.call_and_validate()

    run()
