"""{{name}}: a Mailroom classifier plugin that tags urgent mail.

The contract is in wit/v{{contract}}/: classifier.wit says what this plugin
exports, types.wit what a message and a classification hold and, at its
end, what the host offers (`interface host`: `log`, `config-get`). build.sh turns this file into a
WebAssembly component with componentize-py.

How componentize-py maps the WIT to Python:
- `wit_world` is generated while build.sh runs; it is not on disk. Run
  `.venv/bin/componentize-py -d wit/v{{contract}} -w {{world}} bindings /tmp/b`
  to see it (handy for an editor).
- records are dataclasses with snake_case fields (`text-body` ->
  `text_body`), enums are Enum members (`text-body` -> `TextSource.TEXT_BODY`),
  `option<T>` is a value or None, a list is a Python list.
- `result<T, string>` is returned directly when it is ok; to return an err,
  raise `componentize_py_types.Err("what went wrong")`.
- the world's own export (`metadata`) is a method of class `WitWorld`, the
  interface's functions (`classify`) are methods of class `Classifier`.

The build stubs out WASI: no print(), no files, no clock. Use `host.log`.
"""

from typing import List

from wit_world import WitWorld as _WitWorld
from wit_world.exports import Classifier as _Classifier
from wit_world.imports import host, types

DEFAULT_KEYWORDS = "urgent,asap,deadline"


def keywords() -> List[str]:
    # Config comes from the org's admin, per plugin (`config-get` in types.wit);
    # None means the key is not set.
    value = host.config_get("keywords")
    if value is None:
        value = DEFAULT_KEYWORDS
    return [k.strip().lower() for k in value.split(",") if k.strip()]


class WitWorld(_WitWorld):
    def metadata(self) -> types.Metadata:
        # The host reads this when the plugin is uploaded: it names the
        # plugin and lists the config keys an admin can set.
        return types.Metadata(
            name="{{name}}",
            version="0.1.0",
            kind=types.PluginKind.CLASSIFIER,
            description="Tags mail as urgent when it mentions a keyword",
            config_keys=[
                types.ConfigKey(
                    name="keywords",
                    description="Comma-separated words that make a message urgent",
                    required=False,
                    default_value=DEFAULT_KEYWORDS,
                )
            ],
            permissions=[],
        )


class Classifier(_Classifier):
    def classify(self, message: types.Message) -> types.Classification:
        subject = message.subject.lower()
        body = message.text_body.lower()
        reasons = []
        for keyword in keywords():
            # One reason per keyword, from the first place it occurs: the
            # reasons let a user see *why* the message was tagged.
            if keyword in subject:
                source = types.TextSource.SUBJECT
            elif keyword in body:
                source = types.TextSource.TEXT_BODY
            else:
                continue
            reasons.append(
                types.Reason(
                    part=types.ClassificationPart.TAG,
                    label="urgent",
                    index=None,
                    feature="keyword:" + keyword,
                    evidence=types.Evidence(
                        source=source,
                        header_name=None,
                        text=keyword,
                        start=None,
                        end=None,
                    ),
                    weight=1.0,
                )
            )
        host.log(
            host.LogLevel.INFO,
            '%d keyword(s) matched in "%s"' % (len(reasons), message.subject),
        )
        return types.Classification(
            # This classifier only tags; the other parts are left to others.
            sentiment=None,
            intent=None,
            summary=None,
            signature=None,
            activities=[],
            tags=[types.ScoredLabel(label="urgent", score=1.0)] if reasons else [],
            reasons=reasons,
        )
