// A page that follows a job (templates/jobs/_progress.html: a PDF being made, an import, an
// export; data-app-job-running, data-app-job-ready and data-app-job-ready-link give each its
// own words) asks the job's status (data-app-job-status) every second; when the job is done
// it loads data-app-job-next: the page's own address, which then answers with the PDF (a
// download), the outcome, or the page saying why it could not be made. Without JavaScript
// the page keeps its "Check again" link.
const POLL_MS = 1000;
const RETRY_MS = 5000; // after a failed request

function follow(section) {
  const url = section.dataset.appJobStatus;
  const next = section.dataset.appJobNext;
  const status = section.querySelector('[role="status"]');
  const again = section.querySelector('[data-app-check-again]');
  if (!url || !next || !status) return;

  async function poll() {
    let job;
    try {
      const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      job = await response.json();
    } catch (error) {
      window.setTimeout(poll, RETRY_MS);
      return;
    }
    if (!job.done) {
      if (job.state === 'running') status.textContent = section.dataset.appJobRunning || 'Your PDF is being made.';
      window.setTimeout(poll, POLL_MS);
      return;
    }
    section.dataset.appJobDone = job.state;
    if (job.state === 'finished') {
      status.textContent =
        section.dataset.appJobReady || 'Your PDF is ready and is downloading. If it does not, use the link below.';
      const link = again && section.dataset.appJobReadyLink ? again.querySelector('a') : null;
      if (link) link.textContent = section.dataset.appJobReadyLink;
    }
    // The same address now answers with the PDF, or with the reason it was not made.
    window.location.assign(next);
  }

  window.setTimeout(poll, POLL_MS);
}

document.querySelectorAll('[data-app-job-status]').forEach(follow);
