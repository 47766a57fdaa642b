from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.utils.functional import lazy
from django.views.generic import TemplateView

from accounts import views

app_name = "accounts"

# Reset links start with SITE_URL, never with the request's Host header: the visitor
# chooses that header, and a forged one would carry the reset token to their own site.
site_url = lazy(lambda: settings.SITE_URL, str)

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/no-access/", TemplateView.as_view(template_name="accounts/no_access.html"), name="logout_page"),
    path(
        "accounts/password-reset/",
        views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
            extra_email_context={"site_url": site_url()},
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("accounts/two-factor/", views.two_factor_settings, name="two_factor"),
    path("accounts/two-factor/set-up/", views.two_factor_set_up, name="two_factor_set_up"),
    path("accounts/two-factor/code/", views.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/turn-off/", views.two_factor_turn_off, name="two_factor_turn_off"),
]
