//! The binary samples the suite asks for, base64-encoded as MCP carries them.

/// A 1x1 red pixel, RGBA, as a PNG (signature, `IHDR`, `IDAT`, `IEND`, valid CRCs).
pub const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/// Eight samples of 8-bit mono PCM at 8 kHz, as a WAV file (`RIFF`/`WAVE`, `fmt `, `data`).
pub const WAV: &str = "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAoMCggGBAYA==";
