// A page that follows a job (a PDF being made, an import; data-app-job-running and
// data-app-job-ready give a page its own words) asks the job's status (data-app-job-status)
// every second; when the job is done it fetches the page's own address again
// (data-app-job-next), which then answers with the PDF (a download) or with the page saying
// why it could not be made. Without JavaScript the page keeps its "Check again" link.
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
      if (again && !section.dataset.appJobReady) {
        const link = again.querySelector('a');
        if (link) link.textContent = 'Download the PDF';
      }
    }
    // The same address now answers with the PDF, or with the reason it was not made.
    window.location.assign(next);
  }

  window.setTimeout(poll, POLL_MS);
}

document.querySelectorAll('[data-app-job-status]').forEach(follow);
