//! The error responses every route can give, added to the OpenAPI document in one place so
//! that it stays truthful as routes change: a secured route can answer 401 and 403, a route
//! with a path parameter 404, one with parameters or a body 400, one with a body 413 and 415,
//! and any route 503 while the store is unreachable. The browser leg's error pages are HTML
//! (problem+json when JSON is asked for).

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};

/// Paths a browser opens: errors are pages.
const BROWSER_PATHS: [&str; 5] = [
    "/v1/widget",
    "/v1/oauth/{providerId}/authorize",
    "/v1/oauth/{providerId}/callback",
    "/v1/demo/authorize",
    "/v1/demo/authorize/decision",
];

/// Paths that are not the API's own (providers' webhooks answer in each provider's terms,
/// documented per route) or that never touch the store.
const OWN_TERMS: [&str; 5] = [
    "/webhooks/{providerId}",
    "/webhooks/{providerId}/{secret}",
    "/health",
    "/openapi.json",
    "/docs",
];

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn page_or_problem(description: &str) -> Response {
    let mut response = problem(description);
    response
        .content
        .insert("text/html".into(), ContentBuilder::new().build());
    response
}

/// Each operation of a path, and whether its method carries a body.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (bool, &mut Operation)> {
    [
        (false, &mut item.get),
        (true, &mut item.post),
        (true, &mut item.put),
        (true, &mut item.patch),
        (false, &mut item.delete),
        (false, &mut item.head),
    ]
    .into_iter()
    .filter_map(|(body, operation)| operation.as_mut().map(|op| (body, op)))
}

/// Adds the responses each operation can give and does not yet document.
pub fn document_errors(spec: &mut OpenApi) {
    for (path, item) in spec.paths.paths.iter_mut() {
        if OWN_TERMS.contains(&path.as_str()) {
            continue;
        }
        let browser = BROWSER_PATHS.contains(&path.as_str());
        for (takes_body, operation) in operations_mut(item) {
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            let has_path = parameters
                .iter()
                .any(|p| matches!(p.parameter_in, ParameterIn::Path));
            let has_body = operation.request_body.is_some();
            let secured = operation
                .security
                .as_ref()
                .is_some_and(|requirements| !requirements.is_empty());
            let mut add = |status: &str, description: &str| {
                let response = if browser {
                    page_or_problem(description)
                } else {
                    problem(description)
                };
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert(RefOr::T(response));
            };
            if secured {
                add("401", "Missing, unknown or expired credentials");
                add(
                    "403",
                    "The credentials lack the scope, or reach another user",
                );
            }
            if has_path {
                add("404", "Not found (or not yours)");
            }
            if has_body || !parameters.is_empty() {
                add("400", "A parameter or the body is not valid");
            }
            if has_body {
                add("415", "The body's content type is not accepted");
            }
            if has_body || takes_body {
                add("413", "The body is over the route's size limit");
            }
            add("503", "The store or a queue is unavailable; retry");
            if browser {
                // Pages answer their errors as HTML (problem+json when JSON is asked for).
                for (status, response) in operation.responses.responses.iter_mut() {
                    if let RefOr::T(response) = response
                        && (status.starts_with('4') || status.starts_with('5'))
                    {
                        let description = response.description.clone();
                        *response = page_or_problem(&description);
                    }
                }
            }
        }
    }
}
