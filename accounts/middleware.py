from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from accounts import two_factor

# The pages someone between password and code may still open.
OPEN_VIEWS = frozenset(
    {
        "accounts:two_factor_verify",
        "accounts:two_factor_set_up",
        "accounts:logout",
        "admin:logout",
    }
)


class TwoFactorGateMiddleware:
    """After the password, someone who must give a code (accounts.two_factor) reaches
    no page until they have: they are sent to the code step, or to set up an
    authenticator if they have none yet, and then back where they were going.

    Runs after django-otp's OTPMiddleware, which tells whether this session passed a
    code. Users who need no code pass straight through, without a query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified() or not two_factor.code_required(user):
            return None
        if request.resolver_match.view_name in OPEN_VIEWS:
            return None
        step = "accounts:two_factor_verify" if user.two_factor_enabled else "accounts:two_factor_set_up"
        url = f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return redirect(url)
