"""Alert delivery through Apprise to real receivers: a local webhook server and a local SMTP server."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import User

from tests.alerts_helpers import Smtp, free_port, webhook_fixture  # noqa: F401 - the fixture
from wallboard.alerts import outbox, tasks
from wallboard.alerts.apprise_urls import redact, scrub, url_problem
from wallboard.alerts.delivery import send
from wallboard.alerts.models import Delivery, NotificationChannel
from wallboard.boards.crypto import UnreadableSecret

SECRET = "s3cretPassw0rd"
SECRET_PATH = "/hooks/T0ken4bcdEF"


@pytest.fixture
def smtp():
    server = Smtp().start()
    yield server
    server.stop()


def test_it_posts_title_and_body_to_a_json_webhook(webhook):
    result = send(webhook.url(), "Queue alert", "Support: Waiting = 12")
    assert result.ok and result.detail == "delivered"
    assert len(webhook.received) == 1
    assert webhook.received[0]["body"]["title"] == "Queue alert"
    assert webhook.received[0]["body"]["message"] == "Support: Waiting = 12"


def test_it_sends_an_email_through_smtp(smtp):
    result = send(smtp.url(), "Feed down", "8x8 is not answering")
    assert result.ok, result.detail
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["from"] == "wallboard@example.com" and message["to"] == ["ops@example.com"]
    assert "Subject: Feed down" in message["content"] and "8x8 is not answering" in message["content"]


@pytest.mark.parametrize("status", [400, 403, 404, 500, 503])
def test_it_reports_the_status_a_webhook_answers_with(webhook, status):
    webhook.status = status
    result = send(webhook.url(), "t", "b")
    assert not result.ok
    assert f"error={status}" in result.detail


def test_it_reports_a_refused_connection():
    result = send(f"json://127.0.0.1:{free_port()}/", "t", "b")
    assert not result.ok and "connection error" in result.detail.lower()


def test_it_reports_a_refused_smtp_connection():
    result = send(f"mailto://127.0.0.1:{free_port()}?from=a@example.com&to=b@example.com", "t", "b")
    assert not result.ok and "connection" in result.detail.lower()


def test_it_gives_up_on_a_receiver_that_does_not_answer_in_time(webhook):
    webhook.delay = 3
    result = send(webhook.url(), "t", "b", timeout=1)
    assert not result.ok and "timed out after 1 s" in result.detail


@pytest.mark.parametrize(
    "url, words",
    [
        ("", "Enter an Apprise URL"),
        ("hooks.example.com/x", "not a URL"),
        ("nosuchservice://host/x", "no service for “nosuchservice://”"),
        ("slack://onlyone", "cannot use this slack:// URL"),
    ],
)
def test_it_explains_urls_apprise_cannot_use(url, words):
    result = send(url, "t", "b")
    assert not result.ok and words in result.detail
    assert url_problem(url) == result.detail


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()}")


@pytest.fixture
def process_log():
    """What reaches the process's log handlers (the root logger's), at DEBUG."""
    root = logging.getLogger()
    handler, level = _Collect(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.django_db
def test_it_never_repeats_the_url_secrets_in_a_failure_or_the_log(webhook, process_log):
    webhook.status = 401
    url = webhook.url(auth=f"bot:{SECRET}", path=SECRET_PATH)
    result = send(url, "t", "b")
    assert not result.ok
    assert SECRET not in result.detail and "T0ken4bcdEF" not in result.detail
    delivery = _delivery(url)
    assert outbox.deliver_one(delivery.pk) == "retrying"
    logged = "\n".join(process_log)
    assert "alert delivery" in logged and "json://127.0.0.1" in logged  # our own line, redacted
    assert SECRET not in logged and "T0ken4bcdEF" not in logged


def test_it_shows_only_scheme_and_network_host():
    assert redact(f"json://bot:{SECRET}@hooks.example.com:8443{SECRET_PATH}") == "json://hooks.example.com"
    # Slack's "host" is its first token: not shown.
    assert redact("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general") == "slack://…"
    assert redact("mailtos://user:pw@example.com?to=x@example.com") == "mailtos://example.com"


def test_it_scrubs_every_secret_part_of_a_url():
    url = f"json://bot:{SECRET}@hooks.example.com{SECRET_PATH}?token=abcdef123"
    text = f"failed posting to hooks.example.com{SECRET_PATH} as bot:{SECRET} with abcdef123"
    cleaned = scrub(text, url)
    assert SECRET not in cleaned and "T0ken4bcdEF" not in cleaned and "abcdef123" not in cleaned
    assert "hooks.example.com" in cleaned


# --- Deliveries from the outbox, and the Celery task's retries ---------------------------------


def _delivery(url: str, **fields) -> Delivery:
    channel = NotificationChannel.objects.create(name=f"ch {NotificationChannel.objects.count()}", url=url)
    return Delivery.objects.create(channel=channel, kind="start", title="ALERT: x", body="body", **fields)


@pytest.mark.django_db
def test_it_sends_a_delivery_once_even_when_two_tasks_run_it(webhook):
    delivery = _delivery(webhook.url())
    assert outbox.deliver_one(delivery.pk) == "sent"
    assert outbox.deliver_one(delivery.pk) == "skipped"
    assert len(webhook.received) == 1
    delivery.refresh_from_db()
    assert (delivery.outcome, delivery.attempts, delivery.detail) == ("sent", 1, "delivered")
    assert delivery.finished is not None


@pytest.mark.django_db
def test_it_retries_a_refused_delivery_and_gives_up_after_the_last_attempt(webhook):
    webhook.status = 503
    delivery = _delivery(webhook.url())
    tasks.deliver.apply(args=(delivery.pk,))
    delivery.refresh_from_db()
    assert delivery.outcome == "failed"
    assert delivery.attempts == outbox.MAX_ATTEMPTS
    assert len(webhook.received) == outbox.MAX_ATTEMPTS
    assert "error=503" in delivery.detail


@pytest.mark.django_db
def test_it_delivers_on_a_retry_once_the_receiver_is_back(webhook):
    webhook.status = 500
    delivery = _delivery(webhook.url())
    assert outbox.deliver_one(delivery.pk) == "retrying"
    webhook.status = 200
    tasks.deliver.apply(args=(delivery.pk,))
    delivery.refresh_from_db()
    assert (delivery.outcome, delivery.attempts) == ("sent", 2)


def test_it_backs_off_longer_after_each_failure():
    waits = [tasks.backoff(n) for n in range(6)]
    assert waits == sorted(waits) and waits[0] < waits[-1]


@pytest.mark.django_db
def test_it_says_when_a_channel_url_cannot_be_decrypted(webhook):
    delivery = _delivery(webhook.url())
    channel = delivery.channel
    channel.url = UnreadableSecret("fernet:garbage")
    result = outbox.send_to_channel(channel, "t", "b")
    assert not result.ok and "cannot be decrypted" in result.detail


@pytest.mark.django_db
def test_it_fails_deliveries_of_a_disabled_channel(webhook):
    delivery = _delivery(webhook.url())
    NotificationChannel.objects.filter(pk=delivery.channel_id).update(enabled=False)
    assert outbox.deliver_one(delivery.pk) == "failed"
    assert webhook.received == []


# --- Admin: write-only URLs, Send test, the delivery log ---------------------------------------


@pytest.fixture
def admin_client(client, db):
    user = User.objects.create_superuser("root", "root@example.com", "pw-root-123456")
    client.force_login(user)
    return client


def _channel(url: str) -> NotificationChannel:
    return NotificationChannel.objects.create(name="Ops hook", url=url)


@pytest.mark.django_db
def test_it_reports_a_successful_send_test_in_admin(admin_client, webhook):
    channel = _channel(webhook.url(auth=f"bot:{SECRET}", path=SECRET_PATH))
    response = admin_client.post(
        "/admin/alerts/notificationchannel/", {"action": "send_test", "_selected_action": [channel.pk]}, follow=True
    )
    text = response.content.decode()
    assert "Ops hook (json://127.0.0.1): test delivered." in text
    assert len(webhook.received) == 1
    assert SECRET not in text and "T0ken4bcdEF" not in text
    assert Delivery.objects.get(channel=channel, kind="test").outcome == "sent"


@pytest.mark.django_db
def test_it_reports_the_exact_failure_of_a_send_test_in_admin(admin_client, webhook):
    webhook.status = 403
    channel = _channel(webhook.url(auth=f"bot:{SECRET}", path=SECRET_PATH))
    response = admin_client.post(
        "/admin/alerts/notificationchannel/", {"action": "send_test", "_selected_action": [channel.pk]}, follow=True
    )
    text = response.content.decode()
    assert "Ops hook (json://127.0.0.1): not delivered: Failed to send JSON POST notification" in text
    assert "error=403" in text
    assert SECRET not in text and "T0ken4bcdEF" not in text


@pytest.mark.django_db
def test_it_never_shows_a_channel_url_on_admin_pages(admin_client, webhook):
    url = webhook.url(auth=f"bot:{SECRET}", path=SECRET_PATH)
    channel = _channel(url)
    webhook.status = 500
    outbox.deliver_one(_delivery_for(channel).pk)
    pages = [
        "/admin/alerts/notificationchannel/",
        f"/admin/alerts/notificationchannel/{channel.pk}/change/",
        "/admin/alerts/delivery/",
        f"/admin/alerts/delivery/{Delivery.objects.get(channel=channel).pk}/change/",
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        text = response.content.decode()
        assert SECRET not in text and "T0ken4bcdEF" not in text, page
    assert "json://127.0.0.1" in admin_client.get("/admin/alerts/notificationchannel/").content.decode()


def _delivery_for(channel: NotificationChannel) -> Delivery:
    return Delivery.objects.create(channel=channel, kind="start", title="ALERT: x", body="body")


@pytest.mark.django_db
def test_it_keeps_the_stored_url_when_the_admin_form_leaves_it_empty(admin_client, webhook):
    channel = _channel(webhook.url(path=SECRET_PATH))
    response = admin_client.post(f"/admin/alerts/notificationchannel/{channel.pk}/change/",
                                 {"name": "Renamed", "url": "", "enabled": "on"})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "Renamed" and channel.url == webhook.url(path=SECRET_PATH)


@pytest.mark.django_db
def test_it_rejects_a_url_apprise_cannot_use_in_admin(admin_client):
    response = admin_client.post("/admin/alerts/notificationchannel/add/",
                                 {"name": "Bad", "url": "nosuchservice://x/y", "enabled": "on"})
    assert response.status_code == 200
    assert "Apprise has no service for" in response.content.decode()
    assert not NotificationChannel.objects.exists()


@pytest.mark.django_db
def test_it_stores_channel_urls_encrypted(webhook):
    from django.db import connection

    channel = _channel(webhook.url(auth=f"bot:{SECRET}"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT url FROM alerts_notificationchannel WHERE id = %s", [channel.pk])
        raw = cursor.fetchone()[0]
    assert raw.startswith("fernet:") and SECRET not in raw


@pytest.mark.django_db
def test_it_offers_send_test_only_to_those_who_may_change_channels(client, webhook):
    from django.contrib.auth.models import Permission

    viewer = User.objects.create_user("viewer", password="pw-viewer-123456", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_notificationchannel"))
    client.force_login(viewer)
    channel = _channel(webhook.url())
    page = client.get("/admin/alerts/notificationchannel/").content.decode()
    assert "send_test" not in page
    client.post("/admin/alerts/notificationchannel/", {"action": "send_test", "_selected_action": [channel.pk]})
    assert webhook.received == []
