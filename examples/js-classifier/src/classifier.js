// A Mailroom classifier plugin in JavaScript: sentiment and intent from a
// small word list, using the host's `log` and `config-get` imports.
//
// componentize-js maps the WIT contract to JavaScript: records are plain
// objects with camelCase fields, enums are their kebab-case names as
// strings, `option<T>` is a value or `undefined`, and a `result` is returned
// directly on success. Built by build.mjs; the result imports no WASI at all.

import { log, configGet } from 'mailroom:plugin/host@0.1.0';

// Word valences in -3..3; negators flip the next two words' valence.
const LEXICON = new Map(Object.entries({
  great: 3, excellent: 3, amazing: 3, love: 3, wonderful: 3, fantastic: 3,
  thanks: 2, thank: 2, appreciate: 2, happy: 2, glad: 2, pleased: 2, good: 2,
  helpful: 2, perfect: 2, resolved: 1, nice: 1, fine: 1,
  bad: -2, terrible: -3, awful: -3, worst: -3, disappointed: -2, unacceptable: -3,
  angry: -3, frustrated: -2, broken: -2, problem: -1, issue: -1, delay: -1,
  late: -1, wrong: -2, refund: -1, complaint: -2, unhappy: -2, poor: -2,
}));
const NEGATORS = new Set(['not', 'no', 'never', "don't", "doesn't", "isn't", "wasn't", "didn't", 'without']);

// Phrases voting for an intent, with weights; the subject counts double.
const INTENTS = {
  complaint: [['disappointed', 2], ['unacceptable', 2], ['refund', 1.5], ['not working', 1.5],
    ['broken', 1.2], ['complaint', 2], ['still waiting', 1.5], ['never received', 1.5]],
  request: [['could you', 1.5], ['can you', 1.3], ['please', 0.8], ['would you', 1],
    ['i need', 1], ['send me', 1.2], ['kindly', 1.2]],
  question: [['how do', 1.2], ['what is', 0.8], ['when will', 1], ['why', 0.8],
    ['is there', 0.8], ['wondering', 1.2]],
  meeting: [['meeting', 1.4], ['schedule', 0.9], ['call', 0.6], ['available', 0.7],
    ['calendar', 1], ['invite', 1], ['agenda', 1.2]],
  purchase: [['quote', 1.4], ['pricing', 1.4], ['price', 1], ['order', 0.9], ['buy', 1.2],
    ['invoice', 0.8], ['licenses', 1]],
  unsubscribe: [['unsubscribe', 2.5], ['remove me', 2.2], ['opt out', 2.2], ['stop sending', 2.2]],
};

// Latin letters only: the engine is built without ICU, so `\p{L}` is not
// available, and the word list is English anyway.
function words(text) {
  return text.toLowerCase().replace(/\u2019/g, "'").match(/[a-z0-9'\u00c0-\u024f]+/g) ?? [];
}

function sentiment(tokens, extraNegative) {
  let sum = 0;
  tokens.forEach((word, i) => {
    let valence = LEXICON.get(word) ?? (extraNegative.has(word) ? -2 : 0);
    if (valence === 0) return;
    if (NEGATORS.has(tokens[i - 1]) || NEGATORS.has(tokens[i - 2])) valence *= -0.74;
    sum += valence;
  });
  // VADER-style normalisation into -1..1.
  const compound = sum / Math.sqrt(sum * sum + 15);
  if (compound >= 0.05) return { label: 'positive', score: compound };
  if (compound <= -0.05) return { label: 'negative', score: -compound };
  return { label: 'neutral', score: 1 - Math.abs(compound) };
}

function countPhrase(text, phrase) {
  let count = 0;
  for (let at = text.indexOf(phrase); at !== -1; at = text.indexOf(phrase, at + phrase.length)) {
    count += 1;
  }
  return Math.min(count, 2);
}

function intent(subject, body) {
  // Space-padded word strings, so phrases only match whole words.
  const s = ` ${words(subject).join(' ')} `;
  const b = ` ${words(body).join(' ')} `;
  let best = 'other';
  let bestScore = 0;
  let total = 0;
  for (const [label, phrases] of Object.entries(INTENTS)) {
    let score = 0;
    for (const [phrase, weight] of phrases) {
      const p = ` ${phrase} `;
      score += weight * (2 * countPhrase(s, p) + countPhrase(b, p));
    }
    if (label === 'question') score += 0.7 * Math.min((body.match(/\?/g) ?? []).length, 3);
    total += score;
    if (score > bestScore) {
      best = label;
      bestScore = score;
    }
  }
  if (bestScore < 1) return { label: 'other', score: 1 - bestScore / 2 };
  return { label: best, score: Math.min(1, (bestScore / total) * (1 - Math.exp(-bestScore / 2))) };
}

// Lines that end the sender's own text: a signature delimiter or a closing.
const SIGN_OFF = /^(--\s*$|best regards|kind regards|regards|best,|thanks,|thank you,|cheers|sincerely)/i;

function summary(body) {
  const lines = body.split('\n');
  const end = lines.findIndex((line) => SIGN_OFF.test(line.trim()));
  const text = (end === -1 ? lines : lines.slice(0, end))
    .filter((line) => !line.trimStart().startsWith('>'))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!text) return undefined;
  return text.length <= 200 ? text : `${text.slice(0, 199).replace(/\s+\S*$/, '')}…`;
}

export function metadata() {
  return {
    name: 'js-classifier',
    version: '0.1.0',
    kind: 'classifier',
    description: 'Sentiment and intent from keywords, written in JavaScript',
    configKeys: [{
      name: 'negative-words',
      description: 'Extra comma-separated words that count as negative',
      required: false,
      defaultValue: undefined,
    }],
    permissions: [],
  };
}

export const classifier = {
  classify(message) {
    const extra = new Set(
      (configGet('negative-words') ?? '').split(',').map((w) => w.trim().toLowerCase()).filter(Boolean),
    );
    const mood = sentiment(words(`${message.subject} ${message.textBody}`), extra);
    const purpose = intent(message.subject, message.textBody);
    log('debug', `js-classifier: ${mood.label}/${purpose.label} for ${message.id}`);
    return {
      sentiment: mood,
      intent: purpose,
      summary: summary(message.textBody),
      signature: undefined,
      activities: [],
      tags: purpose.label === 'other' ? [] : [{ label: `js:${purpose.label}`, score: purpose.score }],
    };
  },
};
