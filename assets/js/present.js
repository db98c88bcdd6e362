// Every Seat – the presenter view of a guide (templates/guides/present.html): one item at a
// time, the clock, the current item's time left (counting down, then the over-run), what
// comes next, and keys: next (right arrow, Page Down, N), back (left arrow, Page Up, B),
// pause (P). The page holds the whole plan, so nothing is fetched after it loads.
//
// The projected window and the facilitator's notes window of the same guide keep together
// through a BroadcastChannel (same browser, no network): each change is sent as the whole
// state, and a window that opens asks the others for theirs.
const TICK_MS = 1000;

function twoDigits(value) {
  return String(value).padStart(2, '0');
}

function minutesAndSeconds(ms) {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${twoDigits(seconds % 60)}`;
}

function minutesWord(minutes) {
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

function init(root) {
  const items = [...root.querySelectorAll('[data-app-present-item]')];
  const live = root.querySelector('[data-app-present-live]');
  if (!items.length || !live) return;
  const clock = root.querySelector('[data-app-present-clock]');
  const position = root.querySelector('[data-app-present-position]');
  const left = root.querySelector('[data-app-present-left]');
  const next = root.querySelector('[data-app-present-next]');
  const announce = root.querySelector('[data-app-present-announce]');
  const backButton = root.querySelector('[data-app-present-back]');
  const pauseButton = root.querySelector('[data-app-present-pause]');
  const nextButton = root.querySelector('[data-app-present-next-button]');

  // Each item keeps the time it has run (elapsed, ms, up to `since` for the current one),
  // so going back to an item carries on its clock.
  let state = { index: 0, paused: false, since: Date.now(), elapsed: items.map(() => 0) };
  const channel = 'BroadcastChannel' in window ? new BroadcastChannel(`every-seat-present-${root.dataset.appPresent}`) : null;

  function runFor(index) {
    const base = state.elapsed[index] || 0;
    return index === state.index && !state.paused ? base + (Date.now() - state.since) : base;
  }

  function render(announceItem) {
    items.forEach((item, i) => {
      item.hidden = i !== state.index;
    });
    const item = items[state.index];
    const minutes = Number(item.dataset.minutes);
    const remaining = minutes * 60000 - runFor(state.index);
    const now = new Date();
    if (clock) clock.textContent = `${twoDigits(now.getHours())}:${twoDigits(now.getMinutes())}`;
    if (position) position.textContent = `Item ${state.index + 1} of ${items.length}`;
    const paused = state.paused ? ' (paused)' : '';
    if (remaining >= 0) {
      left.textContent = `${minutesAndSeconds(remaining + 999)} left of ${minutesWord(minutes)}${paused}`;
      left.classList.remove('app-present__left--over');
    } else {
      left.textContent = `Over by ${minutesAndSeconds(-remaining)} (${minutesWord(minutes)} planned)${paused}`;
      left.classList.add('app-present__left--over');
    }
    const following = items[state.index + 1];
    next.textContent = following
      ? `Next: ${following.dataset.title} (${minutesWord(Number(following.dataset.minutes))})`
      : 'Next: the end of the session';
    backButton.disabled = state.index === 0;
    nextButton.disabled = state.index === items.length - 1;
    pauseButton.textContent = state.paused ? 'Resume' : 'Pause';
    if (announceItem && announce) {
      announce.textContent = `Item ${state.index + 1} of ${items.length}: ${item.dataset.title}`;
    }
  }

  function settle() {
    // The current item's running time so far, written into its elapsed.
    if (!state.paused) state.elapsed[state.index] = runFor(state.index);
    state.since = Date.now();
  }

  function change(update) {
    settle();
    const before = state.index;
    update();
    render(state.index !== before);
    if (channel) channel.postMessage({ state });
  }

  function go(step) {
    const target = state.index + step;
    if (target < 0 || target >= items.length) return;
    change(() => {
      state.index = target;
    });
  }

  function togglePause() {
    change(() => {
      state.paused = !state.paused;
    });
  }

  backButton.addEventListener('click', () => go(-1));
  nextButton.addEventListener('click', () => go(1));
  pauseButton.addEventListener('click', togglePause);
  document.addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const actions = {
      ArrowRight: () => go(1),
      PageDown: () => go(1),
      n: () => go(1),
      ArrowLeft: () => go(-1),
      PageUp: () => go(-1),
      b: () => go(-1),
      p: togglePause,
    };
    if (!actions[key]) return;
    event.preventDefault();
    actions[key]();
  });

  if (channel) {
    channel.addEventListener('message', (event) => {
      const data = event.data || {};
      if (data.hello) {
        channel.postMessage({ state });
      } else if (data.state && Array.isArray(data.state.elapsed) && data.state.elapsed.length === items.length) {
        const moved = data.state.index !== state.index;
        state = data.state;
        render(moved);
      }
    });
    channel.postMessage({ hello: true });
  }

  document.body.classList.add('app-present--live');
  live.hidden = false;
  render(false);
  window.setInterval(() => render(false), TICK_MS);
}

const root = document.querySelector('[data-app-present]');
if (root) init(root);
