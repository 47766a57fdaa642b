"""Fixtures of the tenancy tests (helpers: tests.builders)."""

import pytest


@pytest.fixture
def customers(acme, globex, initech):
    """The test session's three customer schemas, with their Customer rows."""
    return acme, globex, initech
