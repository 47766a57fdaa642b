"""The chart tests' fixture: Acme's history around the clock change (the helpers it
uses are in tests/charts/helpers.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.builders import make_learners
from tests.charts.helpers import WEEK_END_AFTER_CHANGE, order_of, seat


@pytest.fixture
def acme_history(world):
    """Five seats of Acme around the clock change, each a learner of its own."""
    acme, alice = world["acme"], world["alice"]
    later = datetime(2027, 3, 1, tzinfo=UTC)
    old = order_of(acme, alice, 10, expires_at=datetime(2026, 3, 26, 9, 0, tzinfo=UTC))
    new = order_of(acme, alice, 10, expires_at=later, allocated=1)
    a1, a2, b, c, d = make_learners(acme, 5)
    ends_after_week_end = WEEK_END_AFTER_CHANGE + timedelta(minutes=30)  # 00:30 BST on the 30th
    # A1, A2: in use at the end of the week of 23 March (renewed half an hour later).
    seat(acme, a1, old, datetime(2026, 3, 24, 10, 0, tzinfo=UTC), expires_at=later, ended_at=ends_after_week_end)
    seat(acme, a2, old, datetime(2026, 3, 25, 10, 0, tzinfo=UTC), expires_at=later, ended_at=ends_after_week_end)
    # B: starts half an hour after that week's end: the next week's.
    seat(acme, b, new, ends_after_week_end, expires_at=later)
    # C: in use from 10 March until its order expired on the 26th (never ended).
    seat(acme, c, old, datetime(2026, 3, 10, 9, 0, tzinfo=UTC), expires_at=old.expires_at)
    # D: given and taken back within one day of the week of 16 March: never at a week's end.
    seat(
        acme,
        d,
        old,
        datetime(2026, 3, 17, 9, 0, tzinfo=UTC),
        expires_at=later,
        ended_at=datetime(2026, 3, 17, 15, 0, tzinfo=UTC),
    )
    return acme
