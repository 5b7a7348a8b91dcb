// {{name}}: a Mailroom workflow for VIP senders and replies.
//
// - `incoming` mail from a VIP domain: the label `vip` and a notification to
//   the account's owner;
// - `reply-received`: a task to answer, due the next day;
// - everything else: nothing.
//
// The contract is `on-event` in wit/v{{contract}}/workflow.wit; the actions it
// can ask for are the `action` variant in wit/v{{contract}}/types.wit. The host
// applies label and flag actions with the message and runs the others (tasks,
// notifications, webhooks…) after it, at most once.
//
// How componentize-js maps WIT to JavaScript: a record is a plain object with
// camelCase fields (`due-in-days` -> `dueInDays`), an enum is its case name as
// a string ('reply-received'), a variant is `{ tag, val }` (`val` left out for
// a case without data), `option<T>` is a value or `undefined`. A
// `result<T, string>` is returned directly when it is ok; to return an err,
// throw a string (the host records it against the plugin; other workflows
// still run). Throw a string, not an `Error`: the thrown value itself is the
// err, and an `Error` is not a string, so the call would crash instead.

import { log, configGet } from 'mailroom:plugin/host@{{contract}}';

const VIP_DOMAINS = 'vip-domains';
const DEFAULT_VIP_DOMAINS = 'example.com';

// A world-level export (`export metadata: func()` in the world) is an
// exported function of the same name.
export function metadata() {
  return {
    name: '{{name}}',
    version: '0.1.0',
    kind: 'workflow',
    description: 'Labels mail from VIP domains and creates a task for every reply',
    configKeys: [{
      name: VIP_DOMAINS,
      description: 'Comma-separated sender domains whose mail is labelled vip',
      required: false,
      defaultValue: DEFAULT_VIP_DOMAINS,
    }],
    permissions: [],
  };
}

// An exported interface (`export workflow;`) is an exported object whose
// methods are the interface's functions, in camelCase.
export const workflow = {
  onEvent(event) {
    const message = event.message;
    // The WIT field `%from` is `from` here. A message can have no sender.
    const from = message.from[0];
    const email = from?.email ?? '';
    const subject = message.subject.trim() !== '' ? message.subject : '(no subject)';

    let actions = [];
    if (event.trigger === 'incoming' && isVip(email)) {
      actions = [
        { tag: 'add-label', val: 'vip' },
        {
          tag: 'notify',
          val: { target: { tag: 'account-owner' }, title: `VIP mail from ${email}`, text: subject },
        },
      ];
    } else if (event.trigger === 'reply-received') {
      actions = [{
        tag: 'create-task',
        val: {
          title: `Reply to ${from?.name || email}: ${subject}`,
          notes: undefined,
          dueInDays: 1,
          dueAt: undefined,
          assignee: { tag: 'account-owner' },
          priority: 'normal',
          regarding: undefined,
        },
      }];
    }
    log('info', `${event.trigger} from ${email}: ${actions.length} action(s)`);
    return actions;
  },
};

// Whether `email`'s domain (after the last `@`) is one of the configured ones.
function isVip(email) {
  const at = email.lastIndexOf('@');
  if (at === -1) return false;
  const domain = email.slice(at + 1).toLowerCase();
  return (configGet(VIP_DOMAINS) ?? DEFAULT_VIP_DOMAINS)
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .some((d) => d !== '' && d === domain);
}
