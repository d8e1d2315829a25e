/* evidencechain: progressive enhancements. Without JavaScript the page still shows raw and
   final side by side and every image links to its larger copy. Nothing here loads from the
   network. */
(function () {
  "use strict";

  /* Raw vs final: overlay the two display copies and reveal the final with a range input,
     which brings mouse, touch and keyboard (arrow keys, Home/End) support for free. */
  function enhanceComparison(container) {
    var images = container.querySelectorAll(".ec-figure > a.ec-zoom > img");
    if (images.length !== 2) return;
    var before = images[0], after = images[1];
    var stage = document.createElement("div");
    stage.className = "ec-slider";
    stage.style.aspectRatio = after.getAttribute("width") + " / " + after.getAttribute("height");
    var base = document.createElement("img");
    base.src = before.currentSrc || before.src;
    base.alt = before.alt;
    base.className = "ec-slider-before";
    var top = document.createElement("img");
    top.src = after.currentSrc || after.src;
    top.alt = after.alt;
    top.className = "ec-slider-after";
    var range = document.createElement("input");
    range.type = "range";
    range.min = "0";
    range.max = "100";
    range.value = "50";
    range.className = "ec-slider-range";
    range.setAttribute("aria-label", "Compare raw and final: move right to show more of the final");
    var labels = document.createElement("div");
    labels.className = "ec-slider-labels";
    labels.setAttribute("aria-hidden", "true");
    labels.innerHTML = "<span>Raw</span><span>Final</span>";
    function update() {
      top.style.clipPath = "inset(0 0 0 " + (100 - range.value) + "%)";
      stage.style.setProperty("--ec-split", (100 - range.value) + "%");
      range.setAttribute("aria-valuetext", range.value + "% final");
    }
    range.addEventListener("input", update);
    stage.appendChild(base);
    stage.appendChild(top);
    stage.appendChild(range);
    stage.appendChild(labels);
    container.parentNode.insertBefore(stage, container);
    container.classList.add("ec-compare--enhanced");
    update();
  }

  /* Lightbox: a native <dialog> (focus trapping and Escape come with it). */
  var dialog = null;
  function lightbox() {
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.className = "ec-lightbox";
    dialog.setAttribute("aria-label", "Image viewer");
    dialog.innerHTML = '<form method="dialog"><button class="ec-lightbox-close" ' +
      'aria-label="Close image viewer">×</button></form><img alt=""><p class="ec-lightbox-caption"></p>';
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
    document.body.appendChild(dialog);
    return dialog;
  }

  function openLightbox(event) {
    var link = event.currentTarget;
    var img = link.querySelector("img");
    if (typeof HTMLDialogElement === "undefined") return; // fall back to following the link
    event.preventDefault();
    var box = lightbox();
    var large = box.querySelector("img");
    large.src = link.href;
    large.alt = img ? img.alt : "";
    box.querySelector(".ec-lightbox-caption").textContent = img ? img.alt : "";
    box.showModal();
  }

  /* Material's search overlay has role="dialog" but no name; screen readers need one. */
  function nameSearchDialog() {
    var search = document.querySelector(".md-search[role=dialog]");
    if (search && !search.hasAttribute("aria-label")) search.setAttribute("aria-label", "Search");
  }

  function init() {
    nameSearchDialog();
    document.querySelectorAll("[data-ec-compare]").forEach(enhanceComparison);
    document.querySelectorAll("a.ec-zoom").forEach(function (link) {
      link.addEventListener("click", openLightbox);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
