"""Checks run inside the page: axe-core, tap targets, tables on phones, visible focus."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

SERIOUS = ("serious", "critical")


def axe(page: Page, source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now.

    axe-core is evaluated through the DevTools protocol (page.evaluate), which the
    site's Content-Security-Policy does not govern: the CSP stays as it is, and an
    inline <script> tag (add_script_tag(content=...)) would rightly be refused.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(source)
    results = page.evaluate(
        """async () => {
          const r = await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                             'wcag22aa', 'best-practice']},
            resultTypes: ['violations'],
          });
          return r.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '),
                                                  summary: n.failureSummary})),
          }));
        }"""
    )
    return [v for v in results if v["impact"] in SERIOUS]


def describe_violations(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{url}:"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        lines.extend(f"      {n['target']}: {n['summary']}" for n in v["nodes"])
    return "\n".join(lines)


# Controls that must offer a 44 x 44 px target on a phone. A link inside running text
# is exempt (WCAG 2.5.5/2.5.8's inline exception); a checkbox or radio counts by the
# label that wraps it, which is what a thumb hits.
TAP_TARGETS = """() => {
  const small = [];
  const seen = new Set();
  const clipped = el => {
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.clip && s.clip !== 'auto') return true;  // .visually-hidden and the like
      if (s.clipPath && s.clipPath !== 'none') return true;
    }
    return false;
  };
  const visible = el => {
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0 && r.height > 0 &&
           !clipped(el);
  };
  const inline = a => {
    const block = a.closest('p, li, td, th, dd, figcaption, .prose, .snippet, .meta, .hint');
    if (!block) return false;
    if (a.closest('.prose, .snippet')) return true;
    const own = (a.innerText || '').trim().length;
    const all = (block.innerText || '').trim().length;
    return all > own + 2;  // other words share its line: a link in a sentence
  };
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  for (const el of document.querySelectorAll(sel)) {
    if (!visible(el)) continue;
    let target = el;
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      target = el.closest('label') || el;
    } else if (el.matches('a') && inline(el)) {
      continue;
    }
    if (el.closest('.skip-link') || seen.has(target)) continue;
    seen.add(target);
    const r = target.getBoundingClientRect();
    if (r.height < 43.5 || r.width < 24) {
      const name = (target.innerText || target.value || target.getAttribute('aria-label') ||
                    target.name || '').trim().slice(0, 40);
      small.push(`${target.tagName.toLowerCase()}.${target.className} "${name}" ` +
                 `${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return small;
}"""


def small_tap_targets(page: Page) -> list[str]:
    return page.evaluate(TAP_TARGETS)


# Each table either stacks (its rows become blocks) or scrolls sideways inside its own
# box; either way nothing but that box may be wider than the screen.
TABLES = """() => {
  const bad = [];
  const width = document.documentElement.clientWidth;
  for (const table of document.querySelectorAll('main table')) {
    const r = table.getBoundingClientRect();
    if (r.width === 0) continue;
    const stacked = getComputedStyle(table.querySelector('tr') || table).display === 'block';
    let box = table.parentElement;
    while (box && box !== document.body) {
      const o = getComputedStyle(box).overflowX;
      if (o === 'auto' || o === 'scroll') break;
      box = box.parentElement;
    }
    const scrolls = getComputedStyle(table).overflowX === 'auto' ||
                    (box && box !== document.body);
    const own = scrolls && box && box !== document.body ? box.getBoundingClientRect() : r;
    if (!(stacked || scrolls) || own.right > width + 1 || own.left < -1) {
      bad.push(`${table.className || 'table'}: ${Math.round(r.width)}px wide, ` +
               `stacked=${stacked}, scrolls=${scrolls}`);
    }
  }
  return bad;
}"""


def unreadable_tables(page: Page) -> list[str]:
    return page.evaluate(TABLES)


FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const label = el.closest('label');
  return {
    tag: el.tagName.toLowerCase(), type: el.type || '', name: el.name || '',
    value: el.value || '', id: el.id || '', checked: !!el.checked,
    text: (el.innerText || (label && label.innerText) || '').trim().slice(0, 80),
    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
    shadow: s.boxShadow !== 'none',
    focusVisible: el.matches(':focus-visible'),
    inView: r.bottom > 0 && r.top < window.innerHeight && r.width > 0,
    data: Object.assign({}, el.dataset),
    question: (el.closest('li.quiz-question') || {}).id || '',
    group: el.type === 'radio'
      ? [...document.querySelectorAll(`input[type=radio][name="${el.name}"]`)].map(r => r.value)
      : [],
  };
}"""


def focused(page: Page) -> dict[str, Any] | None:
    return page.evaluate(FOCUS)


def assert_focus_visible(info: dict[str, Any] | None) -> None:
    assert info is not None, "focus was lost to the page body"
    assert info["focusVisible"], f"focused without :focus-visible: {info}"
    assert info["outline"] or info["shadow"], f"no visible focus indicator on {info}"
    assert info["inView"], f"the focused control is scrolled out of view: {info}"
