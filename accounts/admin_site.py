from django_otp.admin import OTPAdminSite

from accounts.forms import AdminSignInForm


def with_refusal_status(response, form):
    """A refused sign-in answers 429 (or 503 when the counters are unreachable)."""
    refusal = getattr(form, "refusal", None)
    if refusal is not None:
        response.status_code = refusal.status
    return response


class OperatorAdminSite(OTPAdminSite):
    """The Django admin, open only to operators whose session passed a code
    (django-otp's OTPAdminSite). Its sign-in page takes the password, throttled like
    /accounts/login/; the code, or setting up an authenticator, comes on the next page
    (accounts.middleware.TwoFactorGateMiddleware), as for every other sign-in."""

    login_form = AdminSignInForm
    login_template = None  # Django's own admin sign-in page: the code is not asked on it

    def __init__(self, name="admin"):
        super().__init__(name)

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        return with_refusal_status(response, context.get("form"))
