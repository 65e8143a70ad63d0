// Draws each chart a page embeds as <script type="application/json" data-chart="target-id">,
// with plotly.js served locally (the same library the reports use). A box selection on a time
// chart fills the page's range inputs marked data-range-from / data-range-to.
(function () {
  if (!window.Plotly) { return; }
  document.querySelectorAll("script[type='application/json'][data-chart]").forEach(function (data) {
    var target = document.getElementById(data.dataset.chart);
    if (!target) { return; }
    var figure = JSON.parse(data.textContent);
    window.Plotly.newPlot(target, figure.data, figure.layout, { responsive: true, displaylogo: false });
    target.on("plotly_selected", function (event) {
      if (!event || !event.range || !event.range.x) { return; }
      var pad = function (text) { return String(text).replace(" ", "T").slice(0, 16); };
      document.querySelectorAll("[data-range-from]").forEach(function (i) { i.value = pad(event.range.x[0]); });
      document.querySelectorAll("[data-range-to]").forEach(function (i) { i.value = pad(event.range.x[1]); });
    });
  });
})();
