"""Builders and browser steps shared by the browser tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from service.access import auth
from service.access.repository import accounts
from service.core.db.rls import system_connection

#: The series colour of every chart (service/web/static/js/charts.js PALETTE.line).
SERIES_RGB = (11, 92, 173)

# Pixels of the series colour on a chart's canvas: axes and grid are grey, so a count
# above a few hundred means the data line itself was drawn.
_COUNT_SERIES_PIXELS = """
([selector, rgb]) => {
  const canvas = document.querySelector(`${selector} canvas`);
  if (!canvas) return -1;
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 200 && Math.abs(data[i] - rgb[0]) < 40 && Math.abs(data[i + 1] - rgb[1]) < 40
        && Math.abs(data[i + 2] - rgb[2]) < 40) n++;
  }
  return n;
}
"""


def therapist(pool, name: str) -> tuple[str, str]:
    """A therapist account and a token for it: (account id, token)."""
    with system_connection(pool) as conn:
        account = accounts.create(conn, role="therapist", name=name)
        token, _ = auth.issue_token(conn, account_id=str(account["id"]))
        return str(account["id"]), token


def sign_in(page, base: str, token: str) -> None:
    page.goto(f"{base}/signin")
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def open_page(page, url: str, loaded: str, timeout_ms: float = 60_000) -> float:
    """Go to ``url``, wait until its script has filled it; returns ms from navigation start."""
    page.goto(url)
    return wait_loaded(page, loaded, timeout_ms)


def wait_loaded(page, loaded: str, timeout_ms: float = 60_000) -> float:
    page.wait_for_selector(f'body[data-loaded="{loaded}"]', state="attached", timeout=timeout_ms)
    return page.evaluate("performance.now()")


def series_pixels(page, chart_selector: str) -> int:
    return page.evaluate(_COUNT_SERIES_PIXELS, [chart_selector, list(SERIES_RGB)])


def local_input(moment: dt.datetime) -> str:
    """The value of an <input type=datetime-local> for a zone-aware moment (its wall clock)."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def drop_file(page, selector: str, path: Path, mime: str = "text/csv") -> None:
    """Drag and drop ``path`` onto ``selector`` as a user would (a real DataTransfer)."""
    data_transfer = page.evaluate_handle(
        """([name, text, mime]) => {
             const dt = new DataTransfer();
             dt.items.add(new File([text], name, { type: mime }));
             return dt;
           }""",
        [path.name, path.read_text(), mime],
    )
    page.dispatch_event(selector, "dragenter", {"dataTransfer": data_transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": data_transfer})


# Accessibility checks run in the page: every form control has a label (or an aria-label),
# and every visible text's colour has at least 4.5:1 contrast (WCAG AA) with the first
# opaque background behind it.
_A11Y_PROBLEMS = """
() => {
  const problems = [];
  for (const control of document.querySelectorAll("input, select, textarea")) {
    if (control.type === "hidden") continue;
    const named = control.labels && control.labels.length || control.getAttribute("aria-label")
      || control.getAttribute("aria-labelledby");
    if (!named) problems.push(`unlabelled ${control.tagName.toLowerCase()}#${control.id}`);
  }
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (node) => {
    for (; node && node.nodeType === 1; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const node = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(node)) continue;
    seen.add(node);
    const style = getComputedStyle(node);
    if (style.visibility === "hidden" || !node.getClientRects().length) continue;
    if (node.closest(".visually-hidden, .skip, svg")) continue;
    const fg = rgb(style.color).slice(0, 3);
    const [a, b] = [lum(fg), lum(background(node))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)} for "${walker.currentNode.textContent.trim().slice(0, 30)}"`);
  }
  return problems;
}
"""


def accessibility_problems(page) -> list[str]:
    return page.evaluate(_A11Y_PROBLEMS)
