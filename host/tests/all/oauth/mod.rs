//! OAuth2 end to end against real servers on loopback: the tests' own
//! authorization server (`mailroom_test_servers::OAuthServer`) and a Dovecot
//! whose `oauth2` passdb asks that server whether a bearer token is live, so
//! IMAP and submission accept exactly the tokens it issued. Connecting a
//! mailbox through the API (authorize URL → the provider's redirect →
//! callback), refresh before expiry and after a rejection, a revoked grant,
//! bad callbacks, who may do what, and the SASL mechanism (OAUTHBEARER or
//! XOAUTH2) chosen from what the server offers.

mod support;

mod oauth_access;
mod oauth_callback;
mod oauth_flow;
mod oauth_sasl;
