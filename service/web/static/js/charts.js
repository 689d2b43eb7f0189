// uPlot charts: time series with shaded windows, session markers and a normal band.
// Draw time (data in hand to pixels on the canvas) is kept on the element (data-draw-ms).

const PALETTE = { line: "#0b5cad", second: "#a4161a", band: "rgba(22,128,60,0.15)", marker: "rgba(16,42,67,0.55)" };

function sizeOf(target) {
  const width = Math.max(280, target.clientWidth || 600);
  return { width, height: width < 500 ? 220 : 280 };
}

/** Shaded spans ([{from, to, fill, label}]) and vertical markers (seconds), under the series. */
function backdrop(spans, markers) {
  return (u) => {
    const { ctx } = u;
    const { top, height } = u.bbox;
    ctx.save();
    for (const span of spans) {
      const x0 = u.valToPos(span.from, "x", true);
      const x1 = u.valToPos(span.to, "x", true);
      ctx.fillStyle = span.fill;
      ctx.fillRect(Math.min(x0, x1), top, Math.abs(x1 - x0), height);
    }
    ctx.strokeStyle = PALETTE.marker;
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
    for (const at of markers) {
      const x = u.valToPos(at, "x", true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
    }
    ctx.restore();
  };
}

/**
 * A time chart. xs: seconds; series: [{label, values, stroke, unit, points}];
 * band: {low, high} value arrays drawn as a filled band; spans and markers as above;
 * range: [from, to] in seconds for the x axis (default: the data's extent).
 */
export function timeChart(target, { xs, series, band, spans = [], markers = [], tz, yLabel = "", range }) {
  const started = performance.now();
  const data = [xs, ...series.map((s) => s.values)];
  const opts = {
    ...sizeOf(target),
    tzDate: tz ? (ts) => uPlot.tzDate(new Date(ts * 1e3), tz) : undefined,
    // A fixed range keeps charts of one page aligned whatever the data cover.
    scales: { x: range ? { time: true, range: () => range } : { time: true } },
    axes: [{}, { label: yLabel, size: 60 }],
    series: [{ label: "Time" }, ...series.map((s) => ({
      label: s.label, stroke: s.stroke || PALETTE.line, width: s.width || 1.5,
      points: { show: s.points ?? false }, spanGaps: false,
      value: (u, v) => (v === null || v === undefined ? "–" : `${v.toFixed(s.digits ?? 1)} ${s.unit || ""}`),
    }))],
    hooks: {
      drawClear: [backdrop(spans, markers)],
      // uPlot draws after its constructor returns: the first draw hook ends the timing.
      draw: [() => { if (!target.dataset.drawMs) target.dataset.drawMs = (performance.now() - started).toFixed(1); }],
    },
    legend: { live: true },
  };
  if (band) {
    data.push(band.low, band.high);
    const lo = data.length - 2;
    opts.series.push({ label: "Normal low", stroke: "rgba(22,128,60,0.6)", width: 1, value: (u, v) => v == null ? "–" : v.toFixed(2) },
                     { label: "Normal high", stroke: "rgba(22,128,60,0.6)", width: 1, value: (u, v) => v == null ? "–" : v.toFixed(2) });
    opts.bands = [{ series: [lo + 1, lo], fill: PALETTE.band }];
  }
  if (target.vagusChart) {  // redrawn for another range: let the old chart go
    target.vagusChart.resize.disconnect();
    target.vagusChart.plot.destroy();
  }
  target.replaceChildren();
  delete target.dataset.drawMs;
  const plot = new uPlot(opts, data, target);
  target.dataset.points = String(xs.length);
  const resize = new ResizeObserver(() => plot.setSize(sizeOf(target)));
  resize.observe(target);
  target.vagusChart = { plot, resize };
  return plot;
}

export const WINDOW_FILLS = { pre: "rgba(11, 92, 173, 0.14)", during: "rgba(120, 120, 120, 0.16)", post: "rgba(22, 128, 60, 0.16)" };
export const seconds = (iso) => Date.parse(iso) / 1000;
