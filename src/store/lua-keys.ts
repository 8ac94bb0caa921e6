import { createKeys } from './keys.js';

/**
 * The Lua side of the one key builder. Scripts never spell a key name: keys known before a call go in
 * through KEYS (named per script, see scripts.ts), and keys of ids a script finds while it runs (a new
 * incident's id, a chat from the ready set) come from a `K` table generated here from keys.ts, by
 * calling each builder with placeholders and splitting its result around them. Also here: the cut of
 * common.lua's helpers each script carries (`commonFor`), the other part of a script's prologue.
 */

const PREFIX = '\uE000P\uE000';
const arg = (i: number) => `\uE000${i}\uE000`;
const PLACEHOLDER = /\uE000(P|\d+)\uE000/;

/** Builders whose result branches on an argument: generated per value of that (small, closed) set. */
const ENUMERATED: Partial<Record<string, { index: number; values: readonly (string | number)[] }>> =
  {
    obLane: { index: 1, values: [0, 1, 2, 3] },
  };

function luaString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** A Lua expression for one builder's result, from the result of calling it with placeholders. */
function template(name: string, built: string, args: number): string {
  const parts = built.split(PLACEHOLDER);
  if (parts[0] !== '' || parts[1] !== 'P')
    throw new Error(`key ${name}: does not start with the prefix`);
  const seen = new Set<string>();
  const out = ['P'];
  for (let i = 2; i < parts.length; i++) {
    const part = parts[i]!;
    if (i % 2 === 0) {
      if (part) out.push(luaString(part));
    } else {
      if (part === 'P') throw new Error(`key ${name}: prefix twice`);
      seen.add(part);
      out.push(`tostring(a${part})`);
    }
  }
  if (seen.size !== args) throw new Error(`key ${name}: an argument is not in the key`);
  return out.join(' .. ');
}

/** Static keys (no argument): they go in through KEYS, never through K. */
export type StaticKey = {
  [N in keyof ReturnType<typeof createKeys>]: ReturnType<typeof createKeys>[N] extends () => string
    ? N
    : never;
}[keyof ReturnType<typeof createKeys>];

let cached: Map<string, string> | undefined;

/** One Lua table entry per key builder that takes arguments, by builder name, in keys.ts order. */
function keyEntries(): Map<string, string> {
  if (cached) return cached;
  const keys = createKeys(PREFIX) as unknown as Record<string, unknown>;
  const entries = new Map<string, string>();
  for (const [name, fn] of Object.entries(keys)) {
    if (typeof fn !== 'function' || fn.length === 0) continue;
    const n = fn.length;
    const params = Array.from({ length: n }, (_, i) => `a${i}`);
    const build = fn as (...a: (string | number)[]) => string;
    const en = ENUMERATED[name];
    let body: string;
    if (en) {
      const cases = en.values.map((v) => {
        const a = params.map((_, i) => (i === en.index ? v : arg(i)));
        return `if tostring(a${en.index}) == ${luaString(String(v))} then return ${template(name, build(...a), n - 1)} end`;
      });
      body = `${cases.join(' ')} error('opsbot: no ${name} key for ' .. tostring(a${en.index}))`;
    } else {
      body = `return ${template(name, build(...params.map((_, i) => arg(i))), n)}`;
    }
    entries.set(name, `  ${name} = function(${params.join(', ')}) ${body} end,`);
  }
  cached = entries;
  return entries;
}

/** The K builders a Lua source names (`K.name`), for `luaKeyTable`. */
export function keysUsedBy(lua: string): Set<string> {
  return new Set([...lua.matchAll(/\bK\.([A-Za-z_]\w*)/g)].map((m) => m[1]!));
}

/**
 * `local K = { name = function(a0, ...) return P .. '...' .. tostring(a0) end, ... }`, P = ARGV[1]:
 * every builder, or only those in `used` (a script's own, see `keysUsedBy`). The table is built on
 * every call of a script, so each script carries only the builders it names (~10 µs of Redis time
 * a call for all of them on a 2-core VM).
 */
export function luaKeyTable(used?: ReadonlySet<string>): string {
  const entries = [...keyEntries()].filter(([name]) => !used || used.has(name));
  return `local K = (function(P) return {\n${entries.map(([, e]) => e).join('\n')}\n} end)(ARGV[1])\n`;
}

/** `local S = { name = KEYS[1], ... }`: a script's declared keys by name; an undeclared name errors. */
export function luaDeclaredKeys(names: readonly string[]): string {
  const fields = names.map((n, i) => `${n} = KEYS[${i + 1}]`).join(', ');
  return (
    `local S = setmetatable({ ${fields} }, { __index = function(_, k) ` +
    `error('opsbot: key ' .. tostring(k) .. ' is not declared for this script') end })\n`
  );
}

/**
 * `common.lua` cut to what one script needs: its top-level statements (constants, the key prefix
 * split) and the helper functions the script reaches, directly or through other helpers, in their
 * order. Redis runs a script's whole text on every call, and each helper is a closure made anew
 * each time, so a lock or timer script no longer builds the outbox's and the indexes' helpers.
 * Helpers are the `local function name(` blocks that end with an `end` at the start of a line.
 */
export function commonFor(common: string, body: string): string {
  const lines = common.split('\n');
  const blocks: { name?: string; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const name = /^local function (\w+)\(/.exec(lines[i]!)?.[1];
    if (!name) {
      blocks.push({ text: lines[i]! });
      continue;
    }
    const end = lines.indexOf('end', i);
    if (end < 0) throw new Error(`common.lua: no end for function ${name}`);
    blocks.push({ name, text: lines.slice(i, end + 1).join('\n') });
    i = end;
  }
  const helpers = new Map(blocks.flatMap((b) => (b.name ? [[b.name, b.text] as const] : [])));
  // names in code only: comments mention helpers they do not call
  const named = (text: string) => {
    const code = text.replace(/--.*$/gm, '');
    return [...helpers.keys()].filter((n) => new RegExp(`\\b${n}\\b`).test(code));
  };
  // what the script and common's own top-level statements name, and what those helpers name
  const need = new Set<string>();
  const todo = named(
    `${body}\n${blocks
      .filter((b) => !b.name)
      .map((b) => b.text)
      .join('\n')}`,
  );
  for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
    if (need.has(n)) continue;
    need.add(n);
    todo.push(...named(helpers.get(n)!));
  }
  return blocks
    .filter((b) => !b.name || need.has(b.name))
    .map((b) => b.text)
    .join('\n');
}
