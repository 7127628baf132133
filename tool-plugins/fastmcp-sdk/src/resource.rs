//! Resources: [`ResourceDef`] (a fixed URI) and [`ResourceTemplateDef`] (an RFC 6570 URI
//! template), what their functions return ([`ResourceContent`], [`IntoResourceResult`]), and the
//! helpers the `#[resource]` and `#[resource_template]` attributes' generated code calls.

use std::fmt::{self, Display};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{Annotations, Context, ProtocolError, base64_encode};

/// The function that serves a resource or template: reads it for one request.
pub type ResourceHandler = for<'c, 'h, 'r> fn(
    &'c Context<'h>,
    &'r ResourceRequest<'r>,
) -> Result<Vec<ResourceContent>, ProtocolError>;

/// One `resources/read` as a resource function sees it.
#[derive(Debug)]
pub struct ResourceRequest<'a> {
    pub(crate) uri: &'a str,
    pub(crate) mime_type: Option<&'a str>,
    pub(crate) variables: Map<String, Value>,
}

impl<'a> ResourceRequest<'a> {
    /// The URI the client asked for.
    pub fn uri(&self) -> &'a str {
        self.uri
    }

    /// The MIME type the resource or template declares, if any.
    pub fn mime_type(&self) -> Option<&'a str> {
        self.mime_type
    }

    /// The template's variables taken from the URI (empty for a static resource).
    pub fn variables(&self) -> &Map<String, Value> {
        &self.variables
    }
}

/// One item of a `resources/read` result: text or a base64 blob, with its URI and MIME type.
///
/// ```
/// use fastmcp_sdk::ResourceContent;
///
/// let text = ResourceContent::text("file:///notes.md", "text/markdown", "# Notes");
/// let blob = ResourceContent::bytes("file:///logo.png", "image/png", &[0x89, b'P', b'N', b'G']);
/// assert_eq!(blob.as_blob(), Some("iVBORw=="));
/// assert_eq!(text.as_text(), Some("# Notes"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ResourceContent(Repr);

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
enum Repr {
    Text {
        uri: String,
        #[serde(rename = "mimeType", skip_serializing_if = "String::is_empty")]
        mime_type: String,
        text: String,
    },
    Blob {
        uri: String,
        #[serde(rename = "mimeType", skip_serializing_if = "String::is_empty")]
        mime_type: String,
        blob: String,
    },
}

impl ResourceContent {
    /// Text content; an empty `mime_type` is left out.
    pub fn text(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        let (uri, mime_type, text) = (uri.into(), mime_type.into(), text.into());
        Self(Repr::Text {
            uri,
            mime_type,
            text,
        })
    }

    /// Binary content, already base64-encoded.
    pub fn blob(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        base64: impl Into<String>,
    ) -> Self {
        let (uri, mime_type, blob) = (uri.into(), mime_type.into(), base64.into());
        Self(Repr::Blob {
            uri,
            mime_type,
            blob,
        })
    }

    /// Binary content from raw bytes (encoded here).
    pub fn bytes(uri: impl Into<String>, mime_type: impl Into<String>, bytes: &[u8]) -> Self {
        Self::blob(uri, mime_type, base64_encode(bytes))
    }

    /// The URI.
    pub fn uri(&self) -> &str {
        match &self.0 {
            Repr::Text { uri, .. } | Repr::Blob { uri, .. } => uri,
        }
    }

    /// The text, for text content.
    pub fn as_text(&self) -> Option<&str> {
        match &self.0 {
            Repr::Text { text, .. } => Some(text),
            Repr::Blob { .. } => None,
        }
    }

    /// The base64 data, for binary content.
    pub fn as_blob(&self) -> Option<&str> {
        match &self.0 {
            Repr::Blob { blob, .. } => Some(blob),
            Repr::Text { .. } => None,
        }
    }
}

/// A value a `#[resource]` or `#[resource_template]` function may return.
///
/// - `String` / `&str`: text content at the requested URI, with the declared MIME type.
/// - `Vec<u8>`: binary content at the requested URI, with the declared MIME type (or
///   `application/octet-stream`).
/// - [`ResourceContent`], `Vec<ResourceContent>`: as given.
/// - `Option<T>`: `None` answers "resource not found" (`-32002`) for the requested URI.
/// - `Result<T, E>` with `E: Display`: an `Err` is a JSON-RPC error, `-32603` with the error's
///   text unless it is a [`ProtocolError`], which keeps its code.
pub trait IntoResourceResult {
    /// Converts the value into the contents of the read.
    fn into_resource_result(
        self,
        request: &ResourceRequest<'_>,
    ) -> Result<Vec<ResourceContent>, ProtocolError>;
}

impl IntoResourceResult for String {
    fn into_resource_result(
        self,
        request: &ResourceRequest<'_>,
    ) -> Result<Vec<ResourceContent>, ProtocolError> {
        let mime_type = request.mime_type.unwrap_or_default();
        Ok(vec![ResourceContent::text(request.uri, mime_type, self)])
    }
}

impl IntoResourceResult for &str {
    fn into_resource_result(
        self,
        request: &ResourceRequest<'_>,
    ) -> Result<Vec<ResourceContent>, ProtocolError> {
        self.to_owned().into_resource_result(request)
    }
}

impl IntoResourceResult for Vec<u8> {
    fn into_resource_result(
        self,
        request: &ResourceRequest<'_>,
    ) -> Result<Vec<ResourceContent>, ProtocolError> {
        let mime_type = request.mime_type.unwrap_or("application/octet-stream");
        Ok(vec![ResourceContent::bytes(request.uri, mime_type, &self)])
    }
}

impl IntoResourceResult for ResourceContent {
    fn into_resource_result(
        self,
        _: &ResourceRequest<'_>,
    ) -> Result<Vec<ResourceContent>, ProtocolError> {
        Ok(vec![self])
    }
}

impl IntoResourceResult for Vec<ResourceContent> {
    fn into_resource_result(
        self,
        _: &ResourceRequest<'_>,
    ) -> Result<Vec<ResourceContent>, ProtocolError> {
        Ok(self)
    }
}

impl<T: IntoResourceResult> IntoResourceResult for Option<T> {
    fn into_resource_result(
        self,
        request: &ResourceRequest<'_>,
    ) -> Result<Vec<ResourceContent>, ProtocolError> {
        match self {
            Some(value) => value.into_resource_result(request),
            None => Err(ProtocolError::resource_not_found(request.uri)),
        }
    }
}

impl<T: IntoResourceResult, E: Display + 'static> IntoResourceResult for Result<T, E> {
    fn into_resource_result(
        self,
        request: &ResourceRequest<'_>,
    ) -> Result<Vec<ResourceContent>, ProtocolError> {
        self.map_err(ProtocolError::from_display)?
            .into_resource_result(request)
    }
}

/// The fields a resource and a template share.
#[derive(Clone)]
pub(crate) struct Common {
    pub name: &'static str,
    pub title: Option<&'static str>,
    pub description: Option<&'static str>,
    pub mime_type: Option<&'static str>,
    pub annotations: Option<Annotations>,
    pub handler: ResourceHandler,
}

impl Common {
    /// A name and a handler; everything else unset.
    fn new(name: &'static str, handler: ResourceHandler) -> Common {
        Common {
            name,
            title: None,
            description: None,
            mime_type: None,
            annotations: None,
            handler,
        }
    }
}

impl fmt::Debug for Common {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resource")
            .field("name", &self.name)
            .field("title", &self.title)
            .field("description", &self.description)
            .field("mime_type", &self.mime_type)
            .finish_non_exhaustive()
    }
}

/// Builder methods both definitions have.
macro_rules! common_builders {
    () => {
        /// Sets the human-readable title.
        pub fn with_title(mut self, title: &'static str) -> Self {
            self.common.title = Some(title);
            self
        }

        /// Sets the description.
        pub fn with_description(mut self, description: &'static str) -> Self {
            self.common.description = Some(description);
            self
        }

        /// Sets the MIME type (also the one `String` and `Vec<u8>` results get).
        pub fn with_mime_type(mut self, mime_type: &'static str) -> Self {
            self.common.mime_type = Some(mime_type);
            self
        }

        /// Sets the annotations listed with it (audience, priority, last modified).
        pub fn with_annotations(mut self, annotations: Annotations) -> Self {
            self.common.annotations = Some(annotations);
            self
        }

        /// The name.
        pub fn name(&self) -> &'static str {
            self.common.name
        }
    };
}

/// A resource at a fixed URI. `#[resource]` builds these.
#[derive(Debug, Clone)]
pub struct ResourceDef {
    pub(crate) uri: &'static str,
    pub(crate) size: Option<u64>,
    pub(crate) common: Common,
}

impl ResourceDef {
    /// A resource with this URI, name and handler.
    pub fn new(uri: &'static str, name: &'static str, handler: ResourceHandler) -> Self {
        let common = Common::new(name, handler);
        Self {
            uri,
            size: None,
            common,
        }
    }

    common_builders!();

    /// Sets the size in bytes listed with it.
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// The URI.
    pub fn uri(&self) -> &'static str {
        self.uri
    }
}

/// Resources whose URIs match an RFC 6570 template. `#[resource_template]` builds these.
#[derive(Debug, Clone)]
pub struct ResourceTemplateDef {
    pub(crate) uri_template: &'static str,
    pub(crate) common: Common,
}

impl ResourceTemplateDef {
    /// A template with this URI template, name and handler.
    pub fn new(uri_template: &'static str, name: &'static str, handler: ResourceHandler) -> Self {
        let common = Common::new(name, handler);
        Self {
            uri_template,
            common,
        }
    }

    common_builders!();

    /// The URI template.
    pub fn uri_template(&self) -> &'static str {
        self.uri_template
    }
}

/// Implemented by the hidden struct `#[resource]` puts beside each function.
#[doc(hidden)]
pub trait ResourceItem {
    fn definition() -> ResourceDef;
}

/// Implemented by the hidden struct `#[resource_template]` puts beside each function.
#[doc(hidden)]
pub trait ResourceTemplateItem {
    fn definition() -> ResourceTemplateDef;
}

/// Runs a resource function without template parameters.
#[doc(hidden)]
pub fn read<R: IntoResourceResult>(
    request: &ResourceRequest<'_>,
    function: impl FnOnce() -> R,
) -> Result<Vec<ResourceContent>, ProtocolError> {
    function().into_resource_result(request)
}

/// Deserializes the template's variables into `T` and runs the function with them.
#[doc(hidden)]
pub fn read_params<T: DeserializeOwned, R: IntoResourceResult>(
    request: &ResourceRequest<'_>,
    function: impl FnOnce(T) -> R,
) -> Result<Vec<ResourceContent>, ProtocolError> {
    let params = crate::args::from_map(&request.variables).map_err(|reason| {
        ProtocolError::invalid_params(format!("Invalid URI {}: {reason}", request.uri))
    })?;
    function(params).into_resource_result(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(mime_type: Option<&'static str>) -> ResourceRequest<'static> {
        ResourceRequest {
            uri: "test://r",
            mime_type,
            variables: Map::new(),
        }
    }

    fn wire(result: impl IntoResourceResult, mime_type: Option<&'static str>) -> Value {
        match result.into_resource_result(&request(mime_type)) {
            Ok(contents) => serde_json::to_value(contents).unwrap(),
            Err(error) => serde_json::to_value(error).unwrap(),
        }
    }

    #[test]
    fn plain_values_use_the_requested_uri_and_declared_mime_type() {
        assert_eq!(
            wire("hi", Some("text/plain")),
            json!([{"uri": "test://r", "mimeType": "text/plain", "text": "hi"}])
        );
        assert_eq!(
            wire(String::from("hi"), None),
            json!([{"uri": "test://r", "text": "hi"}])
        );
        assert_eq!(
            wire(vec![1u8, 2, 3], None),
            json!([{"uri": "test://r", "mimeType": "application/octet-stream", "blob": "AQID"}])
        );
        let two = vec![
            ResourceContent::text("test://a", "text/plain", "a"),
            ResourceContent::blob("test://b", "image/png", "AAAA"),
        ];
        assert_eq!(
            wire(two, None),
            json!([{"uri": "test://a", "mimeType": "text/plain", "text": "a"},
                {"uri": "test://b", "mimeType": "image/png", "blob": "AAAA"}])
        );
    }

    #[test]
    fn failures_are_protocol_errors() {
        assert_eq!(
            wire(None::<String>, None),
            json!({"code": -32002, "message": "Resource not found: test://r",
                "data": {"uri": "test://r"}})
        );
        let failed: Result<String, std::io::Error> = Err(std::io::Error::other("disk"));
        assert_eq!(
            wire(failed, None),
            json!({"code": -32603, "message": "disk"})
        );
        let gone: Result<String, ProtocolError> = Err(ProtocolError::resource_not_found("x://"));
        assert_eq!(wire(gone, None)["code"], -32002);
    }

    #[test]
    fn embeds_as_content() {
        let content = crate::Content::from(ResourceContent::text("test://a", "text/plain", "a"));
        assert_eq!(
            serde_json::to_value(content).unwrap(),
            json!({"type": "resource", "resource":
                {"uri": "test://a", "mimeType": "text/plain", "text": "a"}})
        );
    }
}
