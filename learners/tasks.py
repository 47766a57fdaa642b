"""Celery tasks of the learners app: thin wrappers around learners.imports and learners.lapses.

Tasks take ids and the schema name, never model instances, and enter the customer's
schema themselves (Celery runs in public otherwise)."""

from celery import shared_task
from django.db import transaction

from accounts.models import User
from customers.models import Customer
from learners import imports, lapses
from learners.error_codes import LearnerError, LearnerErrorCode
from learners.models import CsvUpload


@shared_task(acks_late=True)
def run_csv_import(upload_id: int, schema_name: str, acting_user_id: int) -> str:
    customer = Customer.objects.select_related("partner").get(schema_name=schema_name)
    return imports.run_queued_import(customer, upload_id, User.objects.get(pk=acting_user_id))


@shared_task(ignore_result=True)
def record_lapses() -> int:
    """Beat, as often as the expiry scan: the lapses of every customer an order of which has expired
    since they were last recorded (learners.lapses)."""
    return lapses.record_due()


@shared_task(ignore_result=True)
def record_lapses_of(schema_name: str) -> int:
    """One customer's lapses, recorded again (after a renewal of expired learners)."""
    return lapses.record(Customer.objects.get(schema_name=schema_name))


def queue_import(customer, upload: CsvUpload, options: dict, *, acting_user, in_manage_mode=False) -> CsvUpload:
    """Hand a big import to a Celery worker once the claim commits; the page polls
    the upload's progress."""
    with customer, transaction.atomic(durable=True):
        if not imports.mark_queued(customer, upload, options, in_manage_mode=in_manage_mode):
            raise LearnerError("This file is already being imported.", code=LearnerErrorCode.IMPORT_ALREADY_QUEUED)
        run_csv_import.delay_on_commit(upload.pk, customer.schema_name, acting_user.pk)
    upload.refresh_from_db()
    return upload
