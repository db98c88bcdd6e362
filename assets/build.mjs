// Every Seat front-end build: `npm run build` (after `npm ci`).
//
// Needs only node + the installed npm packages; no network. Rebuilds
// static/build/ from scratch every time (idempotent), then checks the CSS:
// no external URL, no @font-face, every url() under /static/build/assets/
// and pointing at a file that exists.
//
//   static/build/css/main.css              <- assets/scss/main.scss (Dart Sass)
//   static/build/js/nhsuk-frontend.min.js  <- nhsuk-frontend ES module bundle (+ .map)
//   static/build/js/supported.js           <- assets/js/supported.js (classic script)
//   static/build/js/app.js                 <- assets/js/app.js (ES module)
//   static/build/js/sort.js                <- assets/js/sort.js (ES module, imported by app.js)
//   static/build/assets/                   <- nhsuk-frontend dist/nhsuk/assets/
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sass from 'sass';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const nhsukDist = join(dirname(require.resolve('nhsuk-frontend/package.json')), 'dist', 'nhsuk');
const out = join(root, 'static', 'build');
const publicPrefix = '/static/build/';

const started = Date.now();
rmSync(out, { recursive: true, force: true });
for (const dir of ['css', 'js']) mkdirSync(join(out, dir), { recursive: true });

// 1. Assets (images, icons, favicons, manifest.json)
cpSync(join(nhsukDist, 'assets'), join(out, 'assets'), { recursive: true });

// 2. JavaScript
for (const file of ['nhsuk-frontend.min.js', 'nhsuk-frontend.min.js.map']) {
  cpSync(join(nhsukDist, file), join(out, 'js', file));
}
for (const file of ['supported.js', 'app.js', 'sort.js']) {
  cpSync(join(root, 'assets', 'js', file), join(out, 'js', file));
}

// 3. CSS from nhsuk-frontend's Sass source
const result = sass.compile(join(root, 'assets', 'scss', 'main.scss'), {
  loadPaths: [join(root, 'node_modules')],
  style: 'compressed',
  sourceMap: false,
  // Do not print deprecation warnings raised inside node_modules.
  quietDeps: true,
});
const css = result.css;
writeFileSync(join(out, 'css', 'main.css'), css + '\n');

// 4. Check the CSS
const problems = [];
if (/@font-face/i.test(css)) problems.push('CSS contains @font-face');
const urls = [...css.matchAll(/url\(\s*(['"]?)(.*?)\1\s*\)/g)].map((m) => m[2]);
for (const url of urls) {
  if (url.startsWith('data:')) continue; // inline data, nothing fetched
  if (!url.startsWith(publicPrefix + 'assets/')) {
    problems.push(`url() outside ${publicPrefix}assets/: ${url}`);
    continue;
  }
  const file = join(out, url.slice(publicPrefix.length).split(/[?#]/)[0]);
  if (!existsSync(file)) problems.push(`url() target missing: ${url}`);
}
// External URLs anywhere outside data: URIs (SVG xmlns inside data: is not a fetch).
const cssWithoutData = css.replace(/url\(\s*(['"]?)data:.*?\1\s*\)/g, 'url(data:)');
for (const m of cssWithoutData.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"')]*/gi)) {
  problems.push(`external URL in CSS: ${m[0]}`);
}
if (problems.length) {
  console.error('build: CSS check failed:\n  ' + problems.join('\n  '));
  process.exit(1);
}

const ms = Date.now() - started;
console.log(
  `build: ${relative(root, out)}/ ok in ${ms} ms ` +
    `(main.css ${Buffer.byteLength(css)} bytes, ${urls.length} url() checked)`,
);
