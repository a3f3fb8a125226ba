/* The call-platform choice: show the handle hint of the chosen platform only, and offer the
   matching keyboard (phone pad, e-mail). Without JavaScript every hint stays readable.
   No inline scripts (CSP script-src 'self'). */
(function () {
  "use strict";

  function inputModeFor(kinds) {
    if (kinds.length === 1 && kinds[0] === "phone") { return "tel"; }
    if (kinds.length === 1 && kinds[0] === "email") { return "email"; }
    return "text";
  }

  function update(form) {
    var chosen = form.querySelector("input[name=call_platform]:checked") ||
      form.querySelector("input[type=hidden][name=call_platform]");
    var input = form.querySelector("#call_handle");
    var hints = form.querySelectorAll("[data-platform-hint]");
    if (!chosen || !input || hints.length < 2) { return; }
    hints.forEach(function (hint) {
      hint.hidden = hint.getAttribute("data-platform-hint") !== chosen.value;
    });
    input.setAttribute("inputmode", inputModeFor((chosen.getAttribute("data-handle-kinds") || "").split(" ")));
  }

  function init() {
    document.querySelectorAll("[data-platform-choice]").forEach(function (choice) {
      var form = choice.closest("form");
      if (!form) { return; }
      form.classList.add("platform-js");
      choice.addEventListener("change", function () { update(form); });
      update(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
