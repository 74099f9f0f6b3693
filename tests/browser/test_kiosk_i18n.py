"""The kiosk in German, French and Spanish: no English left on the TV, numbers and clock in the
language's format (issue 20).

The check works from the translations, not from the English: every visible text on the page
(text nodes and aria-labels) must be made of the language's catalogue strings (locale/), the
board's own data (names) and numbers, so a new English string added without gettext() fails
here as surely as a msgid left untranslated.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import polib
import pytest
from django.contrib.auth.models import User
from django.utils import translation
from playwright.sync_api import expect
from wb_harness import Session, iso, make_board_state

pytestmark = pytest.mark.browser

LOCALE = Path(__file__).resolve().parents[2] / "locale"
LETTER = r"A-Za-zÀ-ÖØ-öø-ÿ"
# Not words: numbers, times, durations ("4h05m", "12:03"), punctuation, and the brand.
NOT_WORDS = re.compile(rf"\d+h\d{{2}}m|\d+(?:[.,:\s\u202f]\d+)*|8x8|[^{LETTER}]")

VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.textContent.trim();
    const p = n.parentElement;
    if (t && p && !p.closest("script, style, svg") && p.checkVisibility()) out.push(t);
  }
  for (const el of document.querySelectorAll("[aria-label]")) {
    if (el.checkVisibility()) out.push(el.getAttribute("aria-label"));
  }
  return out;
}"""


def catalogue(lang: str) -> list[str]:
    """Every translation of `lang` (templates and scripts), longest first."""
    found = {e.msgstr for dom in ("django", "djangojs") for e in polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / f"{dom}.po")) if e.msgstr}
    return sorted(found, key=len, reverse=True)


def board_data(state: dict) -> list[str]:
    """The names a board shows as they are (nobody translates a queue's name)."""
    names = [state["board"]["title"], *state["board"]["agent_groups"].values()]
    for kind in ("queues", "groups"):
        for item in state[kind].values():
            names.append(item["name"])
            if item.get("schedule") and item["schedule"].get("exception"):
                names.append(item["schedule"]["exception"])
    names += [a["name"] for a in state["agents"].values()]
    return sorted(set(names), key=len, reverse=True)


class Language:
    """Whether a text is made of one language's catalogue strings, board data and numbers."""

    def __init__(self, lang: str, data: list[str]):
        strings = catalogue(lang)
        self.plain = {s for s in strings if "%(" not in s} | set(data)
        # "öffnet in %(time)s" -> ^öffnet in (.+?)$; each placeholder is checked in its turn.
        self.formats = [
            re.compile("(.+?)".join(re.escape(part) for part in re.split(r"%\(\w+\)s", s)), re.S)
            for s in strings
            if "%(" in s
        ]

    def speaks(self, text: str, depth: int = 0) -> bool:
        text = text.strip()
        if text in self.plain or not re.search(f"[{LETTER}]", NOT_WORDS.sub(" ", text)):
            return True
        if depth < 3:
            for f in self.formats:
                m = f.fullmatch(text)
                if m and all(self.speaks(part, depth + 1) for part in m.groups()):
                    return True
            # The renderers join a label and the board's own words with " · " ("Closed · Christmas").
            if " · " in text:
                return all(self.speaks(part, depth + 1) for part in text.split(" · "))
        return False


def untranslated(texts: list[str], lang: str, data: list[str]) -> list[str]:
    """The texts that are not all `lang`'s catalogue strings, board data and numbers."""
    language = Language(lang, data)
    return [text for text in texts if not language.speaks(text)]


def busy_board() -> dict:
    """A board showing most of what a kiosk can: open, closed and exception schedules, a group,
    agents in every state, a count over a thousand."""
    state = make_board_state(queues=4, groups=1, agents=12, closed=("116",))
    state["queues"]["115"]["metrics"].update(queue_size=1234, sla_activity=87)
    state["queues"]["117"]["schedule"].update(state="closed", exception="Weihnachten 2026")
    state["queues"]["118"]["schedule"]["next_change"] = iso(time.time() + 3 * 86400 + 7200 + 900)
    state["queues"]["117"]["schedule"]["next_change"] = iso(time.time() + 7200 + 600)
    return state


def open_in(lang: str, kiosk_page, page):
    """The kiosk rendered as the server renders it for `?lang=<lang>`, with a busy board and an
    upstream problem banner on screen."""
    with translation.override(lang):
        conn = kiosk_page()
    session, state = Session(), busy_board()
    conn.send(session.snapshot(state))
    expect(page.locator('[data-queue-id="118"] [data-metric="next_change"]')).not_to_be_empty()
    conn.send(session.status("unreachable", "connect timeout", last_ok=iso(time.time() - 600)))
    expect(page.locator('[data-banner="status"]')).to_be_visible()
    return state


@pytest.mark.parametrize("lang", ["de", "fr", "es"])
def test_it_leaves_no_english_on_the_kiosk(lang, kiosk_page, page):
    state = open_in(lang, kiosk_page, page)

    expect(page.locator("html")).to_have_attribute("lang", lang)
    left = untranslated(page.evaluate(VISIBLE_TEXT), lang, board_data(state))
    assert left == [], "\n".join(left)


@pytest.mark.parametrize("lang", ["de", "fr", "es"])
def test_it_formats_numbers_and_the_clock_in_the_language(lang, kiosk_page, page):
    open_in(lang, kiosk_page, page)

    thousands = {"de": r"^1\.234$", "fr": r"^1\s234$", "es": r"^1\.?234$"}[lang]
    expect(page.locator('[data-queue-id="115"] [data-metric="queue_size"]')).to_have_text(re.compile(thousands))
    # German, French and Spanish put a (no-break) space before the per cent sign.
    expect(page.locator('[data-queue-id="115"] [data-metric="sla_activity"]')).to_have_text(re.compile(r"^87\s%$"))
    # A 24-hour clock: no AM/PM in any of them.
    expect(page.locator('[data-metric="clock"]')).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
    expect(page.locator('[data-metric="as_of"]')).to_have_text(re.compile(r"^\d{2}:\d{2}:\d{2}$"))
    closed = {"de": "Geschlossen", "fr": "Fermé", "es": "Cerrado"}[lang]
    expect(page.locator('[data-queue-id="116"] [data-metric="schedule"]')).to_contain_text(closed)
    days = {"de": r"\b3 T 2 h$", "fr": r"\b3 j 2 h$", "es": r"\b3 d 2 h$"}[lang]
    expect(page.locator('[data-queue-id="118"] [data-metric="next_change"]')).to_have_text(re.compile(days))
    hours = {"de": r"^öffnet in 2:(09|10) h$", "fr": r"^ouvre dans 2 h (09|10)$", "es": r"^abre en 2 h (09|10)$"}[lang]
    expect(page.locator('[data-queue-id="117"] [data-metric="next_change"]')).to_have_text(re.compile(hours))


def test_it_finds_english_on_an_english_kiosk(kiosk_page, page):
    # The check above must be able to fail: the same page in English is full of words that are
    # no German catalogue string.
    state = open_in("en", kiosk_page, page)

    left = untranslated(page.evaluate(VISIBLE_TEXT), "de", board_data(state))
    assert {"Closed", "Waiting", "Queues", "Agents"} <= set(left)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator('[data-queue-id="115"] [data-metric="sla_activity"]')).to_have_text("87%")


def test_it_leaves_no_english_on_a_german_supervisors_view(harness, page):
    state = busy_board()
    with translation.override("de"):
        conn = harness.supervisor_page(page, user=User(username="sam", first_name="Sam", last_name="Super"), boards=[])
    conn.send(Session().snapshot(state))
    expect(page.locator("[data-agent-id]").first).to_be_attached()
    expect(page.locator(".sv-agent-count")).not_to_be_empty()

    texts = page.evaluate(VISIBLE_TEXT)
    assert {"Warteschlangen", "Zeit im Status", "Verfügbar"} <= set(texts)
    left = untranslated(texts, "de", [*board_data(state), "Sam Super"])
    assert left == [], "\n".join(left)
