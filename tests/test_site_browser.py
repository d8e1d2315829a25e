"""The built example site, opened in a real headless Chromium the way a reviewer opens it."""

from __future__ import annotations

import hashlib

import pytest

from conftest import EXAMPLE_SITE

SECTION_ORDER = [
    "The brief", "Problem", "Why it matters", "Approach", "Design decisions", "Evaluation",
    "Trade-offs", "Iterations", "Failures and fixes", "Model card", "Assets", "Workflow",
    "How to reproduce", "What I learned",
]
SLUGS = sorted(p.parent.name for p in (EXAMPLE_SITE / "projects").glob("*/evidence.yml"))


@pytest.fixture
def page(chromium, site_server):
    """A fresh browser page that records every request leaving this machine."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.outside_requests = []
    page.on("request", lambda r: None if r.url.startswith((site_server, "data:", "blob:"))
            else page.outside_requests.append(r.url))
    yield page
    context.close()


def test_index_shows_the_candidate_and_one_card_per_project(page, site_server):
    page.goto(site_server)

    assert page.locator(".ec-headline").inner_text().strip()
    cards = page.locator("a.ec-card")
    assert cards.count() == len(SLUGS) == 3
    cards.first.click()
    page.wait_for_load_state()
    assert "/projects/" in page.url
    assert page.outside_requests == []


@pytest.mark.parametrize("slug", SLUGS)
def test_project_page_has_every_section_in_order(page, site_server, slug):
    page.goto(f"{site_server}projects/{slug}/")

    headings = [h.strip().rstrip("¶").strip()
                for h in page.locator("article h2").all_inner_texts()]
    assert [h for h in headings if h in SECTION_ORDER] == SECTION_ORDER
    assert "Evidence chain" in page.locator(".ec-summary").inner_text()
    assert page.outside_requests == []


@pytest.mark.parametrize("slug", SLUGS)
def test_every_image_loads_and_links_to_its_byte_identical_original(page, site_server, slug):
    page.goto(f"{site_server}projects/{slug}/")
    page.evaluate("document.querySelectorAll('img[loading=lazy]')"
                  ".forEach(img => img.loading = 'eager')")
    page.wait_for_load_state("networkidle")

    broken = page.evaluate("[...document.querySelectorAll('article img')]"
                           ".filter(img => !img.complete || img.naturalWidth === 0)"
                           ".map(img => img.src)")
    assert broken == []
    originals = page.locator("a.ec-original")
    assert originals.count() > 0
    for href in originals.evaluate_all("links => links.map(a => a.href)"):
        body = page.request.get(href).body()
        relative = href.split(f"/projects/{slug}/files/", 1)[1]
        source = EXAMPLE_SITE / "projects" / slug / relative
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()


def test_search_finds_a_project(page, site_server):
    page.goto(site_server)
    title = page.locator(".ec-card-title").first.inner_text()
    word = max(title.split(), key=len)

    page.locator("label.md-search__icon, .md-search__input").first.click()
    # Material shows "Initializing search" until its worker has loaded the index.
    page.locator(".md-search-result__meta", has_text="Type to start searching").wait_for()
    page.locator("input.md-search__input").press_sequentially(word, delay=20)
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10_000)

    assert word.lower() in results.first.inner_text().lower()


def test_dark_mode_toggle_switches_the_scheme(page, site_server):
    page.goto(site_server)
    before = page.evaluate("document.body.getAttribute('data-md-color-scheme')")

    page.locator("form[data-md-component=palette] label:visible").first.click()

    after = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
    assert {before, after} == {"default", "slate"}


_WATCH_CSP = """window.__violations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.mark.parametrize("over", ["http", "file"])
def test_the_browser_refuses_every_request_that_leaves_the_site(chromium, site_server,
                                                                built_example, over):
    """Material's bundle can fetch from the internet (mermaid, a polyfill, repository
    facts); the site's Content-Security-Policy must stop any such request before it leaves,
    while the site's own scripts, styles, images and search run without a violation."""
    context = chromium.new_context()
    context.add_init_script(_WATCH_CSP)
    page = context.new_page()
    answered: list[str] = []  # requests that got a response (Chromium reports blocked ones too)
    page.on("requestfinished", lambda r: answered.append(r.url))
    refused: dict[str, str] = {}
    page.on("requestfailed", lambda r: refused.setdefault(r.url, r.failure or ""))
    base = site_server if over == "http" else built_example.as_uri() + "/"
    own = (site_server, "data:", "blob:") if over == "http" else ("file:", "data:", "blob:")
    for path in ["", *(f"projects/{slug}/" for slug in SLUGS)]:
        page.goto(base + path + ("" if over == "http" else "index.html"))
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__violations") == [], path
    page.keyboard.press("/")
    page.keyboard.type("palette")
    page.locator(".md-search-result__item").first.wait_for(timeout=10_000)

    # What Material would do with a mermaid diagram on the page: load a script from unpkg.
    page.evaluate("""() => { const s = document.createElement('script');
        s.src = 'https://unpkg.com/mermaid@11/dist/mermaid.min.js';
        document.head.appendChild(s);
        fetch('https://api.github.com/repos/x/y').catch(() => {}); }""")
    page.wait_for_timeout(300)

    blocked = page.evaluate("window.__violations")
    assert any("unpkg.com" in v for v in blocked) and any("api.github.com" in v for v in blocked)
    assert [url for url in answered if not url.startswith(own)] == []
    assert {url: why for url, why in refused.items() if not url.startswith(own)} == {
        "https://unpkg.com/mermaid@11/dist/mermaid.min.js": "csp"}  # blocked, never sent
    context.close()
