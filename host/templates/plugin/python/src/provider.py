"""{{name}}: a Mailroom provider plugin for an example mail service.

A provider describes one mail service: its servers, how its folders map to
roles, quirks in its messages, and what its error messages mean. The
contract is in wit/v{{contract}}/: provider.wit says what this plugin
exports and what each record holds, types.wit what a mailbox and a message
are and, at its end, what the host offers (`interface host`: `log`).
build.sh turns this file into a WebAssembly component with componentize-py.

How componentize-py maps the WIT to Python:
- `wit_world` is generated while build.sh runs; it is not on disk. Run
  `.venv/bin/componentize-py -d wit/v{{contract}} -w {{world}} bindings /tmp/b`
  to see it (handy for an editor).
- records are dataclasses with snake_case fields (`app-password-hint` ->
  `app_password_hint`); enums are Enum members (`app-password` ->
  `AuthMethod.APP_PASSWORD`); `option<T>` is a value or None. The records
  provider.wit defines itself live in `wit_world.exports.provider`, the
  shared ones in `wit_world.imports.types`.
- `result<T, string>` is returned directly when it is ok; to return an err,
  raise `componentize_py_types.Err("what went wrong")`.
- the world's own export (`metadata`) is a method of class `WitWorld`, the
  interface's functions (`info`, `map-folder`...) are methods of class
  `Provider`.

The build stubs out WASI: no print(), no files, no clock. Use `host.log`.
"""

from typing import Optional

from wit_world import WitWorld as _WitWorld
from wit_world.exports import Provider as _Provider
from wit_world.exports import provider as p
from wit_world.imports import host, types

APP_PASSWORD_HINT = (
    "Create an app password in your account's security settings"
    " and use it instead of your password."
)

# Folder names the service uses (lowercased) and the role each one plays.
FOLDER_ROLES = {
    "sent": types.FolderRole.SENT,
    "sent items": types.FolderRole.SENT,
    "sent messages": types.FolderRole.SENT,
    "drafts": types.FolderRole.DRAFTS,
    "junk": types.FolderRole.SPAM,
    "junk e-mail": types.FolderRole.SPAM,
    "spam": types.FolderRole.SPAM,
    "trash": types.FolderRole.TRASH,
    "deleted items": types.FolderRole.TRASH,
    "deleted messages": types.FolderRole.TRASH,
    "archive": types.FolderRole.ARCHIVE,
}

# Some mail gateways put this in front of every outside subject.
EXTERNAL_TAG = "[external] "

# Words in a server's reply that mean it refused the password.
AUTH_FAILED = ("authenticationfailed", "invalid credentials", "authentication failed")


class WitWorld(_WitWorld):
    def metadata(self) -> types.Metadata:
        # The host reads this when the plugin is uploaded.
        return types.Metadata(
            name="{{name}}",
            version="0.1.0",
            kind=types.PluginKind.PROVIDER,
            description="Servers, folders and error advice for an example mail service",
            config_keys=[],
            permissions=[],
        )


class Provider(_Provider):
    def info(self) -> p.ProviderInfo:
        # What the host offers when a user adds an account on one of `domains`.
        return p.ProviderInfo(
            id="{{name}}",
            name="{{name}}",
            domains=["example.com"],
            imap=p.ServerPreset(host="imap.example.com", port=993, security=p.Security.TLS),
            pop3=None,
            smtp=p.ServerPreset(host="smtp.example.com", port=465, security=p.Security.TLS),
            auth_methods=[p.AuthMethod.PASSWORD, p.AuthMethod.APP_PASSWORD],
            oauth2=None,
            app_password_hint=APP_PASSWORD_HINT,
            quirks=p.ProviderQuirks(
                smtp_saves_sent_copy=False,
                # restart IDLE before the service's 30-minute timeout
                idle_restart_seconds=1740,
                qresync_broken=False,
                labels_as_folders=False,
                max_connections=10,
            ),
        )

    def map_folder(self, mailbox: types.Mailbox) -> Optional[types.FolderRole]:
        # "INBOX/Sent Items" with delimiter "/" -> "sent items" -> sent.
        # None: no opinion; the host then uses the special-use attributes.
        name = mailbox.name
        if mailbox.delimiter:
            name = name.split(mailbox.delimiter)[-1]
        role = FOLDER_ROLES.get(name.lower())
        # The role's WIT name, e.g. FolderRole.SENT -> sent.
        said = role.name.lower().replace("_", "-") if role else "none"
        host.log(host.LogLevel.INFO, "%s -> %s" % (mailbox.name, said))
        return role

    def normalize(self, message: types.Message) -> types.Message:
        # Strip one "[EXTERNAL] " (any case) from the front of the subject.
        if message.subject[: len(EXTERNAL_TAG)].lower() == EXTERNAL_TAG:
            message.subject = message.subject[len(EXTERNAL_TAG):]
        return message

    def diagnose(self, problem: p.ConnectionProblem) -> Optional[p.Diagnosis]:
        # Turn a server's terse refusal into advice an admin can act on.
        # None: nothing to add to the server's own words.
        words = problem.message.lower()
        if problem.step == p.ConnectionStep.LOGIN and any(w in words for w in AUTH_FAILED):
            return p.Diagnosis(
                summary="{{name}} refused the password",
                advice=APP_PASSWORD_HINT,
                help_url=None,
            )
        return None
