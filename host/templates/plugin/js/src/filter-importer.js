// {{name}}: a Mailroom filter importer for "simple filter lines":
//
//     FIELD | MATCH | VALUE | ACTION [| ARGUMENT]
//     from  | ends-with | @example.com | label | customers
//
// Each good line becomes one rule; a bad line becomes a warning and is left
// out, so the rest of the file still imports. The contract is the
// `filter-importer` interface in wit/v{{contract}}/filter-importer.wit; the
// rule model (`rule`, `condition-node`, `action`, `field`…) is in
// wit/v{{contract}}/types.wit.
//
// How componentize-js maps WIT to JavaScript: a record is a plain object with
// camelCase fields (`match-type` -> `matchType`), an enum is its case name as
// a string ('begins-with'), a variant is `{ tag, val }` (`val` left out for a
// case without data), `option<T>` is a value or `undefined`, `list<u8>` is a
// Uint8Array. A `result` is returned directly when it is ok; to return an err,
// throw the err value itself, here an `import-error` object. A thrown value
// that does not fit the err type (a string, say) crashes the call instead.

import { log } from 'mailroom:plugin/host@{{contract}}';

const FORMAT = 'simple-lines';
// The WIT `field` and `match-type` cases this format accepts.
const FIELDS = ['from', 'to', 'cc', 'subject', 'body'];
const MATCHES = ['contains', 'is', 'begins-with', 'ends-with'];
// ACTION word -> WIT `action` case, and whether it takes an ARGUMENT.
const ACTIONS = new Map([
  ['label', { tag: 'add-label', takesArgument: true }],
  ['move', { tag: 'move-to', takesArgument: true }],
  ['star', { tag: 'star', takesArgument: false }],
  ['mark-read', { tag: 'mark-read', takesArgument: false }],
  ['archive', { tag: 'archive', takesArgument: false }],
]);

// A world-level export (`export metadata: func()` in the world) is an
// exported function of the same name.
export function metadata() {
  return {
    name: '{{name}}',
    version: '0.1.0',
    kind: 'filter-importer',
    description: 'Imports "simple filter lines" (FIELD | MATCH | VALUE | ACTION [| ARGUMENT])',
    configKeys: [],
    permissions: [],
  };
}

// An exported interface is an exported object whose methods are the
// interface's functions; a kebab-case name becomes camelCase, so
// `export filter-importer;` is `filterImporter`.
export const filterImporter = {
  formats() {
    return [{ id: FORMAT, name: 'Simple filter lines', extensions: ['txt'] }];
  },

  importFilters(format, data) {
    if (format !== FORMAT) {
      throw importError(`unknown format \`${format}\`: this plugin reads ${FORMAT}`);
    }
    let text;
    try {
      // `fatal`: refuse invalid UTF-8 instead of replacing it with U+FFFD.
      text = new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch {
      throw importError('the file is not UTF-8 text');
    }

    const rules = [];
    const warnings = [];
    text.split('\n').forEach((raw, i) => {
      const n = i + 1; // line numbers are 1-based
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const parsed = parseLine(line);
      if (typeof parsed === 'string') {
        warnings.push({
          location: `line ${n}`, message: parsed, line: n,
          column: undefined, filterId: undefined, ruleIndex: undefined,
        });
        return;
      }
      rules.push({
        name: `line ${n}`,
        enabled: true,
        // A condition tree is a flat list of nodes; a single `test` node
        // is the whole tree.
        conditions: [{
          tag: 'test',
          val: {
            field: parsed.field, headerName: undefined, matchType: parsed.matchType,
            value: parsed.value, caseSensitive: false,
          },
        }],
        actions: [parsed.action],
        // The host fills in the file's SHA-256; an importer leaves it empty.
        source: { format: FORMAT, fileSha256: '', filterId: undefined, line: n, column: 1 },
      });
    });
    log('info', `${rules.length} rule(s), ${warnings.length} warning(s)`);
    return { rules, warnings };
  },
};

// One line -> { field, matchType, value, action }, or what is wrong with it.
function parseLine(line) {
  const parts = line.split('|').map((part) => part.trim());
  if (parts.length < 4 || parts.length > 5) {
    return `expected FIELD | MATCH | VALUE | ACTION [| ARGUMENT], found ${parts.length} part(s)`;
  }
  const [field, matchType, value, word, argument = ''] = parts;
  if (!FIELDS.includes(field)) {
    return `unknown field \`${field}\`: use one of ${FIELDS.join(', ')}`;
  }
  if (!MATCHES.includes(matchType)) {
    return `unknown match \`${matchType}\`: use one of ${MATCHES.join(', ')}`;
  }
  const action = ACTIONS.get(word);
  if (action === undefined) {
    return `unknown action \`${word}\`: use one of ${[...ACTIONS.keys()].join(', ')}`;
  }
  if (action.takesArgument) {
    if (argument === '') return `action \`${word}\` needs an argument, e.g. \`${word} | Name\``;
    return { field, matchType, value, action: { tag: action.tag, val: argument } };
  }
  // An empty ARGUMENT (`star |`) is no argument.
  if (argument !== '') return `action \`${word}\` takes no argument, found \`${argument}\``;
  return { field, matchType, value, action: { tag: action.tag } };
}

// The WIT `import-error` record: an error for the whole file.
function importError(message) {
  return { message, line: undefined, column: undefined };
}
