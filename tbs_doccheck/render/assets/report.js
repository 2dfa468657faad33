/* report.html: the reports table, built from the page's JSON blocks (see tbs_doccheck/render/page_data.py).
   Only a page of rows is in the document at a time; a report's text and evidence are rendered when it is opened. */
(function () {
  'use strict';
  var doc = document;
  function $(id) { return doc.getElementById(id); }

  var data = JSON.parse($('tbs-index').textContent);
  var S = data.s, EL = data.el, LABEL = data.lab, NEL = EL.length;
  var VERDICTS = ['pass', 'fail', 'error'];
  var RANK = { fail: 0, error: 1, pass: 2 };
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

  function esc(value) {
    return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }
  function num(n) { return n.toLocaleString('en-US'); }
  function stem(base) { var dot = base.lastIndexOf('.'); return dot > 0 ? base.slice(0, dot) : base; }

  // ------------------------------------------------------------------ rows
  var rows = data.rows.map(function (r, i) {
    var dir = S[r[1]], base = r[2], src = dir + base;
    var id = r[0] === 0 ? stem(base) : String(r[0]);
    var missing = r[6].split('').map(function (k) { return EL[+k]; });
    var why = {}, reasons = [];
    for (var k = 0; k < r[9].length; k += 2) {
      var text = S[r[9][k + 1]];
      reasons.push(text);
      if (r[9][k] < NEL) { why[r[9][k]] = text; }
    }
    return {
      i: i, id: id, dir: dir, base: base, src: src,
      where: (src || id) + (r[3] ? ' #' + r[3] : ''),
      verdict: VERDICTS[r[4]], ok: r[5], missing: missing, tbs: r[7],
      signer: r[8] >= 0 ? S[r[8]] : '', reasons: reasons, why: why,
      review: r[10] === 1, err: r[11] >= 0 ? S[r[11]] : '', hay: null
    };
  });
  var total = rows.length;

  // ------------------------------------------------------------------ state, filtering, sorting
  var state = { verdict: 'all', missing: 'any', review: false, terms: [], sort: 'verdict', dir: 1, page: 0, size: 100 };
  var ordered = null, shown = [];
  var opened = {};  // report index -> true while its details are open

  function hay(r) {
    if (r.hay === null) {
      r.hay = [r.id, r.where, r.signer, r.err].concat(r.reasons).join('\n').toLowerCase();
    }
    return r.hay;
  }
  function matches(r) {
    if (state.verdict !== 'all' && r.verdict !== state.verdict) { return false; }
    if (state.missing !== 'any' && r.missing.indexOf(state.missing) < 0) { return false; }
    if (state.review && !r.review) { return false; }
    for (var t = 0; t < state.terms.length; t++) {
      if (hay(r).indexOf(state.terms[t]) < 0) { return false; }
    }
    return true;
  }
  function text(a, b) { return collator.compare(a, b); }
  var STANDING = { '0': 0, '-': 1, '1': 2 };  // missing first
  // Each sort key: [compare, blank or null]; blanks (no TBS, no signer) go last in either direction.
  var KEYS = {
    id: [function (a, b) { return text(a.id, b.id); }, null],
    src: [function (a, b) { return text(a.where, b.where); }, null],
    verdict: [function (a, b) { return RANK[a.verdict] - RANK[b.verdict]; }, null],
    tbs: [function (a, b) { return a.tbs - b.tbs; }, function (r) { return r.tbs === null; }],
    signer: [function (a, b) { return text(a.signer, b.signer); }, function (r) { return !r.signer; }],
    missing: [function (a, b) { return (b.missing.length - a.missing.length) || text(a.err, b.err); }, null]
  };
  EL.forEach(function (element, k) {
    KEYS['el-' + element] = [function (a, b) { return STANDING[a.ok[k]] - STANDING[b.ok[k]]; }, null];
  });
  function sortRows() {
    var compare = KEYS[state.sort][0], blank = KEYS[state.sort][1], dir = state.dir;
    ordered = rows.slice().sort(function (a, b) {
      if (blank) {
        var x = blank(a), y = blank(b);
        if (x !== y) { return x ? 1 : -1; }
      }
      return dir * compare(a, b) || a.i - b.i;
    });
  }

  // ------------------------------------------------------------------ the table
  var table = doc.querySelector('table.reports');
  var controls = doc.querySelector('.controls');
  var thead = table.tHead;
  var elVerdict = $('filter-verdict'), elMissing = $('filter-missing'), elText = $('filter-text');
  var elReview = $('filter-review'), elSize = $('page-size');

  function tick(r, k) {
    var s = r.ok[k];
    if (s === '-') { return '<td class="el-cell">\u2013</td>'; }
    if (s === '1') { return '<td class="el-cell yes">\u2713</td>'; }
    var title = r.why[k] ? ' title="' + esc(r.why[k]) + '"' : '';
    return '<td class="el-cell no"' + title + '>\u2717</td>';
  }
  function rowHtml(r) {
    var missingCell = r.verdict === 'error' ? esc(r.err)
      : (r.missing.map(function (e) { return esc(LABEL[EL.indexOf(e)]); }).join(', ') || '\u2014');
    var cells = '';
    for (var k = 0; k < NEL; k++) { cells += tick(r, k); }
    return '<tbody class="report v-' + r.verdict + '" data-i="' + r.i + '" data-id="' + esc(r.id) +
      '" data-verdict="' + r.verdict + '" data-missing="' + r.missing.join(' ') + '" data-review="' + r.review + '">' +
      '<tr class="row"><td class="id">' + esc(r.id) + '</td>' +
      '<td class="src" title="' + esc(r.where) + '">' +
      (r.dir ? '<span class="dir">' + esc(r.dir) + '</span>' : '') +
      '<span class="base">' + esc(r.base ? r.base + (r.where.slice(r.src.length)) : r.where) + '</span></td>' +
      '<td class="verdict"><span class="badge ' + r.verdict + '">' + r.verdict + '</span>' +
      (r.review ? ' <span class="badge review">needs review</span>' : '') + '</td>' +
      cells + '<td class="tbs">' + (r.tbs === null ? '' : r.tbs.toFixed(3)) + '</td>' +
      '<td class="signer">' + esc(r.signer) + '</td><td class="missing">' + missingCell + '</td></tr>' +
      '<tr class="detail"><td colspan="' + (NEL + 5) + '"><details><summary>Report text, evidence and reasons' +
      '</summary><div class="detail-body"></div></details></td></tr></tbody>';
  }

  function pages() { return Math.max(1, Math.ceil(shown.length / state.size)); }

  function render() {
    state.page = Math.min(state.page, pages() - 1);
    var start = state.page * state.size, slice = shown.slice(start, start + state.size);
    var html = slice.map(rowHtml).join('');
    if (!slice.length) {
      html = '<tbody class="none"><tr><td class="empty" colspan="' + (NEL + 5) + '">No report matches these filters.' +
        '</td></tr></tbody>';
    }
    var holder = doc.createElement('template');
    holder.innerHTML = '<table>' + html + '</table>';
    while (table.tBodies.length) { table.removeChild(table.tBodies[0]); }
    var made = holder.content.firstChild.tBodies;
    while (made.length) { table.appendChild(made[0]); }
    Array.prototype.forEach.call(table.tBodies, function (tb) {
      var details = tb.querySelector('details');
      if (!details) { return; }
      var r = rows[+tb.getAttribute('data-i')];
      details.addEventListener('toggle', function () { toggled(r, tb, details); });
      if (opened[r.i]) { details.open = true; }
    });
    $('shown').textContent = 'Showing ' + num(shown.length) + ' of ' + num(total) + ' reports';
    $('page-info').textContent = shown.length
      ? 'rows ' + num(start + 1) + '\u2013' + num(start + slice.length) + ' \u00b7 page ' + num(state.page + 1) +
        ' of ' + num(pages())
      : 'no rows';
    $('page-prev').disabled = state.page === 0;
    $('page-next').disabled = state.page >= pages() - 1;
    Array.prototype.forEach.call(thead.querySelectorAll('th[data-key]'), function (th) {
      var key = th.getAttribute('data-key');
      th.setAttribute('aria-sort', key === state.sort ? (state.dir > 0 ? 'ascending' : 'descending') : 'none');
    });
    Array.prototype.forEach.call(doc.querySelectorAll('button.bar-filter'), function (b) {
      b.setAttribute('aria-pressed', String(b.getAttribute('data-missing') === state.missing));
    });
  }

  function apply(keepPage) {
    if (ordered === null) { sortRows(); }
    shown = ordered.filter(matches);
    if (!keepPage) { state.page = 0; }
    render();
  }

  // ------------------------------------------------------------------ opening a report
  // The details block follows this script: the table is usable while the browser still reads it.
  var parsed = new Promise(function (done) {
    if (doc.readyState !== 'loading') { done(); } else { doc.addEventListener('DOMContentLoaded', done); }
  });
  var chunks = null, inflated = new Map(), KEEP = 48;  // unpacked chunks kept, most recently used last
  function chunk(n) {
    var made = inflated.get(n);
    if (made) { inflated.delete(n); } else { made = parsed.then(function () { return unpack(n); }); }
    inflated.set(n, made);
    if (inflated.size > KEEP) { inflated.delete(inflated.keys().next().value); }
    return made;
  }
  function unpack(n) {
    if (chunks === null) { chunks = JSON.parse($('tbs-details').textContent); }
    var raw = chunks[n], made;
    if (typeof raw !== 'string') {
      made = Promise.resolve(raw);
    } else if (typeof DecompressionStream === 'undefined') {
      made = Promise.reject(new Error('This browser cannot unpack the report texts (no DecompressionStream); ' +
        'open the page in a current Chrome, Edge, Firefox or Safari.'));
    } else {
      var bin = atob(raw), bytes = new Uint8Array(bin.length);
      for (var k = 0; k < bin.length; k++) { bytes[k] = bin.charCodeAt(k); }
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
      made = new Response(stream).text().then(JSON.parse);
    }
    return made;
  }
  function detail(i) { return chunk(Math.floor(i / data.chunk)).then(function (c) { return c[i % data.chunk]; }); }

  function describe(e) {
    var counts = e[0] & 1, standing = counts ? 'counts' : 'does not count', reason = e[3];
    if (reason.toLowerCase().indexOf(standing) !== 0) { reason = reason ? standing + ': ' + reason : standing; }
    return LABEL[e[0] >> 1] + ' \u2014 ' + reason + ' [' + e[4] + ']';
  }
  // The text arrives HTML-escaped; spans are offsets into that escaped text, so slices of it go in as they are.
  // Spans overlap freely: the text is cut at every boundary, each piece marked once, in the colour of the
  // shortest counting span over it (else the shortest rejected one); data-ev lists every span over it.
  function highlight(escaped, evidence) {
    var spans = [];
    evidence.forEach(function (e) {
      if (e[1] >= 0) {
        spans.push({ key: 'ev' + (spans.length + 1), el: e[0] >> 1, counts: e[0] & 1, s: e[1], e: e[2],
          len: e[2] - e[1], desc: describe(e) });
      }
    });
    if (!spans.length) { return escaped; }
    var cut = {}; cut[0] = 1; cut[escaped.length] = 1;
    spans.forEach(function (s) { cut[s.s] = 1; cut[s.e] = 1; });
    var points = Object.keys(cut).map(Number).sort(function (a, b) { return a - b; });
    var out = [];
    for (var p = 0; p + 1 < points.length; p++) {
      var a = points[p], b = points[p + 1], piece = escaped.slice(a, b);
      var over = spans.filter(function (s) { return s.s <= a && s.e >= b; });
      if (!over.length) { out.push(piece); continue; }
      var counting = over.filter(function (s) { return s.counts; });
      var main = (counting.length ? counting : over).reduce(function (m, s) { return s.len < m.len ? s : m; });
      var els = {};
      over.forEach(function (s) { els[s.el] = 1; });
      var cls = 'ev el-' + EL[main.el] + (main.counts ? '' : ' rej') + (Object.keys(els).length > 1 ? ' multi' : '');
      out.push('<mark class="' + cls + '" data-el="' + EL[main.el] + '" data-ev="' +
        over.map(function (s) { return s.key; }).join(' ') + '" title="' +
        esc(over.map(function (s) { return s.desc; }).join('\n')) + '">' + piece + '</mark>');
    }
    return out.join('');
  }
  function chip(k, rejected) {
    return '<span class="chip el-' + EL[k] + (rejected ? ' rej' : '') + '">' + esc(LABEL[k]) + '</span>';
  }
  function detailHtml(r, d) {
    if (d.er) {
      return '<p class="why"><strong>Could not be read (' + esc(d.er[0]) + ').</strong> ' + esc(d.er[1]) + '</p>' +
        '<p class="muted">There is no report text to show, so this report cannot support 77092 as received.</p>';
    }
    var parts = [], reasonOf = {}, failedEl = {};
    (d.el || []).forEach(function (x) { reasonOf[x[0]] = x[2]; if (!x[1]) { failedEl[x[0]] = 1; } });
    if (d.rq && d.rq.length) {
      parts.push('<div class="why"><h4>Why this report does not support CPT 77092</h4><ul>' + d.rq.map(function (q) {
        var because = q[1].filter(function (k) { return failedEl[k]; }).map(function (k) { return reasonOf[k]; });
        return '<li><strong>' + esc(q[0]) + '</strong> is not documented. ' + esc(because.join(' ')) +
          ' <span class="fix">To fix: ' + esc(q[2]) + '</span></li>';
      }).join('') + '</ul></div>');
    } else {
      parts.push('<p class="why ok">All four CPT 77092 documentation requirements are met.</p>');
    }
    if (d.rv) {
      parts.push('<div class="why review"><h4>Needs review</h4>' + (d.rv.length
        ? '<ul>' + d.rv.map(function (x) { return '<li>' + esc(x) + '</li>'; }).join('') + '</ul>'
        : '<p>A person should look at this report.</p>') + '</div>');
    }
    parts.push('<ul class="checks">' + (d.el || []).map(function (x) {
      return '<li class="' + (x[1] ? 'ok' : 'no') + '">' + chip(x[0]) + ' ' + (x[1] ? '\u2713' : '\u2717') + ' ' +
        esc(x[2]) + '</li>';
    }).join('') + '</ul>');
    var evidence = d.e || [];
    if (typeof d.t === 'string') { parts.push('<pre class="report-text">' + highlight(d.t, evidence) + '</pre>'); }
    if (!evidence.length) {
      parts.push('<p class="muted">No words in this report were taken as evidence for any element.</p>');
    } else {
      parts.push('<table class="evidence"><thead><tr><th>Element</th><th>Standing</th><th>Words</th><th>Why</th>' +
        '<th>Rule</th><th>Section</th></tr></thead><tbody>' + evidence.map(function (e) {
        var counts = e[0] & 1, words = e[1] >= 0 ? d.t.slice(e[1], e[2]) : esc(e[6]);
        return '<tr class="' + (counts ? '' : 'rej-row') + '"><td>' + chip(e[0] >> 1) + '</td><td>' +
          (counts ? 'counts' : 'does not count') + '</td><td><q>' + words + '</q></td><td>' + esc(e[3]) +
          '</td><td><code>' + esc(e[4]) + '</code></td><td>' + esc(e[5]) + '</td></tr>';
      }).join('') + '</tbody></table>');
    }
    return parts.join('');
  }

  var reveal = null;  // the report the user just opened: scrolled clear of the sticky bars once rendered
  function toggled(r, tb, details) {
    var body = details.querySelector('.detail-body');
    if (!details.open) { delete opened[r.i]; return; }
    opened[r.i] = true;
    if (body.getAttribute('data-done')) { return; }
    body.textContent = 'Loading\u2026';
    detail(r.i).then(function (d) {
      body.innerHTML = detailHtml(r, d);
      body.setAttribute('data-done', '1');
      if (reveal === tb) { reveal = null; keepClear(tb); }
    }, function (error) {
      body.textContent = String(error && error.message ? error.message : error);
    });
  }
  function stickyBottom() { return thead.getBoundingClientRect().bottom; }
  function keepClear(tb) {
    var top = tb.getBoundingClientRect().top, limit = stickyBottom();
    if (top < limit) { window.scrollBy(0, top - limit - 4); }
  }
  table.addEventListener('click', function (event) {
    var summary = event.target.closest ? event.target.closest('summary') : null;
    if (summary) { reveal = summary.closest('tbody.report'); }
  });

  function measure() {
    doc.documentElement.style.setProperty('--controls-h', controls.offsetHeight + 'px');
    doc.documentElement.style.setProperty('--thead-h', thead.offsetHeight + 'px');
  }

  // ------------------------------------------------------------------ wiring
  var timer = null;
  elVerdict.addEventListener('change', function () { state.verdict = elVerdict.value; apply(); });
  elMissing.addEventListener('change', function () { state.missing = elMissing.value; apply(); });
  elReview.addEventListener('change', function () { state.review = elReview.checked; apply(); });
  elText.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      state.terms = elText.value.toLowerCase().split(/\s+/).filter(Boolean);
      apply();
      elText.setAttribute('data-applied', elText.value);  // what the table now shows (for tests and timing)
    }, total > 5000 ? 80 : 0);
  });
  elSize.addEventListener('change', function () { state.size = +elSize.value; apply(); });
  $('page-prev').addEventListener('click', function () { state.page -= 1; render(); });
  $('page-next').addEventListener('click', function () { state.page += 1; render(); });
  $('expand').addEventListener('click', function () {
    Array.prototype.forEach.call(table.querySelectorAll('tbody.report details'), function (d) { d.open = true; });
  });
  $('collapse').addEventListener('click', function () {
    opened = {};
    Array.prototype.forEach.call(table.querySelectorAll('tbody.report details'), function (d) { d.open = false; });
  });
  Array.prototype.forEach.call(thead.querySelectorAll('th[data-key] button.sort'), function (button) {
    button.addEventListener('click', function () {
      var key = button.parentNode.getAttribute('data-key');
      state.dir = key === state.sort ? -state.dir : 1;
      state.sort = key;
      sortRows();
      apply(true);
    });
  });
  Array.prototype.forEach.call(doc.querySelectorAll('button.bar-filter'), function (button) {
    button.addEventListener('click', function () {
      var element = button.getAttribute('data-missing');
      state.missing = state.missing === element ? 'any' : element;
      elMissing.value = state.missing;
      apply();
      table.scrollIntoView({ block: 'start' });
    });
  });
  if (data.older) {
    var note = doc.createElement('p');
    note.className = 'notice';
    note.textContent = data.older + ' report(s) came from an earlier version\u2019s interrupted run and are not listed ' +
      'here; they are in results.jsonl and results.csv. Run the audit again without --resume to list them.';
    table.parentNode.insertBefore(note, table);
  }
  // Controls keep what the browser restored (back/forward): read them instead of assuming defaults.
  state.verdict = elVerdict.value; state.missing = elMissing.value; state.review = elReview.checked;
  state.size = +elSize.value;
  state.terms = elText.value.toLowerCase().split(/\s+/).filter(Boolean);
  measure();
  if (window.ResizeObserver) {
    var watch = new ResizeObserver(measure);
    watch.observe(controls);
    watch.observe(thead);
  } else {
    window.addEventListener('resize', measure);
  }
  apply();
  setTimeout(function () { rows.forEach(hay); }, 0);  // Find's text, made while the auditor looks at the page
  doc.body.setAttribute('data-ready', '1');
  window.tbsReport = { ready: true, readyAt: performance.now(), shown: function () { return shown.length; } };
})();
