"""Big CSV imports, run by a Celery worker with progress the page can poll.

The task takes ids and the schema name, enters the customer's schema itself (Celery
runs in public otherwise), and is safe to run twice: it claims the upload with a
conditional update, and the import itself is one transaction, so a redelivered task
finds the upload already done or starts again from nothing."""

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from customers.models import Customer
from learners import services
from learners.models import CsvUpload

# A run that has not finished in this time died with its worker: it may be claimed again.
RUN_CLAIM_TIMEOUT = timedelta(minutes=15)
# Reading the file is most of the work; the set-based renewal is the rest.
READING_SHARE = 0.8


@shared_task(acks_late=True)
def run_csv_import(upload_id: int, schema_name: str, acting_user_id: int) -> str:
    customer = Customer.objects.select_related("partner").get(schema_name=schema_name)
    acting_user = User.objects.get(pk=acting_user_id)
    with schema_context(schema_name):
        now = timezone.now()
        claimed = (
            CsvUpload.objects.filter(pk=upload_id)
            .filter(
                Q(state=CsvUpload.State.QUEUED)
                | Q(state=CsvUpload.State.RUNNING, started_at__lt=now - RUN_CLAIM_TIMEOUT)
            )
            .update(state=CsvUpload.State.RUNNING, started_at=now, progress_done=0)
        )
        if not claimed:
            return "already claimed"
        upload = CsvUpload.objects.get(pk=upload_id)
        total = upload.row_count

        def progress(rows_read):
            CsvUpload.objects.filter(pk=upload_id).update(
                progress_done=int(min(rows_read, total) * READING_SHARE), progress_total=total
            )

        options = upload.options
        in_manage_mode = bool(options.get("in_manage_mode"))
        try:
            if upload.purpose == CsvUpload.Purpose.ALLOCATION:
                outcome = services.renew_from_csv(
                    customer,
                    upload,
                    options["column"],
                    acting_user=acting_user,
                    in_manage_mode=in_manage_mode,
                    expected=options.get("expected"),
                    order_id=options.get("order"),
                    progress=progress,
                )
                result, state = {"counts": outcome.counts}, CsvUpload.State.DONE
            else:
                outcome = services.import_learners_from_csv(
                    customer,
                    upload,
                    options["column"],
                    options.get("name_column"),
                    acting_user=acting_user,
                    in_manage_mode=in_manage_mode,
                    progress=progress,
                )
                result = {"added": outcome.added, "allocated": outcome.allocated, "skipped": outcome.skipped}
                state = CsvUpload.State.DONE
        except services.StalePreview as stale:
            result, state = {"counts": stale.counts, "message": str(stale)}, CsvUpload.State.STALE
        except services.LearnerError as error:
            result, state = {"message": str(error)}, CsvUpload.State.FAILED
        except Exception:
            CsvUpload.objects.filter(pk=upload_id).update(
                state=CsvUpload.State.FAILED,
                result={"message": "The import failed unexpectedly. Nothing was changed; please try again."},
                finished_at=timezone.now(),
            )
            raise
        # The file is no longer needed once its import is over.
        CsvUpload.objects.filter(pk=upload_id).update(
            state=state,
            result=result,
            finished_at=timezone.now(),
            progress_done=total,
            progress_total=total,
            content=b"" if state == CsvUpload.State.DONE else upload.content,
        )
    return state
