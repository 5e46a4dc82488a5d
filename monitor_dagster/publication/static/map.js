/* Map page (kaart/<id>.html) of the Monitor gelijke kansen web publication (issue 18; technisch rapport §7.3 a).
 *
 * Reads window.PAGE (written by monitor_dagster/publication/maps.py): the indicator's regional cells of the gated
 * table, one row per measure, year, region and group, the gap niet-westers - geen migratieachtergrond as group
 * "verschil" (suppressed when either group is), every region of the boundaries, and two Vega-Lite templates
 * (the choropleth and a region's series).  window.MONITOR_GEO (assets/arbeidsmarktregio_2020.js) holds the
 * TopoJSON: nothing is fetched.  The reader chooses measure, view (the gap or one group) and year; the map and
 * the table under it show the same cells.  A region chosen in the list (keyboard) or on the map shows its
 * series over the years as a small chart and a table.  Suppressed cells are grey with a x and their reason,
 * never a zero.  Numbers are written by numbers.js (window.MonitorNumbers), the twin of numbers.py.
 */
(function () {
  "use strict";
  var P = window.PAGE;
  var N = window.MonitorNumbers;
  var GAP = "verschil";
  var rows = P.rows.map(function (r) {
    var o = {};
    P.columns.forEach(function (c, i) { o[c] = r[i]; });
    return o;
  });
  var index = {};
  rows.forEach(function (r) { index[[r.measure, r.year, r.regio, r.herkomst].join("|")] = r; });
  function cell(measure, year, regio, group) { return index[[measure, year, regio, group].join("|")] || null; }
  var byName = P.regions.slice().sort(function (a, b) { return a.name.localeCompare(b.name, "nl"); });
  var regionName = {};
  P.regions.forEach(function (r) { regionName[r.code] = r.name; });
  regionName[P.national] = "Nederland (alle regio's)";
  var state = { measure: P.defaults.measure, year: P.defaults.year, view: P.defaults.view, region: "" };

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }
  function fmt(v, signed) { return N.number(v, P.decimals, signed); }
  function unitOf(group) { return group === GAP ? P.gap_unit : P.unit_short; }
  function shown(r) { return r !== null && !r.suppressed && r.value !== null && r.value !== undefined; }
  function label(r, group) {
    if (r === null || (r.value === null && !r.suppressed)) { return P.labels.missing; }
    if (r.suppressed) { return P.labels.suppressed; }
    return fmt(r.value, group === GAP) + " " + unitOf(group);
  }
  function statusLabel(r) {
    if (r === null || r.status === null) { return ""; }
    var few = r.n !== null && r.n !== undefined && r.n < P.few_persons;
    return (r.status === "voorlopig" ? "voorlopig" : "definitief") +
      (few ? ", op minder dan " + N.count(P.few_persons) + " " + P.counted + ": onzeker" : "");
  }
  function cellHtml(r, group) {
    if (r === null || (r.value === null && !r.suppressed)) { return "<span title=\"" + esc(P.labels.missing) + "\">" + N.MISSING + "</span>"; }
    if (r.suppressed) { return "<span aria-label=\"" + esc(P.labels.suppressed) + "\" title=\"" + esc(r.reason) + "\">×</span>"; }
    return fmt(r.value, group === GAP);
  }

  // ---- state in the URL hash -------------------------------------------------------------------------------
  function readHash() {
    decodeURIComponent(location.hash.replace(/^#/, "")).split("&").forEach(function (kv) {
      var p = kv.split("=");
      if (p[0] === "m" && P.measures.indexOf(p[1]) >= 0) { state.measure = p[1]; }
      if (p[0] === "j" && P.years.indexOf(Number(p[1])) >= 0) { state.year = Number(p[1]); }
      if (p[0] === "v" && P.views.indexOf(p[1]) >= 0) { state.view = p[1]; }
      if (p[0] === "r" && regionName[p[1]] && p[1] !== P.national) { state.region = p[1]; }
    });
  }
  function writeHash() {
    var h = "m=" + state.measure + "&v=" + state.view + "&j=" + state.year + (state.region ? "&r=" + state.region : "");
    history.replaceState(null, "", "#" + encodeURIComponent(h));
  }

  // ---- controls --------------------------------------------------------------------------------------------
  function options(values, labels, current) {
    return values.map(function (x) {
      return "<option value=\"" + esc(x) + "\"" + (String(x) === String(current) ? " selected" : "") + ">" +
        esc(labels ? labels[x] || x : x) + "</option>";
    }).join("");
  }
  function renderControls() {
    if ($("measure")) { $("measure").innerHTML = options(P.measures, P.measure_labels, state.measure); }
    $("view").innerHTML = options(P.views, P.view_labels, state.view);
    $("year").innerHTML = options(P.years.slice().reverse(), null, state.year);
    $("region").innerHTML = "<option value=\"\">Kies een regio</option>" + byName.map(function (r) {
      return "<option value=\"" + esc(r.code) + "\"" + (r.code === state.region ? " selected" : "") + ">" +
        esc(r.name) + " (" + esc(r.code) + ")</option>";
    }).join("");
  }

  // ---- the map ---------------------------------------------------------------------------------------------
  var mapView = null, regionView = null;
  function viewTitle() {
    return (state.view === GAP ? P.view_labels[GAP] + " (" + P.gap_unit + ")" : P.view_labels[state.view] + " (" + P.unit_short + ")");
  }
  function mapRows() {
    return P.regions.map(function (g) {
      var r = cell(state.measure, state.year, g.code, state.view);
      return { code: g.code, name: g.name, lon: g.lon, lat: g.lat, value: shown(r) ? r.value : null,
        label: label(r, state.view), suppressed: r !== null && r.suppressed === true,
        reason: r && r.suppressed ? r.reason : "", status_label: statusLabel(r),
        n_label: r && r.n !== null && r.n !== undefined ? N.count(r.n) : N.MISSING, chosen: g.code === state.region };
    });
  }
  function renderMap() {
    var spec = JSON.parse(JSON.stringify(P.map_spec));
    var data = mapRows();
    spec.title.text = P.title + (P.measures.length > 1 ? " (" + (P.measure_labels[state.measure] || state.measure) + ")" : "") +
      ", " + state.year;
    spec.title.subtitle = viewTitle();
    spec.description = "Kaart van de arbeidsmarktregio's: " + spec.title.text + ", " + viewTitle() +
      ". De cijfers staan in de tabel onder de kaart.";
    spec.layer.forEach(function (l) {
      if (l.data && l.data.format && l.data.format.type === "topojson") {
        l.data.values = window.MONITOR_GEO;
        l.transform[0].from.data.values = data;
      } else if (l.name === "geheim") {
        l.data.values = data.filter(function (d) { return d.suppressed && d.lon !== null; });
      }
      if (l.encoding && l.encoding.color && l.encoding.color.field === "value") {
        l.encoding.color.title = state.view === GAP ? ["Verschil", "(" + P.gap_unit + ")"] : [P.view_labels[state.view], "(" + P.unit_short + ")"];
        l.encoding.color.scale = state.view === GAP ? { scheme: "blueorange", domainMid: 0 } : { scheme: "blues", zero: false };
        l.encoding.color.legend.format = ",." + P.decimals + "f";
        // a gap is signed as in the tables (numbers.js): "+" on a positive one, no sign on what rounds to zero
        l.encoding.color.legend.labelExpr = state.view === GAP ?
          "datum.value > 0 && !test(/^[0.,]*$/, datum.label) ? '+' + datum.label : datum.label" : "datum.label";
      }
    });
    if (mapView) { mapView.finalize(); mapView = null; }
    window.vegaEmbed("#map", spec, { renderer: "svg", actions: false }).then(function (res) {
      mapView = res;
      res.view.addEventListener("click", function (event, item) {
        var code = item && item.datum && item.datum.properties ? item.datum.properties.statcode : item && item.datum && item.datum.code;
        if (code && regionName[code]) { choose(code); }
      });
      document.body.setAttribute("data-map-ready", String(Date.now()));
    }).catch(function (err) {
      $("map").innerHTML = "<p class=\"error\">De kaart kon niet worden getekend (" + esc(err) + "); de tabel hieronder bevat de cijfers.</p>";
      document.body.setAttribute("data-map-ready", "error");
    });
  }

  // ---- the table under the map: every region, every group, the gap -----------------------------------------------
  function columnsShown() { return P.groups.concat(P.views.indexOf(GAP) >= 0 ? [GAP] : []); }
  function renderTable() {
    var cols = columnsShown();
    var head = "<tr><th scope=\"col\">Regio</th><th scope=\"col\">Code</th>" + cols.map(function (g) {
      return "<th scope=\"col\" class=\"num" + (g === state.view ? " current" : "") + "\">" +
        esc(g === GAP ? "Verschil (" + P.gap_unit + ")" : g + " (" + P.unit_short + ")") + "</th>";
    }).join("") + "<th scope=\"col\" class=\"num\">" + esc(P.counted.charAt(0).toUpperCase() + P.counted.slice(1)) + " (" + esc(P.view_labels[state.view === GAP ? P.groups[0] : state.view]) +
      ")</th><th scope=\"col\">Status</th><th scope=\"col\">Toelichting</th></tr>";
    var nGroup = state.view === GAP ? P.groups[0] : state.view;
    var list = byName.map(function (g) { return g.code; }).concat([P.national]);
    var body = list.map(function (code) {
      var cur = cell(state.measure, state.year, code, state.view);
      var notes = [], prov = false;
      cols.forEach(function (g) {
        var r = cell(state.measure, state.year, code, g);
        if (r && r.suppressed && g !== GAP) { notes.push(g + ": " + String(r.reason).replace(/^onderdrukt: /, "")); }
        if (r && r.status === "voorlopig") { prov = true; }
      });
      var nr = cell(state.measure, state.year, code, nGroup);
      var cls = (cur && cur.suppressed ? "suppressed " : "") + (prov ? "provisional " : "") +
        (code === P.national ? "national " : "") + (code === state.region ? "chosen" : "");
      return "<tr class=\"" + cls + "\" data-regio=\"" + esc(code) + "\"><th scope=\"row\">" + esc(regionName[code]) + "</th><td>" +
        (code === P.national ? "" : esc(code)) + "</td>" + cols.map(function (g) {
          var r = cell(state.measure, state.year, code, g);
          return "<td class=\"num value" + (r && r.suppressed ? " suppressed" : "") + "\" data-group=\"" + esc(g) + "\">" +
            cellHtml(r, g) + "</td>";
        }).join("") + "<td class=\"num\">" + (nr && nr.n !== null ? N.count(nr.n) : N.MISSING) + "</td><td>" +
        (prov ? "<strong class=\"badge-provisional\">voorlopig</strong>" : (cur && cur.status ? "definitief" : "")) + "</td><td>" +
        esc(notes.join("; ")) + "</td></tr>";
    }).join("");
    $("map-table").innerHTML = "<caption>" + esc(P.title) + (P.measures.length > 1 ? " (" + esc(P.measure_labels[state.measure]) + ")" : "") +
      " per arbeidsmarktregio, " + state.year + ": de groepen" +
      (P.view_labels[GAP] ? " en het " + esc(P.view_labels[GAP].toLowerCase()) : "") + "</caption><thead>" +
      head + "</thead><tbody>" + body + "</tbody>";
  }
  function renderNotes() {
    var notes = [];
    var here = P.regions.map(function (g) { return cell(state.measure, state.year, g.code, state.view); });
    var sup = here.filter(function (r) { return r && r.suppressed; }).length;
    if (sup) {
      notes.push("<p class=\"note suppressed-note\"><strong>Niet gepubliceerd:</strong> " + N.count(sup) + " regio('s) op deze " +
        "kaart vallen onder de onthullingscontrole" + (state.view === GAP ? " (voor het verschil: bij een van beide groepen)" : "") +
        ". Op de kaart grijs met ×, in de tabel ×; nooit een nul.</p>");
    }
    if (here.some(function (r) { return r && r.status === "voorlopig"; })) {
      notes.push("<p class=\"note provisional-note\"><strong>Voorlopig:</strong> de cijfers over " + state.year +
        " zijn voorlopig en worden vervangen als de bestanden compleet zijn.</p>");
    }
    var few = here.filter(function (r) { return shown(r) && r.n !== null && r.n < P.few_persons; }).length;
    if (few) {
      notes.push("<p class=\"note uncertain-note\"><strong>Weinig " + P.counted + ":</strong> " + N.count(few) + " regio('s) rusten op " +
        "minder dan " + N.count(P.few_persons) + " " + P.counted + "; zulke cijfers kunnen door toeval flink afwijken.</p>");
    }
    $("notes").innerHTML = notes.join("");
  }

  // ---- one region over the years -------------------------------------------------------------------------------
  function renderRegion() {
    var code = state.region;
    if (!code) {
      $("region-notes").innerHTML = "<p class=\"meta\">Kies een regio (ook met het toetsenbord: Tab naar de lijst, dan de pijltjestoetsen) " +
        "of klik op de kaart.</p>";
      $("region-table").innerHTML = "";
      if (regionView) { regionView.finalize(); regionView = null; }
      $("region-chart").innerHTML = "";
      document.body.setAttribute("data-region-ready", "none");
      return;
    }
    var cols = columnsShown();
    var head = "<tr><th scope=\"col\">Jaar</th>" + cols.map(function (g) {
      return "<th scope=\"col\" class=\"num\">" + esc(g === GAP ? "verschil" : g).replace("migratieachtergrond", "migratie\u00adachtergrond") + "</th>";
    }).join("") + "</tr>";
    var body = P.years.map(function (y) {
      var prov = cols.some(function (g) { var r = cell(state.measure, y, code, g); return r && r.status === "voorlopig"; });
      return "<tr data-year=\"" + y + "\"" + (prov ? " class=\"provisional\"" : "") + "><th scope=\"row\">" + y +
        (prov ? " <strong class=\"badge-provisional\">voorlopig</strong>" : "") + "</th>" +
        cols.map(function (g) {
          var r = cell(state.measure, y, code, g);
          return "<td class=\"num value" + (r && r.suppressed ? " suppressed" : "") + "\" data-group=\"" + esc(g) + "\">" + cellHtml(r, g) + "</td>";
        }).join("") + "</tr>";
    }).join("");
    var caption = esc(regionName[code]) + " (" + esc(code) + "): " + esc(P.title) +
      (P.measures.length > 1 ? " (" + esc(P.measure_labels[state.measure]) + ")" : "") + " per jaar (in " + esc(P.unit_short) +
      (cols.indexOf(GAP) >= 0 ? "; " + esc(P.view_labels[GAP].toLowerCase()) + " in " + esc(P.gap_unit) : "") + ")";
    $("region-table").innerHTML = "<caption>" + caption + "</caption><thead>" + head + "</thead><tbody>" + body + "</tbody>";
    $("region-notes").innerHTML = "";
    var spec = JSON.parse(JSON.stringify(P.series_spec));
    spec.title.text = regionName[code] + ": " + P.title;
    spec.description = "Lijngrafiek van " + P.title + " in " + regionName[code] + " per jaar; de cijfers staan in de tabel eronder.";
    var cells = [];
    P.years.forEach(function (y) {
      P.groups.forEach(function (g) {
        var r = cell(state.measure, y, code, g);
        if (r === null || (r.value === null && !r.suppressed)) { return; }
        var ok = shown(r);
        cells.push({ year: y, herkomst: g, series: g, value: ok ? r.value : null, firm: ok && r.firm === true,
          link: ok && r.link === true, lo: ok ? r.lo : null, hi: ok ? r.hi : null, status: r.status, n: r.n,
          suppressed: r.suppressed, reason: r.reason || "", label: label(r, g), n_label: r.n !== null ? N.count(r.n) : N.MISSING,
          status_label: statusLabel(r) });
      });
    });
    spec.datasets = { cells: cells };
    if (regionView) { regionView.finalize(); regionView = null; }
    window.vegaEmbed("#region-chart", spec, { renderer: "svg", actions: false }).then(function (res) {
      regionView = res;
      document.body.setAttribute("data-region-ready", code + ":" + Date.now());
    }).catch(function (err) {
      $("region-chart").innerHTML = "<p class=\"error\">De grafiek kon niet worden getekend (" + esc(err) + "); de tabel bevat de cijfers.</p>";
      document.body.setAttribute("data-region-ready", "error");
    });
  }

  function update() {
    writeHash();
    renderNotes();
    renderTable();
    renderMap();
  }
  function choose(code) {
    state.region = code;
    if ($("region").value !== code) { $("region").value = code; }
    writeHash();
    renderTable();
    renderRegion();
    renderMap();
  }

  function wire() {
    if ($("measure")) {
      $("measure").addEventListener("change", function (e) { state.measure = e.target.value; update(); renderRegion(); });
    }
    $("view").addEventListener("change", function (e) { state.view = e.target.value; update(); });
    $("year").addEventListener("change", function (e) { state.year = Number(e.target.value); update(); });
    $("region").addEventListener("change", function (e) { choose(e.target.value); });
  }

  readHash();
  renderControls();
  wire();
  update();
  renderRegion();
})();
