"""Expiring Soon → Select Users by CSV → Import Allocation: the same steps as on
Expired Licences with the renew-early reasons (unknown email, not expiring in the
window, already moved, duplicate, not enough free licences in later orders), the
formula-safe report, Renew Early recomputed (all or nothing), bad files and
another manager's upload."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import AuditEvent
from learners import seats
from learners.models import Allocation, CsvUpload
from tests.builders import assigned_order, expiring_learners_of, give_seats, make_learners

FILE = (
    "Name,Email\r\n"
    "Ann,soon00000@acme.test\r\n"  # row 2: renewed early
    "Ben,SOON00001@acme.test\r\n"  # row 3: renewed early
    "Nobody,nobody@acme.test\r\n"  # row 4: unknown email
    "Ann again,soon00000@acme.test\r\n"  # row 5: duplicate
    "Yan,year00000@acme.test\r\n"  # row 6: not expiring in the window
    "Mo,moved00000@acme.test\r\n"  # row 7: already moved
    '"=HYPERLINK(""x"")",soon00002@acme.test\r\n'  # row 8: not enough free licences in later orders
)
EXPECTED = {
    "renew": 2,
    "unknown_email": 1,
    "duplicate": 1,
    "not_expiring": 1,
    "already_moved": 1,
    "not_enough_licences": 1,
}


@pytest.fixture
def acme_for_csv(alice, dana, acme):
    """Three learners expiring in 3 days; one moved early already; one on a year's seat;
    a later order with 3 free seats once 'moved' took one."""
    expiring_learners_of(acme, 3, alice, prefix="soon")
    moved, _ = expiring_learners_of(acme, 1, alice, prefix="moved", within=timedelta(days=2))
    year = assigned_order(acme, 1, alice)
    give_seats(acme, year, make_learners(acme, 1, prefix="year"))
    later = assigned_order(acme, 3, alice, expires_at=timezone.now() + timedelta(days=500))
    seats.renew_early(acme, acting_user=dana, learner_ids=moved, days=7)
    later.refresh_from_db()
    assert later.free_seats == 2
    return later


def upload(client, content, days="30"):
    data = content if isinstance(content, bytes) else content.encode()
    return client.post(
        f"/licences/expiring/import-allocation/?days={days}", {"file": SimpleUploadedFile("u.csv", data, "text/csv")}
    )


def test_review_report_and_renew_early(client, dana, acme, acme_for_csv):
    client.force_login(dana)
    response = upload(client, FILE)
    assert response.status_code == 302 and "days=30" in response["Location"]
    review = client.get(response["Location"])
    preview = review.context["preview"]
    assert preview.counts == EXPECTED
    assert b"Not enough free licences in later orders" in review.content
    assert b"Already moved to a later order" in review.content and b"Renew Early" in review.content
    token = review.context["upload"].token

    report = client.get(f"/licences/expiring/import-allocation/{token}/not-renewed.csv", {"column": 1, "days": 30})
    rows = list(csv.reader(io.StringIO(report.content.decode())))
    assert rows[0] == ["Row", "Name", "Email", "Reason not renewed"]
    assert [r[0] for r in rows[1:]] == ["4", "5", "6", "7", "8"]
    assert rows[-1][1].startswith("'=")  # formula-safe

    response = client.post(
        f"/licences/expiring/import-allocation/{token}/renew/",
        {"column": 1, "days": 30, "expected": preview.expected},
        follow=True,
    )
    text = str(list(response.context["messages"])[0])
    assert text.startswith("Renewed 2 learners early. Not renewed: 5")
    acme_for_csv.refresh_from_db()
    assert acme_for_csv.free_seats == 0
    with acme:
        assert Allocation.objects.filter(end_reason="renewed_early").count() == 3
        assert not CsvUpload.objects.exists()
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LICENCES_RENEWED_EARLY).latest("at")
    assert event.details["selection"] == "csv" and event.details["renewed"] == 2
    assert event.details["reasons"]["already_moved"] == 1


def test_a_changed_pool_since_the_review_renews_nobody(client, alice, dana, acme, acme_for_csv):
    client.force_login(dana)
    review = client.get(upload(client, FILE)["Location"])
    token, expected = review.context["upload"].token, review.context["preview"].expected
    (newcomer,) = make_learners(acme, 1, prefix="newcomer")
    seats.allocate(acme, [newcomer], acting_user=dana)  # takes one of the later seats
    response = client.post(
        f"/licences/expiring/import-allocation/{token}/renew/",
        {"column": 1, "days": 30, "expected": expected},
        follow=True,
    )
    assert "nothing was renewed" in str(list(response.context["messages"])[0])
    with acme:
        assert Allocation.objects.filter(end_reason="renewed_early").count() == 1


@pytest.mark.parametrize(
    "content, error",
    [
        (b"", "file is empty."),
        (b"Email\r\n", "header row but no rows"),
        (b"a@b.example\r\nc@d.example\r\n", "not column names"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text CSV"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(client, dana, acme, acme_for_csv, content, error):
    client.force_login(dana)
    response = upload(client, content)
    assert response.status_code == 200 and error in response.content.decode()
    with acme:
        assert not CsvUpload.objects.exists()


def test_a_bad_window_or_another_managers_upload(client, dana, alice, acme, acme_for_csv):
    client.force_login(dana)
    location = upload(client, FILE)["Location"]
    token = location.split("/")[-2]
    response = client.get(f"/licences/expiring/import-allocation/{token}/", {"column": 1, "days": 14})
    assert (
        response.context["preview"] is None and "Choose a window of 7, 30, 60 or 90 days." in response.content.decode()
    )
    response = client.post(
        f"/licences/expiring/import-allocation/{token}/renew/",
        {"column": 1, "days": 14, "expected": "renew:2"},
        follow=True,
    )
    assert "Choose the column containing the Email" in str(list(response.context["messages"])[0])
    # The Expired Licences flow does not open a Renew Early upload, nor another manager's.
    assert client.get(f"/licences/expired/import-allocation/{token}/").status_code == 404
    from tests.builders import enter_manage_mode

    client.force_login(alice)
    enter_manage_mode(client, acme)
    assert client.get(f"/licences/expiring/import-allocation/{token}/").status_code == 404
    with acme:
        assert Allocation.objects.filter(end_reason="renewed_early").count() == 1
