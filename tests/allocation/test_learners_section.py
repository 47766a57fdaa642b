"""The Learners section: list and search, Add Learner with automatic allocation,
Import Learners, deactivation freeing a seat, and isolation between customers."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from accounts.models import AuditEvent
from learners import error_codes, imports, reads, roster
from learners.models import Allocation, CsvUpload, Learner, LearnerStatus
from tests.builders import assigned_order, expired_learners_of, give_seats, make_learners


@override_settings(PAGE_SIZE=5)
def test_list_searches_filters_and_paginates(client, alice, dana, acme):
    make_learners(acme, 7, prefix="sales")
    make_learners(acme, 3, prefix="ops")
    expired_learners_of(acme, 2, alice, prefix="gone")
    assigned_order(acme, 1, alice)  # acme itself is not expired
    client.force_login(dana)
    first = client.get("/learners/", {"q": "SALES"})
    assert [learner.email for learner in first.context["page"]] == [f"sales{n:05d}@acme.test" for n in range(5)]
    assert first.context["page"].has_next
    second = client.get("/learners/", {"q": "sales", "page": 2})
    assert len(second.context["page"].object_list) == 2
    expired = client.get("/learners/", {"licence": "expired"}).context["page"].object_list
    assert [learner.licence_state for learner in expired] == ["expired", "expired"]
    assert client.get("/learners/", {"q": "x" * 101}).status_code == 200  # refused quietly: shows all


def test_search_matches_names_and_emails_whatever_their_case(alice, dana, acme):
    roster.add_learner(acme, "ada@acme.test", "Ada LOVELACE", acting_user=dana)
    roster.add_learner(acme, "Grace.Hopper@Acme.TEST", "Grace Hopper", acting_user=dana)
    roster.add_learner(acme, "alan@acme.test", "Ærøskøbing Ålan", acting_user=dana)

    def found(search):
        with acme:
            return [learner.email for learner in reads.learners_with_licence(search)]

    assert found("lovelace") == ["ada@acme.test"]
    assert found("aDA lOVE") == ["ada@acme.test"]
    assert found("HOPPER") == ["grace.hopper@acme.test"]
    assert found("ærø") == found("ÆRØ") == ["alan@acme.test"]
    assert found("nobody") == []


def test_a_new_learner_gets_a_free_seat_automatically(client, alice, dana, acme):
    order = assigned_order(acme, 1, alice)
    client.force_login(dana)
    response = client.post("/learners/add/", {"email": " New.Person@Acme.TEST ", "name": "New Person"}, follow=True)
    assert "was added and given a licence" in str(list(response.context["messages"])[0])
    with acme:
        learner = Learner.objects.get(email="new.person@acme.test")
        assert reads.holds_valid_licence(learner.email)
    order.refresh_from_db()
    assert order.allocated_count == 1
    # The pool is now full: the next one waits.
    response = client.post("/learners/add/", {"email": "second@acme.test"}, follow=True)
    assert "There is no free licence" in str(list(response.context["messages"])[0])
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LEARNERS_ADDED).first()
    assert event.details["added"] == 1 and event.details["allocated"] == 0


@pytest.mark.parametrize(
    "data, error", [({"email": ""}, "This field is required."), ({"email": "nope"}, "Enter a valid email address.")]
)
def test_add_learner_refuses_bad_input(client, dana, acme, data, error):
    client.force_login(dana)
    response = client.post("/learners/add/", data)
    assert error in response.content.decode()
    with acme:
        assert not Learner.objects.exists()


def test_an_existing_or_expired_learner_is_never_added_again_nor_auto_renewed(client, alice, dana, acme):
    ids, _ = expired_learners_of(acme, 1, alice)
    assigned_order(acme, 5, alice)
    client.force_login(dana)
    response = client.post("/learners/add/", {"email": "EXPIRED00000@acme.test"})
    assert "is already a learner" in response.content.decode()
    with acme:
        assert reads.expired_learners().filter(pk=ids[0]).exists()


def test_import_learners_adds_new_ones_and_seats_them_while_seats_last(client, alice, dana, acme):
    expired_learners_of(acme, 1, alice)
    order = assigned_order(acme, 2, alice)
    client.force_login(dana)
    content = (
        "Email,Full name\n"
        "a@acme.test,Ann\n"
        "B@ACME.TEST,Ben\n"
        "a@acme.test,Ann again\n"
        "bad,Bad\n"
        "expired00000@acme.test,Already here\n"
        "c@acme.test,=Cee\n"
    )
    response = client.post("/learners/import/", {"file": SimpleUploadedFile("l.csv", content.encode())})
    columns_url = response["Location"]
    page = client.get(columns_url)
    assert page.context["form"].initial == {"column": 0, "name_column": 1}

    response = client.post(columns_url, {"column": 0, "name_column": 1}, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "Added 3 learners; 2 got a licence, 1 are waiting for a free licence. "
        "Skipped: 1 invalid email address, 1 duplicate in the file (an earlier row has this email), 1 already a learner."
    ]
    order.refresh_from_db()
    assert order.allocated_count == 2
    with acme:
        assert dict(
            Learner.objects.filter(email__in=["a@acme.test", "b@acme.test", "c@acme.test"]).values_list("email", "name")
        ) == {
            "a@acme.test": "Ann",
            "b@acme.test": "Ben",
            "c@acme.test": "=Cee",
        }
        # Seats go in the file's order; the expired learner in the file is not renewed.
        assert set(Allocation.objects.filter(order_id=order.pk).values_list("learner__email", flat=True)) == {
            "a@acme.test",
            "b@acme.test",
        }
        assert reads.expired_learners().count() == 1


def test_import_learners_refuses_a_forged_column(client, dana, acme):
    client.force_login(dana)
    response = client.post("/learners/import/", {"file": SimpleUploadedFile("l.csv", b"Email\na@acme.test\n")})
    response = client.post(response["Location"], {"column": 7})
    assert "Select a valid choice" in response.content.decode()
    with acme:
        assert not Learner.objects.exists()


def test_deactivation_frees_the_seat_and_keeps_the_history(client, alice, dana, acme):
    order = assigned_order(acme, 1, alice)
    client.force_login(dana)
    client.post("/learners/add/", {"email": "leaver@acme.test"})
    with acme:
        leaver = Learner.objects.get(email="leaver@acme.test")
    order.refresh_from_db()
    assert order.free_seats == 0

    response = client.post(f"/learners/{leaver.pk}/deactivate/", follow=True)

    assert "Their licence is free for another learner." in str(list(response.context["messages"])[-1])
    order.refresh_from_db()
    assert order.free_seats == 1
    with acme:
        leaver.refresh_from_db()
        assert leaver.status == LearnerStatus.DEACTIVATED and leaver.deactivated_at is not None
        history = Allocation.objects.get(learner=leaver)
        assert history.end_reason == Allocation.EndReason.DEACTIVATED and history.order_id == order.pk
        assert not reads.expired_learners().filter(pk=leaver.pk).exists()
    # The freed seat goes to the next new learner.
    client.post("/learners/add/", {"email": "joiner@acme.test"})
    order.refresh_from_db()
    assert order.free_seats == 0
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.LEARNER_DEACTIVATED).get().details["freed_seat_of_order"]
        == order.pk
    )


def test_deactivating_an_expired_learner_frees_nothing(alice, dana, acme):
    ids, old = expired_learners_of(acme, 1, alice)
    learner = roster.deactivate_learner(acme, ids[0], acting_user=dana)
    assert not learner.freed_seat
    old.refresh_from_db()
    assert old.allocated_count == 1
    with pytest.raises(error_codes.LearnerError, match="already deactivated"):
        roster.deactivate_learner(acme, ids[0], acting_user=dana)


def test_allocate_licence_to_a_learner_without_one(client, alice, dana, acme):
    ids = make_learners(acme, 1)
    order = assigned_order(acme, 2, alice)
    client.force_login(dana)
    response = client.post(f"/learners/{ids[0]}/allocate/", follow=True)
    assert "A licence was allocated." in str(list(response.context["messages"])[0])
    order.refresh_from_db()
    assert order.allocated_count == 1


def test_forged_and_foreign_learner_ids_give_404(client, alice, dana, erin, acme, globex):
    acme_ids = make_learners(acme, 3)
    make_learners(globex, 1)
    client.force_login(erin)
    # Ids of acme's learners that globex does not have.
    for learner_id in acme_ids[1:]:
        assert client.post(f"/learners/{learner_id}/deactivate/").status_code == 404
        assert client.post(f"/learners/{learner_id}/allocate/").status_code == 404
    assert client.post("/learners/999999/deactivate/").status_code == 404
    with acme:
        assert Learner.objects.filter(status=LearnerStatus.ACTIVE).count() == 3
    assert b"acme.test" not in client.get("/learners/").content


def test_learners_pages_need_a_manager_of_the_customer(client, charlie, lena, acme):
    make_learners(acme, 1)
    for user in (charlie, lena):
        client.force_login(user)
        assert client.get("/learners/").status_code == 403
        assert client.post("/learners/add/", {"email": "x@acme.test"}).status_code == 403


def test_old_uploads_are_cleared_when_a_new_one_arrives(dana, acme):
    with acme:
        old = imports.store_upload(
            acme, SimpleUploadedFile("a.csv", b"Email\na@x.io\n"), CsvUpload.Purpose.IMPORT_LEARNERS, acting_user=dana
        )
        CsvUpload.objects.filter(pk=old.pk).update(uploaded_at=timezone.now() - imports.UPLOAD_KEPT_FOR * 2)
        imports.store_upload(
            acme, SimpleUploadedFile("b.csv", b"Email\nb@x.io\n"), CsvUpload.Purpose.IMPORT_LEARNERS, acting_user=dana
        )
        assert list(CsvUpload.objects.values_list("filename", flat=True)) == ["b.csv"]


def test_a_big_learner_import_runs_in_the_background(
    client, alice, dana, acme, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.CSV_BACKGROUND_MIN_ROWS = 3
    order = assigned_order(acme, 5, alice)
    give_seats(acme, order, [])
    client.force_login(dana)
    content = "Email\n" + "".join(f"bulk{n}@acme.test\n" for n in range(8))
    columns_url = client.post("/learners/import/", {"file": SimpleUploadedFile("l.csv", content.encode())})["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        status_url = client.post(columns_url, {"column": 0})["Location"]
    page = client.get(status_url)
    assert "Added 8 learners; 5 got a licence, 3 are waiting for a free licence." in page.content.decode()
    token = columns_url.rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/imports/{token}/progress/").json()["state"] == "done"
