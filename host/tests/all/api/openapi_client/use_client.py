"""A few calls through the client openapi-python-client generated from
Mailroom's OpenAPI document (package `mailroom_client` on sys.path).

Usage: use_client.py BASE_URL ADMIN_TOKEN ACCOUNT_ID
Exits non-zero, saying what failed, when a call does not go as documented.
"""

import sys

from mailroom_client import AuthenticatedClient
from mailroom_client.api.contacts import create_contact, get_contact, list_contacts
from mailroom_client.api.accounts import set_sharing
from mailroom_client.api.users import me
from mailroom_client.models import NewCrmRecord, Sharing, SharingRequest

base, token, account = sys.argv[1:4]
client = AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)

who = me.sync(client=client)
assert who is not None and who.user.email == "admin@a.example", who

created = create_contact.sync(client=client, body=NewCrmRecord(name="Generated Client", primary_email="Gen@Example.com"))
assert created is not None and created.primary_email == "gen@example.com", created
again = get_contact.sync(id=created.id, client=client)
assert again is not None and again.name == "Generated Client", again
page = list_contacts.sync(client=client, text="generated")
assert page is not None and [c.id for c in page.items] == [created.id], page

# Every documented sharing value, as the generated enum sends it.
for sharing in Sharing:
    answer = set_sharing.sync_detailed(id=account, client=client, body=SharingRequest(sharing=sharing, users=[]))
    assert answer.status_code == 200, (sharing, answer.status_code, answer.content)
    assert answer.parsed.sharing == sharing, (sharing, answer.parsed)

print("generated client: ok")
