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
//   static/build/js/header-menu.js         <- assets/js/header-menu.js (ES module, imported by app.js)
//   static/build/js/sort.js                <- assets/js/sort.js (ES module, imported by app.js)
//   static/build/js/index-progress.js      <- assets/js/index-progress.js (ES module, imported by app.js)
//   static/build/js/guide-builder.js       <- assets/js/guide-builder.js (ES module, imported by app.js)
//   static/build/js/present.js             <- assets/js/present.js (ES module, the presenter view's only script)
//   static/build/assets/                   <- nhsuk-frontend dist/nhsuk/assets/
//
// Then, for long-lived caching (casestudies/web.py serves these with WhiteNoise):
//   - main.css loses the nhsuk-frontend rules no template can use (assets/purge.mjs);
//   - every file gets a copy named with its content hash (main.css -> main.3f2a9c01d4.css),
//     listed in static/build/static-manifest.json; url_for('static', ...) links to it;
//   - text files get .gz and .br copies beside them (WhiteNoise sends the one asked for).
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import * as sass from 'sass';
import { purgeCss, usedClasses } from './purge.mjs';

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
for (const file of [
  'supported.js',
  'app.js',
  'header-menu.js',
  'sort.js',
  'index-progress.js',
  'job-progress.js',
  'guide-builder.js',
  'present.js',
]) {
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
const fullSize = Buffer.byteLength(result.css);

// 3a. Only the components the templates use (main.scss @uses them one by one; a template
// importing a macro of a component (with styles) that main.scss leaves out fails the build).
const jinjaTemplates = findJinjaTemplates();
const used = usedClasses(root, jinjaTemplates, join(nhsukDist, 'nhsuk-frontend.min.js'));
const scss = readFileSync(join(root, 'assets', 'scss', 'main.scss'), 'utf8');
const missing = [...used.components].filter(
  (c) =>
    existsSync(join(nhsukDist, 'components', c, '_index.scss')) && // some are macros only
    !scss.includes(`nhsuk-frontend/dist/nhsuk/components/${c}"`),
);
if (missing.length) {
  console.error(
    `build: the templates use nhsuk-frontend components that assets/scss/main.scss does not @use: ${missing.join(', ')}`,
  );
  process.exit(1);
}
let css = purgeCss(result.css, used);

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

// 5. Content-hashed names. Images first (the CSS names them), then the modules app.js
// imports, then the rest.
const manifest = {};
const hashed = (rel) => {
  const data = readFileSync(join(out, rel));
  const hash = createHash('sha256').update(data).digest('hex').slice(0, 12);
  const ext = extname(rel);
  const name = rel.slice(0, rel.length - ext.length) + '.' + hash + ext;
  writeFileSync(join(out, name), data);
  manifest[rel] = name;
  return name;
};
const all = listFiles(out);
for (const rel of all.filter((f) => f.startsWith('assets/'))) hashed(rel);
css = css.replace(/url\(\s*(['"]?)\/static\/build\/([^'")?#]+)\1\s*\)/g, (whole, q, rel) =>
  manifest[rel] ? `url(${q}${publicPrefix}${manifest[rel]}${q})` : whole,
);
writeFileSync(join(out, 'css', 'main.css'), css + '\n');
hashed('css/main.css');
// app.js imports these by their hashed names, so a new module is never mixed with an old one.
const appImports = [
  'js/nhsuk-frontend.min.js', 'js/header-menu.js', 'js/sort.js', 'js/index-progress.js', 'js/job-progress.js',
  'js/guide-builder.js',
];
for (const rel of appImports) hashed(rel);
const appJs = join(out, 'js', 'app.js');
let appSource = readFileSync(appJs, 'utf8');
for (const rel of appImports) {
  const plain = `'./${basename(rel)}'`;
  if (!appSource.includes(plain)) {
    console.error(`build: assets/js/app.js no longer imports ${plain}; update appImports in assets/build.mjs`);
    process.exit(1);
  }
  appSource = appSource.replace(plain, `'./${basename(manifest[rel])}'`);
}
writeFileSync(appJs, appSource);
for (const rel of all.filter((f) => !f.startsWith('assets/') && !manifest[f])) hashed(rel);
writeFileSync(join(out, 'static-manifest.json'), JSON.stringify(manifest, null, 1) + '\n');

// 6. Precompressed copies of text files, kept only when they save something.
let compressed = 0;
for (const rel of listFiles(out)) {
  if (!/\.(css|js|map|svg|json|txt|ico|webmanifest)$/.test(rel)) continue;
  const data = readFileSync(join(out, rel));
  if (data.length < 256) continue;
  const gz = gzipSync(data, { level: 9 });
  const br = brotliCompressSync(data, {
    params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
  if (gz.length < data.length * 0.95) writeFileSync(join(out, rel + '.gz'), gz);
  if (br.length < data.length * 0.95) writeFileSync(join(out, rel + '.br'), br);
  compressed++;
}

const ms = Date.now() - started;
const cssBytes = Buffer.byteLength(css);
console.log(
  `build: ${relative(root, out)}/ ok in ${ms} ms ` +
    `(main.css ${cssBytes} bytes, ${gzipSync(css, { level: 9 }).length} gzipped, ` +
    `${fullSize - cssBytes} bytes of unused rules dropped; ${urls.length} url() checked; ` +
    `${Object.keys(manifest).length} files hashed, ${compressed} precompressed)`,
);

function listFiles(dir, prefix = '') {
  const files = [];
  for (const name of readdirSync(dir)) {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(join(dir, name)).isDirectory()) files.push(...listFiles(join(dir, name), rel));
    else files.push(rel);
  }
  return files.sort();
}

// nhsuk-frontend-jinja's templates, from the app's virtualenv (or NHSUK_JINJA_TEMPLATES).
function findJinjaTemplates() {
  const candidates = [];
  if (process.env.NHSUK_JINJA_TEMPLATES) candidates.push(process.env.NHSUK_JINJA_TEMPLATES);
  const lib = join(root, '.venv', 'lib');
  if (existsSync(lib)) {
    for (const py of readdirSync(lib)) {
      candidates.push(join(lib, py, 'site-packages', 'nhsuk_frontend_jinja', 'templates'));
    }
  }
  const found = candidates.find((c) => existsSync(join(c, 'nhsuk', 'components')));
  if (!found) {
    console.error(
      'build: nhsuk-frontend-jinja not found in .venv (run `make deps`, or set NHSUK_JINJA_TEMPLATES ' +
        'to its templates folder)',
    );
    process.exit(1);
  }
  return found;
}
