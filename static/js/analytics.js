// The reports' charts: drawn from the JSON beside each canvas, redrawn after every htmx swap.
// Without JavaScript every chart is still readable: its table is on the page.
(function () {
  "use strict";
  const drawn = new Set();
  let draws = 0;

  function report() { return document.getElementById("report"); }

  function formatter(kind) {
    const root = report();
    const lang = document.documentElement.lang || "en";
    const places = Number(root && root.dataset.places ? root.dataset.places : 2);
    const money = new Intl.NumberFormat(lang, { minimumFractionDigits: places, maximumFractionDigits: places });
    const count = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    const oneDecimal = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
    return (value) => {
      if (value === null || value === undefined) return "—";
      if (kind === "money") return money.format(value);
      if (kind === "percent") return oneDecimal.format(value) + " %";
      if (kind === "seconds") {
        const s = Math.round(value);
        return s < 60 ? s + " s" : Math.floor(s / 60) + " min " + String(s % 60).padStart(2, "0") + " s";
      }
      return count.format(value);
    };
  }

  function config(data) {
    const rtl = document.documentElement.dir === "rtl";
    const horizontal = !!data.horizontal;
    const stacked = data.type === "stacked-bar";
    const format = formatter(data.format);
    const valueAxis = {
      stacked, beginAtZero: true, max: data.max,
      ticks: { callback: (value) => (data.format === "seconds" ? Math.round(value / 60) + " min" : format(value)),
               maxTicksLimit: 6, stepSize: data.format === "seconds" ? 300 : undefined },
      grid: { color: "#eef0f3" },
    };
    const categoryAxis = { stacked, grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0 } };
    const scales = horizontal
      ? { x: { ...valueAxis, reverse: rtl }, y: { ...categoryAxis, position: rtl ? "right" : "left" } }
      : { x: { ...categoryAxis, reverse: rtl }, y: { ...valueAxis, position: rtl ? "right" : "left" } };
    return {
      type: "bar",
      data: { labels: data.labels, datasets: data.datasets.map((set) => ({ ...set, borderRadius: 3, maxBarThickness: 42 })) },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true, maintainAspectRatio: false, animation: false,  // read at a glance, printed as shown
        locale: document.documentElement.lang || "en",
        interaction: { mode: "index", intersect: false },
        scales,
        plugins: {
          legend: { position: "bottom", rtl, textDirection: rtl ? "rtl" : "ltr",
                    display: data.datasets.length > 1, labels: { boxWidth: 12, boxHeight: 12 } },
          tooltip: { rtl, textDirection: rtl ? "rtl" : "ltr",
                     callbacks: { label: (item) => item.dataset.label + ": " + format(item.raw) } },
        },
      },
    };
  }

  function draw() {
    if (!window.Chart) return;
    drawn.forEach((chart) => { if (!chart.canvas || !chart.canvas.isConnected) { chart.destroy(); drawn.delete(chart); } });
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      if (window.Chart.getChart(canvas)) return;
      const source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      const box = canvas.parentElement;  // its height comes as data (the CSP allows no inline styles)
      if (box && box.dataset.height) box.style.height = `${box.dataset.height}px`;
      const chart = new window.Chart(canvas, config(JSON.parse(source.textContent)));
      drawn.add(chart);
      canvas.dataset.drawn = String(++draws);
    });
    // The chart is an image for screen readers; its table stays closed but one click away.
    syncRange();
  }

  // After a swap the server may have corrected the range (swapped, clamped): show what is shown.
  function syncRange() {
    const root = report();
    if (!root || !root.dataset.start) return;
    const from = document.getElementById("report-from");
    const to = document.getElementById("report-to");
    if (from && document.activeElement !== from) from.value = root.dataset.start;
    if (to && document.activeElement !== to) to.value = root.dataset.end;
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-print]")) window.print();
  });
  // Tables open for printing, so the printed page has the numbers behind every chart.
  window.addEventListener("beforeprint", () => {
    document.querySelectorAll("details.chart-table").forEach((details) => { details.dataset.wasOpen = details.open; details.open = true; });
  });
  window.addEventListener("afterprint", () => {
    document.querySelectorAll("details.chart-table").forEach((details) => { details.open = details.dataset.wasOpen === "true"; });
  });
})();
