"""The partner dashboard's API page: tokens (create, see the secret once, revoke) and
webhook endpoints (add, change, disable, enable, remove; their deliveries, with every
attempt, and Redeliver). Partner managers only, each acting on their own partner's
rows: another partner's ids are a 404."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api import tokens, webhooks
from api.error_codes import ApiError
from api.forms import EndpointForm, TokenForm
from api.models import ApiToken, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from common.pagination import paginate
from partners.permissions import partner_manager_required


def _page(request, *, token_form=None, endpoint_form=None, new_token=None, status=200):
    partner = request.user.partner
    context = {
        "tokens": tokens.partner_tokens(partner),
        "endpoints": WebhookEndpoint.objects.filter(partner=partner).order_by("created_at", "id"),
        "token_form": token_form or TokenForm(),
        "endpoint_form": endpoint_form or EndpointForm(),
        "new_token": new_token,
    }
    return render(request, "api/page.html", context, status=status)


@never_cache
@partner_manager_required
def api_page(request):
    return _page(request)


@never_cache
@require_POST
@partner_manager_required
def create_token(request):
    """Create token: the page comes back with the secret, this once (not a redirect:
    the secret is never stored, in the session or anywhere else)."""
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            made = tokens.create_token(
                request.user.partner,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(),
                acting_user=request.user,
            )
        except ApiError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return _page(request, new_token=made, status=201)
    return _page(request, token_form=form, status=422)


@require_POST
@partner_manager_required
def revoke_token(request, token_id):
    try:
        token = tokens.revoke_token(request.user.partner, token_id, acting_user=request.user)
    except ApiToken.DoesNotExist:
        raise Http404("No such token.") from None
    except ApiError as error:
        messages.info(request, error.message)
    else:
        messages.success(request, f"{token.name} ({token.prefix}…) is revoked: it no longer works.")
    return redirect("api_page:index")


@require_POST
@partner_manager_required
def add_endpoint(request):
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            endpoint = webhooks.add_endpoint(request.user.partner, acting_user=request.user, **form.cleaned_data)
        except ApiError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Webhooks will be sent to {endpoint.url}. Its signing secret is below.")
            return redirect("api_page:endpoint", endpoint_id=endpoint.pk)
    return _page(request, endpoint_form=form, status=422)


def _endpoint_or_404(request, endpoint_id):
    try:
        return webhooks.partner_endpoint(request.user.partner, endpoint_id)
    except WebhookEndpoint.DoesNotExist:
        raise Http404("No such endpoint.") from None


@never_cache
@partner_manager_required
def endpoint(request, endpoint_id, form=None, status=200):
    """One endpoint: its secret, its events, and its deliveries, newest first, with
    their attempts (two queries for the page, whatever its length)."""
    endpoint = _endpoint_or_404(request, endpoint_id)
    page = paginate(request, webhooks.partner_deliveries(endpoint))
    attempts = {}
    for attempt in WebhookAttempt.objects.filter(delivery__in=[d.pk for d in page]).order_by("attempted_at", "id"):
        attempts.setdefault(attempt.delivery_id, []).append(attempt)
    rows = [{"delivery": delivery, "attempts": attempts.get(delivery.pk, [])} for delivery in page]
    form = form or EndpointForm(
        initial={"url": endpoint.url, "description": endpoint.description, "event_types": endpoint.event_types}
    )
    context = {"endpoint": endpoint, "page": page, "rows": rows, "form": form}
    return render(request, "api/endpoint.html", context, status=status)


@require_POST
@partner_manager_required
def change_endpoint(request, endpoint_id):
    _endpoint_or_404(request, endpoint_id)
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            webhooks.change_endpoint(request.user.partner, endpoint_id, acting_user=request.user, **form.cleaned_data)
        except ApiError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "The endpoint is saved.")
            return redirect("api_page:endpoint", endpoint_id=endpoint_id)
    return endpoint(request, endpoint_id, form=form, status=422)


def _endpoint_action(request, endpoint_id, action, done):
    try:
        endpoint = action(request.user.partner, endpoint_id, acting_user=request.user)
    except WebhookEndpoint.DoesNotExist:
        raise Http404("No such endpoint.") from None
    messages.success(request, done.format(url=endpoint.url if endpoint else ""))
    return endpoint


@require_POST
@partner_manager_required
def disable_endpoint(request, endpoint_id):
    _endpoint_action(
        request, endpoint_id, webhooks.disable_endpoint, "Nothing more is sent to {url} until you enable it."
    )
    return redirect("api_page:endpoint", endpoint_id=endpoint_id)


@require_POST
@partner_manager_required
def enable_endpoint(request, endpoint_id):
    _endpoint_action(
        request, endpoint_id, webhooks.enable_endpoint, "{url} is enabled. Redeliver what it missed below."
    )
    return redirect("api_page:endpoint", endpoint_id=endpoint_id)


@require_POST
@partner_manager_required
def remove_endpoint(request, endpoint_id):
    _endpoint_action(request, endpoint_id, webhooks.remove_endpoint, "The endpoint is removed.")
    return redirect("api_page:index")


@require_POST
@partner_manager_required
def redeliver(request, delivery_id):
    try:
        delivery = webhooks.redeliver(request.user.partner, delivery_id, acting_user=request.user)
    except WebhookDelivery.DoesNotExist:
        raise Http404("No such delivery.") from None
    except ApiError as error:
        messages.error(request, error.message)
        endpoint_id = WebhookDelivery.objects.filter(pk=delivery_id).values_list("endpoint_id", flat=True).first()
        return redirect("api_page:endpoint", endpoint_id=endpoint_id)
    messages.success(request, f"{delivery.message.event_type} {delivery.message.uid} is being sent again.")
    return redirect("api_page:endpoint", endpoint_id=delivery.endpoint_id)


@csrf_exempt
@require_POST
def local_webhook_receiver(request):
    """Local development only: a webhook receiver for the demo's endpoint, so the
    deliveries page shows real attempts. It verifies the signature as a partner's
    receiver would (Standard Webhooks) and answers 200, or 400 if it does not verify."""
    if not settings.LOCAL_OUTBOX_ENABLED:
        raise Http404
    url = request.build_absolute_uri()
    for secret in WebhookEndpoint.objects.filter(url=url).values_list("secret", flat=True):
        try:
            payload = Webhook(secret).verify(request.body, dict(request.headers))
        except WebhookVerificationError:
            continue
        return JsonResponse({"verified": True, "type": payload.get("type"), "id": request.headers["webhook-id"]})
    return JsonResponse({"verified": False}, status=400)
