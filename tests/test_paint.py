"""The Jupyter mask painter: its Python side, and its JavaScript in a real browser (headless
Chromium from Debian's packages, driven by Playwright with pointer events), with a stand-in for
the widget model that Jupyter would provide."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from semantic_inpaint.errors import InpaintInputError

pytest.importorskip("anywidget")
from semantic_inpaint.photo import MaskPainter  # noqa: E402
from semantic_inpaint.photo.paint import ESM, hole_from_url, hole_to_url  # noqa: E402

W, H = 200, 120  # the photo, in pixels; shown at half size in the browser


def _photo() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)


def test_mask_round_trips_through_the_widget_and_is_checked():
    painter = MaskPainter(_photo(), brush=6)
    assert painter.mask.shape == (H, W) and painter.mask.dtype == np.float32 and (painter.mask == 1).all()
    mask = np.ones((H, W), np.float32)
    mask[10:30, 40:90] = 0
    painter.mask = mask
    assert np.array_equal(painter.mask, mask)
    painter.clear()
    assert (painter.mask == 1).all()
    with pytest.raises(InpaintInputError, match="mask is 64x64 but the photo is 200x120"):
        painter.mask = np.zeros((64, 64))
    with pytest.raises(InpaintInputError, match="brush must be a whole number"):
        MaskPainter(_photo(), brush=0)
    assert hole_to_url(np.zeros((2, 2), bool)) == "" and not hole_from_url("", (2, 2)).any()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# The page: the shipped paint.js, rendered with a stand-in for the widget model (get, set with
# change events, on, off, save_changes), as anywidget's front end calls it.
RENDER = """async ([source, state]) => {
  const handlers = {};
  window.saves = 0;
  window.model = {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; (handlers["change:" + k] || []).forEach((f) => f()); },
    on: (e, f) => { (handlers[e] ||= []).push(f); },
    off: (e, f) => { handlers[e] = (handlers[e] || []).filter((g) => g !== f); },
    save_changes: () => { window.saves += 1; },
  };
  const module = await import(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
  module.default.render({ model: window.model, el: document.getElementById("root") });
}"""


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (apt-get install chromium); .ci/run installs it")
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        yield browser
        browser.close()


def test_painting_in_a_browser_gives_the_mask_in_photo_pixels(browser):
    painter = MaskPainter(_photo(), brush=10, display_width=W // 2)
    preset = np.ones((H, W), np.float32)
    preset[100:110, 0:10] = 0
    painter.mask = preset  # a hole set from Python is shown and kept
    state = {k: getattr(painter, k) for k in ("photo", "width", "height", "display_width", "brush", "tool", "hole")}
    page = browser.new_page()
    page.set_content("<div id='root'></div>")
    page.evaluate(RENDER, [ESM.read_text(), state])
    page.wait_for_function("document.querySelector('img').complete && document.querySelector('img').width > 0")
    box = page.locator(".semantic-inpaint-overlay").bounding_box()
    assert abs(box["width"] - W / 2) < 1 and abs(box["height"] - H / 2) < 1  # shown at half size

    def drag(a: tuple[float, float], b: tuple[float, float]) -> None:
        """Press at photo pixel a, move to b in small steps, release (screen = photo / 2)."""
        page.mouse.move(box["x"] + a[0] / 2, box["y"] + a[1] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + b[0] / 2, box["y"] + b[1] / 2, steps=8)
        page.mouse.up()

    drag((20, 40), (120, 40))  # a brush stroke, 10 photo pixels wide
    page.get_by_role("button", name="rectangle").click()
    drag((140, 20), (180, 80))  # a rectangle: columns 140-179, rows 20-79
    page.get_by_role("button", name="eraser").click()
    drag((160, 0), (160, 119))  # erase a band across the rectangle
    assert page.evaluate("window.saves") >= 5  # each stroke and each tool sent to Python

    painter.hole = page.evaluate("window.model.get('hole')")
    hole = painter.mask == 0
    assert hole[100:110, 0:10].all() and hole.sum() > 100  # the preset, kept
    assert hole[36:45, 22:119].all()  # the stroke's core
    assert not hole[:33, :130].any() and not hole[48:100, :130].any() and not hole[:100, :14].any()  # nothing beyond its radius
    rect = hole[:, 130:]
    expected = np.zeros_like(rect)
    expected[20:80, 10:50] = True
    erased = np.zeros_like(rect)
    erased[:, 25:36] = True  # within the eraser's radius (x = 155-165), with 1 px for antialiasing
    assert np.array_equal(rect & ~erased, expected & ~erased)
    assert not rect[:, 27:34].any()  # the eraser's core
    page.close()


# (server module, the notebook's address): JupyterLab 4 and Notebook 7
FRONT_ENDS = {"jupyterlab": "lab/tree/paint.ipynb", "notebook": "notebooks/paint.ipynb"}


@pytest.mark.slow
@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_painting_in_jupyter(browser, tmp_path, front_end):
    """The whole path a user takes: JupyterLab 4 (or Notebook 7) serves a notebook, the widget
    shows in it, a stroke painted with the mouse reaches the kernel as `painter.mask` (about 20 s)."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    nbformat = pytest.importorskip("nbformat")
    sync_api = pytest.importorskip("playwright.sync_api")
    pytest.importorskip(front_end)
    nb = nbformat.v4.new_notebook()
    code = "from semantic_inpaint.photo import MaskPainter\nimport numpy as np\n"
    code += f"painter = MaskPainter(np.full(({H}, {W}, 3), 128, np.uint8), brush=10, display_width={W // 2})\npainter"
    nb.cells = [nbformat.v4.new_code_cell(code), nbformat.v4.new_code_cell("print('HOLE', int((painter.mask == 0).sum()))")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "paint.ipynb")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lab = [sys.executable, "-m", front_end, "--no-browser", f"--port={port}", "--ServerApp.token=t", "--allow-root", f"--ServerApp.root_dir={tmp_path}"]
    server = subprocess.Popen(lab, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api?token=t")
                break
            except OSError:
                time.sleep(0.5)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"http://127.0.0.1:{port}/{FRONT_ENDS[front_end]}?token=t")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        for _ in range(4):  # a cell run before the page has joined the kernel is dropped: run it again
            page.locator(".jp-Cell").first.click()
            page.keyboard.press("Shift+Enter")
            try:
                box = page.wait_for_selector(".semantic-inpaint-overlay", timeout=15_000).bounding_box()
                break
            except sync_api.TimeoutError:
                continue
        else:
            pytest.fail(f"the painter never showed in {front_end}")
        page.mouse.move(box["x"] + 10, box["y"] + 20)
        page.mouse.down()
        page.mouse.move(box["x"] + 60, box["y"] + 20, steps=8)  # photo pixels (20, 40) to (120, 40)
        page.mouse.up()
        page.locator(".jp-Cell").nth(1).click()
        page.keyboard.press("Shift+Enter")
        hole = int(page.wait_for_selector("text=/HOLE \\d+/", timeout=30_000).inner_text().split()[1])
        # A 100-pixel stroke 10 pixels wide with round caps: 100 x 10 + pi 5^2, less antialiased edges.
        assert 1000 <= hole <= 1100, hole
    finally:
        server.terminate()
        server.wait(30)
