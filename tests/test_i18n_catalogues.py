"""Translations (issue 20): complete catalogues, compiled .mo files in step with their .po, and
the language chosen per TV (?lang=) and per supervisor's browser (Accept-Language)."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth.models import User

from wallboard.boards.models import Board, Display, DisplayBoard, Tenant

LOCALE = Path(settings.BASE_DIR) / "locale"
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != "en"]
CATALOGUES = [(lang, domain) for lang in TRANSLATED for domain in ("django", "djangojs")]


def po_file(lang: str, domain: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"))


def test_it_offers_english_german_french_and_spanish():
    assert {"en", "de", "fr", "es"} <= {code for code, _ in settings.LANGUAGES}
    assert str(LOCALE) in [str(p) for p in settings.LOCALE_PATHS]


@pytest.mark.parametrize(("lang", "domain"), CATALOGUES)
def test_it_translates_every_message(lang, domain):
    po = po_file(lang, domain)
    assert len(po) > 20
    assert [e.msgid for e in po if not e.msgstr.strip() or "fuzzy" in e.flags or e.obsolete] == []


@pytest.mark.parametrize(("lang", "domain"), CATALOGUES)
def test_it_keeps_every_placeholder_in_the_translation(lang, domain):
    # A lost %(time)s would show "öffnet in" with no time; a made-up one would show "%(tim)s".
    for e in po_file(lang, domain):
        assert sorted(polib_placeholders(e.msgstr)) == sorted(polib_placeholders(e.msgid)), e.msgid


def polib_placeholders(text: str) -> list[str]:
    return re.findall(r"%\(\w+\)s", text)


@pytest.mark.parametrize(("lang", "domain"), CATALOGUES)
def test_it_ships_a_compiled_catalogue_in_step_with_its_source(lang, domain):
    po = po_file(lang, domain)
    mo = polib.mofile(str(LOCALE / lang / "LC_MESSAGES" / f"{domain}.mo"))
    source = {e.msgid: e.msgstr for e in po.translated_entries()}
    compiled = {e.msgid: e.msgstr for e in mo if e.msgid}
    assert compiled == source, "run .venv/bin/python locale/compile.py"


JS_DIR = Path(settings.BASE_DIR) / "static" / "wallboard" / "js"
TEMPLATES = Path(settings.BASE_DIR) / "templates"


def marked(pattern: str, files: list[Path]) -> set[str]:
    """The literal strings marked for translation in `files` (the first group of `pattern`)."""
    return {m.group(1).replace('\\"', '"') for f in files for m in re.finditer(pattern, f.read_text(encoding="utf-8"))}


def test_it_has_every_marked_script_string_in_the_catalogue():
    # makemessages needs GNU gettext, which CI does not have: this catches a gettext("…") added
    # to a script without running it (the string would stay English on every board).
    strings = marked(r'\bgettext\("((?:[^"\\]|\\.)*)"\)', sorted(JS_DIR.glob("*.js")))
    assert len(strings) > 50
    assert strings - {e.msgid for e in po_file("de", "djangojs")} == set(), "run makemessages -d djangojs (docs/admin.md)"


def test_it_has_every_marked_template_string_in_the_catalogue():
    strings = marked(r'{% translate "([^"]*)" %}', sorted(TEMPLATES.glob("**/*.html")))
    assert len(strings) > 20
    assert strings - {e.msgid for e in po_file("de", "django")} == set(), "run makemessages -d django (docs/admin.md)"


@pytest.fixture
def board(db):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")
    return Board.objects.create(slug="support", title="Support", tenant=tenant)


@pytest.fixture
def alice(board):
    user = User.objects.create_user("alice", password="pw-alice-123")
    board.viewers.add(user)
    return user


def test_it_speaks_the_supervisors_browser_language(client, alice):
    client.force_login(alice)
    page = client.get("/boards/support/", HTTP_ACCEPT_LANGUAGE="fr-CH, fr;q=0.9, en;q=0.5").content.decode()
    assert '<html lang="fr"' in page
    assert "Files d&#x27;attente" in page or "Files d'attente" in page
    assert '"lang": "fr"' in page  # the scripts' catalogue (wb-i18n) in the same language
    assert '"Closed": "Ferm\\u00e9"' in page


def test_it_falls_back_to_english(client, alice):
    client.force_login(alice)
    page = client.get("/boards/support/", HTTP_ACCEPT_LANGUAGE="pt-BR, ja;q=0.8").content.decode()
    assert '<html lang="en"' in page
    assert ">Queues</h2>" in page


def test_it_lets_a_display_link_choose_the_language(client, board):
    display = Display(name="Lobby TV")
    token = display.issue_token()
    display.save()
    DisplayBoard.objects.create(display=display, board=board)

    page = client.get(f"/d/{token}?lang=de", HTTP_ACCEPT_LANGUAGE="en-US", follow=True)
    assert page.redirect_chain[-1][0] == "/kiosk/?lang=de"
    html = page.content.decode()
    assert '<html lang="de"' in html
    assert "Verbinde…" in html
    assert '"Closed": "Geschlossen"' in html  # the scripts' strings come with the page


@pytest.mark.parametrize("wanted", ["xx", "../../etc", "x" * 500])
def test_it_ignores_a_language_it_does_not_have(client, alice, wanted):
    client.force_login(alice)
    page = client.get(f"/boards/support/?lang={wanted}", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es"' in page


def test_it_translates_the_sign_in_page(client, db):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="de"' in page
    assert "Passwort" in page
    assert "Password" not in page


def test_it_translates_the_admin_help_texts(admin_client):
    page = admin_client.get("/admin/boards/tenant/add/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Se usa como nombre de usuario en las llamadas a la API." in page
    assert "Used as the user name in API calls." not in page


@pytest.fixture
def alert_rule(board):
    from wallboard.alerts.models import AlertRule

    return AlertRule.objects.create(board=board, name="Long waits", kind="metric")


@pytest.fixture
def campaign(board):
    from wallboard.campaigns.models import Campaign

    return Campaign.objects.create(tenant=board.tenant, campaign_id="42", name="Renewals")


def test_it_translates_the_admin_change_forms(admin_client, board, alert_rule, campaign):
    # Help texts, labels and fieldset titles of the models, forms and admins (issue 20), in German.
    pages = {
        f"/admin/boards/tenant/{board.tenant.pk}/change/": (
            ["Kampagnensteuerung", "Für das Statistik-Gateway. Wird verschlüsselt gespeichert", "Plattform-URL"],
            [">Campaign control<", "For the statistics gateway.", "Platform URL"],
        ),
        f"/admin/boards/board/{board.pk}/change/": (
            ["Wer es sehen darf", "Auslastung % = (Bearbeitungszeit", "Warteschlangen (und der Zeitplan, dem jede folgt)"],
            ["Who may see it", "Occupancy % =", "Queues (and the schedule each one follows)"],
        ),
        f"/admin/alerts/alertrule/{alert_rule.pk}/change/": (
            ["Kennzahl-Regeln", "Leer: jede Kennzahl mit Schwellenwert.", "Mindestabstand (Minuten)"],
            ["Metric rules", "Empty: any metric with a threshold.", "inimum interval (minutes)"],
        ),
        f"/admin/campaigns/campaign/{campaign.pk}/change/": (
            ["Automatisches Blending", "8x8-Warteschlangen-IDs, durch Kommas getrennt", "Probelauf"],
            ["Automatic blending", "8x8 queue ids, separated by commas", "Dry run"],
        ),
    }
    for url, (german, english) in pages.items():
        response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="de")
        assert response.status_code == 200, url
        page = response.content.decode()
        assert [text for text in german if text not in page] == [], url
        assert [text for text in english if text in page] == [], url
