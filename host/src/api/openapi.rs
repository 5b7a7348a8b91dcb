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
        (name = "rules", description = "The native rule engine's rules, per org and per account; dry runs"),
        (name = "tasks", description = "CRM tasks that rules and workflows made, each its assignee's"),
        (name = "notifications", description = "What rules and workflows told a user; live as server-sent events"),
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

/// What the HTTP stack answers around a handler, by status: documented on
/// every operation it applies to, so the document lists every status a
/// client can meet (generated clients and Schemathesis check this).
const STACK_ANSWERS: [(&str, &str, Applies); 7] = [
    (
        "400",
        "a path or query value of the wrong type, an unknown query parameter, or a body that is not well-formed",
        Applies::Input,
    ),
    (
        "401",
        "no token, or one that is unknown, revoked or of a deactivated user",
        Applies::Secured,
    ),
    (
        "404",
        "nothing with that id in the caller's org",
        Applies::PathParameters,
    ),
    (
        "413",
        "the body is over the route's size limit",
        Applies::Body,
    ),
    (
        "415",
        "the body is not of the documented content type",
        Applies::Body,
    ),
    (
        "422",
        "the body does not match its schema, or a value (e.g. a cursor) is invalid",
        Applies::Input,
    ),
    (
        "429",
        "too many failed authentications from this address; wait `Retry-After` seconds",
        Applies::Secured,
    ),
];

#[derive(Clone, Copy)]
enum Applies {
    /// Operations with parameters or a body.
    Input,
    PathParameters,
    Secured,
    Body,
}

/// Adds [`STACK_ANSWERS`] to each operation they apply to (an answer the
/// operation documents itself is kept).
pub fn document_stack_answers(doc: &mut Doc) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            let open = operation
                .security
                .as_ref()
                .is_some_and(|s| s.iter().any(|r| r == &Default::default()));
            for (status, description, applies) in STACK_ANSWERS {
                let applies = match applies {
                    Applies::Input => !parameters.is_empty() || operation.request_body.is_some(),
                    Applies::PathParameters => parameters
                        .iter()
                        .any(|p| p.parameter_in == ParameterIn::Path),
                    Applies::Secured => !open,
                    Applies::Body => operation.request_body.is_some(),
                };
                if !applies {
                    continue;
                }
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| {
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(description)
                                .content(
                                    "application/json",
                                    ContentBuilder::new()
                                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                                        .build(),
                                )
                                .build(),
                        )
                    });
            }
        }
    }
}
