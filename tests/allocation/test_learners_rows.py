"""The Learners list's rows are built in Python (learners.views.roster), not by a
template: their state badges, dates on the company's clock, and which actions each
row offers are checked here on the HTML itself."""

import re
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from learners import roster
from learners.models import Learner
from tests.builders import assigned_order, expired_learners_of, give_seats, make_learners


def _rows(html: str) -> dict[str, str]:
    """Each row of the list's table, by the learner's email (its first cell)."""
    rows = re.findall(r"<tr><td>([^<]+)</td>(.*?)</tr>", html, flags=re.S)
    return dict(rows)


def test_each_row_says_the_state_and_offers_only_what_applies(client, alice, dana, acme):
    # Acme keeps London time: 23:30 UTC is the next day there in summer (an hour ahead),
    # the same day in winter.
    expires = datetime(2031, 7, 31, 23, 30, tzinfo=UTC)
    order = assigned_order(acme, 3, alice, expires_at=expires)
    (valid_id,) = make_learners(acme, 1, prefix="valid")
    give_seats(acme, order, [valid_id])
    expired_learners_of(acme, 1, alice, prefix="gone")
    (new_id,) = make_learners(acme, 1, prefix="new")
    (left_id,) = make_learners(acme, 1, prefix="left")
    roster.deactivate_learner(acme, left_id, acting_user=dana)
    with acme:
        Learner.objects.filter(pk=valid_id).update(created_at=datetime(2026, 1, 15, 23, 30, tzinfo=UTC))
    client.force_login(dana)

    rows = _rows(client.get("/learners/").content.decode())

    valid, gone = rows["valid00000@acme.test"], rows["gone00000@acme.test"]
    new, left = rows["new00000@acme.test"], rows["left00000@acme.test"]
    assert "Active" in valid and "Valid until" in valid
    # The summer expiry on London's clock is the next day; the winter creation day is UTC's.
    assert '<time datetime="2031-08-01T00:30:00+01:00">1 Aug 2031</time>' in valid
    assert "15 Jan 2026" in valid
    assert '<span class="badge badge-expired">Expired</span>' in gone
    assert '<span class="badge badge-requested">No licence</span>' in new
    assert '<span class="badge">Deactivated</span>' in left
    # Allocate only for a learner with no licence; the actions menu only for active learners.
    assert f"/learners/{new_id}/allocate/" in new
    assert "Allocate Licence" not in valid and "Allocate Licence" not in gone
    for row, learner_id in ((valid, valid_id), (new, new_id)):
        assert f"/learners/{learner_id}/deactivate/" in row and "Deactivate</button>" in row
    assert "Deactivate</button>" in gone
    assert "<details" not in left and "/deactivate/" not in left


def test_a_row_escapes_what_a_learner_typed(client, alice, dana, acme):
    assigned_order(acme, 1, alice)
    roster.add_learner(
        acme, "x@acme.test", "<b>Bold</b> & Co", acting_user=dana, now=timezone.now() - timedelta(days=1)
    )
    client.force_login(dana)

    html = client.get("/learners/").content.decode()

    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html and "<b>Bold</b>" not in html
