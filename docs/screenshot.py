"""The README's screenshot: the first screen of a report, as a reader's browser shows it.

    python docs/screenshot.py results/report.html [--out docs/img/report-first-screen.png]

Opens the page in headless Chromium (Debian's ``chromium``) at 1280x800 with the network cut off,
as the browser tests do, and writes a PNG. Rerun it after a change to the report's layout.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs/img/report-first-screen.png"
#: A reader's laptop window: the width the report's layout is checked at, one screen high.
WINDOW = (1280, 800)
#: The browser flags of tests/harness.py: sandbox off for root, no network, time to lay out.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=10000",
    "--hide-scrollbars",
)


def screenshot(page: Path, out: Path, window: tuple[int, int] = WINDOW) -> None:
    """Write the first ``window`` of ``page`` (an HTML file or a folder holding index.html) to ``out``."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("docs/screenshot.py: chromium not found (tests/install_system.sh installs it)")
    page = page / "index.html" if page.is_dir() else page
    if not page.is_file():
        raise SystemExit(f"docs/screenshot.py: {page} is not a file; expected a report.html")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        run = subprocess.run(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={window[0]},{window[1]}",
                f"--screenshot={out.resolve()}",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    if run.returncode != 0 or not out.is_file():
        raise SystemExit(f"docs/screenshot.py: chromium failed: {run.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", type=Path, help="the report (results/report.html) or a built site folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the PNG to write")
    args = parser.parse_args(argv)
    screenshot(args.page, args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
