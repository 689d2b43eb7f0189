// An estimate and its interval on a horizontal scale, with no change (0) and the
// smallest worthwhile change (±SWC) marked: an inline SVG, readable in print.
const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

export function scale({ estimate, low, high, swc, unit = "", digits = 2, better = "higher" }) {
  const values = [estimate, low, high, swc, swc && -swc].filter((v) => v !== null && v !== undefined);
  const reach = Math.max(...values.map(Math.abs), 1e-9) * 1.25;
  const W = 480, H = 74, left = 16, right = W - 16, y = 34;
  const x = (v) => left + ((v + reach) / (2 * reach)) * (right - left);
  const fmt = (v) => `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v).toFixed(digits)}`;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "scale", role: "img" });
  const label = [`Estimate ${estimate == null ? "none" : fmt(estimate)} ${unit}`,
    low != null ? `interval ${fmt(low)} to ${fmt(high)}` : "", swc ? `smallest worthwhile change ±${swc.toFixed(digits)}` : ""]
    .filter(Boolean).join(", ");
  root.append(svg("title", {}, label));
  if (swc) {
    root.append(svg("rect", { x: x(-swc), y: y - 14, width: x(swc) - x(-swc), height: 28, fill: "#dfe3e8" }));
    if (x(swc) - x(-swc) < 70) {  // too narrow for two labels
      root.append(svg("text", { x: x(0), y: y - 18, "text-anchor": "middle" }, `±${swc.toFixed(digits)} smallest worthwhile change`));
    } else {
      root.append(svg("text", { x: x(swc), y: y - 18, "text-anchor": "middle" }, `+${swc.toFixed(digits)} SWC`));
      root.append(svg("text", { x: x(-swc), y: y - 18, "text-anchor": "middle" }, `−${swc.toFixed(digits)} SWC`));
    }
  }
  root.append(svg("line", { x1: left, x2: right, y1: y, y2: y, stroke: "#8a94a3" }));
  root.append(svg("line", { x1: x(0), x2: x(0), y1: y - 14, y2: y + 14, stroke: "#4a5360" }));
  root.append(svg("text", { x: x(0), y: y + 28, "text-anchor": "middle" }, `0 ${unit}`));
  root.append(svg("text", { x: right, y: y + 28, "text-anchor": "end" }, better === "lower" ? "← better" : "better →"));
  if (low != null && high != null) {
    root.append(svg("line", { x1: x(low), x2: x(high), y1: y, y2: y, stroke: "#102a43", "stroke-width": 4 }));
  }
  if (estimate != null) root.append(svg("circle", { cx: x(estimate), cy: y, r: 6, fill: "#0b5cad", stroke: "#fff", "stroke-width": 2 }));
  return root;
}
