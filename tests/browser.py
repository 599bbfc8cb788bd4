"""A built page opened in headless Chromium at 1400 × 900 px: where chosen elements sit in the first
screen (a probe script added to a copy of the page writes their boxes into the DOM Chromium dumps), the
page's text, and a screenshot to check that what the boxes hold is not blank."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

WIDTH, HEIGHT = 1400, 900

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--hide-scrollbars",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--force-device-scale-factor=1",
    "--virtual-time-budget=10000",
]

PROBE = """<script>
window.addEventListener("load", () => {
  const out = {vw: window.innerWidth, vh: window.innerHeight, boxes: {}, images: {},
               text: document.querySelector("article").innerText};
  for (const [key, selector] of Object.entries(%s)) {
    const el = document.querySelector(selector);
    const r = el && el.getBoundingClientRect();
    out.boxes[key] = r ? {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                          width: r.width, height: r.height} : null;
    if (el && el.tagName === "IMG") out.images[selector] = el.complete ? el.naturalWidth : 0;
  }
  const pre = document.createElement("pre");
  pre.id = "heartzoo-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is needed for the docs test (make test installs it as root)")
        pytest.skip("chromium is not installed")
    return path


def open_page(page: Path, tmp_path: Path, selectors: dict[str, str]) -> dict:
    """Open `page` (a built index.html) at 1400 px; the probe of `selectors`: each one's box in the
    first screen (None if absent), an image's natural width (0 if it did not load), the article's text,
    and `blank`: whether the screenshot is one flat colour inside each box."""
    probe_page = page.with_name("probe.html")
    probe_page.write_text(page.read_text().replace("</body>", PROBE % json.dumps(selectors) + "</body>"))
    args = [
        chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={WIDTH},{HEIGHT}",
    ]
    try:
        dom = subprocess.run(
            [*args, "--dump-dom", probe_page.as_uri()], capture_output=True, text=True, timeout=120
        ).stdout
        shot = tmp_path / f"{page.parent.name}.png"
        subprocess.run([*args, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    finally:
        probe_page.unlink()
    found = re.search(r'<pre id="heartzoo-probe">(.*?)</pre>', dom, re.S)
    assert found, f"the probe did not run in {page}"
    out = json.loads(html.unescape(found.group(1)))
    assert shot.is_file() and shot.stat().st_size > 20_000, "the screenshot is missing or blank"
    out["blank"] = _blank(shot, out["boxes"])
    return out


def _blank(shot: Path, boxes: dict) -> dict[str, bool | None]:
    """For each box inside the screenshot: True when the pixels there are all one colour."""
    from PIL import Image

    img = Image.open(shot).convert("L")
    out: dict[str, bool | None] = {}
    for key, b in boxes.items():
        if b is None or b["bottom"] > img.height or b["width"] < 2 or b["height"] < 2:
            out[key] = None
            continue
        crop = img.crop((int(b["left"]), int(b["top"]), int(b["right"]), int(b["bottom"])))
        lo, hi = crop.getextrema()
        out[key] = hi - lo < 10
    return out
