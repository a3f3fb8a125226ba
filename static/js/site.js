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
