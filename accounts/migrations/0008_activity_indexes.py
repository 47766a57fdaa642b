from django.db import migrations, models


class Migration(migrations.Migration):
    """The Activity pages' indexes (insight.activity): newest first by (at, id), for
    a customer, and by kind or by who. The (customer, at) index is replaced by
    (customer, at, id), which serves everything it did."""

    dependencies = [
        ("accounts", "0007_more_audit_kinds"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="auditevent", name="accounts_au_custome_500b6f_idx"),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["customer", "-at", "-id"], name="audit_customer_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["partner", "action", "-at", "-id"], name="audit_partner_action_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["customer", "action", "-at", "-id"], name="audit_customer_action_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["actor", "-at", "-id"], name="audit_actor_idx"),
        ),
    ]
