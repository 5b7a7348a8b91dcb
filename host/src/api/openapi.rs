//! The OpenAPI 3.1 document's frame: title, tags, the bearer security scheme
//! (required by every operation that does not opt out with `security(())`)
//! (the schemas of ids and secrets live beside their types).

use utoipa::Modify;
use utoipa::openapi::OpenApi as Doc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

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
