// The console's one script: draws the balance chart from the JSON block the
// server rendered (no inline script: the Content-Security-Policy allows none).
// The page works without it; the chart is the one thing it adds.
(function () {
  "use strict";
  function draw() {
    var box = document.getElementById("balance-chart");
    var data = document.getElementById("chart-data");
    if (!box || !data || typeof uPlot === "undefined") return;
    var d = JSON.parse(data.textContent);
    var ys = d.balance.map(function (s) { return parseFloat(s); }); // for drawing only
    var width = Math.max(300, Math.min(box.clientWidth || 900, 1100));
    var opts = {
      width: width, height: 260,
      scales: { x: { time: true } },
      series: [{}, { label: "Balance (" + d.currency + ")", stroke: "#1f5f99", width: 2, paths: uPlot.paths.stepped({ align: 1 }) }],
      axes: [{}, { size: 80 }]
    };
    var plot = new uPlot(opts, [d.x, ys], box);
    // What the tests read back from the DOM: the points the chart holds.
    box.setAttribute("data-drawn", String(plot.data[0].length));
  }
  // The dashboard's charges per minute over the last hour.
  function drawRate() {
    var box = document.getElementById("rate-chart");
    var data = document.getElementById("rate-data");
    if (!box || !data || typeof uPlot === "undefined") return;
    var d = JSON.parse(data.textContent);
    var width = Math.max(300, Math.min(box.clientWidth || 900, 1100));
    var plot = new uPlot({
      width: width, height: 200,
      scales: { x: { time: true } },
      series: [{}, { label: "Charges per minute", stroke: "#1f5f99", width: 2, fill: "rgba(31,95,153,0.12)" }]
    }, [d.x, d.y], box);
    box.setAttribute("data-drawn", String(plot.data[0].length));
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("DOMContentLoaded", drawRate);
})();
