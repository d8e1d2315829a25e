"""Hostile text in every candidate-written field executes nothing in a reviewer's browser.

The workspace below puts a different XSS payload into every free-text field (and file
names, captions, tool names, the candidate's own fields); the built pages are opened in
headless Chromium, every image is loaded and every lightbox opened, and the test fails on
any dialog, on any script the payloads would have run, and on any request leaving 127.0.0.1.
"""

from __future__ import annotations

import functools
import io
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from itertools import cycle
from pathlib import Path

import pytest
import yaml
from PIL import Image

from conftest import run_cli

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<svg onload=alert(3)>",
    "[click me](javascript:alert(4))",
    '<a href="javascript:alert(5)">link</a>',
    '<iframe src="javascript:alert(6)"></iframe>',
    "<body onload=alert(7)>",
    "<style>body{background:url(javascript:alert(8))}</style>",
    '<div style="background-image:url(javascript:alert(9))">styled</div>',
    '"><script>alert(10)</script>',
    "'><img src=x onerror=alert(11)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(12)>",
    "<details open ontoggle=alert(13)>x</details>",
    "<input autofocus onfocus=alert(14)>",
    '<object data="javascript:alert(15)"></object>',
    '<embed src="javascript:alert(16)">',
    '<form action="javascript:alert(17)"><button>go</button></form>',
    "[x](JaVaScRiPt:alert(18))",
    '<a href="&#106;avascript:alert(19)">encoded</a>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(20)">',
    '![x](x" onerror="alert(21))',
    "<svg><script>alert(22)</script></svg>",
    '<base href="javascript:alert(23)//">',
    "<link rel=stylesheet href=http://203.0.113.7/x.css>",
    "<img src=http://203.0.113.7/pixel.png>",
    "{{ 7*7 }} {% raw %} ${alert(26)}",
]
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b"<script>alert(99)</script><rect width='10' height='10'/></svg>")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 20, 20)).save(buffer, "PNG")
    return buffer.getvalue()


def _hostile_workspace(root: Path) -> Path:
    payload = cycle(PAYLOADS)
    text = lambda: f"Before {next(payload)} after"  # noqa: E731 - a fresh payload per field
    project = root / "projects" / "hostile"
    project.mkdir(parents=True)
    raw_name = 'raw"><img src=x onerror=alert(30)>.png'
    (project / raw_name).write_bytes(_png())
    (project / "final.png").write_bytes(_png())
    (project / "diagram.svg").write_bytes(SVG)
    manifest = {
        "schema_version": 1, "title": text(), "summary": text(), "kind": "ai-creative",
        "source": "client", "role": text(),
        "brief": {"text": text(), "constraints": [text(), text()],
                  "success_metrics": [{"name": text(), "target": text(), "achieved": text()}]},
        "case_study": {k: text() for k in ("problem", "why_it_matters", "approach",
                                           "evaluation", "tradeoffs", "learned")}
        | {"decisions": [{"decision": text(), "rationale": text(), "alternatives": [text()]}]},
        "iterations": [{"id": "v1", "change": text(), "why": text(), "outcome": text(),
                        "tools": [text()], "assets": [raw_name]}],
        "failures": [{"what_broke": text(), "symptom": text(), "fix": text(),
                      "iteration": "v1", "time_lost": text()}],
        "model_card": {"models": [{"name": text(), "licence": text(), "provider": text()}],
                       **{k: text() for k in ("intended_use", "data", "limitations", "risks",
                                              "metrics")}},
        "assets": [{"path": raw_name, "role": "raw", "caption": text(), "alt": text()},
                   {"path": "final.png", "role": "final", "derived_from": [raw_name],
                    "caption": text()},
                   {"path": "diagram.svg", "role": "reference", "caption": text()}],
        "workflow": [{"tool": text(), "stage": text(), "purpose": text()}],
        "reproduce": {"commands": [text(), "echo '</code></pre><script>alert(40)</script>'"],
                      "environment": text()},
    }
    (project / "evidence.yml").write_text(yaml.safe_dump(manifest, allow_unicode=True))
    config = {"schema_version": 1, "candidate": {
        "name": text(), "headline": text(), "vision": text(),
        "links": [{"label": text(), "url": "https://example.com/?q=<script>alert(41)</script>"}]},
        "site": {"title": text()}}
    (root / "evidencechain.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    return root


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> str:
    root = _hostile_workspace(tmp_path_factory.mktemp("hostile"))
    result = run_cli("build", root)
    assert result.exit_code == 0, result.output + result.stderr
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root / "site"))
    handler.log_message = lambda *a: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", ["index.html", "vision.html", "projects/hostile/index.html"])
def test_no_payload_runs(chromium, hostile_site, path):
    context = chromium.new_context()
    page = context.new_page()
    incidents = []
    page.on("dialog", lambda d: (incidents.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("console", lambda m: incidents.append(f"console: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("request", lambda r: None if r.url.startswith((hostile_site, "data:", "blob:"))
            else incidents.append(f"request: {r.url}"))

    page.goto(hostile_site + path)
    page.evaluate("document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
    page.wait_for_load_state("networkidle")
    for link in page.locator("a.ec-zoom:visible").all():
        link.click()
        page.keyboard.press("Escape")
    page.wait_for_timeout(300)

    assert incidents == []
    inline_handlers = page.evaluate(
        "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
        ".filter(a => a.name.startsWith('on')).map(a => a.name + '=' + a.value)")
    assert inline_handlers == []
    js_links = page.evaluate("[...document.querySelectorAll('[href],[src],[action],[data]')]"
                             ".map(e => e.getAttribute('href') || e.getAttribute('src') || "
                             "e.getAttribute('action') || e.getAttribute('data') || '')"
                             ".filter(v => /^\\s*javascript:/i.test(v))")
    assert js_links == []
    context.close()


def test_svg_assets_are_images_or_downloads_never_inlined(hostile_site, chromium):
    context = chromium.new_context()
    page = context.new_page()
    page.goto(hostile_site + "projects/hostile/index.html")

    assert page.locator("svg script").count() == 0
    link = page.locator("a.ec-original[href$='diagram.svg']")
    assert link.get_attribute("download") is not None
    context.close()


def test_there_are_at_least_twenty_payloads():
    assert len(PAYLOADS) >= 20


def test_svg_is_shown_as_an_image_whose_script_never_runs(chromium, hostile_site):
    context = chromium.new_context()
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(hostile_site + "projects/hostile/index.html")

    svg = page.locator("figure.ec-svg img")
    svg.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    assert svg.evaluate("img => img.complete && img.naturalWidth > 0")
    assert dialogs == []
    context.close()
