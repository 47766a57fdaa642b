from email import policy
from email.parser import BytesParser
from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Role
from common.pagination import paginate
from notifications import services
from notifications.forms import UpcomingExpiriesFilter
from partners.permissions import partner_manager_required

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
    page = paginate(request, services.upcoming_expiries(partner, now, customer=customer))
    rows = []
    for order in page:
        reminders, expiry = services.reminders_and_notice(order)
        rows.append({"order": order, "expired": order.expires_at <= now, "reminders": reminders, "expiry": expiry})
    context = {"form": form, "page": page, "rows": rows, "days": services.UPCOMING_DAYS, "now": now}
    return render(request, "partners/expiring.html", context)
