from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login

from accounts import signin_guard, two_factor
from accounts.admin_site import with_refusal_status
from accounts.forms import CodeForm, SignInForm
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


class SignInView(auth_views.LoginView):
    """Email and password, throttled (accounts.signin_guard). Whoever must also give a
    code is taken to the code step by the two-factor gate on their next page."""

    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        return with_refusal_status(super().form_invalid(form), form)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by email, with reset requests limited per email and per address."""

    def form_valid(self, form):
        refusal = signin_guard.password_reset_requested(
            form.cleaned_data["email"], signin_guard.client_address(self.request)
        )
        if refusal:
            form.add_error(None, refusal.message)
            response = self.form_invalid(form)
            response.status_code = refusal.status
            return response
        return super().form_valid(form)


# --- Two-factor sign-in ------------------------------------------------------------


def _next_page(request) -> str:
    """Where to go after the code step: the page asked for, if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url("accounts:home")


def _step(request, view_name) -> str:
    """Another two-factor step, carrying the page asked for."""
    target = request.POST.get("next") or request.GET.get("next")
    return f"{reverse(view_name)}?{urlencode({'next': target})}" if target else reverse(view_name)


def _code_step(request, check, wrong_code_message):
    """Run one code form through the limits: refused while paused; ``check(user, code)``
    returns the device that accepted the code, or None, which is counted and audited.
    Returns (form, device, refusal). A device means the session has passed the code
    step: it gets a new session key (as Django gives one after the password)."""
    user = request.user
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        return form, None, None
    refusal = signin_guard.code_refusal(user)
    if refusal is None:
        device = check(user, form.cleaned_data["code"])
        if device is not None:
            request.session.cycle_key()
            otp_login(request, device)
            signin_guard.code_succeeded(user)
            return form, device, None
        refusal = signin_guard.code_failed(user, signin_guard.client_address(request))
        if refusal is None:
            form.add_error("code", wrong_code_message)
    if refusal is not None:
        form.add_error(None, refusal.message)
    return form, None, refusal


def _code_page(request, template, context, refusal):
    response = render(request, template, {**context, "next": request.POST.get("next") or request.GET.get("next", "")})
    if refusal is not None:
        response.status_code = refusal.status
    return response


@login_required
def two_factor_settings(request):
    """Your own two-factor sign-in: on or off, and why it may not be turned off."""
    return render(request, "accounts/two_factor.html", {"reason": two_factor.mandatory_reason(request.user)})


@login_required
def two_factor_set_up(request):
    """Scan the QR code (or type the secret) into an authenticator app, then prove it
    with a code. The code step counts as passed for this session."""
    user = request.user
    if user.two_factor_enabled:
        if not user.is_verified():
            # A password alone never replaces a device: give a code from the one you have.
            return redirect(_step(request, "accounts:two_factor_verify"))
        messages.info(request, "Two-factor sign-in is already on for your account.")
        return redirect("accounts:two_factor")
    device = two_factor.device_being_set_up(user)
    form, confirmed, refusal = _code_step(
        request,
        two_factor.confirm_device,
        "That code is not right. Check the app shows this account, and try the new code.",
    )
    if confirmed is not None:
        messages.success(request, "Two-factor sign-in is on. You will be asked for a code each time you sign in.")
        return redirect(_next_page(request))
    context = {
        "form": form,
        "qr_code": two_factor.qr_code_svg(device),
        "secret": two_factor.secret_for_typing(device),
        "reason": two_factor.mandatory_reason(user),
    }
    return _code_page(request, "accounts/two_factor_set_up.html", context, refusal)


@login_required
def two_factor_verify(request):
    """The code step after the password, for anyone with an authenticator set up."""
    user = request.user
    if not user.two_factor_enabled:
        return redirect(_step(request, "accounts:two_factor_set_up"))
    if user.is_verified():
        return redirect(_next_page(request))
    form, device, refusal = _code_step(
        request,
        two_factor.check_code,
        "That code is not right, or was already used. Try the next code your app shows.",
    )
    if device is not None:
        return redirect(_next_page(request))
    return _code_page(request, "accounts/two_factor_verify.html", {"form": form}, refusal)


@require_POST
@login_required
def two_factor_turn_off(request):
    user = request.user
    reason = two_factor.mandatory_reason(user)
    if reason:
        messages.error(request, f"Two-factor sign-in cannot be turned off. {reason}")
    elif user.two_factor_enabled:
        two_factor.remove_devices(user, acting_user=user)
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        messages.success(request, "Two-factor sign-in is off. You will sign in with your password alone.")
    return redirect("accounts:two_factor")
