// tachygate report: table sorting, metric toggle, flame graphs, copy buttons, #selftest.
// Data reaches the DOM through textContent and attributes only, never innerHTML.
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var ROW = 18;
  var record = window.tachygateRecordError || function () {};
  var tip = document.getElementById("tip");

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  // ---- tables ---------------------------------------------------------------------------
  function visibleRows(table) {
    var m = table.getAttribute("data-metric");
    return Array.prototype.filter.call(table.tBodies[0].rows, function (r) {
      return r.classList.contains("m-" + m);
    });
  }

  function sortTable(table, key, type, dir) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var sign = dir === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      var x = a.getAttribute("data-" + key), y = b.getAttribute("data-" + key);
      var c = type === "str" ? x.localeCompare(y) : (parseFloat(x) - parseFloat(y));
      if (type !== "str" && key !== "rank") {
        // Numbers sort by magnitude for changes, so big moves either way come first.
        if (key === "delta") { c = Math.abs(parseFloat(x)) - Math.abs(parseFloat(y)); }
      }
      return sign * (c || 0);
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r); });
    body.appendChild(frag);
  }

  each(document.querySelectorAll("table.fn-table"), function (table) {
    each(table.querySelectorAll("th button[data-key]"), function (b) {
      b.addEventListener("click", function () {
        var th = b.parentNode;
        var key = b.getAttribute("data-key"), type = b.getAttribute("data-type") || "num";
        var cur = th.getAttribute("aria-sort");
        var first = (type === "str" || key === "rank" || key === "p") ? "ascending" : "descending";
        var dir = cur === first ? (first === "ascending" ? "descending" : "ascending") : first;
        each(table.querySelectorAll("th[aria-sort]"), function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", dir);
        sortTable(table, key, type, dir);
      });
    });
  });

  each(document.querySelectorAll("input.metric-radio"), function (r) {
    r.addEventListener("change", function () {
      var t = document.getElementById(r.getAttribute("data-table"));
      if (t && r.checked) { t.setAttribute("data-metric", r.value); }
    });
  });

  each(document.querySelectorAll(".repro .copy"), function (b) {
    b.addEventListener("click", function () {
      var code = b.parentNode.querySelector("code");
      if (code && navigator.clipboard) {
        navigator.clipboard.writeText(code.textContent).then(function () {
          b.textContent = "Copied";
        }, function () { b.textContent = "Copy failed"; });
      }
    });
  });

  // ---- tooltip --------------------------------------------------------------------------
  function showTip(lines, x, y) {
    while (tip.firstChild) { tip.removeChild(tip.firstChild); }
    lines.forEach(function (l) {
      var d = document.createElement("div");
      d.textContent = l;
      tip.appendChild(d);
    });
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var left = Math.min(x + 14, window.innerWidth - w - 8);
    var top = y + 16 + h > window.innerHeight ? y - h - 10 : y + 16;
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = Math.max(4, top) + "px";
  }
  function hideTip() { tip.hidden = true; }

  // ---- flame graphs ---------------------------------------------------------------------
  function Flame(box, data) {
    var n = data.n || [], count = Math.floor(n.length / 3);
    var fns = data.fn || [];
    this.box = box;
    this.svg = box.querySelector(".flame-svg");
    this.reset = box.querySelector(".flame-reset");
    this.crumb = box.querySelector(".flame-crumb");
    this.fns = fns;
    this.total = data.total || 0;
    this.count = count;
    var parent = this.parent = new Int32Array(count);
    var func = this.func = new Int32Array(count);
    var value = this.value = new Float64Array(count);
    var depth = this.depth = new Int32Array(count);
    var x0 = this.x0 = new Float64Array(count);
    var next = new Float64Array(count);
    var size = this.size = new Int32Array(count);
    var maxDepth = 0;
    for (var i = 0; i < count; i++) {
      var p = n[3 * i];
      // Parents precede children (preorder); anything else is treated as a root child.
      if (i > 0 && !(p >= 0 && p < i)) { p = 0; }
      parent[i] = i === 0 ? -1 : p;
      func[i] = n[3 * i + 1];
      value[i] = Math.max(0, n[3 * i + 2] || 0);
      size[i] = 1;
      if (i > 0) {
        depth[i] = depth[p] + 1;
        x0[i] = next[p];
        next[p] += value[i];
        if (depth[i] > maxDepth) { maxDepth = depth[i]; }
      }
      next[i] = x0[i];
    }
    for (var j = count - 1; j > 0; j--) { size[parent[j]] += size[j]; }
    this.maxDepth = maxDepth;
    this.zoom = 0;
    this.width = 0;
    var self = this;
    this.svg.addEventListener("click", function (e) {
      var i = e.target.getAttribute && e.target.getAttribute("data-i");
      if (i !== null && i !== undefined) { self.zoomTo(parseInt(i, 10)); }
    });
    this.svg.addEventListener("mousemove", function (e) {
      var i = e.target.getAttribute && e.target.getAttribute("data-i");
      if (i === null || i === undefined) { hideTip(); return; }
      showTip(self.describe(parseInt(i, 10)), e.clientX, e.clientY);
    });
    this.svg.addEventListener("mouseleave", hideTip);
    this.reset.addEventListener("click", function () { self.zoomTo(0); });
  }

  Flame.prototype.label = function (i) {
    var f = this.fns[this.func[i]];
    return i === 0 || !f ? "all samples" : String(f[0]);
  };

  Flame.prototype.describe = function (i) {
    var f = this.fns[this.func[i]];
    var v = this.value[i], share = this.total > 0 ? (100 * v / this.total).toFixed(2) : "0.00";
    var lines = [this.label(i)];
    if (f) { lines.push(String(f[1])); }
    lines.push(v + " samples, " + share + "% of the candidate's samples");
    if (f && f[2]) {
      lines.push("self change: " + f[2] + " (" + f[3] + ")");
    } else if (i !== 0) {
      lines.push("self change: not compared");
    }
    if (f && f[5]) {
      lines.push("cumulative change: " + f[5] + " (" + f[6] + ")");
    }
    if (f && f[7] === "culprit") {
      lines.push("its own cost changed");
    } else if (f && f[7] === "carrier") {
      lines.push("carries a change of a function below it");
    }
    return lines;
  };

  Flame.prototype.rect = function (i, x, w, y, cls) {
    var r = document.createElementNS(SVGNS, "rect");
    r.setAttribute("x", x.toFixed(1));
    r.setAttribute("y", y);
    r.setAttribute("width", w.toFixed(1));
    r.setAttribute("height", ROW - 1);
    var f = this.fns[this.func[i]];
    var role = i !== 0 && f && f[7] ? " " + f[7] : "";
    r.setAttribute("class", cls + role);
    r.setAttribute("data-i", i);
    this.svg.appendChild(r);
    if (w > 40) {
      var t = document.createElementNS(SVGNS, "text");
      var chars = Math.floor((w - 6) / 6.6);
      var s = this.label(i);
      t.textContent = s.length > chars ? s.slice(0, Math.max(1, chars - 1)) + "…" : s;
      t.setAttribute("x", (x + 3).toFixed(1));
      t.setAttribute("y", y + ROW - 5);
      var c = this.colour(i);
      if (c === -3 || c === 3) { t.setAttribute("class", "on-dark"); }
      this.svg.appendChild(t);
    }
    return r;
  };

  Flame.prototype.colour = function (i) {
    var f = this.fns[this.func[i]];
    var c = f ? (f[4] | 0) : 0;
    return Math.max(-3, Math.min(3, c));
  };

  Flame.prototype.draw = function () {
    var svg = this.svg;
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var width = svg.clientWidth || (svg.parentNode && svg.parentNode.clientWidth) || 1000;
    this.width = width;
    var z = this.zoom, zx = this.x0[z], zw = this.value[z] || 1;
    var scale = width / zw;
    svg.style.height = ((this.maxDepth + 1) * ROW) + "px";
    svg.setAttribute("viewBox", "0 0 " + width + " " + ((this.maxDepth + 1) * ROW));
    // Ancestors of the zoomed frame span the whole width, dimmed.
    var chain = [];
    for (var a = z; a >= 0; a = this.parent[a]) { chain.push(a); }
    for (var k = chain.length - 1; k >= 0; k--) {
      var ai = chain[k];
      this.rect(ai, 0, width, this.depth[ai] * ROW, "fc" + this.colour(ai) + (ai === z ? "" : " anc"));
    }
    var end = z + this.size[z];
    for (var i = z + 1; i < end; i++) {
      var w = this.value[i] * scale;
      if (w < 0.5) { i += this.size[i] - 1; continue; }
      this.rect(i, (this.x0[i] - zx) * scale, w, this.depth[i] * ROW, "fc" + this.colour(i));
    }
    this.reset.disabled = z === 0;
    var names = chain.slice().reverse().slice(1).map(this.label, this);
    this.crumb.textContent = z === 0 ? "" : "Zoomed: " + names.join(" › ");
  };

  Flame.prototype.zoomTo = function (i) {
    if (!(i >= 0 && i < this.count)) { return; }
    this.zoom = i;
    this.draw();
  };

  var flames = [];
  each(document.querySelectorAll(".flame[data-flame]"), function (box) {
    try {
      var el = document.getElementById(box.getAttribute("data-flame"));
      var data = JSON.parse(el ? el.textContent : "{}");
      var f = new Flame(box, data);
      f.draw();
      flames.push(f);
    } catch (e) {
      record("flame graph: " + (e && e.message ? e.message : e));
    }
  });
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      flames.forEach(function (f) { if (f.svg.clientWidth !== f.width) { f.draw(); } });
    }, 100);
  });
  window.addEventListener("beforeprint", function () { flames.forEach(function (f) { f.draw(); }); });

  // ---- self test (file://...index.html#selftest), for the headless browser test --------
  function selftest() {
    var results = [];
    function check(name, fn) {
      var ok = false;
      try { ok = !!fn(); } catch (e) { record(name + ": " + (e && e.message ? e.message : e)); }
      results.push(name + ":" + (ok ? "ok" : "fail"));
    }
    var table = document.querySelector("table.fn-table");
    check("sort", function () {
      var b = table.querySelector('button[data-key="delta"]');
      b.click();
      var d1 = visibleRows(table).map(function (r) { return Math.abs(parseFloat(r.getAttribute("data-delta"))); });
      b.click();
      var d2 = visibleRows(table).map(function (r) { return Math.abs(parseFloat(r.getAttribute("data-delta"))); });
      var desc = d1.every(function (v, i) { return i === 0 || d1[i - 1] >= v; });
      var asc = d2.every(function (v, i) { return i === 0 || d2[i - 1] <= v; });
      var nb = table.querySelector('button[data-key="name"]');
      nb.click();
      var names = visibleRows(table).map(function (r) { return r.getAttribute("data-name"); });
      var byName = names.every(function (v, i) { return i === 0 || names[i - 1].localeCompare(v) <= 0; });
      return d1.length > 1 && desc && asc && byName && d1[0] > d1[d1.length - 1];
    });
    check("toggle", function () {
      var radio = document.querySelector('input.metric-radio[value="self"]');
      radio.click();
      var rows = visibleRows(table);
      var ok = table.getAttribute("data-metric") === "self" && rows.length > 0 &&
        rows.every(function (r) { return r.classList.contains("m-self") && r.offsetParent !== null; }) &&
        table.querySelector("tr.m-cumulative").offsetParent === null;
      document.querySelector('input.metric-radio[value="cumulative"]').click();
      return ok && table.getAttribute("data-metric") === "cumulative";
    });
    var f = flames[0];
    var target = -1;
    check("flame", function () {
      return f && f.svg.querySelectorAll("rect[data-i]").length > 10;
    });
    check("zoom", function () {
      // A frame below the root with children and less than the whole width.
      for (var i = 2; i < f.count; i++) {
        if (f.depth[i] >= 2 && f.size[i] > 2 && f.value[i] < f.value[0] / 4 &&
            f.svg.querySelector('rect[data-i="' + i + '"]')) { target = i; break; }
      }
      var before = f.svg.querySelector('rect[data-i="' + target + '"]');
      before.dispatchEvent(new MouseEvent("click", { bubbles: true }));
      var after = f.svg.querySelector('rect[data-i="' + target + '"]');
      var child = f.svg.querySelector('rect[data-i="' + (target + 1) + '"]');
      return f.zoom === target && Math.abs(parseFloat(after.getAttribute("width")) - f.width) < 1 &&
        parseFloat(before.getAttribute("width")) < f.width && child !== null && !f.reset.disabled &&
        f.crumb.textContent.indexOf("Zoomed") === 0;
    });
    check("reset", function () {
      f.reset.click();
      var root = f.svg.querySelector('rect[data-i="0"]');
      var t = f.svg.querySelector('rect[data-i="' + target + '"]');
      return f.zoom === 0 && f.reset.disabled && Math.abs(parseFloat(root.getAttribute("width")) - f.width) < 1 &&
        parseFloat(t.getAttribute("width")) < f.width;
    });
    check("tooltip", function () {
      var r = f.svg.querySelector('rect[data-i="1"]');
      var box = r.getBoundingClientRect();
      r.dispatchEvent(new MouseEvent("mousemove", { bubbles: true, clientX: box.left + 2, clientY: box.top + 2 }));
      var ok = !tip.hidden && tip.textContent.indexOf(f.label(1)) >= 0 && tip.textContent.indexOf("samples") >= 0;
      hideTip();
      return ok;
    });
    document.body.setAttribute("data-selftest", results.join(" "));
  }
  if (window.location.hash === "#selftest") { selftest(); }
})();
