// {{name}}: a Mailroom classifier that tags urgent mail.
//
// A message is tagged `urgent` when one of the configured keywords occurs in
// its subject or text body; each keyword found is a reason the user can
// check. The contract is `classify` in wit/v{{contract}}/classifier.wit; the
// records it reads and returns are in wit/v{{contract}}/types.wit.
//
// How componentize-js maps WIT to JavaScript: a record is a plain object with
// camelCase fields (`text-body` -> `textBody`), an enum is its case name as a
// string ('text-body'), `option<T>` is a value or `undefined`, a `list` is an
// array. A `result<T, string>` is returned directly when it is ok; to return
// an err, throw a string (the host records it against the plugin). Throw a
// string, not an `Error`: the thrown value itself is the err, and an `Error`
// is not a string, so the call would crash instead.

import { log, configGet } from 'mailroom:plugin/host@{{contract}}';

// The config key an org admin sets (in the API or the console) to change the
// keywords without rebuilding the plugin.
const KEYWORDS = 'keywords';
const DEFAULT_KEYWORDS = 'urgent,asap,deadline';

// A world-level export (`export metadata: func()` in the world) is an
// exported function of the same name.
export function metadata() {
  return {
    name: '{{name}}',
    version: '0.1.0',
    kind: 'classifier',
    description: 'Tags messages that mention an urgent keyword',
    configKeys: [{
      name: KEYWORDS,
      description: 'Comma-separated words that make a message urgent',
      required: false,
      defaultValue: DEFAULT_KEYWORDS,
    }],
    permissions: [],
  };
}

// An exported interface (`export classifier;`) is an exported object whose
// methods are the interface's functions, in camelCase.
export const classifier = {
  classify(message) {
    const subject = message.subject.toLowerCase();
    const body = message.textBody.toLowerCase();
    const reasons = [];
    for (const keyword of keywords(configGet(KEYWORDS) ?? DEFAULT_KEYWORDS)) {
      // One reason per keyword, from the first text it occurs in: the
      // subject is what a user sees first.
      const source = subject.includes(keyword) ? 'subject'
        : body.includes(keyword) ? 'text-body'
        : undefined;
      if (source === undefined) continue;
      reasons.push({
        part: 'tag',
        label: 'urgent',
        index: undefined,
        feature: `keyword:${keyword}`,
        evidence: { source, headerName: undefined, text: keyword, start: undefined, end: undefined },
        weight: 1.0,
      });
    }
    log('info', `${reasons.length} keyword(s) matched in "${message.subject}"`);
    return {
      sentiment: undefined,
      intent: undefined,
      summary: undefined,
      signature: undefined,
      activities: [],
      tags: reasons.length > 0 ? [{ label: 'urgent', score: 1.0 }] : [],
      reasons,
    };
  },
};

// "Urgent, ASAP,," -> ["urgent", "asap"]
function keywords(setting) {
  return setting.split(',').map((k) => k.trim().toLowerCase()).filter((k) => k !== '');
}
