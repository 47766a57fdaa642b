"""The API's one email, in the style of notifications.emails: one function per email,
three templates each (``emails/<name>-subject.txt``, ``-body.txt``, ``-body.html``),
sent through Django's email API so any django-anymail backend works."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Role, User


def _partner_manager_emails(partner) -> list[str]:
    return list(
        User.objects.filter(partner=partner, role=Role.PARTNER_MANAGER, is_active=True)
        .order_by("email")
        .values_list("email", flat=True)
    )


def _send(name: str, recipients: list[str], context: dict) -> None:
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(subject, text, to=recipients)
    message.attach_alternative(html, "text/html")
    message.send()


def webhook_endpoint_disabled(endpoint) -> int:
    """To the partner's managers: an endpoint was disabled after days of failures.
    Returns how many people it went to."""
    recipients = _partner_manager_emails(endpoint.partner)
    if recipients:
        page = settings.SITE_URL + reverse("api_page:endpoint", args=[endpoint.pk])
        _send("webhook-endpoint-disabled", recipients, {"endpoint": endpoint, "endpoint_url": page})
    return len(recipients)
