"""``notify=True`` in a real JupyterLab / Notebook 7 and Chromium: a run that ends while the
user looks elsewhere gives one desktop notification and a mark in the tab's title.

Headless pages always look visible and focused: :data:`~.probes.NOTIFY_INIT_SCRIPT` lets a
test leave the tab and come back, and records every ``new Notification(...)``. The notebooks
show the watcher twice (its own display, which becomes the static outcome at the end, and a
``VBox`` of its view, which stays live): still one notification.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .harness import (
    LIVE_WATCHER,
    LabServer,
    Ui,
    assert_no_script_ran,
    open_notebook,
    run_all,
    save_notebook,
    wait_kernel_ready,
)
from .probes import (
    NOTIFY_INIT_SCRIPT,
    notes,
    set_away,
    set_notification_permission,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

STATIC = ".twyn-watcher.twyn-static"
#: A run at 60x lasts 4-8 s, plus the kernel's start.
END_TIMEOUT = 30_000
#: Between the tab title's marker and the page's own title (an en dash).
DASH = "\u2013"
#: After the end: time enough for a second (unwanted) notification to show up.
SETTLE_MS = 1_500


@pytest.fixture
def lab_env(emulator_env: dict[str, str]) -> dict[str, str]:
    return emulator_env


def prepare(page: Page, server: LabServer, permission: str = "granted") -> None:
    """Grant (or deny) notifications to the server's origin; record them; allow "leaving"."""
    set_notification_permission(page.context, page, server.base_url, permission)  # type: ignore[arg-type]
    page.context.add_init_script(NOTIFY_INIT_SCRIPT)


def start_and_leave(page: Page, away: bool = True) -> str:
    """Run the notebook; once both views show the run going, leave the tab (if ``away``).
    Return the page's title from before the run ended."""
    run_all(page)
    page.wait_for_function(
        """(sel) => {
             const views = document.querySelectorAll(sel);
             return views.length === 2 && Array.from(views).every(
               (v) => v.querySelector('.twyn-status code').textContent.startsWith('PROCESSING'));
           }""",
        arg=LIVE_WATCHER,
        timeout=END_TIMEOUT,
        polling=100,
    )
    title = page.title()
    if away:
        set_away(page, True)
    page.locator(STATIC).wait_for(timeout=END_TIMEOUT)
    # The second view, still live, shows the end too.
    expect(page.locator(f"{LIVE_WATCHER} .twyn-outcome .twyn-word")).not_to_have_text("running")
    page.wait_for_timeout(SETTLE_MS)
    return title


def static_duration(page: Page) -> str:
    """The run's duration as the static outcome words it (``"elapsed 6 s"`` -> ``"6 s"``)."""
    text = page.locator(f"{STATIC} .twyn-elapsed").inner_text().strip()
    assert text.startswith("elapsed "), text
    return text.removeprefix("elapsed ")


@pytest.mark.parametrize("ui", ["lab", "notebook7"])
def test_a_run_ending_while_the_page_is_away_notifies_once_and_marks_the_title(
    page: Page, lab_server: LabServer, dialogs: list[str], ui: Ui
) -> None:
    prepare(page, lab_server)
    name = open_notebook(page, lab_server, "notify_done.ipynb", ui=ui)
    base = start_and_leave(page)

    # Exactly one notification for the simulation shown twice: its title, done and how long.
    found = notes(page)
    assert found == [{"title": "Notify: price rise", "body": f"done in {static_duration(page)}"}]
    assert page.title().startswith("✓ 1 done"), page.title()
    assert page.title().endswith(base), (page.title(), base)
    # The bell says it is on; with the permission granted it has nothing to explain.
    expect(page.locator(f"{LIVE_WATCHER} .twyn-bell")).to_contain_text("Notify on")
    expect(page.locator(f"{LIVE_WATCHER} .twyn-bell-note")).to_have_text("")
    # Clicking the notification brings the tab forward.
    page.evaluate("() => window.__twynNoteObjects[0].onclick()")
    assert page.evaluate("() => window.__twynFocusCalls") >= 1

    # Back on the tab: the title is the page's own again.
    set_away(page, False)
    expect(page).to_have_title(base)

    # Saved, then reloaded while away, with the kernel alive: the live view is drawn again
    # from the kernel's model, already ended; nothing is announced twice.
    save_notebook(page)
    set_away(page, True)
    page.reload(wait_until="domcontentloaded")
    wait_kernel_ready(page)
    expect(page.locator(f"{LIVE_WATCHER} .twyn-word")).to_have_text("done", timeout=20_000)
    expect(page.locator(f"{LIVE_WATCHER} .twyn-title")).to_have_text("Notify: price rise")
    page.wait_for_timeout(SETTLE_MS)
    assert notes(page) == []
    assert "✓" not in page.title(), page.title()
    assert name in page.url
    assert_no_script_ran(page, dialogs)


def test_a_failed_run_notifies_with_the_first_line_of_its_error(
    page: Page, lab_server: LabServer, dialogs: list[str]
) -> None:
    prepare(page, lab_server)
    open_notebook(page, lab_server, "notify_failed.ipynb")
    base = start_and_leave(page)

    log = page.locator(f"{STATIC} pre.twyn-error-log").inner_text()
    first_line = next(line.strip() for line in log.splitlines() if line.strip())
    (note,) = notes(page)
    assert note["title"] == "Notify: failing run"
    assert note["body"] == f"failed after {static_duration(page)}: {first_line}", note
    assert page.title() == f"✗ 1 ended {DASH} {base}", page.title()
    # The application renames the tab while the user is away (JupyterLab does when it saves
    # its layout): the marker stays in front of the new title.
    page.evaluate("() => { document.title = 'Renamed by the app'; }")
    expect(page).to_have_title(f"✗ 1 ended {DASH} Renamed by the app")
    set_away(page, False)
    expect(page).not_to_have_title(re.compile("✗"))
    assert_no_script_ran(page, dialogs)


def test_a_run_ending_while_the_page_is_seen_does_not_notify(
    page: Page, lab_server: LabServer
) -> None:
    prepare(page, lab_server)
    open_notebook(page, lab_server, "notify_done.ipynb", ui="notebook7")
    base = start_and_leave(page, away=False)

    assert notes(page) == []
    assert page.title() == base


def test_without_permission_the_title_tells_and_the_bell_says_why(
    page: Page, lab_server: LabServer
) -> None:
    prepare(page, lab_server, permission="denied")
    open_notebook(page, lab_server, "notify_done.ipynb")
    assert page.evaluate("() => Notification.permission") == "denied"
    run_all(page)
    note = page.locator(f"{LIVE_WATCHER} .twyn-bell-note").first
    expect(note).to_have_text(re.compile(r"blocked.*tab title"), timeout=END_TIMEOUT)
    base = start_and_leave(page)

    assert notes(page) == []  # no Notification was even constructed
    assert page.title() == f"✓ 1 done {DASH} {base}", page.title()
    expect(page.locator(f"{LIVE_WATCHER} .twyn-bell-note")).to_contain_text("blocked")
    set_away(page, False)
    expect(page).to_have_title(base)
