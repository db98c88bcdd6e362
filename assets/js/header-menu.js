// Every Seat – on a narrow screen the header folds its account links and navigation behind
// one "Menu" button, so that a page's own content (the first search result) shows on a
// phone's first screen. Imported by app.js. The button is made here: without JavaScript
// nothing folds and every link stays in view. From tablet width up the CSS hides the button
// and shows both parts whatever its state.
export function initHeaderMenu(root = document) {
  const header = root.querySelector('.nhsuk-header');
  const parts = ['header-account', 'header-navigation'].map((id) => root.getElementById(id)).filter(Boolean);
  const service = header && header.querySelector('.nhsuk-header__service');
  if (!header || !service || !parts.length || header.dataset.appMenuInit) return;
  header.dataset.appMenuInit = 'true';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'app-header__menu-button';
  button.textContent = 'Menu';
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', parts.map((part) => part.id).join(' '));
  service.append(button);
  header.classList.add('app-header--folding');
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
    header.classList.toggle('app-header--open', open);
  });
}
