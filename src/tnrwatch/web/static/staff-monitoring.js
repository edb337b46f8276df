/* staff-monitoring.js: draws the charts of the monitoring page and of the state profiles
 * (templates/staff/monitoring.html, state.html).
 *
 * The Vega-Lite specifications are built on the server (web/staff/charts.py) and travel in the page, in the JSON
 * block #chart-specs, keyed by the id of the element each one is drawn into: the script fetches nothing. Vega runs
 * with its expression interpreter, on a canvas, without its default styles and tooltips: the page's CSP allows no
 * eval and no inline style. Every chart has a table beside it holding the same numbers.
 */
(function () {
  'use strict';

  const block = document.getElementById('chart-specs');
  const status = document.getElementById('chart-status');
  if (!block || !window.vegaEmbed || !window.vegaInterpreter) return;
  const specs = JSON.parse(block.textContent);
  const options = {
    renderer: 'canvas', actions: false, defaultStyle: false, tooltip: false, ast: true,
    expr: vegaInterpreter.expressionInterpreter,
  };

  async function draw(id, spec) {
    const box = document.getElementById(id);
    if (!box) return;
    await vegaEmbed(box, spec, options);
    box.dataset.drawn = 'true';
  }

  Promise.all(Object.entries(specs).map(([id, spec]) => draw(id, spec))).catch((error) => {
    if (status) {
      status.classList.add('staff-status-error');
      status.textContent = `A chart could not be drawn: ${error.message}. The tables hold the same numbers.`;
    }
  });
}());
