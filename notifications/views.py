import uuid
from email import policy
from email.parser import BytesParser
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from common.pagination import paginate
from customers.models import Customer
from notifications import digest, preferences, renewals, schedule, seat_alerts, services
from notifications.forms import (
    CustomerScheduleForm,
    ReminderScheduleForm,
    RenewalRequestForm,
    SeatAlertsForm,
    UpcomingExpiriesFilter,
    format_leads,
)
from notifications.models import CustomerNotificationSettings
from partners.forms import PartnerTimeZoneForm
from partners.permissions import partner_manager_required
from partners.services import customers_of

MAX_SHOWN = 50


def _read_outbox(directory: Path) -> list[dict]:
    """Parse the messages Django's file backend wrote, newest first."""
    messages = []
    files = sorted(directory.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in files[:20]:
        for chunk in path.read_bytes().split(b"-" * 79 + b"\n"):
            if not chunk.strip():
                continue
            message = BytesParser(policy=policy.default).parsebytes(chunk)
            text = message.get_body(preferencelist=("plain",))
            messages.append(
                {
                    "subject": message["subject"],
                    "to": message["to"],
                    "date": message["date"],
                    "body": text.get_content() if text else "",
                }
            )
    return messages[:MAX_SHOWN]


def local_outbox(request):
    """Local development only: the mail the file backend wrote, readable in the browser.

    Operators only, DEBUG or not: the outbox holds everyone's password-reset links."""
    if not settings.LOCAL_OUTBOX_ENABLED:
        raise Http404
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not (user.role == Role.OPERATOR or user.is_superuser):
        raise PermissionDenied
    directory = Path(settings.EMAIL_FILE_PATH)
    messages = _read_outbox(directory) if directory.is_dir() else []
    return render(request, "notifications/outbox.html", {"messages": messages, "directory": directory})


@partner_manager_required
def upcoming_expiries(request):
    """Partner dashboard: the customers' licences expiring in the next 30 days (and
    in the last week), with the state of each order's reminders and expiry notice."""
    partner = request.user.partner
    form = UpcomingExpiriesFilter(request.GET or None, partner=partner)
    customer = form.cleaned_data["customer"] if form.is_valid() else None
    now = timezone.now()
    # A page of customers (not orders): each row is one customer's renewal.
    page = paginate(request, renewals.customers_to_renew(partner, now, customer=customer))
    context = {
        "form": form,
        "page": page,
        "renewals": renewals.apply_draft(
            renewals.with_orders(page, partner, now), request.session.pop(RENEWAL_DRAFT, None)
        ),
        "days": services.UPCOMING_DAYS,
        "now": now,
        "max_renewals": renewals.MAX_RENEWALS_AT_ONCE,
        "max_quantity": settings.LICENCE_ORDER_MAX_QUANTITY,
        "once": uuid.uuid4().hex,
    }
    return render(request, "partners/expiring.html", context)


RENEWAL_DRAFT = "renewal_draft"


@require_POST
@partner_manager_required
def request_renewals(request):
    """Request renewal: one requested order per ticked customer, from the dashboard
    (not in manage mode), all in one transaction; they wait in Requested Orders for
    Assign. Bad input changes nothing and says why."""
    partner = request.user.partner
    form = RenewalRequestForm(request.POST, partner=partner, max_customers=renewals.MAX_RENEWALS_AT_ONCE)
    back = request.POST.get("next", "")
    back = back if back.startswith("?") and len(back) < 500 else ""
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) + " Nothing was requested.")
        request.session[RENEWAL_DRAFT] = renewals.draft_of(
            request.POST.getlist("customer"), request.POST.dict()
        )  # shown again, ticks and all
        return redirect(reverse("notifications:upcoming_expiries") + back)
    # The page's form carries a one-time key: a double click or a re-sent POST
    # requests nothing twice (Redis's atomic add; kept for a day).
    once = request.POST.get("once", "")
    if once and not (len(once) <= 64 and cache.add(f"renewals:once:{request.user.pk}:{once}", 1, 24 * 3600)):
        messages.info(request, "These renewals were already requested (the form was sent twice).")
        return redirect(reverse("notifications:upcoming_expiries") + back)
    try:
        orders = renewals.request_renewals(partner, form.cleaned_data["quantities"], acting_user=request.user)
    except (Customer.DoesNotExist, PermissionDenied, ValidationError, ValueError):
        messages.error(request, "These companies cannot be renewed now. Nothing was requested.")
        return redirect(reverse("notifications:upcoming_expiries") + back)
    listed = ", ".join(f"{o.customer.name} (#{o.pk}, {o.quantity} licences)" for o in orders)
    messages.success(request, f"Renewal requested for {listed}. Assign them in Requested Orders.")
    return redirect(reverse("notifications:upcoming_expiries") + back)


@partner_manager_required
def partner_settings(request):
    """The partner's default reminder schedule for its customers."""
    partner = request.user.partner
    current = schedule.partner_default_leads(partner)
    form = ReminderScheduleForm(request.POST or None, initial={"reminders": format_leads(current)})
    if request.method == "POST" and form.is_valid():
        replanned = preferences.set_partner_schedule(partner, form.cleaned_data["reminders"], acting_user=request.user)
        if replanned is None:
            messages.info(request, "The schedule is unchanged.")
        else:
            messages.success(
                request,
                f"Reminders are now sent {format_leads(form.cleaned_data['reminders'])} before expiry; "
                f"{replanned['orders']} live order(s) re-planned.",
            )
        return redirect("notifications:partner_settings")
    overrides = CustomerNotificationSettings.objects.filter(customer__in=customers_of(partner)).select_related(
        "customer"
    )
    context = {"form": form, "partner": partner, "current": current, "overrides": overrides.order_by("customer__name")}
    context |= {"copies_on": digest.copies_on(partner), "digest_on": digest.gets_digest(request.user)}
    context["time_zone_form"] = PartnerTimeZoneForm(initial={"time_zone": partner.time_zone})
    return render(request, "partners/notification_settings.html", context)


@partner_manager_required
def customer_settings(request, customer_id):
    """One customer's reminder schedule: the partner's default, or its own. Only the
    partner's own active customers: any other id is a 404 (rule 1)."""
    partner = request.user.partner
    customer = get_object_or_404(customers_of(partner), pk=customer_id)
    own = schedule.customer_override(customer)
    default = schedule.partner_default_leads(partner)
    initial = {"reminders": format_leads(own or default), "follow_default": own is None}
    form = CustomerScheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        leads = form.cleaned_data["reminders"]
        replanned = preferences.set_customer_schedule(customer, leads, acting_user=request.user)
        if replanned is None:
            messages.info(request, "The schedule is unchanged.")
        elif leads is None:
            messages.success(request, f"{customer.name} follows your default schedule again.")
        else:
            messages.success(
                request, f"Reminders for {customer.name} are now sent {format_leads(leads)} before expiry."
            )
        return redirect("notifications:customer_settings", customer.pk)
    context = {
        "form": form,
        "customer": customer,
        "own": own,
        "default_label": format_leads(default),
        "partner": partner,
        "seat_alerts_form": SeatAlertsForm(initial={"alert_at_90_percent": seat_alerts.alert_at_90_percent(customer)}),
    }
    return render(request, "partners/customer_notification_settings.html", context)


@require_POST
@partner_manager_required
def notice_copies(request):
    """Copy the partner's managers on its customers' expiry notices, or stop."""
    copy = request.POST.get("copy") == "on"
    if digest.set_notice_copies(request.user.partner, copy, acting_user=request.user):
        messages.success(
            request,
            "Your managers are now copied on your customers' expiry notices."
            if copy
            else "Your managers are no longer copied on expiry notices.",
        )
    else:
        messages.info(request, "Nothing changed.")
    return redirect("notifications:partner_settings")


@require_POST
@partner_manager_required
def my_digest(request):
    """The signed-in partner manager's own weekly digest, on or off."""
    subscribed = request.POST.get("digest") == "on"
    if digest.set_digest(request.user, subscribed, via="settings"):
        messages.success(request, "You will get the weekly digest." if subscribed else "Your weekly digest is off.")
    else:
        messages.info(request, "Nothing changed.")
    return redirect("notifications:partner_settings")


@csrf_exempt  # a mail client's one-click POST (RFC 8058) carries no token; it can only turn one digest off
@require_http_methods(["GET", "POST"])
def digest_unsubscribe(request, token):
    """The signed link in the digest: GET asks to confirm, POST turns that manager's
    digest off (idempotent). No sign-in: the signature is the permission, and it
    names the one manager it was made for, whoever is signed in."""
    user = digest.user_of_token(token)
    if user is None:
        return render(request, "notifications/digest_unsubscribe.html", {"invalid": True}, status=400)
    done = False
    if request.method == "POST":
        digest.set_digest(user, False, via="email_link")
        done = True
    context = {"email": user.email, "done": done, "already_off": not digest.gets_digest(user)}
    return render(request, "notifications/digest_unsubscribe.html", context)


@require_POST
@partner_manager_required
def customer_seat_alerts(request, customer_id):
    """Turn one customer's 90 % seat alert on or off (audited). Only the partner's own
    active customers."""
    customer = get_object_or_404(customers_of(request.user.partner), pk=customer_id)
    form = SeatAlertsForm(request.POST)
    form.is_valid()  # a checkbox: anything but "on" is off
    enabled = bool(form.cleaned_data.get("alert_at_90_percent"))
    if seat_alerts.set_alert_at_90_percent(customer, enabled, acting_user=request.user):
        state = "on" if enabled else "off"
        messages.success(request, f"The 90 % seat alert for {customer.name} is now {state}.")
    else:
        messages.info(request, "The seat alerts are unchanged.")
    return redirect("notifications:customer_settings", customer.pk)
