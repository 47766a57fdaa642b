"""Select Users by CSV → Import Allocation: upload, the email column dropdown, the
review with a reason for each row not renewed, the formula-safe report, Renew
Licences (recomputed, all or nothing), and big files run by a worker."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from accounts.models import AuditEvent
from learners import imports, roster, seats
from learners.models import Allocation, CsvUpload, Learner
from tests.builders import assigned_order, enter_manage_mode, expired_learners_of, give_seats, make_learners

FILE = (
    "Full name;Department;E-mail address\r\n"
    "Ann;Sales;expired00000@acme.test\r\n"  # row 2: renewed
    "Ben;Sales; EXPIRED00001@ACME.TEST \r\n"  # row 3: renewed (trimmed, any case)
    "\r\n"
    "Nobody;Ops;nobody@acme.test\r\n"  # row 5: unknown email
    "Bad;Ops;not-an-email\r\n"  # row 6: invalid email
    "Ann again;Sales;expired00000@acme.test\r\n"  # row 7: duplicate in the file
    "Val;IT;valid00000@acme.test\r\n"  # row 8: already holds a valid licence
    "Dee;IT;deactivated00000@acme.test\r\n"  # row 9: deactivated
    '"=HYPERLINK(""http://x"",""y"")";"Ops, night";expired00002@acme.test\r\n'  # row 10: renewed
    '"@SUM(A1)";Ops;expired00003@acme.test\r\n'  # row 11: not enough free licences
    "+cmd;Ops;expired00004@acme.test\r\n"  # row 12: not enough free licences
)
EXPECTED = {
    "renew": 3,
    "unknown_email": 1,
    "invalid_email": 1,
    "duplicate": 1,
    "already_valid": 1,
    "deactivated": 1,
    "not_enough_licences": 2,
}


@pytest.fixture
def acme_for_csv(alice, dana, acme):
    """Five expired learners, one with a valid licence, one deactivated, 3 free seats."""
    expired_learners_of(acme, 5, alice)
    full = assigned_order(acme, 1, alice)
    give_seats(acme, full, make_learners(acme, 1, prefix="valid"))
    gone = make_learners(acme, 1, prefix="deactivated")
    roster.deactivate_learner(acme, gone[0], acting_user=dana)
    return assigned_order(acme, 3, alice)


def upload(client, content, name="users.csv"):
    data = content if isinstance(content, bytes) else content.encode("cp1252")
    return client.post("/licences/expired/import-allocation/", {"file": SimpleUploadedFile(name, data, "text/csv")})


def review_url(response):
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def test_the_whole_import_allocation(client, dana, acme, acme_for_csv):
    client.force_login(dana)
    url = review_url(upload(client, FILE))

    page = client.get(url)
    # The dropdown lists the file's columns with the email column preselected.
    form = page.context["form"]
    assert [label for _, label in form.fields["column"].choices] == ["Full name", "Department", "E-mail address"]
    assert form.cleaned_data["column"] == 2
    preview = page.context["preview"]
    assert preview.counts == EXPECTED
    assert (preview.to_renew, preview.not_renewed) == (3, 7)
    assert b'data-testid="to-renew">3<' in page.content
    assert b'data-testid="not-renewed">7<' in page.content
    assert [row[0] for row in preview.sample] == [5, 6, 7, 8, 9, 11, 12]
    assert "Learner is deactivated" in page.content.decode()

    response = client.post(url + "renew/", {"column": 2, "expected": preview.expected}, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "Renewed 3 learners. Not renewed: 7 (unknown email: 1; invalid email address: 1; "
        "already holds a valid licence: 1; learner is deactivated: 1; duplicate in the file: 1; "
        "not enough free licences: 2)."
    ]
    acme_for_csv.refresh_from_db()
    assert acme_for_csv.allocated_count == 3
    with acme:
        renewed = Allocation.objects.filter(order_id=acme_for_csv.pk).values_list("learner__email", flat=True)
        assert sorted(renewed) == ["expired00000@acme.test", "expired00001@acme.test", "expired00002@acme.test"]
        assert not CsvUpload.objects.exists()  # the file is gone once imported
    event = AuditEvent.objects.get(action=AuditEvent.Action.LICENCES_RENEWED)
    assert event.details["selection"] == "csv"
    assert event.details["renewed"] == 3 and event.details["not_renewed"] == 7
    assert event.details["reasons"]["not_enough_licences"] == 2


def test_the_not_renewed_report_is_the_files_rows_with_reasons_and_formula_safe(client, dana, acme_for_csv):
    client.force_login(dana)
    url = review_url(upload(client, FILE))
    response = client.get(url + "not-renewed.csv?column=2")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Row", "Full name", "Department", "E-mail address", "Reason not renewed"]
    assert [row[0] for row in rows[1:]] == ["5", "6", "7", "8", "9", "11", "12"]
    assert rows[6] == ["11", "'@SUM(A1)", "Ops", "expired00003@acme.test", "Not enough free licences"]
    assert rows[7][1] == "'+cmd"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_choosing_another_column_recomputes_the_review(client, dana, acme_for_csv):
    client.force_login(dana)
    url = review_url(upload(client, FILE))
    preview = client.get(url, {"column": 0}).context["preview"]
    assert preview.counts == {"invalid_email": 10}


@pytest.mark.parametrize("column", ["3", "-1", "abc", "2.0", ""])
def test_a_forged_column_is_refused_and_changes_nothing(client, dana, acme, acme_for_csv, column):
    client.force_login(dana)
    url = review_url(upload(client, FILE))
    page = client.get(url, {"column": column})
    assert page.context["preview"] is None
    assert "Select a valid choice" in page.content.decode() or "This field is required" in page.content.decode()
    response = client.post(url + "renew/", {"column": column, "expected": "renew:3"}, follow=True)
    assert "Choose the column containing the Email" in str(list(response.context["messages"])[0])
    assert client.get(url + "not-renewed.csv", {"column": column}).status_code == 404
    acme_for_csv.refresh_from_db()
    assert acme_for_csv.allocated_count == 0


def test_a_stale_preview_renews_nothing_then_the_fresh_one_renews(client, alice, dana, acme, acme_for_csv):
    client.force_login(dana)
    url = review_url(upload(client, FILE))
    stale = client.get(url).context["preview"]
    # Meanwhile a colleague renews one of the file's learners by hand: 2 seats are left.
    with acme:
        colleague_pick = Learner.objects.get(email="expired00002@acme.test").pk
    seats.renew_expired(acme, acting_user=dana, learner_ids=[colleague_pick])

    response = client.post(url + "renew/", {"column": 2, "expected": stale.expected}, follow=True)

    assert "have changed since your preview, so nothing was renewed" in str(list(response.context["messages"])[0])
    acme_for_csv.refresh_from_db()
    assert acme_for_csv.allocated_count == 1
    fresh = response.context["preview"]
    assert fresh.counts == {**EXPECTED, "renew": 2, "already_valid": 2, "not_enough_licences": 2}
    client.post(url + "renew/", {"column": 2, "expected": fresh.expected})
    acme_for_csv.refresh_from_db()
    assert acme_for_csv.allocated_count == 3


def test_renewal_without_a_preview_never_over_allocates(dana, acme, acme_for_csv):
    """The service recomputes at confirm time whatever it is told."""
    with acme:
        upload_row = imports.store_upload(
            acme, SimpleUploadedFile("u.csv", FILE.encode()), CsvUpload.Purpose.IMPORT_ALLOCATION, acting_user=dana
        )
    outcome = imports.import_allocation(acme, upload_row, 2, acting_user=dana)
    assert outcome.counts == EXPECTED
    acme_for_csv.refresh_from_db()
    assert acme_for_csv.allocated_count == acme_for_csv.quantity == 3


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "The submitted file is empty."),
        (b"Email\n", "The file has a header row but no rows under it."),
        (b"a@acme.test\nb@acme.test\n", "The first row holds an email address"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a text CSV file."),
    ],
)
def test_unusable_files_are_refused_with_a_message_and_nothing_is_kept(
    client, dana, acme, acme_for_csv, content, message
):
    client.force_login(dana)
    response = upload(client, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    with acme:
        assert not CsvUpload.objects.exists()


@override_settings(CSV_UPLOAD_MAX_BYTES=100)
def test_a_file_over_the_size_cap_is_refused(client, dana, acme):
    client.force_login(dana)
    response = upload(client, "Email\n" + "a@acme.test\n" * 20)
    assert "files can be at most" in response.content.decode()
    with acme:
        assert not CsvUpload.objects.exists()


@override_settings(CSV_UPLOAD_MAX_ROWS=5)
def test_a_file_over_the_row_cap_is_refused(client, dana, acme):
    client.force_login(dana)
    response = upload(client, "Email\n" + "".join(f"u{n}@acme.test\n" for n in range(6)))
    assert "more than 5 rows" in response.content.decode()


@pytest.mark.parametrize(
    "encoding, delimiter",
    [("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", ";"), ("latin-1", "\t"), ("utf-16", "\t"), ("utf-16", ",")],
)
def test_every_encoding_and_delimiter_renews_the_same_learners(client, dana, acme, acme_for_csv, encoding, delimiter):
    client.force_login(dana)
    text = f"Nom{delimiter}Courriel électronique\r\nAnnée{delimiter}expired00000@acme.test\r\nRenée{delimiter}expired00001@acme.test\r\n"
    url = review_url(upload(client, text.encode(encoding)))
    preview = client.get(url).context["preview"]
    assert preview.column == 1 and preview.counts == {"renew": 2}
    client.post(url + "renew/", {"column": 1, "expected": preview.expected})
    acme_for_csv.refresh_from_db()
    assert acme_for_csv.allocated_count == 2


def test_uploads_belong_to_their_manager_and_customer(client, alice, bob, dana, erin, acme, acme_for_csv):
    client.force_login(dana)
    url = review_url(upload(client, FILE))
    for other, customer in ((erin, None), (alice, acme)):
        client.force_login(other)
        if customer:
            enter_manage_mode(client, customer)
        assert client.get(url).status_code == 404
        assert client.post(url + "renew/", {"column": 2, "expected": "x"}).status_code == 404
        assert client.get(url + "not-renewed.csv?column=2").status_code == 404
    acme_for_csv.refresh_from_db()
    assert acme_for_csv.allocated_count == 0


def test_a_big_file_is_renewed_by_a_worker_with_progress(
    client, dana, acme, acme_for_csv, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.CSV_BACKGROUND_MIN_ROWS = 5
    monkeypatch.setattr(imports, "COPY_CHUNK_ROWS", 4)
    client.force_login(dana)
    url = review_url(upload(client, FILE))
    preview = client.get(url).context["preview"]
    assert b"it is renewed in the background" in client.get(url).content

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url + "renew/", {"column": 2, "expected": preview.expected})
    # The task, queued once the request's work committed; the renewal it ran (eagerly,
    # here) queued the recording of the customer's lapses on its own commit.
    assert [getattr(callback, "func", callback).__qualname__ for callback in callbacks] == [
        "Task.delay",
        "record_lapses_after_renewal.<locals>.<lambda>",
    ]
    status_url = response["Location"]
    assert status_url.endswith("/status/")

    progress = client.get(url + "progress/").json()
    assert progress["state"] == "done" and progress["percent"] == 100 and progress["finished"]
    assert progress["message"].startswith("Renewed 3 learners.")
    assert "Renewed 3 learners." in client.get(status_url).content.decode()
    acme_for_csv.refresh_from_db()
    assert acme_for_csv.allocated_count == 3
    # A redelivered task finds the import done and does nothing.
    from learners.tasks import run_csv_import

    with acme:
        upload_id = CsvUpload.objects.get().pk
    assert run_csv_import(upload_id, "acme", dana.pk) == "already claimed"
    # Once handed over, the review leads to the progress page.
    assert client.get(url)["Location"] == status_url
