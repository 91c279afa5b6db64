// One tap, then a confirmation: a form with data-confirm asks in a dialog before it is sent.
(function () {
  const dialog = document.getElementById('confirm');
  if (!dialog || !dialog.showModal) return;
  let pending = null;
  document.querySelectorAll('form[data-confirm]').forEach(form => form.addEventListener('submit', event => {
    if (form.dataset.confirmed) return;
    event.preventDefault();
    pending = { form, submitter: event.submitter };
    document.getElementById('confirm-text').textContent = form.dataset.confirm;
    dialog.showModal();
    document.getElementById('confirm-yes').focus();
  }));
  document.getElementById('confirm-yes').addEventListener('click', () => {
    dialog.close();
    if (!pending) return;
    pending.form.dataset.confirmed = '1';
    pending.form.requestSubmit(pending.submitter || undefined);
  });
  document.getElementById('confirm-no').addEventListener('click', () => { pending = null; dialog.close(); });
})();
