//! `/docs`: the reference page. Redoc (served from this deployment) renders `/openapi.json`
//! with every body and schema; without JavaScript the page is a list rendered here from the
//! same document, so it can never disagree with it.

use crate::problem::PROBLEM_TYPES;
use std::fmt::Write;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{OpenApi, RefOr};

const STYLE: &str = "body{margin:0}.plain{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d2430}\
h1{margin-bottom:0}code{background:#f1f3f5;padding:0 .25em;border-radius:3px}\
.op{border:1px solid #dde1e6;border-radius:6px;padding:.6rem .9rem;margin:.6rem 0}\
.m{display:inline-block;min-width:4.2em;font-weight:700;font-family:monospace}\
.GET{color:#0b7a3e}.POST{color:#1f5fbf}.PATCH{color:#a05a00}.DELETE{color:#b3261e}\
table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:.2rem .6rem;text-align:left}";

pub fn render(spec: &OpenApi) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} reference</title><style>{STYLE}</style></head><body>\
         <redoc spec-url=\"/openapi.json\" hide-download-button native-scrollbars></redoc>\
         <script src=\"/docs/redoc.standalone.js\"></script><noscript><div class=\"plain\">\
         <h1>{title}</h1><p>{description}</p>\
         <p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3.1).</p>",
        title = escape(&spec.info.title),
        description = escape(spec.info.description.as_deref().unwrap_or_default()),
    );
    for tag in spec.tags.iter().flatten() {
        let _ = write!(
            page,
            "<h2 id=\"{name}\">{name}</h2><p>{about}</p>",
            name = escape(&tag.name),
            about = escape(tag.description.as_deref().unwrap_or_default()),
        );
        for (path, item) in &spec.paths.paths {
            for (method, operation) in operations(item) {
                if operation.tags.iter().flatten().any(|t| *t == tag.name) {
                    render_operation(&mut page, method, path, operation);
                }
            }
        }
    }
    page.push_str("<h2 id=\"problems\">Errors</h2><p>Every error is <code>application/problem+json</code> \
                   with <code>type</code>, <code>title</code>, <code>status</code> and <code>detail</code>; \
                   validation errors add <code>errors: [{field, message}]</code>.</p><table><tr><th>status</th><th>type</th><th>title</th></tr>");
    for problem in PROBLEM_TYPES {
        let _ = write!(
            page,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            problem.status.as_u16(),
            escape(&problem.uri()),
            escape(problem.title)
        );
    }
    page.push_str("</table></div></noscript></body></html>");
    page
}

/// The operations of one path, with their HTTP methods.
pub fn operations(item: &PathItem) -> impl Iterator<Item = (&'static str, &Operation)> {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
        ("HEAD", &item.head),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_ref().map(|op| (method, op)))
}

fn render_operation(page: &mut String, method: &str, path: &str, operation: &Operation) {
    let _ = write!(
        page,
        "<div class=\"op\"><span class=\"m {method}\">{method}</span> <code>{path}</code> {summary}",
        path = escape(path),
        summary = escape(operation.summary.as_deref().unwrap_or_default()),
    );
    if let Some(description) = &operation.description {
        let _ = write!(page, "<p>{}</p>", escape(description));
    }
    let params: Vec<String> = operation
        .parameters
        .iter()
        .flatten()
        .map(|p| format!("<code>{}</code>", escape(&p.name)))
        .collect();
    if !params.is_empty() {
        let _ = write!(page, "<div>Parameters: {}</div>", params.join(", "));
    }
    let statuses: Vec<String> = operation
        .responses
        .responses
        .iter()
        .map(|(status, response)| match response {
            RefOr::T(response) if !response.description.is_empty() => {
                format!("{} {}", escape(status), escape(&response.description))
            }
            _ => escape(status),
        })
        .collect();
    let _ = write!(page, "<div>Responses: {}</div></div>", statuses.join(" · "));
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}
