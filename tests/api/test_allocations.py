"""Allocate and renew through the API, by learner ids or by emails, with the page's
outcome counts and the reasons the others got no seat."""

from accounts.models import AuditEvent
from learners.models import Allocation, Learner
from tests.builders import api_post, assigned_order, expired_learners_of, give_seats, make_learners


def test_allocate_by_ids_until_the_seats_run_out(client, alice, acme, alice_token):
    order = assigned_order(acme, 2, alice)
    ids = make_learners(acme, 3)
    holder = make_learners(acme, 1, prefix="holder")
    give_seats(acme, assigned_order(acme, 1, alice), holder)
    body = {"learner_ids": [*ids, ids[0], *holder]}
    response = api_post(client, f"/customers/{acme.pk}/allocations/allocate", alice_token, body)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "requested": 5,
        "eligible": 3,
        "allocated": 2,
        "not_allocated": {"duplicate": 1, "not_eligible": 1, "not_enough_licences": 1},
        "orders": {str(order.pk): 2},
    }
    event = AuditEvent.objects.get(action="licences.allocated")
    assert (event.actor, event.details["allocated"]) == (alice, 2)


def test_renew_expired_by_emails(client, alice, acme, alice_token):
    ids, _ = expired_learners_of(acme, 3, alice)
    new = assigned_order(acme, 10, alice)
    with acme:
        emails = list(Learner.objects.filter(pk__in=ids).order_by("email").values_list("email", flat=True))
    body = {"emails": [emails[0].upper(), emails[1], emails[1], "nobody@acme.test"]}
    response = api_post(client, f"/customers/{acme.pk}/allocations/renew-expired", alice_token, body)
    assert response.status_code == 200, response.content
    assert response.json()["allocated"] == 2
    assert response.json()["not_allocated"] == {"duplicate": 1, "unknown_email": 1}
    with acme:
        renewed = set(
            Allocation.objects.filter(order_id=new.pk, ended_at__isnull=True).values_list("learner_id", flat=True)
        )
    assert renewed == set(ids[:2])
    assert AuditEvent.objects.get(action="licences.renewed").details["renewed"] == 2


def test_select_all_renews_every_expired_learner_matching_the_search(client, alice, acme, alice_token):
    expired_learners_of(acme, 4, alice)
    assigned_order(acme, 10, alice)
    body = {"select_all": True, "search": "expired0000"}
    response = api_post(client, f"/customers/{acme.pk}/allocations/renew-expired", alice_token, body)
    assert response.status_code == 200 and response.json()["allocated"] == 4


def test_selections_are_checked(client, alice, acme, globex, alice_token):
    url = f"/customers/{acme.pk}/allocations/allocate"
    assigned_order(acme, 3, alice)
    foreign_order = assigned_order(globex, 3, alice)
    for body, field in (
        ({}, "body.learner_ids"),
        ({"learner_ids": [1], "emails": ["a@acme.test"]}, "body.learner_ids"),
        ({"learner_ids": [1], "order_id": foreign_order.pk}, "body.order_id"),
        ({"emails": ["not an email"]}, "body.emails.0"),
        ({"learner_ids": list(range(1, 1002))}, "body.learner_ids"),
    ):
        response = api_post(client, url, alice_token, body)
        assert response.status_code == 422, (body, response.content)
        assert response.json()["errors"][0]["field"] == field


def test_renew_early_by_emails_and_with_select_all(client, alice, acme, alice_token):
    from datetime import timedelta

    from django.utils import timezone

    from tests.builders import expiring_learners_of

    ids, soon = expiring_learners_of(acme, 4, alice)
    later = assigned_order(acme, 3, alice, expires_at=timezone.now() + timedelta(days=400))
    with acme:
        emails = list(Learner.objects.filter(pk__in=ids).order_by("email").values_list("email", flat=True))
    holder = make_learners(acme, 1, prefix="holder")
    give_seats(acme, assigned_order(acme, 1, alice), holder)  # valid for a year: not expiring
    with acme:
        holder_email = Learner.objects.get(pk=holder[0]).email
    body = {"emails": [emails[0], emails[0], "nobody@acme.test", holder_email], "days": 7}
    url = f"/customers/{acme.pk}/allocations/renew-early"
    response = api_post(client, url, alice_token, body, key="early-1")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "requested": 4,
        "eligible": 1,
        "allocated": 1,
        "not_allocated": {"duplicate": 1, "unknown_email": 1, "not_expiring": 1},
        "orders": {str(later.pk): 1},
    }
    # A retry with the same key acts once and returns the first result.
    again = api_post(client, url, alice_token, body, key="early-1")
    assert again.json() == response.json() and again["Idempotent-Replayed"] == "true"
    response = api_post(client, url, alice_token, {"select_all": True, "days": 30})
    assert response.json()["allocated"] == 2 and response.json()["not_allocated"] == {"not_enough_licences": 1}
    soon.refresh_from_db()
    assert soon.allocated_count == 1
    with acme:
        assert Allocation.objects.filter(end_reason="renewed_early").count() == 3
    assert AuditEvent.objects.filter(action="licences.renewed_early").count() == 2


def test_renew_early_refuses_bad_windows_and_an_order_that_does_not_expire_later(client, alice, acme, alice_token):
    from datetime import timedelta

    from django.utils import timezone

    from tests.builders import expiring_learners_of

    ids, soon = expiring_learners_of(acme, 2, alice)
    near = assigned_order(acme, 5, alice, expires_at=timezone.now() + timedelta(days=1))
    url = f"/customers/{acme.pk}/allocations/renew-early"
    response = api_post(client, url, alice_token, {"select_all": True, "days": 14})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.days"
    response = api_post(client, url, alice_token, {"learner_ids": ids, "order_id": near.pk})
    assert response.status_code == 409 and response.json()["code"] == "order_not_later"
    with acme:
        assert not Allocation.objects.filter(end_reason="renewed_early").exists()
