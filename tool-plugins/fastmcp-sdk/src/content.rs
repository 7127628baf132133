//! Content blocks of a tool result, serialized in the MCP wire shape.

use serde::Serialize;
use serde_json::Value;

/// One block of a tool result: text, an image, audio, an embedded resource or a link to one.
///
/// ```
/// use fastmcp_sdk::Content;
///
/// let blocks = vec![
///     Content::text("Here is the chart"),
///     Content::image("iVBORw0KGgo...", "image/png"),
///     Content::resource_text("file:///notes.md", "text/markdown", "# Notes"),
/// ];
/// assert_eq!(blocks[0].as_text(), Some("Here is the chart"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Content(Repr);

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
enum Repr {
    Known(Known),
    /// Anything the helpers do not cover, sent as given.
    Raw(Value),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Known {
    Text {
        text: String,
    },
    Image {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    Audio {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    Resource {
        resource: Embedded,
    },
    ResourceLink(ResourceLink),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
enum Embedded {
    Text {
        uri: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
        text: String,
    },
    Blob {
        uri: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
        blob: String,
    },
}

impl Content {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self(Repr::Known(Known::Text { text: text.into() }))
    }

    /// An image block; `data` is the base64-encoded image, `mime_type` e.g. `image/png`.
    pub fn image(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        let (data, mime_type) = (data.into(), mime_type.into());
        Self(Repr::Known(Known::Image { data, mime_type }))
    }

    /// An audio block; `data` is the base64-encoded audio, `mime_type` e.g. `audio/wav`.
    pub fn audio(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        let (data, mime_type) = (data.into(), mime_type.into());
        Self(Repr::Known(Known::Audio { data, mime_type }))
    }

    /// An embedded text resource.
    pub fn resource_text(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        let (uri, mime_type, text) = (uri.into(), mime_type.into(), text.into());
        let resource = Embedded::Text {
            uri,
            mime_type,
            text,
        };
        Self(Repr::Known(Known::Resource { resource }))
    }

    /// An embedded binary resource; `blob` is base64-encoded.
    pub fn resource_blob(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        blob: impl Into<String>,
    ) -> Self {
        let (uri, mime_type, blob) = (uri.into(), mime_type.into(), blob.into());
        let resource = Embedded::Blob {
            uri,
            mime_type,
            blob,
        };
        Self(Repr::Known(Known::Resource { resource }))
    }

    /// A link to a resource the client can read; see [`ResourceLink`] for the optional fields.
    pub fn resource_link(uri: impl Into<String>, name: impl Into<String>) -> Self {
        ResourceLink::new(uri, name).into()
    }

    /// A block given as raw JSON, for shapes the helpers do not cover (annotations, `_meta`).
    pub fn raw(value: Value) -> Self {
        Self(Repr::Raw(value))
    }

    /// The text of a text block.
    pub fn as_text(&self) -> Option<&str> {
        match &self.0 {
            Repr::Known(Known::Text { text }) => Some(text),
            Repr::Raw(value) if value["type"] == "text" => value["text"].as_str(),
            _ => None,
        }
    }
}

impl From<String> for Content {
    fn from(text: String) -> Self {
        Self::text(text)
    }
}

impl From<&str> for Content {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

/// A `resource_link` block: a resource the client may fetch with `resources/read`.
///
/// ```
/// use fastmcp_sdk::{Content, ResourceLink};
///
/// let link: Content = ResourceLink::new("file:///report.pdf", "report")
///     .with_mime_type("application/pdf")
///     .with_description("The monthly report")
///     .into();
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceLink {
    uri: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mime_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
}

impl ResourceLink {
    /// A link with only the required fields.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            name: name.into(),
            title: None,
            description: None,
            mime_type: None,
            size: None,
        }
    }

    /// Sets the human-readable title.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the MIME type.
    pub fn with_mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }

    /// Sets the size in bytes.
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }
}

impl From<ResourceLink> for Content {
    fn from(link: ResourceLink) -> Self {
        Self(Repr::Known(Known::ResourceLink(link)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wire(content: Content) -> Value {
        serde_json::to_value(content).unwrap()
    }

    #[test]
    fn serializes_to_the_mcp_wire_shapes() {
        assert_eq!(
            wire(Content::text("hi")),
            json!({"type": "text", "text": "hi"})
        );
        assert_eq!(
            wire(Content::image("AAAA", "image/png")),
            json!({"type": "image", "data": "AAAA", "mimeType": "image/png"})
        );
        assert_eq!(
            wire(Content::audio("UklG", "audio/wav")),
            json!({"type": "audio", "data": "UklG", "mimeType": "audio/wav"})
        );
        assert_eq!(
            wire(Content::resource_text("test://a", "text/plain", "body")),
            json!({"type": "resource", "resource":
                {"uri": "test://a", "mimeType": "text/plain", "text": "body"}})
        );
        assert_eq!(
            wire(Content::resource_blob("test://b", "image/png", "AAAA")),
            json!({"type": "resource", "resource":
                {"uri": "test://b", "mimeType": "image/png", "blob": "AAAA"}})
        );
        assert_eq!(
            wire(Content::resource_link("test://c", "c")),
            json!({"type": "resource_link", "uri": "test://c", "name": "c"})
        );
        let link = ResourceLink::new("test://d", "d")
            .with_mime_type("text/plain")
            .with_size(3);
        assert_eq!(
            wire(link.into()),
            json!({"type": "resource_link", "uri": "test://d", "name": "d",
                "mimeType": "text/plain", "size": 3})
        );
        let raw = json!({"type": "text", "text": "x", "annotations": {"priority": 1}});
        assert_eq!(wire(Content::raw(raw.clone())), raw);
        assert_eq!(Content::raw(raw).as_text(), Some("x"));
    }
}
