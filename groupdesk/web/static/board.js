// The live board: rows and counts arrive by server-sent events (rendered on the server); countdowns tick here.
(function () {
  const table = document.getElementById('board');
  if (!table) return;
  const words = JSON.parse(document.getElementById('words').textContent);
  const SOON = 5 * 60 * 1000;
  const span = ms => {
    const s = Math.floor(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
    return (h ? h + words.h : '') + m + words.m + (h ? '' : (s % 60) + words.s);
  };
  function tick() {
    const now = Date.now();
    table.querySelectorAll('.since').forEach(td => { if (td.dataset.at) td.textContent = span(now - Date.parse(td.dataset.at)); });
    table.querySelectorAll('.countdown').forEach(td => {
      if (!td.dataset.at) { td.textContent = '—'; return; }
      const left = Date.parse(td.dataset.at) - now;
      td.textContent = left < 0 ? words.late.replace('{}', span(left)) : words.left.replace('{}', span(left));
      td.classList.toggle('late', left < 0);
      const row = td.closest('tr');
      if (row && !row.classList.contains('overdue')) row.classList.toggle('soon', left < SOON);
    });
  }
  const source = new EventSource(table.dataset.events);
  source.addEventListener('board', e => {
    const data = JSON.parse(e.data);
    table.querySelector('tbody').innerHTML = data.html.rows;
    document.getElementById('counts').innerHTML = data.html.counts;
    const due = document.getElementById('promises-today-slot');
    if (due && data.html.promises !== undefined) due.innerHTML = data.html.promises;
    tick();
  });
  tick(); setInterval(tick, 1000);
})();
