/* The agreement page's live usage chart (Apache ECharts, vendored): requests permitted and
   denied per hour (or per day) as stacked bars, bytes as a line; polled every few seconds. */
(function () {
  "use strict";
  var el = document.getElementById("usage-chart");
  if (!el || !window.echarts) { return; }
  var chart = window.echarts.init(el, null, { renderer: "canvas" });
  var src = el.dataset.src;
  var every = parseInt(el.dataset.interval || "5000", 10);
  var labels = JSON.parse(el.dataset.labels || "{}");
  var view = "hours";
  var last = null;

  function fmtBytes(n) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i ? n.toFixed(1) : String(n)) + " " + units[i];
  }

  function draw(data) {
    var rows = view === "days" ? data.days : data.hours;
    var key = view === "days" ? "day" : "hour";
    var empty = rows.length === 0;
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: [labels.permitted, labels.denied, labels.bytes], top: 0 },
      grid: { left: 48, right: 64, top: 36, bottom: 32 },
      xAxis: { type: "category", data: rows.map(function (r) { return r[key]; }) },
      yAxis: [
        { type: "value", name: labels.requests, minInterval: 1 },
        { type: "value", name: labels.bytes, axisLabel: { formatter: fmtBytes } }
      ],
      graphic: empty ? [{
        type: "text", left: "center", top: "middle",
        style: { text: labels.empty, fontSize: 14, fill: "#888" }
      }] : [],
      series: [
        { name: labels.permitted, type: "bar", stack: "requests", itemStyle: { color: "#2f7d5b" },
          data: rows.map(function (r) { return r.permitted; }) },
        { name: labels.denied, type: "bar", stack: "requests", itemStyle: { color: "#c0392b" },
          data: rows.map(function (r) { return r.denied; }) },
        { name: labels.bytes, type: "line", yAxisIndex: 1, smooth: true,
          itemStyle: { color: "#2c5aa0" }, data: rows.map(function (r) { return r.bytes; }) }
      ]
    }, { replaceMerge: ["graphic", "series"] });
    var totals = data.totals;
    el.dataset.requests = String(totals.requests);
    el.dataset.denied = String(totals.denied);
    el.dataset.bytes = String(totals.bytes);
    el.dataset.points = String(rows.length);
    el.dataset.rendered = "true";
    var set = function (id, text) { var n = document.getElementById(id); if (n) { n.textContent = text; } };
    set("usage-requests", String(totals.requests));
    set("usage-permitted", String(totals.permitted));
    set("usage-denied", String(totals.denied));
    set("usage-bytes", fmtBytes(totals.bytes));
  }

  function poll() {
    fetch(src, { credentials: "same-origin", headers: { "accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (data) { last = data; draw(data); el.dataset.polls = String((+el.dataset.polls || 0) + 1); })
      .catch(function () { el.dataset.error = "true"; })
      .then(function () { window.setTimeout(poll, every); });
  }

  document.querySelectorAll("[data-usage-view]").forEach(function (button) {
    button.addEventListener("click", function () {
      view = button.dataset.usageView;
      document.querySelectorAll("[data-usage-view]").forEach(function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
      if (last) { draw(last); }
    });
  });
  window.addEventListener("resize", function () { chart.resize(); });
  poll();
}());
