"""Helpers for the browser tests: axe-core's run, and moving through a page with the keyboard only."""

#: axe-core's check of the whole document, violations only, each with a few of its nodes.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " :: " + (n.failureSummary || "").split("\\n").slice(1, 2).join(""))}));
}"""

#: Whether the focused element shows where the focus is: its own outline or box-shadow, or (for a
#: radio or checkbox styled through its label) its label's.
_FOCUS_SHOWN = """(selector) => {
  const el = document.activeElement;
  if (!el || !el.matches(selector)) return "elsewhere";
  const shows = (node) => {
    if (!node) return false;
    const s = getComputedStyle(node);
    return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
  };
  return shows(el) || shows(el.closest("label, .platform-option, summary")) ? "shown" : "invisible";
}"""


def tab_to(page, selector, limit=80, backwards=False):
    """Press Tab (Shift+Tab) until the element matching ``selector`` has the focus, and check that
    the focus is visible there. Fails if the keyboard cannot reach it within ``limit`` presses."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        state = page.evaluate(_FOCUS_SHOWN, selector)
        if state == "shown":
            return
        assert state != "invisible", f"{selector} has the focus but shows no focus indicator"
    raise AssertionError(f"{selector} not reached with {limit} presses of {key}; the focus is on "
                         + page.evaluate("document.activeElement && document.activeElement.outerHTML.slice(0, 200)"))
