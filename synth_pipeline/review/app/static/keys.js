// Keyboard-first review: a accept, e edit, r reject, n next; 1-5 score the highlighted rubric
// dimension and move to the next one; Ctrl+Enter submits the open panel, Escape leaves a text
// field. Keys are ignored while typing in a field.
(function () {
  "use strict";

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function openPanel(button) {
    var panel = document.getElementById(button.dataset.panel);
    if (!panel) { return; }
    ["edit-panel", "reject-panel"].forEach(function (id) {
      var other = document.getElementById(id);
      if (other && other !== panel) { other.hidden = true; }
    });
    panel.hidden = false;
    var editing = panel.id === "edit-panel";
    var save = document.getElementById("btn-save-edit");
    var reject = document.getElementById("btn-submit-reject");
    if (save) { save.hidden = !editing; }
    if (reject) { reject.hidden = editing; }
    var first = panel.querySelector("textarea, select, input");
    if (first) { first.focus(); }
  }

  function submitOpenPanel() {
    var edit = document.getElementById("edit-panel");
    var target = edit && !edit.hidden ? "btn-save-edit" : "btn-submit-reject";
    var panel = document.getElementById(target === "btn-save-edit" ? "edit-panel" : "reject-panel");
    var button = document.getElementById(target);
    if (panel && !panel.hidden && button) { button.click(); }
  }

  var scoreIndex = 0;

  function scoreSelects() {
    return Array.prototype.slice.call(document.querySelectorAll(".rubric select"));
  }

  function markCurrent() {
    scoreSelects().forEach(function (select, i) {
      select.parentElement.classList.toggle("current", i === scoreIndex);
    });
  }

  function score(digit) {
    var selects = scoreSelects();
    if (!selects.length) { return false; }
    selects[scoreIndex].value = digit;
    scoreIndex = (scoreIndex + 1) % selects.length;
    markCurrent();
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    markCurrent();
    document.querySelectorAll("button[data-panel]").forEach(function (button) {
      button.addEventListener("click", function () { openPanel(button); });
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submitOpenPanel();
      return;
    }
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (/^[1-5]$/.test(event.key)) {
      if (score(event.key)) { event.preventDefault(); }
      return;
    }
    var control = document.querySelector('[data-key="' + event.key.toLowerCase() + '"]');
    if (!control || control.hidden) { return; }
    event.preventDefault();
    control.click();
  });
}());
