"""API tokens: made and revoked by a partner's managers on the API page, checked on
every API request.

A token reads ``lic_<key id>_<secret>``: the prefix makes a leaked token easy to
recognise (and to scan for), the key id finds its row, and only a hash of the whole
token is stored, so the database cannot give a working token away."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from api import events
from api.error_codes import ApiError, ApiErrorCode
from api.models import ApiToken, TokenScope
from common.db import prepared_cursor, public_table
from customers.models import Customer
from partners.models import Partner

TOKEN_PREFIX = "lic_"
KEY_ID_BYTES = 6  # 12 hex digits
SECRET_BYTES = 32  # 256 bits


@dataclass(frozen=True)
class NewToken:
    """A token just made, with the secret the page shows this once."""

    token: ApiToken
    secret: str


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def acts_for(user, partner) -> bool:
    """Whether ``user`` may act for ``partner`` now: one of its active managers, the
    partner itself active."""
    return user.is_active and user.is_partner_manager and user.partner_id == partner.pk and partner.is_active


def _check_manager(partner, acting_user):
    if not acts_for(acting_user, partner):
        raise PermissionDenied("Only the partner's own managers manage its API tokens.")


@transaction.atomic(durable=True)
def create_token(
    partner, *, name: str, scope: str, expires_at: datetime | None = None, acting_user, now=None
) -> NewToken:
    """A new token of ``partner``, acting through ``acting_user`` (who must be one of
    its managers). Audited; the secret is returned once and never stored."""
    now = now or timezone.now()
    _check_manager(partner, acting_user)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApiError(
            "Give the token a name of up to 100 characters.", code=ApiErrorCode.INVALID_TOKEN_NAME, field="name"
        )
    if scope not in TokenScope.values:
        raise ApiError("Choose read, or read and write.", code="invalid_scope", field="scope")
    if expires_at is not None and expires_at <= now:
        raise ApiError("The expiry must be in the future.", code=ApiErrorCode.INVALID_TOKEN_EXPIRY, field="expires_at")
    key_id = secrets.token_hex(KEY_ID_BYTES)
    raw = f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
    token = ApiToken.objects.create(
        partner=partner,
        name=name,
        scope=scope,
        key_id=key_id,
        secret_hash=hash_token(raw),
        created_by=acting_user,
        created_at=now,
        expires_at=expires_at,
    )
    events.api_token_created(token, actor=acting_user)
    return NewToken(token=token, secret=raw)


@transaction.atomic(durable=True)
def revoke_token(partner, token_id: int, *, acting_user, now=None) -> ApiToken:
    """Revoke one of ``partner``'s tokens: it stops working at once. Raises
    ApiToken.DoesNotExist for another partner's token."""
    _check_manager(partner, acting_user)
    token = ApiToken.objects.select_for_update().select_related("partner").get(pk=token_id, partner=partner)
    if token.revoked_at is not None:
        raise ApiError(f"{token.name} is already revoked.", code=ApiErrorCode.TOKEN_ALREADY_REVOKED)
    token.revoked_at, token.revoked_by = now or timezone.now(), acting_user
    token.save(update_fields=["revoked_at", "revoked_by"])
    events.api_token_revoked(token, actor=acting_user)
    return token


def parse(raw: str) -> str | None:
    """The key id of a well-formed token, else None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    key_id, _, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if len(key_id) != 2 * KEY_ID_BYTES or not secret or len(raw) > 200:
        return None
    return key_id


TOKEN_FIELDS = [field.attname for field in ApiToken._meta.concrete_fields]
# What the services ask of the acting user (the rest is deferred), in the model's order,
# as Model.from_db reads them.
USER_FIELDS = [
    field.attname
    for field in User._meta.concrete_fields
    if field.attname
    in ("id", "email", "full_name", "role", "partner_id", "customer_id", "is_active", "is_staff", "is_superuser")
]
PARTNER_FIELDS = [field.attname for field in Partner._meta.concrete_fields]
CUSTOMER_FIELDS = [field.attname for field in Customer._meta.concrete_fields]


# The token with its creator and partner, written out: every API request runs it, and
# the ORM's compiling of a two-join query cost more than the query itself. Its tables
# are named with their schema, so it needs no SET search_path first (common.db).
_TOKEN_COLUMNS = ", ".join(
    [f"t.{name}" for name in TOKEN_FIELDS]
    + [f"u.{name}" for name in USER_FIELDS]
    + [f"p.{name}" for name in PARTNER_FIELDS]
)
_TOKEN_FROM = (
    f"{public_table(ApiToken)} t JOIN {public_table(User)} u ON u.id = t.created_by_id "
    f"JOIN {public_table(Partner)} p ON p.id = t.partner_id"
)
_LIVE = "t.key_id = %s AND t.revoked_at IS NULL"
_TOKEN_SQL = f"SELECT {_TOKEN_COLUMNS} FROM {_TOKEN_FROM} WHERE {_LIVE}"  # noqa: S608 (names from the models)
# The partner's active customer with one id (partners.services.customers_of): alone
# (active_customer), or beside the token for a request whose path names it.
_CUSTOMER_COLUMNS = ", ".join(f"c.{connection.ops.quote_name(name)}" for name in CUSTOMER_FIELDS)
_CUSTOMER_ID = CUSTOMER_FIELDS.index(Customer._meta.pk.attname)
_CUSTOMER_SQL = (
    f"SELECT {_CUSTOMER_COLUMNS} FROM {public_table(Customer)} c "  # noqa: S608
    "WHERE c.partner_id = %s AND c.is_active AND c.id = %s"
)
_TOKEN_AND_CUSTOMER_SQL = (
    f"SELECT {_TOKEN_COLUMNS}, {_CUSTOMER_COLUMNS} FROM {_TOKEN_FROM} "  # noqa: S608
    f"LEFT JOIN {public_table(Customer)} c ON c.partner_id = t.partner_id AND c.is_active AND c.id = %s WHERE {_LIVE}"
)


def _customer(row, partner) -> Customer | None:
    if row[_CUSTOMER_ID] is None:  # no such customer of the partner's (the left join's empty side)
        return None
    customer = Customer.from_db(connection.alias, CUSTOMER_FIELDS, row)
    customer.partner = partner
    return customer


def active_customer(partner, customer_id: int) -> Customer | None:
    """customers_of(partner).filter(pk=customer_id).first(), its partner ``partner``:
    one query, without SET search_path."""
    with prepared_cursor() as cursor:
        cursor.execute(_CUSTOMER_SQL, [partner.pk, customer_id])
        row = cursor.fetchone()
    return _customer(row, partner) if row is not None else None


def _live_token_row(key_id: str, customer_id: int | None) -> ApiToken | None:
    with prepared_cursor() as cursor:
        if customer_id is None:
            cursor.execute(_TOKEN_SQL, [key_id])
        else:
            cursor.execute(_TOKEN_AND_CUSTOMER_SQL, [customer_id, key_id])
        row = cursor.fetchone()
    if row is None:
        return None
    t, u, p = (
        len(TOKEN_FIELDS),
        len(TOKEN_FIELDS) + len(USER_FIELDS),
        len(TOKEN_FIELDS) + len(USER_FIELDS) + len(PARTNER_FIELDS),
    )
    token = ApiToken.from_db(connection.alias, TOKEN_FIELDS, row[:t])
    user = User.from_db(connection.alias, USER_FIELDS, row[t:u])
    partner = Partner.from_db(connection.alias, PARTNER_FIELDS, row[u:p])
    user.partner = partner if user.partner_id == partner.pk else user.partner
    token.created_by, token.partner = user, partner
    if customer_id is not None:
        token.customer_read = (customer_id, _customer(row[p:], partner))
    return token


def authenticate(raw: str, now=None, *, customer_id: int | None = None) -> ApiToken | None:
    """The live token ``raw`` is, with its partner and creator loaded, in one query;
    None for anything else: unknown, wrong secret, revoked, expired, its creator no
    longer an active manager of its partner, or the partner deactivated.

    With ``customer_id`` (the customer a request's path names), the same query reads
    that customer if it is the partner's and active: ``token.customer_read`` is
    ``(customer_id, the customer or None)``, for api.routes._common.partner_customer."""
    key_id = parse(raw)
    if key_id is None:
        return None
    token = _live_token_row(key_id, customer_id)
    if token is None or not hmac.compare_digest(token.secret_hash, hash_token(raw)):
        return None
    if token.is_expired(now) or not acts_for(token.created_by, token.partner):
        return None
    return token


def partner_tokens(partner):
    """The API page's list: live ones first, newest first."""
    return (
        ApiToken.objects.filter(partner=partner)
        .select_related("created_by", "revoked_by")
        .order_by(F("revoked_at").asc(nulls_first=True), "-created_at", "-id")
    )
