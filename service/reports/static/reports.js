// Draws the report's chart from the figure the page embeds (plotly.js, served locally).
(function () {
  var data = document.getElementById("report-figure");
  var target = document.getElementById("report-chart");
  if (!data || !target || !window.Plotly) { return; }
  var figure = JSON.parse(data.textContent);
  window.Plotly.newPlot(target, figure.data, figure.layout, { responsive: true, displaylogo: false });
})();
