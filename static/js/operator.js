/* Operator panel: copy a call handle with one click. No inline scripts (CSP script-src 'self'). */
(function () {
  "use strict";

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  function flashLabel(button, text, state) {
    var label = button.querySelector("[data-copy-label]") || button;
    if (!button.dataset.originalLabel) { button.dataset.originalLabel = label.textContent; }
    label.textContent = text;
    button.dataset.copyState = state;
    window.clearTimeout(button._copyTimer);
    button._copyTimer = window.setTimeout(function () {
      label.textContent = button.dataset.originalLabel;
      delete button.dataset.copyState;
    }, 1800);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    event.preventDefault();
    copy(button.getAttribute("data-copy")).then(function () {
      flashLabel(button, button.getAttribute("data-copied") || "✓", "done");
    }, function () {
      flashLabel(button, button.getAttribute("data-copy-failed") || "×", "failed");
    });
  });
}());
