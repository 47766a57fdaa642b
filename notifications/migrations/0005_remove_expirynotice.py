from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_plan_live_orders"),
        ("licences", "0004_order_email_ledger"),
    ]

    operations = [
        migrations.DeleteModel(name="ExpiryNotice"),
    ]
