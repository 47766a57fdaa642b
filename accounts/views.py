from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from accounts.models import Role


@login_required
def home(request):
    """Send each role to its own home."""
    user = request.user
    if user.role == Role.PARTNER_MANAGER:
        return redirect("licences:overview" if request.in_manage_mode else "licences:companies")
    if user.role == Role.CUSTOMER_MANAGER:
        return redirect("licences:overview")
    if user.role == Role.LEARNER:
        return redirect("learners:portal")
    if user.is_staff:
        return redirect("admin:index")
    return redirect("accounts:logout_page")
