//! Reading a request body whole, under the size limit.
//!
//! A JSON-RPC message is one small body that hyper hands over as one frame: that frame is the
//! body, taken as it is. Only a body that comes in pieces (chunked, or larger than one read) is
//! copied into one buffer. `axum::body::to_bytes` queues every frame and allocates the queue,
//! which this path, run on every POST, does without.

use axum::body::{Body, Bytes, HttpBody};
use http_body_util::BodyExt;

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Longer than the limit, announced or sent.
    TooLarge,
    /// A malformed chunked body, or a client that hung up mid-body.
    Unreadable,
}

/// The whole body, at most `limit` bytes.
pub(crate) async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    // hyper's size hint is the Content-Length: refuse an announced oversize body unread.
    if body.size_hint().lower() > limit as u64 {
        return Err(BodyError::TooLarge);
    }
    let mut first: Option<Bytes> = None;
    let mut joined: Option<Vec<u8>> = None;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Unreadable)?;
        // Trailers carry nothing a JSON-RPC message needs.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total > limit {
            return Err(BodyError::TooLarge);
        }
        match (&mut joined, first.take()) {
            (Some(buf), _) => buf.extend_from_slice(&data),
            (None, None) => first = Some(data),
            (None, Some(earlier)) => {
                let mut buf = Vec::with_capacity(earlier.len() + data.len());
                buf.extend_from_slice(&earlier);
                buf.extend_from_slice(&data);
                joined = Some(buf);
            }
        }
    }
    Ok(match joined {
        Some(buf) => Bytes::from(buf),
        None => first.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use futures_util::stream;

    use super::*;

    fn chunked(parts: &[&'static str]) -> Body {
        let frames = parts
            .iter()
            .map(|p| Ok::<_, Infallible>(Bytes::from_static(p.as_bytes())));
        Body::from_stream(stream::iter(frames.collect::<Vec<_>>()))
    }

    #[tokio::test]
    async fn one_frame_many_frames_and_none() {
        assert_eq!(read_limited(Body::from("{}"), 10).await.unwrap(), "{}");
        let body = chunked(&["{\"a\"", ":", "1}"]);
        assert_eq!(read_limited(body, 10).await.unwrap(), "{\"a\":1}");
        assert_eq!(read_limited(Body::empty(), 10).await.unwrap(), "");
    }

    #[tokio::test]
    async fn the_limit_holds_announced_or_not() {
        assert_eq!(read_limited(Body::from("12345"), 5).await.unwrap(), "12345");
        let announced = read_limited(Body::from("123456"), 5).await;
        assert_eq!(announced, Err(BodyError::TooLarge));
        let sent = read_limited(chunked(&["123", "456"]), 5).await;
        assert_eq!(sent, Err(BodyError::TooLarge));
    }

    #[tokio::test]
    async fn a_broken_body_is_unreadable() {
        let frames: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"{")),
            Err(std::io::Error::other("gone")),
        ];
        let body = Body::from_stream(stream::iter(frames));
        assert_eq!(read_limited(body, 10).await, Err(BodyError::Unreadable));
    }
}
