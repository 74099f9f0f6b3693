# The campaign action token on the tenant (issue 15), written by hand: the boards migrations
# run in one line (0006 -> 0007 -> 0008) so that work on several issues at once never leaves
# two leaf migrations.

from django.db import migrations

import wallboard.boards.crypto
import wallboard.boards.validators


class Migration(migrations.Migration):

    dependencies = [
        ('boards', '0006_tenant_analytics'),
    ]

    operations = [
        migrations.AddField(
            model_name='tenant',
            name='action_token',
            field=wallboard.boards.crypto.EncryptedTextField(blank=True, default='', help_text="For campaign control (docs/campaigns.md): 8x8's CC action token, not the data request token. Stored encrypted; never shown again.", validators=[wallboard.boards.validators.validate_token], verbose_name='action token'),
        ),
    ]
