// Charts drawn by the product itself as inline SVG (no chart library, no CDN), each with a
// table of the same numbers for screen readers and for reading exact values.
const SVG = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  return el;
}

/**
 * A column chart of `points` ([{label, value}], value null for "no data") titled `title`,
 * with `format` for the numbers; returns a <figure> holding the picture and its table.
 */
export function columnChart(h, title, points, format = (v) => String(v)) {
  const width = 600, height = 160, pad = 24;
  const values = points.map((p) => p.value ?? 0);
  const top = Math.max(...values, 0) || 1;
  const step = (width - pad) / Math.max(points.length, 1);
  const id = `chart-${Math.random().toString(36).slice(2)}`;
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height + pad}`, role: "img", "aria-labelledby": id, class: "chart", preserveAspectRatio: "none" });
  const name = svgEl("title", { id });
  name.textContent = `${title}: ${points.length} values, highest ${format(top)}`;
  svg.append(name, svgEl("line", { x1: pad, y1: height, x2: width, y2: height, class: "axis" }));
  points.forEach((p, i) => {
    const h_ = p.value === null ? 0 : Math.max(1, (p.value / top) * (height - 8));
    const bar = svgEl("rect", { x: pad + i * step + step * 0.15, y: height - h_, width: Math.max(step * 0.7, 1), height: h_, class: p.value === null ? "bar empty" : "bar" });
    const tip = svgEl("title");
    tip.textContent = `${p.label}: ${p.value === null ? "no data" : format(p.value)}`;
    bar.append(tip);
    svg.append(bar);
  });
  const axis = svgEl("text", { x: 0, y: 12, class: "axis-label" });
  axis.textContent = format(top);
  svg.append(axis);
  if (points.length) {
    const first = svgEl("text", { x: pad, y: height + 16, class: "axis-label" });
    first.textContent = points[0].label;
    const last = svgEl("text", { x: width, y: height + 16, class: "axis-label", "text-anchor": "end" });
    last.textContent = points[points.length - 1].label;
    svg.append(first, last);
  }
  const table = h("table", { class: "chart-table" },
    h("caption", {}, title),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Period"), h("th", { scope: "col" }, title))),
    h("tbody", {}, points.map((p) => h("tr", {}, h("th", { scope: "row" }, p.label), h("td", {}, p.value === null ? "—" : format(p.value))))));
  return h("figure", { class: "chart-box" }, h("figcaption", {}, title), svg,
    h("details", {}, h("summary", {}, `${title} as a table`), table));
}
