"""The reviewer's page in a real Chromium: first viewport, slider, lightbox, a11y, phone, file://."""

from __future__ import annotations

from pathlib import Path

import axe_playwright_python
import pytest

from conftest import EXAMPLE_SITE

AXE_JS = Path(axe_playwright_python.__file__).with_name("axe.min.js")
SLUGS = sorted(p.parent.name for p in (EXAMPLE_SITE / "projects").glob("*/evidence.yml"))
PAGES = ["index.html", "vision.html"] + [f"projects/{s}/index.html" for s in SLUGS]


@pytest.fixture
def open_page(chromium, site_server):
    """Open a site page; collects console errors and requests that leave the machine."""
    contexts = []

    def _open(path: str, width: int = 1366, height: int = 768, **options):
        context = chromium.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith((site_server, "data:", "blob:"))
                else page.problems.append(f"outside request: {r.url}"))
        page.goto(site_server + path)
        page.wait_for_load_state("networkidle")
        return page

    yield _open
    for context in contexts:
        context.close()


@pytest.mark.parametrize("slug", SLUGS)
def test_summary_card_fits_the_first_viewport(open_page, slug):
    page = open_page(f"projects/{slug}/index.html")
    card = page.locator(".ec-summary")

    box = card.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 768, box
    text = card.inner_text()
    for words in ("Targets vs achieved", "Provenance", "Evidence chain", "Models",
                  "Reading time"):
        assert words in text
    assert page.evaluate("window.scrollY") == 0
    assert page.problems == []


def test_the_card_leads_to_the_work_between_raw_and_final(open_page):
    page = open_page("projects/brand-campaign-visuals/index.html")
    links = page.locator(".ec-summary a")
    assert links.all_inner_texts() == ["4 iterations", "6 failures fixed", "1 raw → final"]

    page.get_by_role("link", name="1 raw → final").click()

    slider = page.locator(".ec-slider").first
    slider.wait_for()
    assert page.evaluate("window.scrollY") > 1000  # jumped past the case study to the assets
    assert page.url.endswith("#assets")
    assert page.locator("#assets").bounding_box()["y"] < 768


def test_slider_moves_with_the_keyboard(open_page):
    page = open_page("projects/brand-campaign-visuals/index.html")
    slider = page.locator(".ec-slider-range").first
    after = page.locator(".ec-slider-after").first

    slider.focus()
    start = after.evaluate("img => img.style.clipPath")
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    moved = after.evaluate("img => img.style.clipPath")

    assert start == "inset(0px 0px 0px 50%)"
    assert moved == "inset(0px 0px 0px 40%)"
    assert slider.get_attribute("aria-valuetext") == "60% final"
    assert "of pixels changed noticeably" in page.locator(".ec-gap").first.inner_text()


def test_without_javascript_raw_and_final_sit_side_by_side(chromium, site_server):
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 1366,
                                                                        "height": 768})
    page = context.new_page()
    page.goto(site_server + "projects/brand-campaign-visuals/index.html")

    compare = page.locator("[data-ec-compare]").first
    images = compare.locator(".ec-figure > a.ec-zoom > img")
    assert images.count() == 2
    boxes = [images.nth(i).bounding_box() for i in range(2)]
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] + 1  # left of each other
    assert page.locator(".ec-slider").count() == 0
    context.close()


def test_lightbox_opens_and_closes(open_page):
    page = open_page("projects/brand-campaign-visuals/index.html")
    link = page.locator(".ec-timeline a.ec-zoom").first

    link.click()
    dialog = page.locator("dialog.ec-lightbox")
    assert dialog.evaluate("d => d.open") is True
    assert dialog.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    page.keyboard.press("Escape")
    assert dialog.evaluate("d => d.open") is False
    assert page.problems == []


def test_failures_sit_beside_their_iteration(open_page):
    page = open_page("projects/brand-campaign-visuals/index.html")

    order = page.evaluate(
        "[...document.querySelectorAll('.ec-timeline h3, .ec-timeline .admonition.failure')]"
        ".map(e => e.tagName === 'H3' ? e.id : 'failure')")
    assert order[0].startswith("v1")
    assert "failure" in order
    first_failure = page.locator(".ec-timeline .admonition.failure").first
    assert first_failure.locator("dt").all_inner_texts().count("Fix") == 1


@pytest.mark.parametrize("path", PAGES)
def test_no_accessibility_violations(open_page, path):
    page = open_page(path)
    page.add_script_tag(path=str(AXE_JS))

    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")

    # Every impact counts, minor included: the pages are few and fully ours.
    found = [f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])} nodes: "
             f"{v['nodes'][0]['target']})" for v in result["violations"]]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("slug", SLUGS)
def test_phone_layout_has_no_sideways_scrolling(open_page, slug, tmp_path):
    page = open_page(f"projects/{slug}/index.html", width=390, height=844, is_mobile=True,
                     has_touch=True)

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator(".ec-summary").is_visible()
    page.screenshot(path=str(tmp_path / "phone.png"))


def test_the_site_works_from_disk(chromium, built_example):
    context = chromium.new_context()
    page = context.new_page()
    page.goto((built_example / "index.html").as_uri())

    page.locator("a.ec-card").first.click()
    page.wait_for_load_state()

    assert page.url.startswith("file://") and page.url.endswith("/index.html")
    assert page.locator(".ec-summary").is_visible()
    assert page.locator(".ec-slider").count() >= 1
    context.close()


def test_search_works_from_disk_without_fetching_anything(chromium, built_example):
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda r: problems.append(r.url) if not r.url.startswith("file:") else 0)
    page.goto((built_example / "projects/brand-campaign-visuals/index.html").as_uri())

    page.keyboard.press("/")
    page.keyboard.type("palette")

    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10_000)
    assert "matching document" in page.locator(".md-search-result__meta").inner_text()
    assert results.count() >= 2  # the project page and the vision page both say "palette"
    assert problems == []
    context.close()


def test_prints_without_navigation(open_page, tmp_path):
    page = open_page("projects/support-ticket-classifier/index.html")
    page.emulate_media(media="print")

    assert not page.locator(".md-sidebar--primary").is_visible()
    assert page.locator(".ec-summary").is_visible()
    pdf = page.pdf(path=str(tmp_path / "project.pdf"))
    assert pdf[:4] == b"%PDF"


@pytest.mark.parametrize("path", PAGES)
def test_no_console_errors_and_nothing_leaves_the_machine(open_page, path):
    page = open_page(path)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")

    assert page.problems == []


def test_index_is_a_shortlist(open_page):
    page = open_page("index.html")
    cards = page.locator("a.ec-card")

    assert cards.count() == len(SLUGS)
    for i in range(cards.count()):
        badges = cards.nth(i).locator(".ec-badge").all_inner_texts()
        assert any(b.endswith("% complete") for b in badges)
        assert any("assets verified" in b for b in badges)
        assert cards.nth(i).locator(".ec-card-summary").inner_text().strip()


def test_final_made_from_a_tampered_raw_says_so_beside_its_verified_badge(open_page):
    page = open_page("projects/brand-campaign-visuals/index.html")
    final = page.locator("figure:has(a.ec-original[href$='halden-harvest-key-visual-web.jpg'])")

    # Visible without opening the folded details: the own verdict, then the chain.
    badges = final.locator("details.ec-provenance > summary .ec-badge")
    assert badges.all_inner_texts() == ["Verified", "1 ingredient fails verification"]
    note = final.locator(".ec-chain-note")
    assert note.is_visible()
    text = " ".join(note.inner_text().split())
    assert text.startswith("This file itself is intact and its signature is valid, but its "
                           "chain has a problem")
    assert ("assets/raw/v4-flux-schnell-seed-771203.jpg, checked on its own, is tampered / "
            "invalid: Validation failed: assertion.dataHash.mismatch") in text

    note.locator("a").click()  # the link goes to the raw's own figure and its verdict
    raw = page.locator("figure#asset-assets-raw-v4-flux-schnell-seed-771203-jpg")
    assert page.url.endswith("#asset-assets-raw-v4-flux-schnell-seed-771203-jpg")
    assert raw.locator("summary .ec-badge").inner_text() == "Tampered / invalid"
    assert raw.locator(".ec-chain-note").count() == 0  # nothing upstream of a raw
    summary = page.locator(".ec-summary").inner_text()
    assert "1 tampered · 1 unsigned · 2 made from a source that fails verification" in summary
    assert page.problems == []


def test_index_cards_show_the_project_pages_provenance_summary(open_page):
    index = open_page("index.html")
    for slug in SLUGS:
        card = index.locator(f"a.ec-card[href='projects/{slug}/index.html']")
        badges = card.locator(".ec-badge").all_inner_texts()[3:]  # after kind, source, chain
        project = open_page(f"projects/{slug}/index.html")
        facts = project.locator(".ec-summary-facts div:has(dt:text-is('Provenance')) dd")
        assert " · ".join(badges) == facts.inner_text(), slug
    brand = index.locator("a.ec-card[href='projects/brand-campaign-visuals/index.html']")
    assert brand.locator(".ec-v-tampered").inner_text() == "1 tampered"
    assert brand.locator(".ec-v-no-credentials").inner_text() == "1 unsigned"
