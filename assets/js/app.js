// Every Seat – loaded with
//   <script type="module" src="/static/build/js/app.js"></script>
// at the end of <body>. Initialises all nhsuk-frontend components
// (header menu, skip link, error summary, buttons, checkboxes, tables ...)
// and the app's own: the narrow screen's header menu (header-menu.js), the search page's
// sort (sort.js), the import page's indexing progress (index-progress.js, which acts only
// where data-app-index-progress is) and the pages that follow a job such as a PDF being
// made (job-progress.js, data-app-job-status), and the guide builder's timed plan
// (guide-builder.js: reordering in place, focus on the item changed, a warning before
// leaving with changes unsaved).
import { initAll } from './nhsuk-frontend.min.js';
import { initHeaderMenu } from './header-menu.js';
import { initSortForms } from './sort.js';
import { initGuideBuilder } from './guide-builder.js';
import './index-progress.js';
import './job-progress.js';

// Fallback if supported.js was not included: a browser running this module
// supports ES modules, which is what "nhsuk-frontend-supported" means.
document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');

initHeaderMenu();
initSortForms();
initGuideBuilder();
initAll();
