"""Operators' commands: licence_report, assign_order and cancel_order, all through the
same service functions as the pages."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import AuditEvent, Role
from licences.models import LicenceOrder, OrderStatus
from tests.builders import make_user, order_for


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def operator(db):
    return make_user("ops@platform.test", Role.OPERATOR)


@pytest.fixture
def figures(world):
    """acme: 10 valid (3 allocated), 4 expired, 6 requested, 2 cancelled; globex: 5 valid;
    initech (partner B): 8 requested."""
    w = world
    valid = order_for(w["acme"], w["alice"], 10, status="assigned")
    LicenceOrder.objects.filter(pk=valid.pk).update(allocated_count=3)
    expired = order_for(w["acme"], w["alice"], 4, status="assigned")
    LicenceOrder.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    order_for(w["acme"], w["dana"], 6)
    order_for(w["acme"], w["dana"], 2, status="cancelled")
    order_for(w["globex"], w["bob"], 5, status="assigned")
    order_for(w["initech"], w["frank"], 8)
    return {"valid": LicenceOrder.objects.get(pk=valid.pk)}


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_report_per_customer_as_csv(figures, world):
    rows = {row["Customer"]: row for row in csv_rows(run("licence_report", "--format", "csv"))}
    assert set(rows) == {"Acme Manufacturing", "Globex Retail", "Initech Finance"}
    acme = rows["Acme Manufacturing"]
    assert {k: acme[k] for k in ("Requested orders", "Valid orders", "Expired orders", "Cancelled orders")} == {
        "Requested orders": "1",
        "Valid orders": "1",
        "Expired orders": "1",
        "Cancelled orders": "1",
    }
    assert (acme["Total"], acme["Allocated"], acme["Free"]) == ("10", "3", "7")
    expected = figures["valid"].expires_at.astimezone(world["acme"].tzinfo).isoformat(sep=" ", timespec="minutes")
    assert acme["Next expiry"] == expected
    assert acme["Partner"] == "Northwind Security" and acme["Schema"] == "acme"
    assert rows["Initech Finance"]["Total"] == "0" and rows["Initech Finance"]["Next expiry"] == ""


def test_report_for_one_partner_or_one_customer(figures, world):
    by_name = csv_rows(run("licence_report", "--format", "csv", "--partner", "Northwind Security"))
    by_id = csv_rows(run("licence_report", "--format", "csv", "--partner", str(world["acme"].partner.pk)))
    assert [r["Customer"] for r in by_name] == [r["Customer"] for r in by_id] == ["Acme Manufacturing", "Globex Retail"]
    one = csv_rows(run("licence_report", "--format", "csv", "--customer", "globex"))
    assert [(r["Customer"], r["Total"]) for r in one] == [("Globex Retail", "5")]


def test_report_as_a_table(figures):
    out = run("licence_report", "--partner", "Bluefin IT")
    header, rule, line = out.splitlines()
    assert header.split()[:2] == ["Partner", "Customer"]
    assert set(rule) <= {"-", " "}
    assert "Initech Finance" in line and "initech" in line and "America/New_York" in line


def test_report_of_orders(figures, world):
    rows = csv_rows(run("licence_report", "--format", "csv", "--orders", "--customer", "acme"))
    assert sorted((r["Licences"], r["Status"]) for r in rows) == [
        ("10", "assigned"),
        ("2", "cancelled"),
        ("4", "expired"),
        ("6", "requested"),
    ]
    valid = next(r for r in rows if r["Status"] == "assigned")
    assert (valid["Allocated"], valid["Free"], valid["Requested by"]) == ("3", "7", "alice@northwind.test")


def test_csv_cells_cannot_run_as_formulas(world):
    world["globex"].name = '=HYPERLINK("http://evil.test","Globex")'
    world["globex"].save()
    out = run("licence_report", "--format", "csv", "--customer", "globex")
    assert "'=HYPERLINK" in out
    assert csv_rows(out)[0]["Customer"] == '\'=HYPERLINK("http://evil.test","Globex")'


def test_report_refuses_unknown_names(world):
    with pytest.raises(CommandError, match="There is no partner 'Nobody'"):
        run("licence_report", "--partner", "Nobody")
    with pytest.raises(CommandError, match="There is no customer 'nowhere'"):
        run("licence_report", "--customer", "nowhere")


def test_report_with_no_customers(db):
    assert run("licence_report") == "No customers match.\n"


def test_assign_order_by_an_operator(world, operator, mailoutbox, django_capture_on_commit_callbacks):
    order = order_for(world["acme"], world["dana"], 5)
    with django_capture_on_commit_callbacks(execute=True):
        out = run("assign_order", str(order.pk), "--by", "OPS@platform.test")
    order.refresh_from_db()
    assert (order.status, order.assigned_by) == (OrderStatus.ASSIGNED, operator)
    assert f"Order #{order.pk} assigned: 5 licences for Acme Manufacturing, valid until" in out
    assert "(Europe/London)" in out
    event = AuditEvent.objects.get(action=AuditEvent.Action.ORDER_ASSIGNED)
    assert (event.actor, event.customer, event.in_manage_mode) == (operator, world["acme"], False)
    assert [e.to for e in mailoutbox if "ready for allocation" in e.subject] == [["dana@acme.test"]]


def test_assign_order_by_the_partners_manager(world):
    order = order_for(world["acme"], world["dana"], 5)
    run("assign_order", str(order.pk), "--by", "bob@northwind.test")
    order.refresh_from_db()
    assert order.assigned_by == world["bob"]


def test_cancel_order(world, operator):
    order = order_for(world["acme"], world["dana"], 5)
    out = run("cancel_order", str(order.pk), "--by", operator.email)
    order.refresh_from_db()
    assert (order.status, order.cancelled_by) == (OrderStatus.CANCELLED, operator)
    assert f"Order #{order.pk} for 5 licences for Acme Manufacturing cancelled." in out


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("charlie@bluefin.test", "charlie@bluefin.test may not assign orders of Acme Manufacturing."),
        ("dana@acme.test", "dana@acme.test may not assign orders of Acme Manufacturing."),
        ("nobody@nowhere.test", "There is no active user 'nobody@nowhere.test'."),
    ],
)
def test_assign_order_refuses_people_who_may_not(world, who, message):
    order = order_for(world["acme"], world["dana"], 5)
    with pytest.raises(CommandError, match=message):
        run("assign_order", str(order.pk), "--by", who)
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUESTED


def test_assign_order_refuses_twice_and_unknown_orders(world, operator):
    order = order_for(world["acme"], world["dana"], 5, status="assigned")
    with pytest.raises(CommandError, match=f"Order #{order.pk} is already assigned."):
        run("assign_order", str(order.pk), "--by", operator.email)
    with pytest.raises(CommandError, match="There is no order #999999."):
        run("cancel_order", "999999", "--by", operator.email)


def test_deactivated_operator_cannot_act(world, operator):
    operator.is_active = False
    operator.save()
    order = order_for(world["acme"], world["dana"], 5)
    with pytest.raises(CommandError, match="There is no active user"):
        run("assign_order", str(order.pk), "--by", operator.email)
