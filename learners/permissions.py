"""A learner's access (rule 4): derived from the clock on every request, never from a
job having run."""

from functools import wraps

from django.shortcuts import render

from accounts.models import Role, User
from accounts.permissions import require
from customers.permissions import is_learner_of_current_customer
from learners import reads


def licensed_learner_required(view):
    """A learner holding a valid licence right now; any other learner gets the page
    saying their licence has expired and whom to contact, and nothing else."""
    guarded = require(is_learner_of_current_customer)(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if (
            request.user.is_authenticated
            and is_learner_of_current_customer(request)
            and not reads.holds_valid_licence(request.user.email)
        ):
            managers = User.objects.filter(
                customer=request.tenant, role=Role.CUSTOMER_MANAGER, is_active=True
            ).order_by("full_name", "email")
            return render(
                request,
                "learners/licence_expired.html",
                {
                    "managers": managers,
                    "partner": request.tenant.partner,
                    "ever_licensed": reads.ever_licensed(request.user.email),
                },
            )
        return guarded(request, *args, **kwargs)

    return wrapped
