//! The suite's resources: static text, static binary, a template, and one to subscribe to.

use fastmcp_sdk::prelude::*;

use crate::assets::PNG;

/// A static text resource
#[resource(
    uri = "test://static-text",
    name = "static-text",
    mime_type = "text/plain"
)]
pub fn static_text() -> &'static str {
    "This is the content of the static text resource."
}

/// A static binary resource (a 1x1 PNG image)
#[resource(
    uri = "test://static-binary",
    name = "static-binary",
    mime_type = "image/png"
)]
pub fn static_binary() -> ResourceContent {
    ResourceContent::blob("test://static-binary", "image/png", PNG)
}

#[derive(Deserialize)]
pub struct TemplateParams {
    pub id: String,
}

/// Data for one id, as JSON
#[resource_template(
    uri_template = "test://template/{id}/data",
    name = "template-data",
    mime_type = "application/json"
)]
pub fn template_data(params: TemplateParams) -> String {
    let id = params.id;
    json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")}).to_string()
}

/// A resource clients may subscribe to
#[resource(
    uri = "test://watched-resource",
    name = "watched-resource",
    mime_type = "text/plain"
)]
pub fn watched_resource() -> &'static str {
    "Watched resource content"
}
