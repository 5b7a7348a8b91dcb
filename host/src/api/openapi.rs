//! The OpenAPI 3.1 document's frame: title, tags, the bearer security scheme
//! (required by every operation that does not opt out with `security(())`),
//! and schemas for types defined outside the API (ids, secrets).

use crate::ids::{
    AccountId, ContactId, FolderId, LeadId, MessageId, OrgId, OutboxId, TokenId, UserId,
};
use crate::store::Secret;
use utoipa::Modify;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Doc, RefOr};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Mailroom",
        description = "Self-hosted email integration host for a CRM, extended by WebAssembly plugins. \
                       Authenticate with `Authorization: Bearer <token>`; every error is \
                       `{ \"error\": { \"code\": \"…\", \"message\": \"…\" } }`."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "users", description = "The caller, the org's users"),
        (name = "tokens", description = "The caller's API tokens"),
        (name = "accounts", description = "Connected mailboxes; credentials are write-only"),
        (name = "contacts", description = "CRM contacts and leads, CSV import, related mail"),
        (name = "plugins", description = "The org's WebAssembly plugins"),
        (name = "messages", description = "Stored mail; sending through the outbox"),
        (name = "system", description = "Health, metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("mr_<base64url>")
                    .description(Some(
                        "An API token, created with `mailroom org create` or POST /v1/tokens",
                    ))
                    .build(),
            ),
        );
    }
}

/// Ids are opaque strings in the API.
macro_rules! string_schema {
    ($($ty:ty => $desc:literal),* $(,)?) => {$(
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new().schema_type(Type::String).description(Some($desc)).into()
            }
        }
        impl utoipa::ToSchema for $ty {}
    )*};
}

string_schema!(
    OrgId => "An org id, e.g. `org_3f9c…`",
    UserId => "A user id, e.g. `usr_…`",
    AccountId => "A mail account id, e.g. `acc_…`",
    FolderId => "A folder id, e.g. `fld_…`",
    ContactId => "A contact id, e.g. `con_…`",
    LeadId => "A lead id, e.g. `lead_…`",
    TokenId => "A token id (never the token itself), e.g. `tok_…`",
    MessageId => "A message id: the sha256 (hex) of its raw bytes",
    OutboxId => "An outbox entry id, e.g. `out_…`",
);

/// Credentials go in, never out.
impl utoipa::PartialSchema for Secret {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Password,
            )))
            .write_only(Some(true))
            .description(Some(
                "A credential; accepted, stored encrypted, never returned",
            ))
            .into()
    }
}
impl utoipa::ToSchema for Secret {}
