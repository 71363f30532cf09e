// Menu pages: small enhancements; every form works without this file.
document.addEventListener("change", (event) => {
  // "Select all" in the mapping grid ticks every product checkbox of the page.
  const all = event.target.closest("input[data-select-all]");
  if (!all) return;
  document.querySelectorAll(`input[name="${all.dataset.selectAll}"]`).forEach((box) => { box.checked = all.checked; });
});

document.body?.addEventListener("htmx:afterSwap", (event) => {
  // Grid inputs are preserved across a cell's swap (what was typed is never lost); their error
  // state follows the new cell.
  const cell = event.detail.target?.closest?.(".map-cell") || (event.detail.elt?.classList?.contains("map-cell") ? event.detail.elt : null);
  const fresh = cell && document.getElementById(cell.id);
  if (!fresh) return;
  const errors = new Set([...fresh.querySelectorAll(".errors[id]")].map((el) => el.id));
  fresh.querySelectorAll("input[type=text]").forEach((input) => {
    const kind = input.name === "price" ? "price" : "pid";
    const errorId = `err-${kind}-${fresh.id.slice(5)}`;
    input.setAttribute("aria-invalid", errors.has(errorId) ? "true" : "false");
    if (errors.has(errorId)) input.setAttribute("aria-describedby", errorId); else input.removeAttribute("aria-describedby");
  });
});
