// The import page's "Search index" section follows the indexer by itself: it asks the
// progress endpoint (data-app-index-progress) once a second, moves the progress bar, and
// says so in its polite status when search has caught up. Without JavaScript the section
// keeps its "Check again" link. A module, loaded from the page itself: the Content
// Security Policy allows no inline script.
const POLL_MS = 1000;
const RETRY_MS = 5000; // after a failed request
const ANNOUNCE_EVERY_MS = 15000; // the live status speaks at most this often while catching up

function describe(pending, oldestSeconds) {
  if (pending === 0) {
    return 'Search is up to date: every imported or edited case can be found.';
  }
  const changes = pending === 1 ? 'change' : 'changes';
  return `Search is catching up: ${pending.toLocaleString('en-GB')} ${changes} still to index ` +
    `(the oldest has waited ${Math.round(oldestSeconds)} s). Cases appear in search as they are indexed.`;
}

function follow(section) {
  const url = section.dataset.appIndexProgress;
  const bar = section.querySelector('progress');
  const status = section.querySelector('[role="status"]');
  const again = section.querySelector('[data-app-check-again]');
  if (!url || !bar || !status) return;
  if (again) again.hidden = true; // the page refreshes this section itself
  let most = Number(bar.max) || 0;
  let announced = Date.now();

  async function poll() {
    let progress;
    try {
      const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      progress = await response.json();
    } catch (error) {
      window.setTimeout(poll, RETRY_MS);
      return;
    }
    const pending = Number(progress.pending) || 0;
    most = Math.max(most, pending);
    bar.max = Math.max(most, 1);
    bar.value = pending === 0 ? bar.max : most - pending;
    bar.textContent = `${Math.round((100 * bar.value) / bar.max)}%`;
    const now = Date.now();
    if (pending === 0 || now - announced >= ANNOUNCE_EVERY_MS) {
      status.textContent = describe(pending, Number(progress.oldest_seconds) || 0);
      announced = now;
    }
    if (pending === 0) {
      section.dataset.appIndexDone = '';
      return;
    }
    window.setTimeout(poll, POLL_MS);
  }

  window.setTimeout(poll, POLL_MS);
}

document.querySelectorAll('[data-app-index-progress]').forEach(follow);
