"""{{name}}: a Mailroom workflow plugin for VIP senders and replies.

The contract is in wit/v{{contract}}/: workflow.wit says what this plugin
exports and what an event holds, types.wit what a message and an action are
and, at its end, what the host offers (`interface host`: `log`,
`config-get`). build.sh turns this file into a WebAssembly component with
componentize-py.

How componentize-py maps the WIT to Python:
- `wit_world` is generated while build.sh runs; it is not on disk. Run
  `.venv/bin/componentize-py -d wit/v{{contract}} -w {{world}} bindings /tmp/b`
  to see it (handy for an editor).
- records are dataclasses with snake_case fields (`from` -> `from_`, as
  `from` is a Python keyword), enums are Enum members
  (`reply-received` -> `Trigger.REPLY_RECEIVED`), `option<T>` is a value or
  None.
- a variant case is a class named `<Variant>_<Case>`: `add-label("vip")` is
  `types.Action_AddLabel("vip")`, the case without a payload
  `account-owner` is `types.Recipient_AccountOwner()`.
- `result<T, string>` is returned directly when it is ok; to return an err,
  raise `componentize_py_types.Err("what went wrong")`.
- the world's own export (`metadata`) is a method of class `WitWorld`, the
  interface's functions (`on-event`) are methods of class `Workflow`.

The build stubs out WASI: no print(), no files, no clock. Use `host.log`.
"""

from typing import List

from wit_world import WitWorld as _WitWorld
from wit_world.exports import Workflow as _Workflow
from wit_world.exports.workflow import Event, Trigger
from wit_world.imports import host, types

DEFAULT_VIP_DOMAINS = "example.com"


def vip_domains() -> List[str]:
    # Config comes from the org's admin, per plugin (`config-get` in types.wit);
    # None means the key is not set.
    value = host.config_get("vip-domains")
    if value is None:
        value = DEFAULT_VIP_DOMAINS
    return [d.strip().lower() for d in value.split(",") if d.strip()]


class WitWorld(_WitWorld):
    def metadata(self) -> types.Metadata:
        # The host reads this when the plugin is uploaded: it names the
        # plugin and lists the config keys an admin can set.
        return types.Metadata(
            name="{{name}}",
            version="0.1.0",
            kind=types.PluginKind.WORKFLOW,
            description="Labels and announces mail from VIP domains; a task for each reply",
            config_keys=[
                types.ConfigKey(
                    name="vip-domains",
                    description="Comma-separated sender domains that count as VIP",
                    required=False,
                    default_value=DEFAULT_VIP_DOMAINS,
                )
            ],
            permissions=[],
        )


class Workflow(_Workflow):
    def on_event(self, event: Event) -> List[types.Action]:
        # Every workflow gets every trigger; return [] for the ones you do
        # not care about. Some messages have no From address at all.
        message = event.message
        sender = message.from_[0] if message.from_ else None
        email = sender.email if sender else ""
        _, at, domain = email.rpartition("@")
        domain = domain.lower() if at else ""

        actions: List[types.Action] = []
        if event.trigger == Trigger.INCOMING and domain in vip_domains():
            actions = [
                types.Action_AddLabel("vip"),
                types.Action_Notify(
                    types.Notification(
                        target=types.Recipient_AccountOwner(),
                        title="VIP mail from " + email,
                        text=message.subject or "(no subject)",
                    )
                ),
            ]
        elif event.trigger == Trigger.REPLY_RECEIVED:
            who = (sender.name if sender else None) or email
            actions = [
                # The host links the task to this message; due a day after it.
                types.Action_CreateTask(
                    types.TaskSpec(
                        title="Reply to %s: %s" % (who, message.subject),
                        notes=None,
                        due_in_days=1,
                        due_at=None,
                        assignee=types.Recipient_AccountOwner(),
                        priority=types.TaskPriority.NORMAL,
                        regarding=None,
                    )
                )
            ]

        # The WIT name of the trigger, e.g. REPLY_RECEIVED -> reply-received.
        trigger = event.trigger.name.lower().replace("_", "-")
        host.log(
            host.LogLevel.INFO,
            "%s from %s: %d action(s)" % (trigger, email, len(actions)),
        )
        return actions
