"""The page behind every refusal (Django's 403 handler, set in config.urls): it says
why when the reason is known to the visitor, and whom to contact."""

from django.shortcuts import render

from accounts.models import Role, User


def permission_denied(request, exception=None):
    """A customer manager or learner of a deactivated company learns that, and is
    pointed to the partner's managers; anyone else gets the plain refusal."""
    user = getattr(request, "user", None)
    company = getattr(user, "customer", None) if user is not None and user.is_authenticated else None
    context = {}
    if company is not None and not company.is_active:
        contacts = User.objects.filter(partner=company.partner, role=Role.PARTNER_MANAGER, is_active=True)
        context = {
            "deactivated_company": company,
            "partner": company.partner,
            "contacts": contacts.order_by("full_name", "email"),
        }
    return render(request, "403.html", context, status=403)
