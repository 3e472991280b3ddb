(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("newstables-data").textContent);
  var colors = {}, titles = {}, hiddenTables = {};
  data.tables.forEach(function (t) { colors[t.name] = t.color; titles[t.name] = t.title; });
  var textBox = document.getElementById("text"), list = document.getElementById("rows");
  var statusLine = document.getElementById("status"), showAll = document.getElementById("showall");
  var search = document.getElementById("search"), aside = list.parentNode;
  var segsOfRow = data.rows.map(function () { return []; });
  var rowEls = [], segEls = [];

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function paint(seg) {
    var rows = seg._rows.filter(function (i) { return !hiddenTables[data.rows[i].t]; });
    seg.classList.toggle("off", rows.length === 0);
    seg.style.background = rows.length ? colors[data.rows[rows[0]].t] : "";
  }

  // Legend: one key per table (click to hide its highlights), then the underline styles.
  var legend = document.getElementById("legend");
  data.tables.forEach(function (t) {
    var n = data.rows.filter(function (r) { return r.t === t.name; }).length;
    var key = el("span", "key");
    key.setAttribute("data-legend", t.name);
    var swatch = el("i"); swatch.style.background = t.color; key.appendChild(swatch);
    key.appendChild(document.createTextNode(t.name + " (" + n + ")"));
    key.title = t.title + ": click to hide or show its highlights";
    key.addEventListener("click", function () {
      hiddenTables[t.name] = !hiddenTables[t.name];
      key.classList.toggle("off", !!hiddenTables[t.name]);
      segEls.forEach(paint);
    });
    legend.appendChild(key);
  });
  var corrKey = el("span", "key style", "dotted red underline: a correction applies");
  var warnKey = el("span", "key style", "wavy orange underline: quotation differs from the wire");
  legend.appendChild(corrKey); legend.appendChild(warnKey);

  // The text, segment by segment.
  data.documents.forEach(function (doc) {
    textBox.appendChild(el("h2", null, doc.title + " [" + doc.id + "]"));
    doc.segments.forEach(function (piece) {
      if (!piece[1].length) { textBox.appendChild(document.createTextNode(piece[0])); return; }
      var seg = el("span", "seg", piece[0]);
      seg._rows = piece[1];
      seg.classList.toggle("corr", piece[1].some(function (i) { return data.rows[i].corr; }));
      seg.classList.toggle("warn", piece[1].some(function (i) { return data.rows[i].warn; }));
      seg.title = piece[1].map(function (i) { return data.rows[i].t + " " + data.rows[i].id; }).join("\n");
      piece[1].forEach(function (i) { segsOfRow[i].push(seg); });
      seg.addEventListener("click", function () { selectRows(seg._rows); });
      paint(seg);
      segEls.push(seg);
      textBox.appendChild(seg);
    });
  });

  // The rows: one element per evidence row, with its fields in a hidden detail.
  data.rows.forEach(function (r, i) {
    var item = el("li", "row");
    item.setAttribute("data-table", r.t);
    item.setAttribute("data-id", r.id);
    item.style.borderLeftColor = colors[r.t];
    var head = el("div", "sum");
    head.appendChild(el("span", "tbl", r.t));
    head.appendChild(el("span", "id", r.id));
    if (r.corr) { head.appendChild(el("span", "flag", "correction")); }
    if (r.warn) { head.appendChild(el("span", "flag w", "fidelity warning")); }
    var fields = {};
    r.fields.forEach(function (pair) { fields[pair[0]] = pair[1]; });
    var excerpt = fields.excerpt || "";
    head.appendChild(el("div", "preview", excerpt.length > 90 ? excerpt.slice(0, 90) + "…" : excerpt));
    item.appendChild(head);
    var detail = el("div", "detail");
    detail.hidden = true;
    detail.appendChild(el("div", "excerpt", excerpt));
    r.notes.forEach(function (note) { detail.appendChild(el("p", "note", note)); });
    var dl = el("dl");
    r.fields.forEach(function (pair) {
      if (pair[0] === "excerpt") { return; }
      dl.appendChild(el("dt", null, pair[0]));
      dl.appendChild(el("dd", null, pair[1]));
    });
    detail.appendChild(dl);
    item.appendChild(detail);
    item._search = (r.t + " " + r.id + " " + JSON.stringify(r.fields) + " " + r.notes.join(" ")).toLowerCase();
    item.addEventListener("click", function () { openRow(i); });
    rowEls.push(item);
    list.appendChild(item);
  });

  var ext = document.getElementById("external");
  ext.querySelector("summary").textContent = data.external.length +
    " rows rest on external references, not on the text";
  data.external.forEach(function (r) {
    ext.querySelector("ul").appendChild(el("li", null, r.t + " " + r.id + " (source: " + r.source + ")"));
  });

  function clearActive() {
    segEls.forEach(function (s) { s.classList.remove("active"); });
    rowEls.forEach(function (e) { e.classList.remove("selected"); });
  }

  function openRow(i) {
    var item = rowEls[i], detail = item.querySelector(".detail"), opening = detail.hidden;
    clearActive();
    detail.hidden = !opening;
    if (!opening) { return; }
    item.classList.add("selected");
    segsOfRow[i].forEach(function (s) { s.classList.add("active"); });
    // Scroll inside the two panes only, never the window, so the header stays in view.
    if (segsOfRow[i].length) { textBox.scrollTop = segsOfRow[i][0].offsetTop - textBox.clientHeight / 3; }
    aside.scrollTop = item.offsetTop - 60;
    window.location.hash = encodeURIComponent(data.rows[i].t + ":" + data.rows[i].id);
  }

  function selectRows(indices) {
    clearActive();
    var wanted = {};
    indices.forEach(function (i) { wanted[i] = true; });
    rowEls.forEach(function (e, i) { e.classList.toggle("hidden", !wanted[i]); });
    indices.forEach(function (i) {
      rowEls[i].classList.add("selected");
      segsOfRow[i].forEach(function (s) { s.classList.add("active"); });
    });
    statusLine.textContent = indices.length + " rows rest on this passage.";
    showAll.hidden = false;
    aside.scrollTop = 0;
  }

  function filter() {
    var q = search.value.trim().toLowerCase(), shown = 0;
    clearActive();
    segEls.forEach(function (s) { s.classList.remove("found"); });
    rowEls.forEach(function (e, i) {
      var hit = !q || e._search.indexOf(q) >= 0;
      e.classList.toggle("hidden", !hit);
      if (hit) {
        shown += 1;
        if (q) { segsOfRow[i].forEach(function (s) { s.classList.add("found"); }); }
      }
    });
    statusLine.textContent = q ? shown + " of " + rowEls.length + " rows match." :
      rowEls.length + " rows with evidence in the text.";
    showAll.hidden = !q;
  }

  search.addEventListener("input", filter);
  showAll.addEventListener("click", function () { search.value = ""; filter(); });
  filter();

  // A link such as index.html#statements:some-id opens that row.
  if (window.location.hash) {
    var wanted = decodeURIComponent(window.location.hash.slice(1));
    data.rows.forEach(function (r, i) { if (r.t + ":" + r.id === wanted) { openRow(i); } });
  }
})();
