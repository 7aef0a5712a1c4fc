"""Measure a report's layout in headless Chromium at a reader's window width.

The probe opens every ``<details>`` (a collapsed table must fit too once opened), then records
the page's scroll width, the text column's width (``<main>``) and, per table, its width, whether
it sits in a collapsed-by-default ``<details>``, and whether its first column is sticky. The
page writes that as JSON into a ``<pre>``, which ``--dump-dom`` brings back.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from tests.harness import browse

#: The reader's window width the layout is checked at (a laptop browser window).
WINDOW_WIDTH = 1280
#: Rounding slack in px between a table's and its column's measured widths.
SLACK_PX = 1

LAYOUT_SCRIPT = """
<script>
window.addEventListener('load', () => {
  const closed = new Set([...document.querySelectorAll('details:not([open])')]);
  closed.forEach(d => d.open = true);
  const column = document.querySelector('main').clientWidth;
  const tables = [...document.querySelectorAll('table')].map(t => {
    const section = t.closest('section');
    let heading = t.previousElementSibling;
    const box = t.closest('.scroll') || t;
    const head = box.closest('details') ? box.closest('details').querySelector('summary') : null;
    let h = box.previousElementSibling;
    while (h && !/^H[1-6]$/.test(h.tagName)) h = h.previousElementSibling;
    const first = t.querySelector('tbody tr > :first-child');
    const cls = t.getAttribute('class') || '';
    return {
      section: section ? section.id : '',
      label: head ? head.textContent.trim() : (h ? h.textContent.trim() : cls),
      width: Math.ceil(t.getBoundingClientRect().width),
      collapsed: closed.has(t.closest('details')),
      sticky: first ? getComputedStyle(first).position === 'sticky' : false,
      scrolls: box !== t && getComputedStyle(box).overflowX === 'auto',
    };
  });
  const out = document.createElement('pre');
  out.id = 'layout-probe';
  out.textContent = JSON.stringify({
    viewport: window.innerWidth, page: document.documentElement.scrollWidth, column: column, tables: tables,
  });
  document.body.appendChild(out);
});
</script>
"""


def measure_layout(chromium: str, report: Path, workdir: Path) -> dict:
    """Open ``report`` (with the probe added) at :data:`WINDOW_WIDTH` px and return the measured layout."""
    probe = workdir / "layout_probe.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", LAYOUT_SCRIPT + "</body>"),
                     encoding="utf-8")
    run = browse(chromium, workdir, probe, f"--window-size={WINDOW_WIDTH},1000", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    match = re.search(r'<pre id="layout-probe">(.*?)</pre>', run.stdout, re.S)
    assert match, "the layout probe did not run"
    return json.loads(html.unescape(match.group(1)))


def layout_problems(layout: dict) -> list[str]:
    """What breaks the layout rules, one line each (empty: the layout is fine).

    * The page never scrolls sideways.
    * A table shown open (a summary) fits the text column.
    * A collapsed detail table that is wider scrolls in its own box with a sticky first column.
    """
    problems = []
    column = layout["column"]
    if layout["page"] > layout["viewport"]:
        problems.append(f"page is {layout['page']} px wide in a {layout['viewport']} px window")
    for table in layout["tables"]:
        where = f"{table['section']}: {table['label'][:60]!r} is {table['width']} px (column {column} px)"
        if table["width"] <= column + SLACK_PX:
            continue
        if not table["collapsed"]:
            problems.append(f"summary table too wide: {where}")
        elif not (table["sticky"] and table["scrolls"]):
            problems.append(f"wide detail table without a scroll box and sticky first column: {where}")
    return problems
