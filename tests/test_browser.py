"""The built web book in a real browser (headless Chromium), offline.

Serves the HTML on 127.0.0.1 and opens the landing page, Chapter 1 and the
scorecard. A probe script, injected by the test server into each page, waits for
MathJax and writes what it finds into the DOM, which Chromium's --dump-dom prints:
math typeset (no raw $$ left), every <img> loaded, no error output, and every
same-site link resolving. Uses the book in $MLPHYS_BOOK_HTML (as `make test`
does after its strict build) or builds one with notebook execution off.

Under CI (CI=true) a missing browser fails; elsewhere the test skips with a message.
"""
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
PAGES = ["book/intro.html", "book/plan.html", "book/notation.html"] + [
    f"notebooks/{p.stem}.html" for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
CHAPTERS = [p for p in PAGES if re.search(r"/chapter\d\d_", p)]
CHAPTER1 = "notebooks/chapter01_ml_and_the_nobel_prize.html"

PROBE = """
<script>
window.addEventListener('load', async () => {
  try { if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; } } catch (e) {}
  const body = document.body.cloneNode(true);
  body.querySelectorAll('pre, code, script, style, mjx-container, .MathJax').forEach(n => n.remove());
  const out = {
    mathjax: !!(window.MathJax && MathJax.startup),
    typeset: document.querySelectorAll('mjx-container').length,
    math_nodes: document.querySelectorAll('.math').length,
    text: body.textContent,
    images: Array.from(document.images).map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0})),
    errors: document.querySelectorAll('.output.traceback, .output.error, .output.stderr').length,
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
    h1_number: ((document.querySelector('h1 .section-number') || {}).textContent || '').trim(),
    results_tables: (() => { const s = document.querySelector('section#results');
                             return s ? s.querySelectorAll('table').length : -1; })(),
    exercises: document.querySelectorAll('div.exercise').length,
    solutions: document.querySelectorAll('div.solution').length,
    visible_solutions: Array.from(document.querySelectorAll('div.solution > section'))
                            .filter(s => s.offsetHeight > 0).length,
    outputs_outside_solutions: (() => { const s = document.querySelector('section#exercises');
      return s ? Array.from(s.querySelectorAll('.cell_output')).filter(o => !o.closest('div.solution')).length : 0; })(),
  };
  const pre = document.createElement('pre');
  pre.id = 'mlphys-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def find_browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    path = find_browser()
    if path is None:
        msg = "no Chromium found: install Debian's chromium (apt-get install chromium) to run the browser test"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="module")
def html_dir(tmp_path_factory):
    given = os.environ.get("MLPHYS_BOOK_HTML")
    if given:
        path = Path(given)
        if not path.is_absolute():
            path = ROOT / path
        assert (path / "index.html").exists(), f"MLPHYS_BOOK_HTML={given} holds no built book"
        return path
    out = tmp_path_factory.mktemp("book")
    config = out / "_config.yml"
    text = re.sub(r"(?m)^(\s*execute_notebooks:).*$", r'\1 "off"', (ROOT / "_config.yml").read_text())
    config.write_text(text.replace("chapter_numbers: book/_ext", f"chapter_numbers: {ROOT / 'book/_ext'}"))
    jb = Path(sys.executable).parent / "jupyter-book"
    subprocess.run([str(jb), "build", str(ROOT), "--config", str(config), "--path-output", str(out), "-q"],
                   check=True, timeout=900)
    return out / "_build" / "html"


class _Handler(http.server.SimpleHTTPRequestHandler):
    missing: list = []

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):  # the browser closed a connection early
            pass

    def send_error(self, code, message=None, explain=None):
        if code == 404 and self.path != "/favicon.ico":  # browsers ask for it unprompted
            self.missing.append(self.path)
        super().send_error(code, message, explain)

    def do_GET(self):
        path = urllib.parse.urlparse(self.path).path
        if path.endswith(".html") and "probe" in urllib.parse.urlparse(self.path).query:
            file = Path(self.translate_path(path))
            if file.exists():
                body = file.read_text().replace("</body>", PROBE + "</body>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        super().do_GET()


@pytest.fixture(scope="module")
def server(html_dir):
    _Handler.missing = []
    handler = functools.partial(_Handler, directory=str(html_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def render(browser, url, tmp_path):
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
           "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
           "--virtual-time-budget=20000", "--dump-dom", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    m = re.search(r'<pre id="mlphys-probe"[^>]*>(.*?)</pre>', proc.stdout, re.S)
    assert m, f"the probe did not report for {url} (exit {proc.returncode}, {len(proc.stdout)} chars); stderr:\n{proc.stderr[-2000:]}"
    import html

    return json.loads(html.unescape(m.group(1)))


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_offline(browser, server, page, tmp_path):
    report = render(browser, f"{server}/{page}?probe=1", tmp_path)
    if report["math_nodes"]:   # Sphinx loads MathJax only on pages with math
        assert report["mathjax"], "MathJax did not load (it must be served locally, not from a CDN)"
        assert report["typeset"] > 0, "math on the page was not typeset by MathJax"
    for raw in ("$$", "\\begin{", "\\frac"):
        assert raw not in report["text"], f"raw LaTeX {raw!r} left in the rendered text of {page}"
    broken = [img["src"] for img in report["images"] if not img["ok"]]
    assert not broken, f"images that did not load on {page}: {broken}"
    assert report["errors"] == 0, f"{page} shows error or stderr output"
    assert "Traceback (most recent call last)" not in report["text"]

    bad_links = [link for link in report["links"] if not link_resolves(server, link, page, report["ids"])]
    assert not bad_links, f"links on {page} that do not resolve: {bad_links}"


_PAGE_IDS = {}


def link_resolves(server, link, page, own_ids):
    """A same-site link resolves if its page exists and, with a #fragment, that page has an element with the id."""
    parsed = urllib.parse.urlparse(link)
    if not link.startswith(server) or not parsed.path:
        return True
    if parsed.path.lstrip("/") == page and parsed.fragment:
        return urllib.parse.unquote(parsed.fragment) in own_ids
    if parsed.path not in _PAGE_IDS:
        try:
            with urllib.request.urlopen(f"{server}{parsed.path}", timeout=10) as resp:
                body = resp.read().decode("utf-8", "replace") if resp.status == 200 else None
        except urllib.error.HTTPError:
            body = None
        _PAGE_IDS[parsed.path] = None if body is None else set(re.findall(r'id="([^"]+)"', body))
    ids = _PAGE_IDS[parsed.path]
    if ids is None:
        return False
    return not parsed.fragment or urllib.parse.unquote(parsed.fragment) in ids


RAW_TABLE = re.compile(r"\|\s*:?-{3,}:?\s*\||\|\s*chapter\s*\|\s*quantity\s*\|")


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_page_is_a_book_chapter(browser, server, page, tmp_path):
    """The planned number in the heading, the Results as a real table, numbered exercises with hidden solutions."""
    report = render(browser, f"{server}/{page}?probe=1", tmp_path)
    planned = int(re.search(r"chapter(\d\d)_", page).group(1))
    assert report["h1_number"] == f"{planned}.", f"{page}: heading numbered {report['h1_number']!r}, plan says {planned}"
    assert report["results_tables"] >= 1, f"{page}: the Results section has no <table> (raw Markdown?)"
    assert report["exercises"] >= 2 and report["solutions"] == report["exercises"], \
        f"{page}: {report['exercises']} exercises, {report['solutions']} solutions"
    assert report["visible_solutions"] == 0, f"{page}: {report['visible_solutions']} solutions shown before a click"
    assert report["outputs_outside_solutions"] == 0, f"{page}: exercise answers printed outside their solutions"


@pytest.mark.parametrize("page", PAGES)
def test_no_raw_markdown_tables(html_dir, page):
    """No page shows pipe-table text: every Markdown table, also in cell outputs, renders as HTML."""
    import html as html_lib

    text = (html_dir / page).read_text()
    text = re.sub(r"(?s)<(pre|code|script|style)\b.*?</\1>", " ", text)
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", text))
    m = RAW_TABLE.search(text)
    assert not m, f"{page} shows raw Markdown table text: {text[max(0, m.start() - 80):m.end() + 80]!r}"


def test_chapter1_content_is_there(browser, server, tmp_path):
    report = render(browser, f"{server}/{CHAPTER1}?probe=1", tmp_path)
    assert report["typeset"] >= 20, "Chapter 1 should show its equations typeset"
    assert len(report["images"]) >= 5, "Chapter 1 should show its figures"
    assert "Learning goals" in report["text"] and "Exercises" in report["text"]


def test_no_missing_assets(server, html_dir):
    # runs after the page tests (same module): nothing the pages asked for was missing
    assert not _Handler.missing, f"requests for missing files: {sorted(set(_Handler.missing))}"
    for page in PAGES:
        text = (html_dir / page).read_text()
        external = re.findall(r'<script[^>]+src="(https?://[^"]+)"', text)
        assert not external, f"{page} loads scripts from the network: {external}"
