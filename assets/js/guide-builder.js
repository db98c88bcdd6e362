// Every Seat – the guide builder's timed plan (form[data-app-plan-form]). Without
// JavaScript every button posts the one plan form and the page comes back at the item it
// changed. With it:
// - the cases and segments move in place, by their "Move up"/"Move down" buttons (the
//   keyboard) or by dragging their handle; a live region says where the item went; the new
//   order goes in the form's "order" field and is saved with the next button pressed;
// - the item named by the address's #fragment (the one just moved or added) takes focus;
// - leaving the page with something typed or moved and not saved asks first.
const MOVED_HINT = 'Save the timed plan to keep this order.';

function label(item) {
  const title = item.querySelector('.app-plan-list__title');
  return title ? title.textContent.replace(/^\s*\d+\.\s*/, '').trim() : '';
}

function initPlanForm(form) {
  const list = form.querySelector('[data-app-reorder]');
  const orderInput = form.querySelector('[data-app-reorder-input]');
  const status = form.querySelector('[data-app-reorder-status]');
  const hint = form.querySelector('[data-app-reorder-hint]');
  let dirty = false;
  let submitting = false;

  const items = () => Array.from(list ? list.querySelectorAll(':scope > [data-app-row]') : []);

  function refresh() {
    const rows = items();
    let caseNumber = 0;
    rows.forEach((row, index) => {
      const up = row.querySelector('[data-app-move="up"]');
      const down = row.querySelector('[data-app-move="down"]');
      if (up) up.hidden = index === 0;
      if (down) down.hidden = index === rows.length - 1;
      const number = row.querySelector('[data-app-row-number]');
      if (number) {
        caseNumber += 1;
        number.textContent = `${caseNumber}.`;
      }
    });
    orderInput.value = rows.map((row) => row.dataset.appRow).join(',');
  }

  function moved(row) {
    dirty = true;
    refresh();
    const rows = items();
    const at = rows.indexOf(row) + 1;
    status.textContent = `Moved “${label(row)}” to position ${at} of ${rows.length}. ${MOVED_HINT}`;
  }

  function move(row, direction) {
    if (direction === 'up' && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (direction === 'down' && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    } else {
      return;
    }
    moved(row);
  }

  if (list && orderInput && status) {
    if (hint) hint.hidden = false;
    list.addEventListener('click', (event) => {
      const button = event.target.closest('[data-app-move]');
      if (!button || !list.contains(button)) return;
      const row = button.closest('[data-app-row]');
      if (!row || row.parentElement !== list) return;
      event.preventDefault(); // moved here, saved with the next button
      const direction = button.dataset.appMove;
      move(row, direction);
      // Keep focus on a button of the moved item (the one pressed, unless it is now hidden).
      const other = row.querySelector(`[data-app-move="${direction === 'up' ? 'down' : 'up'}"]`);
      (button.hidden ? other : button).focus();
    });

    // Drag and drop by the handle (a pointer's alternative to the buttons). Only the handle
    // is draggable, so text in the row's fields can still be selected.
    let dragged = null;
    for (const row of items()) {
      const handle = row.querySelector('[data-app-drag-handle]');
      if (!handle) continue;
      handle.hidden = false;
      handle.draggable = true;
      handle.addEventListener('dragstart', (event) => {
        dragged = row;
        row.classList.add('app-plan-list__item--dragging');
        event.dataTransfer.effectAllowed = 'move';
        event.dataTransfer.setData('text/plain', row.dataset.appRow);
        event.dataTransfer.setDragImage(row, 16, 16);
      });
      handle.addEventListener('dragend', () => {
        row.classList.remove('app-plan-list__item--dragging');
        if (dragged) moved(dragged);
        dragged = null;
      });
    }
    list.addEventListener('dragover', (event) => {
      if (!dragged) return;
      event.preventDefault();
      const over = event.target.closest('[data-app-row]');
      if (!over || over === dragged || over.parentElement !== list) return;
      const box = over.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextElementSibling : over);
    });
    list.addEventListener('drop', (event) => {
      if (dragged) event.preventDefault();
    });
    // Empty unless an order typed earlier came back unsaved (a refused save): then keep it.
    const typedOrder = orderInput.value;
    refresh();
    orderInput.value = typedOrder;
    if (typedOrder) dirty = true;
  }

  // Anything typed, or moved, and not yet saved: ask before leaving the page.
  form.addEventListener('input', () => {
    dirty = true;
  });
  form.addEventListener('change', () => {
    dirty = true;
  });
  form.addEventListener('submit', () => {
    submitting = true;
  });
  window.addEventListener('beforeunload', (event) => {
    if (!dirty || submitting) return;
    event.preventDefault();
    event.returnValue = ''; // older browsers need it set to show the prompt
  });
}

// The item just moved or added (the address's fragment): focus it, so a keyboard or
// screen-reader user carries on from there.
function focusFragment() {
  const id = decodeURIComponent(window.location.hash.slice(1));
  if (!id) return;
  const target = document.getElementById(id);
  if (target && target.closest('[data-app-plan-form]') && target.getAttribute('tabindex') === '-1') {
    target.focus();
  }
}

export function initGuideBuilder(root = document) {
  for (const form of root.querySelectorAll('form[data-app-plan-form]')) {
    if (form.dataset.appPlanInit) continue;
    form.dataset.appPlanInit = 'true';
    initPlanForm(form);
  }
  focusFragment();
}
