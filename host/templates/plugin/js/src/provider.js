// {{name}}: a Mailroom provider for an example mail service.
//
// A provider describes what differs between mail services: server presets,
// how its folders map to roles, message quirks, and what its errors mean.
// The contract is the `provider` interface in wit/v{{contract}}/provider.wit
// (the records `info` returns are declared there too); `mailbox` and
// `message` are in wit/v{{contract}}/types.wit.
//
// How componentize-js maps WIT to JavaScript: a record is a plain object with
// camelCase fields (`auth-methods` -> `authMethods`), an enum is its case name
// as a string ('app-password'), `option<T>` is a value or `undefined`. A
// `result<T, string>` is returned directly when it is ok; to return an err,
// throw a string (not an `Error`: the thrown value itself is the err, and an
// `Error` is not a string, so the call would crash instead).

import { log } from 'mailroom:plugin/host@{{contract}}';

const NAME = '{{name}}';
const APP_PASSWORD_HINT =
  "Create an app password in your account's security settings and use it instead of your password.";

// Folder names (last segment, lowercased) -> WIT `folder-role`. A Map, not an
// object: an object would also "find" names like `constructor`.
const ROLES = new Map([
  ['sent', 'sent'], ['sent items', 'sent'], ['sent messages', 'sent'],
  ['drafts', 'drafts'],
  ['junk', 'spam'], ['junk e-mail', 'spam'], ['spam', 'spam'],
  ['trash', 'trash'], ['deleted items', 'trash'], ['deleted messages', 'trash'],
  ['archive', 'archive'],
]);

// What servers say when they refuse a password, lowercased.
const AUTH_FAILED = ['authenticationfailed', 'invalid credentials', 'authentication failed'];

// A world-level export (`export metadata: func()` in the world) is an
// exported function of the same name.
export function metadata() {
  return {
    name: NAME,
    version: '0.1.0',
    kind: 'provider',
    description: 'Settings, folder names and error advice for an example mail service',
    configKeys: [],
    permissions: [],
  };
}

// An exported interface (`export provider;`) is an exported object whose
// methods are the interface's functions, in camelCase.
export const provider = {
  info() {
    return {
      id: NAME,
      name: NAME,
      domains: ['example.com'],
      imap: { host: 'imap.example.com', port: 993, security: 'tls' },
      pop3: undefined,
      smtp: { host: 'smtp.example.com', port: 465, security: 'tls' },
      authMethods: ['password', 'app-password'],
      oauth2: undefined,
      appPasswordHint: APP_PASSWORD_HINT,
      quirks: {
        smtpSavesSentCopy: false,
        // The service drops idle connections after 30 minutes.
        idleRestartSeconds: 1740,
        qresyncBroken: false,
        labelsAsFolders: false,
        maxConnections: 10,
      },
    };
  },

  // `undefined` means no opinion: the host then uses the special-use
  // attributes (`\Sent`…) and the user's own mapping.
  mapFolder(mailbox) {
    const segments = mailbox.delimiter ? mailbox.name.split(mailbox.delimiter) : [mailbox.name];
    const role = ROLES.get(segments[segments.length - 1].toLowerCase());
    log('info', `${mailbox.name} -> ${role ?? 'none'}`);
    return role;
  },

  // Some mail gateways put "[EXTERNAL] " in front of every outside subject.
  normalize(message) {
    if (!/^\[external\] /i.test(message.subject)) return message;
    return { ...message, subject: message.subject.slice('[EXTERNAL] '.length) };
  },

  // `undefined`: nothing to add to the server's own words.
  diagnose(problem) {
    const text = problem.message.toLowerCase();
    if (problem.step !== 'login' || !AUTH_FAILED.some((words) => text.includes(words))) {
      return undefined;
    }
    return { summary: `${NAME} refused the password`, advice: APP_PASSWORD_HINT, helpUrl: undefined };
  },
};
