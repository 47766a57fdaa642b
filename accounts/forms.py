from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts import signin_guard


class ThrottledSignInMixin:
    """Checks the sign-in limits around Django's own password check, for both sign-in
    forms: refused while the email or the address is paused (before the password is
    looked at), counted and audited when the password is wrong."""

    page = ""
    refusal: signin_guard.Refusal | None = None

    def clean(self):
        email = self.cleaned_data.get("username") or ""
        address = signin_guard.client_address(self.request)
        self.refusal = signin_guard.sign_in_refusal(email, address)
        if self.refusal:
            raise ValidationError(self.refusal.message, code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            # A wrong password (not, say, a right one on the admin by a non-operator).
            if self.get_user() is None and email and self.cleaned_data.get("password"):
                self.refusal = signin_guard.sign_in_failed(email, address, page=self.page)
                if self.refusal:
                    raise ValidationError(self.refusal.message, code="throttled") from None
            raise
        if self.get_user() is not None:  # not when the password was left out
            signin_guard.sign_in_succeeded(email)
        return cleaned


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    page = "sign-in"
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an active account. Check them and try again.",
    }


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    page = "admin"


class CodeForm(forms.Form):
    """The six digits an authenticator app shows; spaces are forgiven."""

    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise ValidationError("Enter the 6 digits your authenticator app shows.")
        return code
