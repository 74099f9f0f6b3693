# Issue 16: ContactNow accounts, a queue's TOD policy (instead of an 8x8 schedule) and the audit
# of hours edits. Written by hand: the boards migrations run in one line (0006 -> 0007 -> 0008)
# so that work on several issues at once never leaves two leaf migrations.

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import wallboard.boards.crypto
import wallboard.boards.models


class Migration(migrations.Migration):

    dependencies = [
        ('boards', '0007_tenant_action_token'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ContactNowAccount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True, verbose_name='display name')),
                ('base_url', models.CharField(help_text='The account\'s API host, e.g. https://api-106.dxi.eu (https only; loopback hosts may use http).', max_length=200, verbose_name='API URL')),
                ('token', wallboard.boards.crypto.EncryptedTextField(help_text='Stored encrypted; never shown again. Tokens expire and are bound to the address that asked for them: issue it from this server\'s address.', validators=[wallboard.boards.models.validate_contactnow_token], verbose_name='access token')),
                ('time_zone', models.CharField(default='UTC', help_text="The zone the account's policies are written in.", max_length=64, validators=[wallboard.boards.models.validate_time_zone])),
                ('response_format', models.CharField(choices=[('json', 'JSON'), ('xml', 'XML')], default='json', max_length=4)),
                ('refresh_interval', models.PositiveIntegerField(default=300, validators=[django.core.validators.MinValueValidator(60), django.core.validators.MaxValueValidator(86400)], verbose_name='policy refresh (s)')),
                ('enabled', models.BooleanField(default=True)),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('updated', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': 'ContactNow account',
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='boardqueue',
            name='tod_policy',
            field=models.CharField(blank=True, help_text='The time-of-day policy uid this queue follows.', max_length=32, verbose_name='ContactNow policy'),
        ),
        migrations.AddField(
            model_name='boardqueue',
            name='contactnow_account',
            field=models.ForeignKey(blank=True, help_text='Instead of an 8x8 schedule: the account of the policy below.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='queues', to='boards.contactnowaccount', verbose_name='ContactNow account'),
        ),
        migrations.CreateModel(
            name='TodAudit',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('account_name', models.CharField(max_length=100)),
                ('policy', models.CharField(max_length=32)),
                ('rule', models.IntegerField()),
                ('operation', models.CharField(max_length=8)),
                ('username', models.CharField(max_length=150)),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
                ('before', models.JSONField(blank=True, null=True)),
                ('after', models.JSONField()),
                ('success', models.BooleanField()),
                ('answer', models.JSONField(help_text="The API's answer, or the error.")),
                ('account', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='audits', to='boards.contactnowaccount')),
                ('user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'ContactNow hours change',
                'ordering': ['-at', '-id'],
            },
        ),
    ]
