// Small progressive enhancements; every page works without this file.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

document.addEventListener("DOMContentLoaded", () => {
  // Flash messages fade after a while but stay for screen readers until then.
  document.querySelectorAll(".flash-success, .flash-info").forEach((flash) => {
    setTimeout(() => flash.classList.add("fade"), 6000);
  });
});
