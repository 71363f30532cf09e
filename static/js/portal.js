// Small progressive enhancements; every page works without this file.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

document.addEventListener("DOMContentLoaded", () => {
  // After a refused submit, the first field with an error gets the focus (not the autofocus field).
  const invalid = document.querySelector('[aria-invalid="true"]');
  if (invalid) invalid.focus();
  // Flash messages fade after a while but stay for screen readers until then.
  document.querySelectorAll(".flash-success, .flash-info").forEach((flash) => {
    setTimeout(() => flash.classList.add("fade"), 6000);
  });
});

// Copy buttons (data-copy="<id of a read-only input>"): hidden without JavaScript, where the input
// can still be selected by hand. The clipboard API needs a secure context; select() + copy otherwise.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button[data-copy]").forEach((button) => { button.hidden = false; });
});
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  const source = button && document.getElementById(button.dataset.copy);
  if (!source) return;
  let copied = false;
  try {
    await navigator.clipboard.writeText(source.value);
    copied = true;
  } catch {
    source.focus();
    source.select();
    try { copied = document.execCommand("copy"); } catch { copied = false; }
  }
  if (copied && button.dataset.copied) {
    const label = button.textContent;
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 2000);
  }
});

// The Settings menu closes when you click elsewhere or press Escape.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.nav-menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.open = false;
  });
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") document.querySelectorAll("details.nav-menu[open]").forEach((menu) => { menu.open = false; });
});

// htmx does not swap an error answer (403, 413, 429, 500...): show its message above the page instead
// of letting the click look ignored. The server sends a small .flash fragment for htmx requests.
document.addEventListener("htmx:responseError", (event) => {
  const template = document.createElement("template");
  template.innerHTML = event.detail.xhr.responseText || "";
  const flash = template.content.querySelector(".flash");
  const main = document.getElementById("main");
  if (!flash || !main) return;
  let flashes = main.querySelector(".flashes");
  if (!flashes) {
    flashes = document.createElement("div");
    flashes.className = "flashes";
    flashes.setAttribute("role", "status");
    flashes.setAttribute("aria-live", "polite");
    main.prepend(flashes);
  }
  flashes.replaceChildren(flash);
  flashes.scrollIntoView({ block: "nearest" });
});
