/* Indicator page of the Monitor gelijke kansen web publication.
 *
 * Reads window.PAGE (written by monitor_dagster/publication/site.py): the indicator's gated rows, the
 * registered trend breaks, the Vega-Lite template.  The reader chooses measure, breakdown and groups; the
 * chart (vegaEmbed, bundled in assets/vega.js: no network), the table under it and the CSV download always
 * show the same rows.  Suppressed cells stay visible as gaps with their reason (never a zero), uncertain
 * figures (voorlopig, or on few persons: the rows' ``firm`` flag from data.py) are open points off the solid
 * line with their 95% interval, trend breaks are drawn on the time axis and listed with their explanation.
 * Every number is written by numbers.js (window.MonitorNumbers), the twin of numbers.py.
 */
(function () {
  "use strict";
  var P = window.PAGE;
  var COLS = P.columns;                 // names of the fields of each row array
  var ix = {};
  COLS.forEach(function (c, i) { ix[c] = i; });
  var rows = P.rows.map(function (r) {
    var o = {};
    COLS.forEach(function (c, i) { o[c] = r[i]; });
    return o;
  });
  var state = { measure: P.defaults.measure, bd: P.defaults.breakdown, groups: P.defaults.groups.slice() };

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }
  var N = window.MonitorNumbers;
  function fmt(v) { return N.number(v, P.decimals); }
  function fmtInt(v) { return N.count(v); }
  var share = P.unit === "%";
  // what n counts (personen, respondenten, organisaties, vacatures: publication/data.py COUNTED)
  var Counted = P.counted.charAt(0).toUpperCase() + P.counted.slice(1);
  // the 95% interval of a share (Wilson, data.py), as text; "" where the table allows none
  function marge(r) {
    return r.lo === null || r.lo === undefined || r.suppressed ? "" : fmt(r.lo) + " \u2013 " + fmt(r.hi) + " " + P.unit_short;
  }
  function statusLabel(r) {
    var few = r.n !== null && r.n !== undefined && r.n < P.few_persons;
    return (r.status === "voorlopig" ? "voorlopig" : "definitief") +
      (few ? ", op minder dan " + fmtInt(P.few_persons) + " " + P.counted + ": onzeker" : "");
  }

  // ---- state in the URL hash, so a view can be shared and the back button works -------------------------
  function readHash() {
    var h = decodeURIComponent(location.hash.replace(/^#/, ""));
    h.split("&").forEach(function (kv) {
      var p = kv.split("=");
      if (p[0] === "m" && P.measures.indexOf(p[1]) >= 0) { state.measure = p[1]; }
      if (p[0] === "bd" && P.breakdowns[p[1]]) { state.bd = p[1]; }
      if (p[0] === "g" && p[1]) {
        var gs = p[1].split("|").filter(function (g) { return P.herkomst.indexOf(g) >= 0; });
        if (gs.length) { state.groups = gs; }
      }
    });
  }
  function writeHash() {
    var h = "m=" + state.measure + "&bd=" + state.bd + "&g=" + state.groups.join("|");
    history.replaceState(null, "", "#" + encodeURIComponent(h));
  }

  // ---- the rows in view ---------------------------------------------------------------------------------
  function selected() {
    var bdKey = state.bd === "herkomst" ? "totaal" : state.bd;
    var order = {};
    P.herkomst.forEach(function (g, i) { order[g] = i; });
    return rows.filter(function (r) {
      return r.measure === state.measure && r.bd === bdKey && state.groups.indexOf(r.herkomst) >= 0;
    }).sort(function (a, b) {
      return (order[a.herkomst] - order[b.herkomst]) || String(a.cat).localeCompare(String(b.cat)) || (a.year - b.year);
    });
  }
  function seriesName(r) { return state.bd === "herkomst" ? r.herkomst : r.herkomst + " · " + r.cat; }
  function breaksInView(sel) {
    var years = sel.map(function (r) { return r.year; });
    var lo = Math.min.apply(null, years), hi = Math.max.apply(null, years);
    return P.breaks.filter(function (b) {
      var dimOk = !b.dimension || b.dimension === "herkomst" || b.dimension === state.bd;
      return dimOk && b.year > lo && b.year <= hi;
    });
  }

  // ---- controls -----------------------------------------------------------------------------------------
  function groupsAvailable() {
    var bdKey = state.bd === "herkomst" ? "totaal" : state.bd;
    var have = {};
    rows.forEach(function (r) { if (r.measure === state.measure && r.bd === bdKey) { have[r.herkomst] = true; } });
    return P.herkomst.filter(function (g) { return have[g]; });
  }
  function renderControls() {
    var m = $("measure");
    if (m) {
      m.innerHTML = P.measures.map(function (x) {
        return '<option value="' + esc(x) + '"' + (x === state.measure ? " selected" : "") + ">" + esc(P.measure_labels[x] || x) + "</option>";
      }).join("");
    }
    var bd = $("breakdown");
    bd.innerHTML = Object.keys(P.breakdowns).map(function (k) {
      return '<option value="' + k + '"' + (k === state.bd ? " selected" : "") + ">" + esc(P.breakdowns[k]) + "</option>";
    }).join("");
    var avail = groupsAvailable();
    $("groups").innerHTML = avail.map(function (g, i) {
      var id = "g" + i;
      return '<label class="group" for="' + id + '"><input type="checkbox" id="' + id + '" value="' + esc(g) + '"' +
        (state.groups.indexOf(g) >= 0 ? " checked" : "") + "> " + esc(g) + "</label>";
    }).join("");
  }

  // ---- table, notes, CSV ----------------------------------------------------------------------------------
  function renderTable(sel) {
    var showCat = state.bd !== "herkomst";
    var head = "<tr><th scope=\"col\">Jaar</th><th scope=\"col\">Herkomst</th>" +
      (showCat ? "<th scope=\"col\">" + esc(P.breakdowns[state.bd]) + "</th>" : "") +
      "<th scope=\"col\" class=\"num\">" + esc(P.unit_label) + "</th>" +
      (share ? "<th scope=\"col\" class=\"num\">95%-marge</th>" : "") + "<th scope=\"col\" class=\"num\">" + esc(Counted) + "</th>" +
      "<th scope=\"col\">Status</th><th scope=\"col\">Toelichting</th></tr>";
    var body = sel.map(function (r) {
      var notes = [];
      if (r.suppressed) { notes.push(r.reason); }
      if (r.trend_break) {
        r.trend_break.split(",").forEach(function (b) { notes.push("trendbreuk: " + (P.break_text[b] || b)); });
      }
      var cls = (r.suppressed ? "suppressed " : "") + (r.status === "voorlopig" ? "provisional " : "") +
        (!r.suppressed && !r.firm ? "uncertain" : "");
      return "<tr class=\"" + cls + "\" data-year=\"" + r.year + "\" data-herkomst=\"" + esc(r.herkomst) +
        "\" data-cat=\"" + esc(r.cat) + "\"><td>" + r.year + "</td><td>" + esc(r.herkomst) + "</td>" +
        (showCat ? "<td>" + esc(r.cat) + "</td>" : "") +
        "<td class=\"num value\">" + (r.suppressed ? "<span aria-label=\"onderdrukt\">×</span>" : fmt(r.value)) + "</td>" +
        (share ? "<td class=\"num marge\">" + marge(r) + "</td>" : "") +
        "<td class=\"num\">" + fmtInt(r.n) + "</td>" +
        "<td>" + (r.status === "voorlopig" ? "<strong class=\"badge-provisional\">voorlopig</strong>" : "definitief") + "</td>" +
        "<td>" + esc(notes.join("; ")) + "</td></tr>";
    }).join("");
    $("data-table").innerHTML = "<caption>" + esc(P.title) + " (" + esc(P.measure_labels[state.measure] || state.measure) +
      "), naar herkomst" + (showCat ? " en " + esc(P.breakdowns[state.bd].toLowerCase()) : "") + "</caption><thead>" +
      head + "</thead><tbody>" + body + "</tbody>";
  }
  function csvValue(v) {
    if (v === null || v === undefined) { return ""; }
    if (typeof v === "number") { return String(v).replace(".", ","); }
    var s = String(v);
    return /[;"\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function renderCsv(sel) {
    var head = ["indicator", "jaar", "herkomst", "uitsplitsing", "categorie", "maatstaf", "waarde", "eenheid",
      P.counted, "status", "onderdrukt", "reden", "trendbreuk", "marge_95_onder", "marge_95_boven"];
    var lines = [head.join(";")].concat(sel.map(function (r) {
      return [P.id, r.year, r.herkomst, state.bd, r.cat, r.measure, r.value, P.unit, r.n, r.status,
        r.suppressed ? "ja" : "nee", r.reason, r.trend_break, r.lo, r.hi].map(csvValue).join(";");
    }));
    var blob = new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    var a = $("csv");
    if (a.dataset.url) { URL.revokeObjectURL(a.dataset.url); }
    a.dataset.url = URL.createObjectURL(blob);
    a.href = a.dataset.url;
    a.download = P.id + "_" + state.bd + ".csv";
  }
  function renderNotes(sel, breaks) {
    var notes = [];
    var prov = sel.filter(function (r) { return r.status === "voorlopig"; }).map(function (r) { return r.year; });
    if (prov.length) {
      var ys = prov.filter(function (y, i) { return prov.indexOf(y) === i; }).join(", ");
      notes.push("<p class=\"note provisional-note\"><strong>Voorlopig:</strong> de cijfers over " + ys + " " +
        esc(P.provisional_text) + " In de grafiek: open ruiten buiten de doorgetrokken lijn, met een stippellijn " +
        "verbonden (op minder dan " + fmtInt(P.few_persons) + " " + P.counted + ": zonder lijn)" +
        (share ? " en met hun 95%-marge" : "") + ".</p>");
    }
    var few = sel.filter(function (r) { return !r.suppressed && r.n !== null && r.n < P.few_persons; }).length;
    if (few) {
      notes.push("<p class=\"note uncertain-note\"><strong>Weinig " + P.counted + ":</strong> " + fmtInt(few) +
        " cijfer(s) in deze weergave rusten op minder dan " + fmtInt(P.few_persons) + " " + P.counted + " en kunnen door toeval " +
        "flink afwijken. In de grafiek: open punten zonder lijn ernaartoe" +
        (share ? ", met een streepje voor de 95%-marge (Wilson-interval)" : "; de tabel geeft geen marge voor gemiddelden") +
        ".</p>");
    }
    var sup = sel.filter(function (r) { return r.suppressed; }).length;
    if (sup) {
      notes.push("<p class=\"note suppressed-note\"><strong>Niet gepubliceerd:</strong> " + sup +
        " cel(len) in deze weergave vallen onder de onthullingscontrole (" + esc(P.suppression_rule) + ", of terug te rekenen uit andere cellen). In de grafiek: een onderbroken lijn en een × bovenin; nooit een nul.</p>");
    }
    $("notes").innerHTML = notes.join("");
    $("breaks").innerHTML = breaks.length ? breaks.map(function (b) {
      return "<li class=\"trend-break\" data-break=\"" + esc(b.id) + "\"><strong>Trendbreuk " + b.year + "</strong> (" +
        esc(b.id) + "): " + esc(b.description) + "</li>";
    }).join("") : "<li>Geen geregistreerde trendbreuk in deze reeks.</li>";
  }

  // ---- chart ------------------------------------------------------------------------------------------------
  var view = null;
  function renderChart(sel, breaks) {
    var spec = JSON.parse(JSON.stringify(P.spec));
    // one colour per chosen group, the same on the line (stroke) and the filled point (fill) channels
    var groupsShown = P.herkomst.filter(function (g) { return state.groups.indexOf(g) >= 0; });
    spec.layer.forEach(function (l) {
      ["color", "fill"].forEach(function (ch) {
        var enc = l.encoding && l.encoding[ch];
        var target = enc && (enc.field ? enc : enc.condition && enc.condition.field ? enc.condition : null);
        if (target && target.field === "herkomst") {
          target.scale = { domain: groupsShown, range: P.palette };
        }
      });
    });
    if (state.bd === "herkomst") {
      spec.layer.forEach(function (l) { if (l.encoding) { delete l.encoding.strokeDash; } });
    } else {
      spec.layer.forEach(function (l) {
        if (l.encoding && l.encoding.strokeDash) { l.encoding.strokeDash.title = P.breakdowns[state.bd]; }
      });
    }
    spec.datasets = {
      cells: sel.map(function (r) {
        var shown = !r.suppressed && r.value !== null && r.value !== undefined;
        return { year: r.year, herkomst: r.herkomst, cat: r.cat, series: seriesName(r), value: shown ? r.value : null,
          firm: shown && r.firm === true, link: shown && r.link === true,
          lo: shown && r.lo !== undefined ? r.lo : null, hi: shown && r.hi !== undefined ? r.hi : null,
          status: r.status, n: r.n, reason: r.reason || "",
          label: shown ? fmt(r.value) + " " + P.unit_short : "niet gepubliceerd",
          marge: shown ? (marge(r) || "niet beschikbaar") : "", n_label: fmtInt(r.n), status_label: statusLabel(r) };
      }),
      breaks: breaks.map(function (b) { return { year: b.year, id: b.id, description: b.description }; })
    };
    spec.description = P.title + ": " + (P.measure_labels[state.measure] || state.measure) + " per jaar voor " +
      state.groups.join(", ") + (state.bd !== "herkomst" ? ", naar " + P.breakdowns[state.bd].toLowerCase() : "") +
      ". De cijfers staan in de tabel onder de grafiek.";
    if (view) { view.finalize(); view = null; }
    window.vegaEmbed("#chart", spec, { renderer: "svg", actions: false }).then(function (res) {
      view = res;
      document.body.setAttribute("data-chart-ready", String(Date.now()));
    }).catch(function (err) {
      $("chart").innerHTML = "<p class=\"error\">De grafiek kon niet worden getekend (" + esc(err) + "); de tabel hieronder bevat de cijfers.</p>";
      document.body.setAttribute("data-chart-ready", "error");
    });
  }

  function update() {
    var sel = selected();
    var breaks = breaksInView(sel);
    writeHash();
    renderNotes(sel, breaks);
    renderTable(sel);
    renderCsv(sel);
    renderChart(sel, breaks);
  }

  function wire() {
    if ($("measure")) {
      $("measure").addEventListener("change", function (e) { state.measure = e.target.value; renderControls(); update(); });
    }
    $("breakdown").addEventListener("change", function (e) { state.bd = e.target.value; renderControls(); update(); });
    $("groups").addEventListener("change", function () {
      var checked = Array.prototype.slice.call(document.querySelectorAll("#groups input:checked")).map(function (i) { return i.value; });
      state.groups = checked;
      update();
    });
  }

  readHash();
  renderControls();
  wire();
  update();
})();
