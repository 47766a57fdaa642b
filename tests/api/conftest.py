"""Fixtures of the API tests: tokens of the two partners (helpers: tests.builders)."""

import pytest

from tests.builders import make_token


@pytest.fixture
def alice_token(alice):
    """Northwind's read and write token, made by Alice."""
    return make_token(alice)


@pytest.fixture
def alice_read_token(alice):
    return make_token(alice, "read", name="Read-only report")


@pytest.fixture
def charlie_token(charlie):
    """Bluefin's read and write token."""
    return make_token(charlie)
