"""A Mailroom workflow plugin in Python: replies become tasks, complaints
become alerts.

A port of the bundled Rust workflow `plugins/workflow-follow-up`, so the two
give the same actions for the same event:

- `reply-received`: a task "Reply from {name}: {subject}", due in
  `due-days` days (default 1), with the classifier's summary as its notes.
- `incoming` that a classifier judged a `complaint`: a notification to
  `notify-user` (or the account owner) and the label `complaint`.
- `outgoing`: nothing.

componentize-py maps the WIT contract (wit/v0.2.0) to Python: records are
dataclasses with snake_case fields (`from` is `from_`), enums are Enum
members, a variant case is a class `<Variant>_<Case>` (`types.Action_AddLabel`),
`option<T>` is a value or None. The world's export `metadata` is a method of
class `WitWorld`, the interface's `on-event` a method of class `Workflow`.
build.sh stubs out WASI: no print(), no clock; the host's `log` is there.
"""

from typing import List, Optional

from wit_world import WitWorld as _WitWorld
from wit_world.exports import Workflow as _Workflow
from wit_world.exports.workflow import Event, Trigger
from wit_world.imports import host, types

DUE_DAYS = "due-days"
NOTIFY_USER = "notify-user"

# Reply and forward prefixes in the languages mail clients write them, as the
# Rust SDK's `base_subject` strips them.
PREFIXES = {"re", "fw", "fwd", "aw", "wg", "sv", "vs", "tr", "rv", "enc", "antw", "doorst", "r", "i"}


class WitWorld(_WitWorld):
    def metadata(self) -> types.Metadata:
        return types.Metadata(
            name="py-follow-up",
            version="0.1.0",
            kind=types.PluginKind.WORKFLOW,
            description="Creates a task when a contact replies and alerts someone about complaints",
            config_keys=[
                types.ConfigKey(
                    name=DUE_DAYS,
                    description="Days until a reply's follow-up task is due",
                    required=False,
                    default_value="1",
                ),
                types.ConfigKey(
                    name=NOTIFY_USER,
                    description="Email of the user told about complaints (the account owner when empty)",
                    required=False,
                    default_value=None,
                ),
            ],
            permissions=[],
        )


class Workflow(_Workflow):
    def on_event(self, event: Event) -> List[types.Action]:
        if event.trigger == Trigger.REPLY_RECEIVED:
            return [follow_up_task(event, due_days())]
        if event.trigger == Trigger.INCOMING and is_complaint(event):
            user = host.config_get(NOTIFY_USER)
            host.log(host.LogLevel.INFO, "complaint from " + sender_name(event))
            return [
                types.Action_Notify(
                    types.Notification(
                        target=recipient(user),
                        title=None,
                        text="Complaint from %s: %s" % (sender_name(event), subject(event)),
                    )
                ),
                types.Action_AddLabel("complaint"),
            ]
        return []


def due_days() -> int:
    """`due-days` from the org's config; 1 when unset or not a whole number ≥ 0."""
    value = host.config_get(DUE_DAYS)
    try:
        days = int(value.strip()) if value is not None else 1
    except ValueError:
        return 1
    return days if 0 <= days <= 0xFFFFFFFF else 1


def follow_up_task(event: Event, days: int) -> types.Action:
    notes = next((c.summary for c in event.classifications if c.summary is not None), None)
    return types.Action_CreateTask(
        types.TaskSpec(
            title="Reply from %s: %s" % (sender_name(event), subject(event)),
            notes=notes,
            due_in_days=days,
            due_at=None,
            assignee=types.Recipient_AccountOwner(),
            priority=types.TaskPriority.NORMAL,
            regarding=None,
        )
    )


def is_complaint(event: Event) -> bool:
    return any(
        c.intent is not None and c.intent.label.lower() == "complaint"
        for c in event.classifications
    )


def recipient(user: Optional[str]):
    if user is not None and user.strip():
        return types.Recipient_User(user)
    return types.Recipient_AccountOwner()


def from_address(event: Event):
    message = event.message
    if message.from_:
        return message.from_[0]
    return message.sender


def sender_name(event: Event) -> str:
    """The sender's display name, else the linked CRM record's name, else the address."""
    address = from_address(event)
    name = address.name if address is not None else None
    if name is not None and name.strip():
        return name.strip()
    email = address.email if address is not None else ""
    for link in event.links:
        if link.email.lower() == email.lower():
            if link.name is not None:
                return link.name
            break
    return email if email else "unknown sender"


def subject(event: Event) -> str:
    return base_subject(event.message.subject) or "(no subject)"


def base_subject(text: str) -> str:
    rest = text.lstrip()
    while True:
        colon = rest.find(":")
        if colon < 0:
            return rest
        head = rest[:colon].rstrip()
        word = head.replace("(", "[").split("[")[0]
        if colon > 12 or word.lower() not in PREFIXES:
            return rest
        rest = rest[colon + 1:].lstrip()
