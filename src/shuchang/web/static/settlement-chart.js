/* Monthly transaction value (每月交易额) on the settlement page, drawn with the vendored
   Apache ECharts from the JSON the page carries (#monthly-data); no other script runs. */
(function () {
  "use strict";
  function draw() {
    var box = document.getElementById("monthly-chart");
    var data = document.getElementById("monthly-data");
    if (!box || !data || typeof echarts === "undefined") { return; }
    var series = JSON.parse(data.textContent);
    var chart = echarts.init(box, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [box.dataset.gross, box.dataset.net, box.dataset.calls] },
      grid: { left: 64, right: 64, top: 56, bottom: 32 },
      xAxis: { type: "category", data: series.periods },
      yAxis: [
        { type: "value", name: "¥" },
        { type: "value", name: box.dataset.calls, splitLine: { show: false } }
      ],
      series: [
        { name: box.dataset.gross, type: "bar", data: series.gross },
        { name: box.dataset.net, type: "bar", data: series.net },
        { name: box.dataset.calls, type: "line", yAxisIndex: 1, data: series.calls }
      ]
    });
    box.dataset.rendered = "true";
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
