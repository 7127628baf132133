//! Content blocks of tool results and prompt messages, serialized in the MCP wire shape, and
//! their optional [`Annotations`].

use serde::Serialize;

use crate::resource::ResourceContent;
use serde_json::Value;

/// One block of a tool result or prompt message: text, an image, audio, an embedded resource
/// or a link to one, each optionally with [`Annotations`].
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
        #[serde(skip_serializing_if = "Option::is_none")]
        annotations: Option<Box<Annotations>>,
    },
    Image {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        annotations: Option<Box<Annotations>>,
    },
    Audio {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        annotations: Option<Box<Annotations>>,
    },
    Resource {
        resource: ResourceContent,
        #[serde(skip_serializing_if = "Option::is_none")]
        annotations: Option<Box<Annotations>>,
    },
    ResourceLink(ResourceLink),
}

impl Content {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        Self(Repr::Known(Known::Text {
            text,
            annotations: None,
        }))
    }

    /// An image block; `data` is the base64-encoded image, `mime_type` e.g. `image/png`.
    pub fn image(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        let (data, mime_type) = (data.into(), mime_type.into());
        Self(Repr::Known(Known::Image {
            data,
            mime_type,
            annotations: None,
        }))
    }

    /// An audio block; `data` is the base64-encoded audio, `mime_type` e.g. `audio/wav`.
    pub fn audio(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        let (data, mime_type) = (data.into(), mime_type.into());
        Self(Repr::Known(Known::Audio {
            data,
            mime_type,
            annotations: None,
        }))
    }

    /// An embedded text resource.
    pub fn resource_text(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Self::from(ResourceContent::text(uri, mime_type, text))
    }

    /// An embedded binary resource; `blob` is base64-encoded.
    pub fn resource_blob(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        blob: impl Into<String>,
    ) -> Self {
        Self::from(ResourceContent::blob(uri, mime_type, blob))
    }

    /// A link to a resource the client can read; see [`ResourceLink`] for the optional fields.
    pub fn resource_link(uri: impl Into<String>, name: impl Into<String>) -> Self {
        ResourceLink::new(uri, name).into()
    }

    /// A block given as raw JSON, for shapes the helpers do not cover (`_meta`, new types).
    pub fn raw(value: Value) -> Self {
        Self(Repr::Raw(value))
    }

    /// Sets the block's annotations (for a raw block: its `annotations` key, if it is an object).
    pub fn with_annotations(mut self, annotations: Annotations) -> Self {
        let boxed = Some(Box::new(annotations));
        match &mut self.0 {
            Repr::Known(
                Known::Text { annotations, .. }
                | Known::Image { annotations, .. }
                | Known::Audio { annotations, .. }
                | Known::Resource { annotations, .. }
                | Known::ResourceLink(ResourceLink { annotations, .. }),
            ) => *annotations = boxed,
            Repr::Raw(Value::Object(object)) => {
                let value = serde_json::to_value(boxed).unwrap_or_default();
                object.insert("annotations".into(), value);
            }
            Repr::Raw(_) => {}
        }
        self
    }

    /// The text of a text block.
    pub fn as_text(&self) -> Option<&str> {
        match &self.0 {
            Repr::Known(Known::Text { text, .. }) => Some(text),
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
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<Box<Annotations>>,
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
            annotations: None,
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

/// Who a piece of content is for and how important it is (MCP `Annotations`), for clients
/// deciding what to show the user or give the model.
///
/// ```
/// use fastmcp_sdk::{Annotations, Content, Role};
///
/// let note = Content::text("internal detail").with_annotations(
///     Annotations::new()
///         .with_audience([Role::Assistant])
///         .with_priority(0.2)
///         .with_last_modified("2025-01-12T15:00:58Z"),
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    #[serde(skip_serializing_if = "Option::is_none")]
    audience: Option<Vec<Role>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
}

impl Annotations {
    /// No annotations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Who the content is for: the user, the model (assistant), or both.
    pub fn with_audience(mut self, audience: impl IntoIterator<Item = Role>) -> Self {
        self.audience = Some(audience.into_iter().collect());
        self
    }

    /// How important the content is, from 0 (least) to 1 (most).
    pub fn with_priority(mut self, priority: f64) -> Self {
        self.priority = Some(priority);
        self
    }

    /// When the content last changed, as an ISO 8601 timestamp.
    pub fn with_last_modified(mut self, timestamp: impl Into<String>) -> Self {
        self.last_modified = Some(timestamp.into());
        self
    }
}

/// The two sides of a conversation: the user and the assistant (the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The human side.
    User,
    /// The model.
    Assistant,
}

impl From<ResourceLink> for Content {
    fn from(link: ResourceLink) -> Self {
        Self(Repr::Known(Known::ResourceLink(link)))
    }
}

/// An embedded resource block (`{"type": "resource", ...}`), for tool results and prompts.
impl From<ResourceContent> for Content {
    fn from(resource: ResourceContent) -> Self {
        Self(Repr::Known(Known::Resource {
            resource,
            annotations: None,
        }))
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

    #[test]
    fn annotations_go_on_every_kind_of_block() {
        let annotations = Annotations::new()
            .with_audience([Role::User, Role::Assistant])
            .with_priority(0.5)
            .with_last_modified("2025-01-12T15:00:58Z");
        let expected = json!({"audience": ["user", "assistant"], "priority": 0.5,
            "lastModified": "2025-01-12T15:00:58Z"});
        let blocks = [
            Content::text("t"),
            Content::image("AAAA", "image/png"),
            Content::audio("UklG", "audio/wav"),
            Content::resource_text("test://a", "text/plain", "a"),
            Content::resource_blob("test://b", "image/png", "AAAA"),
            Content::resource_link("test://c", "c"),
            Content::raw(json!({"type": "text", "text": "r"})),
        ];
        for block in blocks {
            let value = wire(block.with_annotations(annotations.clone()));
            assert_eq!(value["annotations"], expected, "{value}");
        }
        let only_priority = Annotations::new().with_priority(1.0);
        assert_eq!(
            wire(Content::text("t").with_annotations(only_priority)),
            json!({"type": "text", "text": "t", "annotations": {"priority": 1.0}})
        );
        let link = ResourceLink::new("test://d", "d")
            .with_title("D")
            .with_description("the d");
        assert_eq!(
            wire(Content::from(link).with_annotations(Annotations::new())),
            json!({"type": "resource_link", "uri": "test://d", "name": "d", "title": "D",
                "description": "the d", "annotations": {}})
        );
        // A raw block that is not an object is left alone.
        assert_eq!(
            wire(Content::raw(json!(1)).with_annotations(Annotations::new())),
            1
        );
    }
}
