// The kitchen ticket: its Print button, and printing on open when asked (?print=1).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
if (document.body.hasAttribute("data-auto-print")) {
  window.addEventListener("load", () => window.print());
}
