// MatNeo front end: NHS.UK components, then charts. Pages work without it: every chart has a
// data table and CSV download beside it.
import { initAll } from "/static/vendor/nhsuk-frontend/nhsuk-frontend.min.js";

document.body.classList.add("nhsuk-frontend-supported");
initAll();

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(script);
  });
}

async function renderCharts() {
  const targets = document.querySelectorAll("[data-chart]");
  if (!targets.length) return;
  for (const src of ["vega.min.js", "vega-lite.min.js", "vega-embed.min.js"]) {
    await loadScript(`/static/vendor/vega/${src}`);
  }
  for (const target of targets) {
    const source = document.getElementById(target.dataset.chart);
    if (!source) continue;
    try {
      const spec = JSON.parse(source.textContent);
      // ast: Vega's expression interpreter (bundled in vega-embed), so the CSP needs no 'unsafe-eval';
      // default styles off, so it needs no inline styles either (ours are in matneo.css).
      await window.vegaEmbed(target, spec, {
        renderer: "svg",
        actions: false,
        ast: true,
        defaultStyle: false,
        tooltip: { disableDefaultStyle: true },
      });
      target.dataset.rendered = "true";
    } catch (error) {
      target.dataset.rendered = "failed";
      target.textContent = "The chart could not be drawn; the data table below has the same figures.";
      console.error(error);
    }
  }
  document.body.dataset.chartsReady = "true";
}

renderCharts();
