//! The start of a response body, at most a given number of bytes, and its text.

use std::fmt;

/// Collects a body's chunks up to `limit` bytes.
#[derive(Debug)]
pub(crate) struct Limited {
    bytes: Vec<u8>,
    limit: usize,
    /// A chunk went past the limit: `bytes` is only the start of the body.
    truncated: bool,
}

/// Why a body is not text: where its first byte that is not UTF-8 is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NotText {
    offset: usize,
}

impl fmt::Display for NotText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the body is not UTF-8 text (byte {} is not valid UTF-8); fetch returns text only",
            self.offset
        )
    }
}

impl Limited {
    pub(crate) fn new(limit: usize) -> Self {
        Limited {
            bytes: Vec::new(),
            limit,
            truncated: false,
        }
    }

    /// Appends what fits of `chunk`; `false` once a chunk did not fit, and the body is cut.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> bool {
        let room = self.limit - self.bytes.len();
        if chunk.len() > room {
            self.bytes.extend_from_slice(&chunk[..room]);
            self.truncated = true;
            return false;
        }
        self.bytes.extend_from_slice(chunk);
        true
    }

    /// How many bytes are kept.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The kept bytes as text, and whether the body was cut. A character the cut split in two
    /// is dropped; invalid UTF-8 anywhere else is an error.
    pub(crate) fn into_text(self) -> Result<(String, bool), NotText> {
        let truncated = self.truncated;
        match String::from_utf8(self.bytes) {
            Ok(text) => Ok((text, truncated)),
            Err(error) => {
                let utf8 = error.utf8_error();
                let offset = utf8.valid_up_to();
                // `error_len() == None`: the bytes end inside a character.
                if !(truncated && utf8.error_len().is_none()) {
                    return Err(NotText { offset });
                }
                let mut bytes = error.into_bytes();
                bytes.truncate(offset);
                let text = String::from_utf8(bytes).map_err(|_| NotText { offset })?;
                Ok((text, true))
            }
        }
    }
}
