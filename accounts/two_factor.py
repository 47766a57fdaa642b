"""Two-factor sign-in with a TOTP authenticator app (django-otp).

Who must give a code after the password:
- anyone who has set up an authenticator (``User.two_factor_enabled``);
- operators (staff), always: the admin requires a verified code;
- partner managers whose partner requires two-factor sign-in; until they have set up
  an authenticator they reach no page but the set-up page.

Everyone else signs in with the password alone, as before. The answer is read from
the user row and its partner, loaded together on every request, so asking costs no
query. Only the functions here add or remove devices, and they keep
``two_factor_enabled`` true exactly while a confirmed device exists.
"""

import base64

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import events
from accounts.models import User

DEVICE_NAME = "Authenticator app"


def mandatory_reason(user) -> str | None:
    """Why this user may not sign in without a code, or None when it is their choice."""
    if user.is_staff:
        return "Operators must use two-factor sign-in: the admin asks for a code."
    if user.is_partner_manager and user.partner.require_two_factor:
        return f"{user.partner.name} requires two-factor sign-in for its managers."
    return None


def code_required(user) -> bool:
    return user.two_factor_enabled or mandatory_reason(user) is not None


def device_being_set_up(user) -> TOTPDevice:
    """The unconfirmed device whose secret the set-up page shows: the same one until it
    is confirmed, so reloading the page does not invalidate a scanned QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def secret_for_typing(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for apps that cannot scan."""
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth:// link as an inline SVG drawn on the server (no image service)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


@transaction.atomic
def confirm_device(user, code: str) -> TOTPDevice | None:
    """Confirm the device being set up with a code it produced. Returns it, confirmed
    (and any older device of the user removed), or None when the code is wrong."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None or not device.verify_token(code):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    User.objects.filter(pk=user.pk).update(two_factor_enabled=True)
    user.two_factor_enabled = True
    events.two_factor_device_added(user=user, device_name=device.name)
    return device


@transaction.atomic
def check_code(user, code: str) -> TOTPDevice | None:
    """The user's confirmed device when it accepts the code (each code works once)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is not None and device.verify_token(code):
        return device
    return None


@transaction.atomic
def remove_devices(user, *, acting_user) -> int:
    """Remove every device of the user: they turn two-factor sign-in off, or an operator
    resets it for someone who lost their phone. Returns how many confirmed devices went."""
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).count()
    TOTPDevice.objects.filter(user=user).delete()
    User.objects.filter(pk=user.pk).update(two_factor_enabled=False)
    user.two_factor_enabled = False
    if confirmed:
        events.two_factor_device_removed(user=user, acting_user=acting_user, devices=confirmed)
    return confirmed
