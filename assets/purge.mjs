// Drops the nhsuk-frontend rules that no page can use (called by assets/build.mjs).
//
// The classes a page can carry come from the app's templates, its Python (form widgets,
// the Markdown renderer), its JS and the nhsuk-frontend-jinja macros those templates
// import (and the macros they import in turn). A selector survives when each `nhsuk-`
// class in it is one of those, or belongs to a component (BEM block) one of them belongs
// to, so every modifier and state class of a component the app renders is kept (the
// component's JS adds some at run time: menu open, conditional hidden, ...). Selectors
// with no `nhsuk-` class (elements, `.js-enabled`, the app's own `.app-` classes) are kept;
// so are at-rules other than @media/@supports (@page, @keyframes), whole.
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

/** The class names (and `nhsuk-x-` prefixes built in templates) the app's pages can use,
 * and the nhsuk-frontend-jinja components they import. */
export function usedClasses(root, jinjaTemplates) {
  const sources = [
    ...filesUnder(join(root, 'templates'), /\.(html|jinja|txt)$/),
    ...filesUnder(join(root, 'casestudies'), /\.py$/),
    ...filesUnder(join(root, 'assets', 'js'), /\.m?js$/),
    ...filesUnder(join(jinjaTemplates, 'nhsuk', 'macros'), /\.jinja$/),
  ];
  const components = new Set();
  const pending = [...sources];
  const seen = new Set();
  const tokens = new Set();
  while (pending.length) {
    const file = pending.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(TOKEN)) tokens.add(m[0]);
    for (const m of text.matchAll(/nhsuk\/components\/([a-z-]+)\//g)) {
      if (components.has(m[1])) continue;
      components.add(m[1]);
      pending.push(...filesUnder(join(jinjaTemplates, 'nhsuk', 'components', m[1]), /\.jinja$/));
    }
  }
  return { tokens, components };
}

const block = (cls) => cls.split(/__|--/)[0];

function keepSelector(selector, exact, blocks, prefixes) {
  // Classes inside :not(...) never make an element match, so they do not count.
  const positive = selector.replace(/:not\((?:[^()]|\([^()]*\))*\)/g, '');
  for (const m of positive.matchAll(/\.((?:[\w-]|\\.)+)/g)) {
    const cls = m[1].replace(/\\(.)/g, '$1');
    if (!cls.startsWith('nhsuk-')) continue;
    if (exact.has(cls) || blocks.has(block(cls))) continue;
    if (prefixes.some((p) => cls.startsWith(p) && p.length > 'nhsuk-'.length + 2)) continue;
    return false;
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
        const inner = purgeRules(body, keep);
        if (inner.trim()) out += `${prelude}{${inner}}`;
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

/** The CSS without the rules of components and utilities no page uses. */
export function purgeCss(css, { tokens }) {
  const exact = new Set();
  const prefixes = [];
  for (const t of tokens) {
    if (t.endsWith('-') || t.endsWith('_')) prefixes.push(t);
    else exact.add(t);
  }
  // A used class makes its whole component (block) used, utilities (`nhsuk-u-`) aside:
  // those are one class each, kept only when named.
  const blocks = new Set([...exact].filter((c) => !c.startsWith('nhsuk-u-')).map(block));
  return purgeRules(css, (selector) => keepSelector(selector, exact, blocks, prefixes));
}
