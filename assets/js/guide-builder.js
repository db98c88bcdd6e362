// Every Seat – the guide builder's timed plan (form[data-app-plan-form]). Without
// JavaScript every button posts the one plan form and the page comes back at the item it
// changed. With it:
// - the cases and segments, and each case's questions, move in place, by their "Move
//   up"/"Move down" buttons (the keyboard) or by dragging their handle; a live region says
//   where the item went; the new order goes in the form's "order" field (a case's
//   questions: "qorder-<case id>") and is saved with the next button pressed;
// - Enter in the new-segment box adds that segment, and in a question-of-your-own box adds
//   the question, rather than pressing the form's first button ("Save the timed plan");
// - the item named by the address's #fragment (the one just moved or added) takes focus;
// - leaving the page with something typed or moved and not saved asks first.
const MOVED_HINT = 'Save the timed plan to keep this order.';

// Elements of `row` itself, not of a row nested in it (a case's questions).
function own(row, selector) {
  return Array.from(row.querySelectorAll(selector)).filter((el) => el.closest('[data-app-row]') === row);
}

function label(row) {
  const title = own(row, '.app-plan-list__title, [data-app-row-label]')[0];
  const text = title ? title.textContent.replace(/^\s*\d+\.\s*/, '').trim() : '';
  return text.length > 80 ? `${text.slice(0, 79).trimEnd()}…` : text;
}

// One reorderable list (the session's cases and segments, or a case's questions): its
// rows move in place by their "Move up"/"Move down" buttons or by dragging their handle;
// the new order goes in the form's field named by data-app-reorder.
function initList(form, list, status, onMove) {
  const input = form.querySelector(`input[type="hidden"][name="${list.dataset.appReorder}"]`);
  if (!input) return;
  const isPlan = list.dataset.appReorder === 'order';
  const rows = () => Array.from(list.children).filter((row) => row.matches('[data-app-row]'));

  function refresh() {
    const all = rows();
    let caseNumber = 0;
    all.forEach((row, index) => {
      const up = own(row, '[data-app-move="up"]')[0];
      const down = own(row, '[data-app-move="down"]')[0];
      if (up) up.hidden = index === 0;
      if (down) down.hidden = index === all.length - 1;
      const numbers = own(row, '[data-app-row-number]');
      if (isPlan && numbers.length) {
        caseNumber += 1;
        numbers[0].textContent = `${caseNumber}.`;
      } else if (!isPlan) {
        for (const number of numbers) number.textContent = String(index + 1);
      }
    });
    input.value = all.map((row) => row.dataset.appRow).join(',');
  }

  function moved(row) {
    onMove();
    refresh();
    const all = rows();
    status.textContent = `Moved “${label(row)}” to position ${all.indexOf(row) + 1} of ${all.length}. ${MOVED_HINT}`;
  }

  list.addEventListener('click', (event) => {
    const button = event.target.closest('[data-app-move]');
    if (!button) return;
    const row = button.closest('[data-app-row]');
    if (!row || row.parentElement !== list) return; // a button of a nested list
    event.preventDefault(); // moved here, saved with the next button
    const direction = button.dataset.appMove;
    if (direction === 'up' && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (direction === 'down' && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    } else {
      return;
    }
    moved(row);
    // Keep focus on a button of the moved item (the one pressed, unless it is now hidden).
    const other = own(row, `[data-app-move="${direction === 'up' ? 'down' : 'up'}"]`)[0];
    (button.hidden && other ? other : button).focus();
  });

  // Drag and drop by the handle (a pointer's alternative to the buttons). Only the handle
  // is draggable, so text in the row's fields can still be selected.
  let dragged = null;
  for (const row of rows()) {
    const handle = own(row, '[data-app-drag-handle]')[0];
    if (!handle) continue;
    handle.hidden = false;
    handle.draggable = true;
    handle.addEventListener('dragstart', (event) => {
      event.stopPropagation();
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
    // The row of this list under the pointer (not a row of a nested list).
    let over = event.target instanceof Element ? event.target : null;
    while (over && over.parentElement !== list) over = over.parentElement;
    if (!over || over === dragged || !over.matches('[data-app-row]')) return;
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextElementSibling : over);
  });
  list.addEventListener('drop', (event) => {
    if (dragged) event.preventDefault();
  });
  // Empty unless an order typed earlier came back unsaved (a refused save): then keep it.
  const typedOrder = input.value;
  refresh();
  input.value = typedOrder;
  if (typedOrder) onMove();
}

// Enter in a field of a box with its own button (the new segment, a question of your own)
// presses that button, not the form's first one ("Save the timed plan").
function initEnterKeys(form) {
  form.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.defaultPrevented || event.isComposing) return;
    const field = event.target;
    if (!(field instanceof HTMLInputElement)) return;
    const box = field.closest('[data-app-enter-box]');
    const button = box && box.querySelector('[data-app-enter-button]');
    if (!button) return;
    event.preventDefault();
    button.click();
  });
}

function initPlanForm(form) {
  const status = form.querySelector('[data-app-reorder-status]');
  const hint = form.querySelector('[data-app-reorder-hint]');
  let dirty = false;
  let submitting = false;

  if (status) {
    if (hint) hint.hidden = false;
    for (const list of form.querySelectorAll('[data-app-reorder]')) {
      initList(form, list, status, () => {
        dirty = true;
      });
    }
  }
  initEnterKeys(form);

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
