//! What the OpenAPI document says of errors, made true for every operation at once: errors
//! are `application/problem+json`, and each operation lists the statuses any request to it
//! can meet (a missing token, a malformed body or parameter, a body of the wrong type or
//! size, a record it names that is not there, the database being down), besides its own.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Rewrites `openapi` so that its error responses are what the service sends.
pub fn describe_errors(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            describe_operation(operation);
        }
    }
}

fn describe_operation(operation: &mut Operation) {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let has_path = parameters.iter().any(|parameter| {
        matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == ParameterIn::Path)
    });
    let has_input = !parameters.is_empty() || operation.request_body.is_some();
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let has_body = operation.request_body.is_some();
    let common = [
        (
            has_input,
            "400",
            "the request is malformed or a value is invalid",
        ),
        (secured, "401", "no valid token or session"),
        (
            has_path || has_body && secured,
            "404",
            "no such resource, or one the caller may not see",
        ),
        (has_body, "413", "the request body is too large"),
        (
            has_body,
            "415",
            "the request body is not of the documented media type",
        ),
        (
            true,
            "503",
            "a store (database or object store) is unavailable; retry later",
        ),
    ];
    let responses = &mut operation.responses.responses;
    for (applies, status, description) in common {
        if applies && !responses.contains_key(status) {
            responses.insert(status.to_owned(), problem_response(description));
        }
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let is_error = status.starts_with('4') || status.starts_with('5');
        if is_error && let Some(content) = response.content.shift_remove("application/json") {
            response.content.insert(PROBLEM_JSON.to_owned(), content);
        }
    }
}

fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                Content::new(Some(Ref::from_schema_name("Problem"))),
            )
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, PathItem};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{HttpMethod, OpenApiBuilder, PathsBuilder};

    use super::*;

    fn document(operation: Operation) -> OpenApi {
        OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path("/things/{id}", PathItem::new(HttpMethod::Post, operation)),
            )
            .build()
    }

    fn statuses(openapi: &OpenApi) -> Vec<String> {
        openapi.paths.paths["/things/{id}"]
            .post
            .as_ref()
            .map(|operation| operation.responses.responses.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_secured_operation_with_a_body_and_a_path_lists_every_common_error() {
        let operation = OperationBuilder::new()
            .parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path),
            )
            .request_body(Some(RequestBodyBuilder::new().build()))
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
            .response(
                "409",
                ResponseBuilder::new()
                    .description("taken")
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("Problem"))),
                    )
                    .build(),
            )
            .response(
                "201",
                ResponseBuilder::new()
                    .description("made")
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("Thing"))),
                    )
                    .build(),
            )
            .build();
        let mut openapi = document(operation);
        describe_errors(&mut openapi);
        assert_eq!(
            statuses(&openapi),
            ["201", "400", "401", "404", "409", "413", "415", "503"]
        );
        let responses = &openapi.paths.paths["/things/{id}"]
            .post
            .as_ref()
            .map(|operation| operation.responses.responses.clone())
            .unwrap_or_default();
        let types = |status: &str| match &responses[status] {
            RefOr::T(response) => response.content.keys().cloned().collect::<Vec<_>>(),
            RefOr::Ref(_) => Vec::new(),
        };
        assert_eq!(types("409"), [PROBLEM_JSON]);
        assert_eq!(types("401"), [PROBLEM_JSON]);
        assert_eq!(types("201"), ["application/json"]);
    }

    #[test]
    fn an_open_operation_without_input_lists_only_unavailability() {
        let mut openapi = document(OperationBuilder::new().build());
        describe_errors(&mut openapi);
        assert_eq!(statuses(&openapi), ["503"]);
    }
}
