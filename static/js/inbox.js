// Inbox: the bar chart of conversations per day (the figures beside it say the same). Works without this file.
document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("inbox-chart-data");
  const canvas = document.getElementById("inbox-chart");
  if (!data || !canvas || !window.Chart) return;
  const series = JSON.parse(data.textContent);
  const rtl = document.documentElement.dir === "rtl";
  canvas.closest(".chart-card").classList.add("has-chart");
  new window.Chart(canvas, {
    type: "bar",
    data: { labels: series.labels, datasets: series.datasets.map((set) => ({ ...set, borderRadius: 3, maxBarThickness: 24 })) },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined,
      locale: document.documentElement.lang || "en",
      scales: {
        x: { reverse: rtl, grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0 } },
        y: { beginAtZero: true, position: rtl ? "right" : "left", ticks: { precision: 0 } },
      },
      plugins: { legend: { display: false }, tooltip: { rtl: rtl } },
    },
  });
});
