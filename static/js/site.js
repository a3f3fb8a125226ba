/* Public pages: small progressive enhancements (static file: the CSP allows no inline script). */
(function () {
  "use strict";

  /* After an htmx week change, move focus to the new week's heading and announce it. */
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.elt;
    var week = document.getElementById("week");
    if (!week || !target || (target !== week && !week.contains(target) && target.id !== "week")) {
      return;
    }
    var heading = document.getElementById("week-title");
    if (heading) {
      heading.focus();
      var live = document.getElementById("week-announce");
      if (live) {
        live.textContent = heading.textContent.trim();
      }
    }
  });
})();

/* The language switch keeps what was typed into a form marked data-keep-on-language-switch:
   the values wait in this tab's sessionStorage until the page in the other language is open. */
(function () {
  "use strict";
  var PREFIX = "reflexion-keep:";

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && el.type !== "hidden" && el.type !== "submit";
    });
  }

  function save(form) {
    var values = {};
    fields(form).forEach(function (el) {
      if (el.type === "radio") { if (el.checked) { values[el.name] = el.value; } return; }
      values[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    try {
      window.sessionStorage.setItem(PREFIX + form.dataset.keepOnLanguageSwitch, JSON.stringify(values));
    } catch (e) { /* storage unavailable: the switch still works, only without the typed text */ }
  }

  function restore(form) {
    var key = PREFIX + form.dataset.keepOnLanguageSwitch;
    var stored;
    try {
      stored = window.sessionStorage.getItem(key);
      window.sessionStorage.removeItem(key);
    } catch (e) { return; }
    if (!stored) { return; }
    var values = JSON.parse(stored);
    fields(form).forEach(function (el) {
      if (!(el.name in values)) { return; }
      if (el.type === "checkbox") { el.checked = values[el.name] === true; }
      else if (el.type === "radio") {
        el.checked = el.value === values[el.name];
        // listeners (the platform hint, static/js/platforms.js) follow the restored choice
        if (el.checked) { el.dispatchEvent(new Event("change", {bubbles: true})); }
      }
      else if (!el.value) { el.value = values[el.name]; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-keep-on-language-switch]");
    if (!form) { return; }
    restore(form);
    document.querySelectorAll(".lang-switch a[hreflang]").forEach(function (link) {
      link.addEventListener("click", function () { save(form); });
    });
  });
})();

/* Clients abroad: beside a practice time marked data-local-time="<ISO instant>", show the same
   instant in the browser's own zone when that zone differs. The practice time stays the reference;
   without script nothing changes. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.documentElement;
    var practice = document.body.dataset.practiceZone;
    var own;
    try { own = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!own || !practice) { return; }
    var probe = function (zone, when) {
      return new Intl.DateTimeFormat("en-GB", {timeZone: zone, hour: "2-digit", minute: "2-digit",
        day: "2-digit", month: "2-digit", year: "numeric"}).format(when);
    };
    document.querySelectorAll("[data-local-time]").forEach(function (el) {
      var when = new Date(el.dataset.localTime);
      if (isNaN(when.getTime()) || probe(own, when) === probe(practice, when)) { return; }
      var text = new Intl.DateTimeFormat(root.lang || undefined, {
        timeZone: own, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
        timeZoneName: "short"
      }).format(when);
      var span = document.createElement("span");
      span.className = "local-time";
      span.setAttribute("data-local-time-shown", own);
      span.textContent = " (" + document.body.dataset.localLabel + ": " + text + ")";
      el.insertAdjacentElement("afterend", span);
    });
  });
})();
