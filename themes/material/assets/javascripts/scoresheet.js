/* evidencechain score sheet: weighted total, saving in this browser, JSON and CSV export.
   Scores live in localStorage only; nothing is sent anywhere and nothing is loaded from the
   network. Works from file:// too. The weighted total is computed exactly as
   evidencechain/scoring.py does: the sum of weight * score / 4, in percent.
   The reviewer's initials are remembered for the whole site (not per project), so they are
   typed once, and are kept as uppercase letters and digits ("ab" becomes "AB"). */
(function () {
  "use strict";

  var PREFIX = "evidencechain:scores:v1:";
  // Another prefix than PREFIX, so no project slug can collide with it.
  var REVIEWER_PREFIX = "evidencechain:reviewer:v1:";
  var MAX_SCORE = 4;

  /* Initials as exported: uppercase letters and digits only ("a.b." becomes "AB"). */
  function initials(text) {
    return String(text || "").toUpperCase().replace(/[^\p{L}\p{N}]+/gu, "");
  }

  function storage() {
    try {
      var store = window.localStorage;
      store.setItem(PREFIX + "probe", "1");
      store.removeItem(PREFIX + "probe");
      return store;
    } catch (error) {
      return null; // blocked (privacy settings): the sheet still totals, export still works
    }
  }

  function round(value) {
    return Math.round(value * 10000) / 10000;
  }

  function initSheet(sheet) {
    var data = sheet.dataset;
    var key = PREFIX + data.site + ":" + data.project;
    var reviewerKey = REVIEWER_PREFIX + data.site;
    var store = storage();
    var threshold = parseFloat(data.threshold);
    var reviewer = sheet.querySelector("#ec-score-reviewer");
    var status = sheet.querySelector("[data-ec-storage]");
    var competencies = Array.prototype.map.call(
      sheet.querySelectorAll("fieldset[data-competency]"), function (fieldset) {
        return {
          id: fieldset.dataset.competency,
          title: fieldset.dataset.title,
          weight: parseFloat(fieldset.dataset.weight),
          fieldset: fieldset,
          note: fieldset.querySelector("textarea")
        };
      });

    function scoreOf(competency) {
      var checked = competency.fieldset.querySelector("input[type=radio]:checked");
      return checked ? parseInt(checked.value, 10) : null;
    }

    function state() {
      var scores = {}, notes = {};
      competencies.forEach(function (c) {
        scores[c.id] = scoreOf(c);
        notes[c.id] = c.note.value;
      });
      return {reviewer: initials(reviewer.value), scores: scores, notes: notes,
              build_id: data.buildId, saved_at: new Date().toISOString()};
    }

    function outcome() {
      var total = 0, scored = 0;
      competencies.forEach(function (c) {
        var score = scoreOf(c);
        if (score === null) return;
        scored += 1;
        total += c.weight * score / MAX_SCORE;
      });
      total = round(total);
      var complete = scored === competencies.length;
      return {total: total, scored: scored, complete: complete,
              passed: complete ? total + 1e-9 >= threshold : null};
    }

    function render() {
      var result = outcome();
      // Shortest form, as Python's "{:g}" prints it: totals are exact quarters of a percent.
      sheet.querySelector("[data-ec-total]").textContent = String(result.total) + "%";
      sheet.querySelector("[data-ec-scored]").textContent =
        result.scored + " of " + competencies.length + " competencies scored";
      var verdict = sheet.querySelector("[data-ec-verdict]");
      verdict.textContent = result.passed === null ? "incomplete" : result.passed ? "pass" : "fail";
      verdict.className = "ec-badge " +
        (result.passed === null ? "ec-unknown" : result.passed ? "ec-ok" : "ec-bad");
    }

    function say(text) {
      status.textContent = text;
    }

    function save() {
      if (!store) return;
      try {
        store.setItem(key, JSON.stringify(state()));
      } catch (error) {
        say("Your scores could not be saved in this browser; export them before you leave.");
      }
    }

    /* The initials typed on any project page of this site fill in every other one. */
    function saveReviewer() {
      if (!store) return;
      try {
        var value = initials(reviewer.value);
        if (value) store.setItem(reviewerKey, value);
        else store.removeItem(reviewerKey);
      } catch (error) {
        // not saved: the scores' own save says so
      }
    }

    /* Uppercase letters and digits as they are typed, keeping the caret where it was. */
    function normalizeReviewer(event) {
      if (event && event.isComposing) return; // an input method is still composing
      var value = reviewer.value;
      var clean = initials(value);
      if (clean === value) return;
      var caret = initials(value.slice(0, reviewer.selectionStart || 0)).length;
      reviewer.value = clean;
      if (document.activeElement === reviewer) reviewer.setSelectionRange(caret, caret);
    }

    function restore() {
      if (!store) {
        say("This browser does not let the page save scores; export them before you leave.");
        return;
      }
      var saved = null, remembered = "";
      try {
        saved = JSON.parse(store.getItem(key) || "null");
        remembered = initials(store.getItem(reviewerKey));
      } catch (error) {
        saved = null;
      }
      // The initials saved with this project's scores are theirs; else the site's.
      reviewer.value = (saved && initials(saved.reviewer)) || remembered;
      if (!saved) {
        say("Scores are saved in this browser as you go.");
        return;
      }
      competencies.forEach(function (c) {
        var score = saved.scores ? saved.scores[c.id] : null;
        var radio = score === null || score === undefined ? null :
          c.fieldset.querySelector("input[type=radio][value='" + parseInt(score, 10) + "']");
        if (radio) radio.checked = true;
        c.note.value = (saved.notes && saved.notes[c.id]) || "";
      });
      if (saved.build_id && saved.build_id !== data.buildId) {
        say("Restored scores you gave on build " + saved.build_id + "; the page has changed " +
            "since (now build " + data.buildId + "). Check them before you export.");
      } else {
        say("Restored the scores saved in this browser.");
      }
    }

    function exportJson() {
      var result = outcome();
      var current = state();
      return JSON.stringify({
        format: "evidencechain-scores",
        format_version: 1,
        reviewer: current.reviewer,
        project: data.project,
        project_title: data.projectTitle,
        site: data.site,
        build_id: data.buildId,
        exported_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        rubric: {name: data.rubric, title: data.rubricTitle, pass_threshold: threshold},
        scores: competencies.map(function (c) {
          return {competency: c.id, title: c.title, weight: c.weight,
                  score: current.scores[c.id], note: current.notes[c.id]};
        }),
        total: result.total,
        complete: result.complete,
        passed: result.passed
      }, null, 2) + "\n";
    }

    /* Cells are quoted; a leading = + - @ would make a spreadsheet run the note as a formula. */
    function cell(value) {
      var text = value === null || value === undefined ? "" : String(value);
      if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
      return '"' + text.replace(/"/g, '""') + '"';
    }

    function exportCsv() {
      var current = state();
      var header = ["reviewer", "site", "project", "build_id", "rubric", "pass_threshold",
                    "competency", "title", "weight", "score", "note"];
      var rows = competencies.map(function (c) {
        return [current.reviewer, data.site, data.project, data.buildId, data.rubric,
                threshold, c.id, c.title, c.weight, current.scores[c.id],
                current.notes[c.id]].map(cell).join(",");
      });
      return header.join(",") + "\r\n" + rows.join("\r\n") + "\r\n";
    }

    function download(kind) {
      normalizeReviewer();
      var who = initials(reviewer.value);
      if (!who) {
        say("Type your initials first: the export names its reviewer.");
        reviewer.focus();
        return;
      }
      var text = kind === "csv" ? exportCsv() : exportJson();
      var type = kind === "csv" ? "text/csv" : "application/json";
      var safe = who.replace(/[^A-Za-z0-9_-]+/g, "_");
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([text], {type: type + ";charset=utf-8"}));
      link.download = "scores-" + data.project + "-" + safe + "." + kind;
      link.hidden = true;
      document.body.appendChild(link);
      link.click();
      setTimeout(function () {
        URL.revokeObjectURL(link.href);
        link.remove();
      }, 1000);
      say("Exported " + link.download + ".");
    }

    function clear() {
      if (!window.confirm("Clear your scores and notes for this project?")) return;
      competencies.forEach(function (c) {
        c.fieldset.querySelectorAll("input[type=radio]").forEach(function (r) { r.checked = false; });
        c.note.value = "";
      });
      if (store) store.removeItem(key);
      render();
      say("Scores cleared.");
    }

    function edited(event) {
      if (event.target === reviewer) {
        normalizeReviewer(event);
        saveReviewer();
      }
      save();
      render();
    }

    sheet.addEventListener("change", edited);
    sheet.addEventListener("input", edited);
    reviewer.addEventListener("compositionend", edited);
    sheet.querySelectorAll("[data-ec-export]").forEach(function (button) {
      button.addEventListener("click", function () { download(button.dataset.ecExport); });
    });
    sheet.querySelector("[data-ec-clear]").addEventListener("click", clear);
    restore();
    render();
  }

  function init() {
    document.querySelectorAll("[data-ec-scoresheet]").forEach(initSheet);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
