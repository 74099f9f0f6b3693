"""Every page works in real Chromium under the Content-Security-Policy, with no violation.

Found in an attack on the running stack: no CSP at all, so one injected tag could run script
or load anything. The policy (wallboard/settings.py) admits only this site's own files; this
test opens the kiosk, the supervisor's pages, the sign-in page and the admin pages of a real
stack and fails on any violation the browser reports.
"""

from __future__ import annotations

import tempfile

import pytest
from playwright.sync_api import expect

from tests.stack_fixtures import new_stack
from wallboard.devstack.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Records each violation on the page before any of the page's own scripts run.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""

PASSWORD = "csp-test-password-4f9a"

ADMIN_PAGES = [
    "/admin/",
    "/admin/boards/tenant/",
    "/admin/boards/tenant/{tenant}/change/",
    "/admin/boards/board/",
    "/admin/boards/board/{board}/change/",
    "/admin/boards/board/add/",
    "/admin/boards/display/",
    "/admin/boards/display/{display}/change/",
    "/admin/auth/user/",
    "/admin/auth/user/add/",
    "/admin/auth/user/{user}/change/",
    "/admin/axes/accessattempt/",
]


@pytest.fixture(scope="module")
def stack():
    stack = new_stack(tempfile.mkdtemp(prefix="wb-csp-"), agents=12, queues=3)
    try:
        stack.start()
        # A staff account of this test's own (the demo's admin password file is shared by every stack).
        stack.manage("shell", "-c", (
            "from django.contrib.auth.models import User; "
            f"User.objects.create_superuser('csp-admin', 'csp@example.com', {PASSWORD!r})"
        ))
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def ids(stack) -> dict[str, int]:
    """Primary keys for the admin pages, and a second display whose URL the test may re-issue."""
    out = stack.manage("shell", "-c", (
        "from django.contrib.auth.models import User; from wallboard.boards.models import Board, Display; "
        "b = Board.objects.get(slug='demo'); d = Display(name='CSP TV'); d.issue_token(); d.save(); "
        "print('ids', b.pk, b.tenant_id, d.pk, User.objects.get(username='csp-admin').pk)"
    ))
    board, tenant, display, user = out.split("ids ", 1)[1].split()
    return {"board": int(board), "tenant": int(tenant), "display": int(display), "user": int(user)}


@pytest.fixture
def watched(browser):
    """A page that records CSP violations and console messages about the policy."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.console_csp = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and page.console_csp.append(msg.text))
    yield page
    context.close()


def assert_no_violation(page, what: str) -> None:
    page.wait_for_timeout(300)  # violation events are dispatched asynchronously
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], f"{what}: {violations}"
    assert page.console_csp == [], f"{what}: {page.console_csp}"


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.ok, f"{url}: {response.status}"
    assert "default-src 'self'" in response.headers["content-security-policy"], url
    page.wait_for_load_state("networkidle")
    assert_no_violation(page, url)


def sign_in(page, stack: Stack, next_path: str) -> None:
    page.goto(f"{stack.web_url}/accounts/login/?next={next_path}")
    assert_no_violation(page, "sign-in page")
    page.fill("#id_username", "csp-admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{stack.web_url}{next_path}")


def test_it_runs_the_kiosk_with_its_websocket_under_the_policy(watched, stack):
    response = watched.goto(stack.kiosk_url)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    # Data on screen means the module scripts ran and the websocket was admitted by connect-src.
    expect(watched.locator("[data-queue-id]").first).to_be_visible(timeout=30_000)
    watched.wait_for_timeout(1500)  # timers tick, a patch arrives
    assert_no_violation(watched, "kiosk")


def test_it_runs_the_supervisor_pages_under_the_policy(watched, stack):
    sign_in(watched, stack, "/boards/demo/")
    expect(watched.locator("[data-queue-id]").first).to_be_visible(timeout=30_000)
    assert_no_violation(watched, "supervisor view")
    visit(watched, f"{stack.web_url}/")


def run_display_action(page, stack: Stack, display: int, action: str) -> None:
    """Select one display in the admin list and run an action on it, as an administrator does."""
    page.goto(f"{stack.web_url}/admin/boards/display/")
    page.check(f'input[name="_selected_action"][value="{display}"]')
    page.select_option('select[name="action"]', action)
    page.click('button[name="index"]')
    page.wait_for_load_state("networkidle")


def test_it_runs_the_admin_pages_under_the_policy(watched, stack, ids):
    sign_in(watched, stack, "/admin/")
    for path in ADMIN_PAGES:
        visit(watched, stack.web_url + path.format(**ids))
    # Widgets that build their own markup: inline rows, the two-list chooser, the calendar.
    watched.goto(f"{stack.web_url}/admin/boards/board/{ids['board']}/change/")
    for add_row in watched.locator(".add-row a").all()[:3]:
        add_row.click()
    watched.locator(".selector-chooseall").first.click()
    assert_no_violation(watched, "board form widgets")
    watched.goto(f"{stack.web_url}/admin/boards/display/{ids['display']}/change/")
    watched.click("#calendarlink0")
    watched.locator("#calendarbox0").wait_for()
    assert_no_violation(watched, "calendar")
    # The pages the display actions answer with.
    run_display_action(watched, stack, ids["display"], "issue_new_url")
    expect(watched.locator('input[readonly][value*="/d/"]')).to_have_count(1)
    assert_no_violation(watched, "issued URL page")
    run_display_action(watched, stack, ids["display"], "switch_board")
    expect(watched.locator('input[name="apply"]')).to_be_visible()
    assert_no_violation(watched, "switch board page")


def test_it_shows_the_lockout_page_under_the_policy(watched, stack):
    for attempt in range(6):
        watched.goto(f"{stack.web_url}/accounts/login/")
        watched.fill("#id_username", "nobody-csp")
        watched.fill("#id_password", f"wrong-{attempt}")
        watched.click("button[type=submit]")
    expect(watched.locator("[role=alert]")).to_contain_text("Too many failed sign-ins")
    assert_no_violation(watched, "lockout page")
