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
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", LAYOUT_SCRIPT + "</body>"), encoding="utf-8")
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


# --------------------------------------------------------------------------
# Reading: what a reader sees first, how long the reading path is, how legible the figures are
# --------------------------------------------------------------------------

#: The first screen and the reading path, at a laptop window.
FIRST_SCREEN = (1280, 800)
#: The summary and the four exercises end within this many px of the page's top.
READING_PATH_PX = 7000
#: The smallest text a figure may show on screen, in CSS px.
MIN_FIGURE_TEXT_PX = 11
#: A phone's width: the page must not scroll sideways there.
PHONE_WIDTH = 390

READING_SCRIPT = """
<script>
window.addEventListener('load', () => {
  const target = window.parent !== window ? window.parent.document.body : document.body;
  const text = el => el.innerText.replace(/\\s+/g, ' ').trim();
  const exercises = ['exercise-1', 'exercise-2', 'exercise-3', 'next-probe'].map(i => document.getElementById(i));
  const end = Math.max(...exercises.map(e => e.getBoundingClientRect().bottom + window.scrollY));
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const first = []; let node;
  while ((node = walker.nextNode())) {
    const range = document.createRange(); range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width && box.height && box.top + window.scrollY < window.innerHeight) first.push(node.textContent);
  }
  const figures = [...document.querySelectorAll('figure')].map(f => {
    const img = f.querySelector('img'); const shown = img.getBoundingClientRect().width;
    return {alt: img.alt, caption: text(f.querySelector('figcaption')), density: img.naturalWidth / shown,
            min_text_px: parseFloat(img.dataset.minPt) * parseFloat(img.dataset.dpi) / 72 * shown / img.naturalWidth};
  });
  const paragraphs = [...document.querySelectorAll('p, li, dd')].map(text).filter(t => t.length > 40);
  const overlaps = [...document.querySelectorAll('nav#toc li')].map(li => li.getBoundingClientRect())
    .filter((b, i, all) => all.some((o, j) => j !== i && b.left < o.right && o.left < b.right
                                          && b.top < o.bottom && o.top < b.bottom)).length;
  const out = document.createElement('pre');
  out.id = 'reading-probe';
  out.textContent = JSON.stringify({
    viewport: window.innerWidth, page_width: document.documentElement.scrollWidth, exercises_end: end,
    first_screen: first.join(' ').replace(/\\s+/g, ' '),
    answers: [...document.querySelectorAll('.answer')].map(a => ({section: a.closest('section').id, text: text(a)})),
    figures: figures, paragraphs: paragraphs, toc_overlaps: overlaps,
  });
  target.appendChild(out);
});
</script>
"""


def _reading(chromium: str, page: Path, workdir: Path, size: str) -> dict:
    run = browse(chromium, workdir, page, f"--window-size={size}", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    match = re.search(r'<pre id="reading-probe">(.*?)</pre>', run.stdout, re.S)
    assert match, "the reading probe did not run"
    return json.loads(html.unescape(match.group(1)))


def measure_reading(chromium: str, report: Path, workdir: Path) -> dict:
    """The reading probe at :data:`FIRST_SCREEN`."""
    probe = workdir / "reading_probe.html"
    probe.write_text(
        report.read_text(encoding="utf-8").replace("</body>", READING_SCRIPT + "</body>"), encoding="utf-8"
    )
    return _reading(chromium, probe, workdir, ",".join(map(str, FIRST_SCREEN)))


def measure_phone(chromium: str, report: Path, workdir: Path) -> dict:
    """The reading probe in a :data:`PHONE_WIDTH` px frame (headless Chromium's window is never
    narrower than 500 px, so the page is laid out in an iframe of the phone's width)."""
    inner = report.read_text(encoding="utf-8").replace("</body>", READING_SCRIPT + "</body>")
    frame = workdir / "phone_probe.html"
    frame.write_text(
        f'<!DOCTYPE html><html><body style="margin:0"><iframe style="border:0;width:{PHONE_WIDTH}px;'
        f'height:844px" srcdoc="{html.escape(inner, quote=True)}"></iframe></body></html>',
        encoding="utf-8",
    )
    return _reading(chromium, frame, workdir, "600,900")


def reading_problems(reading: dict, max_words: int = 60, max_sentences: int = 3) -> list[str]:
    """What breaks the reading rules, one line each (empty: fine)."""
    problems = []
    if reading["exercises_end"] > READING_PATH_PX:
        problems.append(f"the four exercises end at {reading['exercises_end']:.0f} px (limit {READING_PATH_PX})")
    for answer in reading["answers"]:
        words = len(answer["text"].split())
        sentences = len(re.findall(r"[.!?](?:\s|$)", answer["text"]))
        if words > max_words or sentences > max_sentences:
            problems.append(f"{answer['section']}: answer of {words} words, {sentences} sentences")
    for figure in reading["figures"]:
        if figure["density"] < 2 - 0.01:
            problems.append(f"figure at {figure['density']:.2f}x density: {figure['caption'][:50]!r}")
        if figure["min_text_px"] < MIN_FIGURE_TEXT_PX:
            problems.append(f"figure text {figure['min_text_px']:.1f} px: {figure['caption'][:50]!r}")
        if not re.match(r"Figure \d+\. \S", figure["caption"]) or figure["alt"].endswith(".png"):
            problems.append(f"figure without a caption or alt text: {figure['alt'][:50]!r}")
    repeated = {p for p in reading["paragraphs"] if reading["paragraphs"].count(p) > 1}
    problems += [f"paragraph appears twice: {p[:60]!r}" for p in sorted(repeated)]
    return problems
