// Drops the nhsuk-frontend rules that no page can use (called by assets/build.mjs).
//
// A selector survives when each `nhsuk-` class in it (outside :not()) can be on a page:
//  - named in the app's templates, its Python (form widgets, the Markdown renderer) or its
//    JS, whole or as a prefix a template completes (`"nhsuk-u-margin-" ~ n` keeps them all);
//  - named in nhsuk-frontend's JS (it finds elements by class and adds some), or one of the
//    modifiers its JS builds at run time (`${block}--hidden`, `--scrollable`, ...) of a class
//    that survives;
//  - emitted by an nhsuk-frontend-jinja macro the templates import (and the macros those
//    import), if it is a block or element (`nhsuk-card__heading`). Macros also emit every
//    modifier a parameter can choose (reverse, white, card and tag variants, ...): those
//    survive only when the app names them, or a template passes a macro the modifier's
//    last part as a string ("colour": "green" keeps nhsuk-tag--green), or when
//    assets/scss/macro-modifiers.txt lists them (the ones macros add by themselves: `nhsuk-form-group--error` with an error
//    message, `nhsuk-card--warning` in a warning callout, the header's current item).
// tests/test_serving.py renders the app's pages and fails when one shows a class whose
// rules were dropped; the fix is a line in macro-modifiers.txt.
// Selectors with no `nhsuk-` class (elements, `.js-enabled`, the app's own `.app-` classes)
// are kept; so are at-rules other than @media/@supports (@page, @keyframes), whole.
// Media queries for Internet Explorer's high-contrast mode go (see below).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const TOKEN = /nhsuk-[a-z0-9_-]+/g;

function filesUnder(dir, pattern) {
  const found = [];
  if (!existsSync(dir)) return found;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...filesUnder(path, pattern));
    else if (pattern.test(name)) found.push(path);
  }
  return found;
}

const tokensIn = (text) => [...text.matchAll(TOKEN)].map((m) => m[0]);
const isPrefix = (t) => t.endsWith('-') || t.endsWith('_');
const isModifier = (t) => t.includes('--');

/** The class names (and `nhsuk-x-` prefixes built in templates) the app's pages can use,
 * and the nhsuk-frontend-jinja components they import. */
export function usedClasses(root, jinjaTemplates, frontendJs) {
  const appSources = [
    ...filesUnder(join(root, 'templates'), /\.(html|jinja|txt)$/),
    ...filesUnder(join(root, 'casestudies'), /\.py$/),
    ...filesUnder(join(root, 'assets', 'js'), /\.m?js$/),
  ];
  const exact = new Set();
  const prefixes = new Set();
  const components = new Set();
  const pending = [];
  const words = new Set();
  for (const file of appSources) {
    const text = readFileSync(file, 'utf8');
    for (const t of tokensIn(text)) (isPrefix(t) ? prefixes : exact).add(t);
    if (file.endsWith('.html')) {
      for (const m of text.matchAll(/["']([a-z][a-z0-9-]*)["']/g)) words.add(`--${m[1]}`);
    }
    pending.push(...componentsIn(text, jinjaTemplates, components));
  }
  // The macros' own blocks and elements (their modifiers are options; see above).
  const macros = [...pending, ...filesUnder(join(jinjaTemplates, 'nhsuk', 'macros'), /\.jinja$/)];
  const seen = new Set();
  while (macros.length) {
    const file = macros.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const t of tokensIn(text)) if (!isPrefix(t) && !isModifier(t)) exact.add(t);
    macros.push(...componentsIn(text, jinjaTemplates, components));
  }
  const listed = join(root, 'assets', 'scss', 'macro-modifiers.txt');
  if (existsSync(listed)) {
    for (const line of readFileSync(listed, 'utf8').split('\n')) {
      const name = line.replace(/#.*/, '').trim();
      if (name) exact.add(name);
    }
  }
  // nhsuk-frontend's JS: the classes it looks for, and the modifiers it builds.
  const jsText = readFileSync(frontendJs, 'utf8');
  for (const t of tokensIn(jsText)) if (!isPrefix(t)) exact.add(t);
  const jsModifiers = new Set([...jsText.matchAll(/\}(--[a-z0-9-]+)`/g)].map((m) => m[1]));
  return { exact, prefixes, components, jsModifiers, words };
}

// The component folders a template imports from; returns their macro files not yet seen.
function componentsIn(text, jinjaTemplates, components) {
  const found = [];
  for (const m of text.matchAll(/nhsuk\/components\/([a-z-]+)\//g)) {
    if (components.has(m[1])) continue;
    components.add(m[1]);
    found.push(...filesUnder(join(jinjaTemplates, 'nhsuk', 'components', m[1]), /\.jinja$/));
  }
  return found;
}

function keepClass(cls, used) {
  if (used.exact.has(cls)) return true;
  for (const p of used.prefixes) if (cls.startsWith(p) && p.length > 'nhsuk-'.length + 2) return true;
  // A modifier of a kept class that nhsuk-frontend's JS adds at run time, or that a macro
  // builds from a value a template passes it (`tag({"colour": "green"})`: nhsuk-tag--green).
  const at = cls.lastIndexOf('--');
  if (at < 0) return false;
  const modifier = cls.slice(at);
  return (used.jsModifiers.has(modifier) || used.words.has(modifier)) && keepClass(cls.slice(0, at), used);
}

function keepSelector(selector, used) {
  // Classes inside :not(...) never make an element match, so they do not count.
  const positive = selector.replace(/:not\((?:[^()]|\([^()]*\))*\)/g, '');
  for (const m of positive.matchAll(/\.((?:[\w-]|\\.)+)/g)) {
    const cls = m[1].replace(/\\(.)/g, '$1');
    if (cls.startsWith('nhsuk-') && !keepClass(cls, used)) return false;
  }
  return true;
}

// Splits at top-level commas (not those inside parentheses or strings).
function splitList(text) {
  const parts = [];
  let depth = 0;
  let quote = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

// Index of the `}` closing the block whose `{` is at `open`.
function closing(css, open) {
  let depth = 0;
  let quote = null;
  for (let i = open; i < css.length; i++) {
    const c = css[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  throw new Error(`purge: unbalanced braces at ${open}`);
}

function nextBrace(css, from) {
  let quote = null;
  for (let i = from; i < css.length; i++) {
    const c = css[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === ';') return i;
  }
  return -1;
}

function purgeRules(css, keep) {
  let out = '';
  let i = 0;
  while (i < css.length) {
    const brace = nextBrace(css, i);
    if (brace === -1) {
      out += css.slice(i);
      break;
    }
    const prelude = css.slice(i, brace);
    if (css[brace] === ';') {
      // @charset, @import, ...: statements without a block
      out += css.slice(i, brace + 1);
      i = brace + 1;
      continue;
    }
    const end = closing(css, brace);
    const body = css.slice(brace + 1, end);
    const trimmed = prelude.trim();
    if (trimmed.startsWith('@')) {
      if (/^@(media|supports)\b/.test(trimmed)) {
        const query = withoutLegacyMicrosoftQueries(trimmed);
        const inner = query ? purgeRules(body, keep) : '';
        if (inner.trim()) out += `${query}{${inner}}`;
      } else {
        out += `${prelude}{${body}}`;
      }
    } else {
      const selectors = splitList(prelude).filter((s) => keep(s.trim()));
      if (selectors.length) out += `${selectors.join(',')}{${body}}`;
    }
    i = end + 1;
  }
  return out;
}

// `-ms-high-contrast` matches in Internet Explorer and the old Edge only, browsers that
// cannot run the app's scripts (ES modules); `forced-colors` is the standard query for the
// same need. A media query list loses those parts, and a query left empty its rules.
function withoutLegacyMicrosoftQueries(prelude) {
  const match = /^@media\s*(.*)$/s.exec(prelude);
  if (!match || !prelude.includes('-ms-high-contrast')) return prelude;
  const queries = splitList(match[1]).filter((q) => !q.includes('-ms-high-contrast'));
  return queries.length ? `@media ${queries.map((q) => q.trim()).join(',')}` : '';
}

/** The CSS without the rules no page can use. */
export function purgeCss(css, used) {
  return purgeRules(css, (selector) => keepSelector(selector, used));
}
