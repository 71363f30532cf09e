// Bar charts drawn from a JSON block (the Messages and Inbox figures; a table beside each says the same):
// <canvas data-bar-chart="<id of the JSON>" data-legend="bottom|none" data-bar-width="24">. Pages work without it.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.Chart) return;
  const rtl = document.documentElement.dir === "rtl";
  document.querySelectorAll("canvas[data-bar-chart]").forEach((canvas) => {
    const data = document.getElementById(canvas.dataset.barChart);
    if (!data) return;
    const series = JSON.parse(data.textContent);
    const legend = canvas.dataset.legend === "none" ? { display: false } : { position: "bottom", rtl: rtl };
    const width = Number(canvas.dataset.barWidth || 32);
    canvas.closest(".chart-card").classList.add("has-chart");
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: series.labels,
              datasets: series.datasets.map((set) => ({ ...set, borderRadius: 3, maxBarThickness: width })) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined,
        locale: document.documentElement.lang || "en",
        scales: {
          x: { reverse: rtl, grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0 } },
          y: { beginAtZero: true, position: rtl ? "right" : "left", ticks: { precision: 0 } },
        },
        plugins: { legend: legend, tooltip: { rtl: rtl } },
      },
    });
  });
});
