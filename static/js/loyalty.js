// Loyalty pages: the earn vs redeem chart (the table under it has the same numbers) and the
// confirmation before a new program replaces the active one. Pages work without this file.
document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("earn-redeem-data");
  const canvas = document.getElementById("earn-redeem-chart");
  if (data && canvas && window.Chart) {
    const series = JSON.parse(data.textContent);
    const rtl = document.documentElement.dir === "rtl";
    const locale = document.documentElement.lang || "en";
    const format = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short" });
    canvas.closest(".chart-card").classList.add("has-chart");
    const table = canvas.closest(".chart-card").querySelector("details.chart-table");
    if (table) table.open = false;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels.map((day) => format.format(new Date(day + "T12:00:00"))),
        datasets: [
          { label: series.names.earned, data: series.earned, backgroundColor: "#0f766e" },
          { label: series.names.redeemed, data: series.redeemed, backgroundColor: "#f59e0b" },
          { label: series.names.expired, data: series.expired, backgroundColor: "#cbd5e1" },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined,
        scales: { x: { reverse: rtl, grid: { display: false } }, y: { beginAtZero: true, position: rtl ? "right" : "left" } },
        plugins: { legend: { position: "bottom", rtl: rtl }, tooltip: { rtl: rtl } },
      },
    });
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm-activate]");
  const box = form && form.querySelector('input[name="activate"]');
  if (box && box.checked && !window.confirm(form.dataset.confirmActivate)) {
    event.preventDefault();
  }
});
