//! The PNG and WAV samples are valid files: the suite only checks their MIME types, but a
//! client that decodes them must not choke.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::assets::{PNG, WAV};

/// The CRC-32 (IEEE) PNG chunks carry.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn the_png_is_a_valid_1x1_image() {
    let png = STANDARD.decode(PNG).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let mut chunks = Vec::new();
    let mut rest = &png[8..];
    while !rest.is_empty() {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        let (kind_and_data, crc) = (&rest[4..8 + len], &rest[8 + len..12 + len]);
        assert_eq!(crc32(kind_and_data).to_be_bytes(), crc);
        chunks.push((
            String::from_utf8_lossy(&kind_and_data[..4]).into_owned(),
            kind_and_data[4..].to_vec(),
        ));
        rest = &rest[12 + len..];
    }
    let kinds: Vec<&str> = chunks.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
    assert_eq!(&chunks[0].1[..8], [0, 0, 0, 1, 0, 0, 0, 1], "1 x 1 pixels");
}

#[test]
fn the_wav_is_valid_pcm() {
    let wav = STANDARD.decode(WAV).unwrap();
    let u32_at = |at: usize| u32::from_le_bytes(wav[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!((&wav[..4], &wav[8..16]), (&b"RIFF"[..], &b"WAVEfmt "[..]));
    assert_eq!(u32_at(4), wav.len() - 8);
    assert_eq!(u16::from_le_bytes([wav[20], wav[21]]), 1, "PCM");
    assert_eq!(&wav[36..40], b"data");
    assert_eq!(u32_at(40), wav.len() - 44);
}
