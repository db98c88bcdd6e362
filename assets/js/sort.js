// Every Seat – the search page's sort: applies as soon as an order is chosen. Imported by
// app.js (an external file: the Content-Security-Policy forbids inline script). Without
// JavaScript the form keeps its Sort button; with it, the button is hidden and a hint,
// shown above the menu, says that choosing sorts at once.
export function initSortForms(root = document) {
  for (const form of root.querySelectorAll('form[data-app-sort]')) {
    const select = form.querySelector('select');
    const button = form.querySelector('button[type="submit"]');
    const hint = form.querySelector('.nhsuk-hint');
    if (!select || form.dataset.appSortInit) continue;
    form.dataset.appSortInit = 'true';
    if (button) button.hidden = true;
    if (hint) {
      hint.hidden = false;
      select.setAttribute('aria-describedby', hint.id);
    }
    select.addEventListener('change', () => {
      if (form.requestSubmit) form.requestSubmit();
      else form.submit();
    });
  }
}
