// The live board: rows arrive by server-sent events; countdowns tick locally.
(function () {
  const table = document.getElementById('board');
  if (!table) return;
  const words = JSON.parse(document.getElementById('words').textContent);
  const esc = s => String(s == null ? '' : s).replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
  const fmt = ms => { const s = Math.max(0, Math.floor(Math.abs(ms) / 1000)); const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
    return (ms < 0 ? '-' : '') + (h ? h + 'h' : '') + m + 'm' + (h ? '' : (s % 60) + 's'); };
  function tick() {
    const now = Date.now();
    table.querySelectorAll('.since').forEach(td => { if (td.dataset.at) td.textContent = fmt(now - Date.parse(td.dataset.at)); });
    table.querySelectorAll('.countdown').forEach(td => { td.textContent = td.dataset.at ? fmt(Date.parse(td.dataset.at) - now) : '—'; });
  }
  function render(rows) {
    const body = table.querySelector('tbody');
    if (!rows.length) { body.innerHTML = '<tr class="empty"><td colspan="8">' + esc(words.none) + '</td></tr>'; return; }
    body.innerHTML = rows.map(r => '<tr data-id="' + esc(r.id) + '"><td><a href="/incidents/' + esc(r.id) + '">' + esc(r.id) + '</a>' +
      (r.drill ? ' <span class="tag">' + esc(words.drill) + '</span>' : '') + '</td><td>' + esc(r.hall) + '</td><td class="stage">' +
      esc(r.stage) + '</td><td class="tier tier' + esc(r.warning_tier) + '">' + esc(r.warning_tier) + '</td><td>' + esc(r.headcount) +
      '</td><td class="since" data-at="' + esc(r.started_at) + '"></td><td class="countdown" data-at="' + esc(r.next_deadline || '') +
      '"></td><td class="flags">' + (r.overdue ? '<span class="flag red">' + esc(words.overdue) + '</span>' : '') +
      (r.approval_pending ? '<span class="flag amber">' + esc(words.approval_pending) + '</span>' : '') +
      (r.failed_actions ? '<span class="flag red">' + esc(words.sms_failed) + '</span>' : '') + '</td></tr>').join('');
    tick();
  }
  const source = new EventSource(table.dataset.events);
  source.addEventListener('rows', e => render(JSON.parse(e.data)));
  tick(); setInterval(tick, 1000);
})();
