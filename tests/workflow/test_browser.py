"""The report in a real headless browser (Debian's chromium): it loads from disk with the network
cut off, every section is there, every figure decodes, and the page is not blank."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.workflow.helpers import SECTION_IDS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Flags for a sandboxed root run on a closed network (no background connections at start-up),
# and a resolver that fails every host: a report that needed the network would show it.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=10000",
]

PROBE_SCRIPT = """
<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  document.body.setAttribute('data-images', String(imgs.length));
  document.body.setAttribute('data-decoded', String(imgs.filter(i => i.complete && i.naturalWidth > 0).length));
  document.body.setAttribute('data-height', String(document.body.scrollHeight));
});
</script>
"""


@pytest.fixture(scope="module")
def chromium():
    if CHROMIUM is None:
        if os.environ.get("INITLAB_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required (INITLAB_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("chromium not installed (tests/install_system.sh installs it)")
    return CHROMIUM


def _browse(chromium, tmp_path, page, *extra):
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *extra, page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )


def test_report_renders_offline_with_every_figure(study, chromium, tmp_path):
    folder, _, _ = study
    html = (folder / "results/report.html").read_text()
    probe = tmp_path / "report_probe.html"
    probe.write_text(html.replace("</body>", PROBE_SCRIPT + "</body>"))
    run = _browse(chromium, tmp_path, probe, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    for section in SECTION_IDS:
        assert f'id="{section}"' in dom, section
    images = int(dom.split('data-images="')[1].split('"')[0])
    decoded = int(dom.split('data-decoded="')[1].split('"')[0])
    assert images >= 8 and decoded == images
    assert int(dom.split('data-height="')[1].split('"')[0]) > 3000


def test_screenshot_is_not_blank(study, chromium, tmp_path):
    from PIL import Image

    folder, _, _ = study
    shot = tmp_path / "report.png"
    run = _browse(chromium, tmp_path, folder / "results/report.html", f"--screenshot={shot}", "--window-size=1280,2000")
    assert run.returncode == 0, run.stderr[-2000:]
    image = Image.open(shot).convert("L")
    lo, hi = image.getextrema()
    assert hi - lo > 100  # text and figures, not an empty page
