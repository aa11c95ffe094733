//! What a binary value is, from its first bytes (its magic number): a photo, a document, a sound
//! recording — so that a staff photo, a scanned passport or a recorded call is found in a
//! `bytea`/`BLOB` column without PurSight keeping any of it.
//!
//! The connectors sample binary columns as the lowercase hex of their first
//! [`SNIFF_BYTES`] bytes only (never the whole value), and text columns may hold the same content
//! base64-encoded, bare or as a `data:` URI. [`sniff`] decodes the start of any of these forms and
//! matches it against published signatures:
//!
//! | kind | formats |
//! |---|---|
//! | image | JPEG, PNG, GIF, TIFF, WebP, HEIC/HEIF, AVIF, JPEG 2000, BMP, DICOM (medical imaging) |
//! | document | PDF, OLE2 (legacy Word/Excel), Office Open XML and OpenDocument (ZIP with their marker), RTF, PostScript, DjVu |
//! | audio | MP3 (ID3), WAV, Ogg, FLAC, AMR, M4A |
//!
//! Every signature is at least four fixed bytes (or two with a checked header field, for BMP), so
//! a random hex digest or token matches one with a chance below one in a few million. A plain
//! ZIP archive, a video or an unknown format is no kind: nothing is claimed for it.

/// How many leading bytes the connectors read of a binary value (DICOM's marker sits at 128).
pub const SNIFF_BYTES: usize = 160;

/// What kind of content a value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Image,
    Document,
    Audio,
}

/// A recognised value: its kind and its format's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub kind: ContentKind,
    pub format: &'static str,
}

/// The content of a sampled value, if its first bytes are a known signature. Accepts lowercase or
/// uppercase hex (optionally `\x`- or `0x`-prefixed, as PostgreSQL and MySQL print binary),
/// base64 (standard or URL-safe) and `data:<type>;base64,` URIs.
pub fn sniff(value: &str) -> Option<Sniffed> {
    let value = value.trim();
    if value.len() < 8 {
        return None;
    }
    let mut buf = [0u8; SNIFF_BYTES];
    let bytes = decode_start(value, &mut buf)?;
    signature(bytes)
}

/// Decodes up to [`SNIFF_BYTES`] leading bytes of a hex or base64 value into `buf`.
fn decode_start<'b>(value: &str, buf: &'b mut [u8; SNIFF_BYTES]) -> Option<&'b [u8]> {
    let hex = value
        .strip_prefix("\\x")
        .or_else(|| value.strip_prefix("0x"))
        .unwrap_or(value);
    if hex.len() >= 8 && hex.len().is_multiple_of(2) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        let n = (hex.len() / 2).min(SNIFF_BYTES);
        for (i, pair) in hex.as_bytes().chunks_exact(2).take(n).enumerate() {
            buf[i] = (nibble(pair[0]) << 4) | nibble(pair[1]);
        }
        return Some(&buf[..n]);
    }
    let b64 = match value.strip_prefix("data:") {
        Some(uri) => uri.split_once(";base64,")?.1,
        None => value,
    };
    base64_start(b64, buf)
}

fn nibble(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// The leading bytes of a base64 text (standard or URL-safe alphabet); `None` when the start is
/// not base64 or is too short to say anything.
fn base64_start<'b>(text: &str, buf: &'b mut [u8; SNIFF_BYTES]) -> Option<&'b [u8]> {
    let sextet = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let chars = text.as_bytes();
    let mut n = 0;
    for group in chars.chunks(4) {
        // A final group padded with `=` holds one or two bytes.
        let data = group.iter().take_while(|&&c| c != b'=').count();
        if n + 3 > SNIFF_BYTES || data < 2 {
            break;
        }
        let mut word = 0u32;
        for &c in &group[..data] {
            word = (word << 6) | sextet(c)?;
        }
        word <<= 6 * (4 - data as u32);
        let decoded = [(word >> 16) as u8, (word >> 8) as u8, word as u8];
        buf[n..n + data - 1].copy_from_slice(&decoded[..data - 1]);
        n += data - 1;
        if data < 4 {
            break;
        }
    }
    (n >= 6).then_some(&buf[..n])
}

fn at(bytes: &[u8], offset: usize, expected: &[u8]) -> bool {
    bytes
        .get(offset..offset + expected.len())
        .is_some_and(|b| b == expected)
}

fn signature(b: &[u8]) -> Option<Sniffed> {
    use ContentKind::*;
    let found = |kind, format| Some(Sniffed { kind, format });
    if at(b, 0, &[0xFF, 0xD8, 0xFF]) && b.len() >= 4 && matches!(b[3], 0xC0..=0xFE) {
        return found(Image, "JPEG");
    }
    if at(b, 0, b"\x89PNG\r\n\x1a\n") {
        return found(Image, "PNG");
    }
    if at(b, 0, b"GIF87a") || at(b, 0, b"GIF89a") {
        return found(Image, "GIF");
    }
    if at(b, 0, b"II*\0") || at(b, 0, b"MM\0*") {
        return found(Image, "TIFF");
    }
    if at(b, 0, b"RIFF") && at(b, 8, b"WEBP") {
        return found(Image, "WebP");
    }
    if at(b, 4, b"ftyp") {
        let brand = b.get(8..12)?;
        return match brand {
            b"heic" | b"heix" | b"mif1" | b"msf1" | b"hevc" => found(Image, "HEIF"),
            b"avif" => found(Image, "AVIF"),
            b"M4A " => found(Audio, "M4A"),
            _ => None,
        };
    }
    if at(b, 0, b"\0\0\0\x0cjP  \r\n\x87\n") {
        return found(Image, "JPEG 2000");
    }
    // BMP: "BM", then (at 14) the size of the info header, one of the few the format defines.
    if at(b, 0, b"BM")
        && b.len() >= 18
        && matches!(b[14..18], [12 | 40 | 52 | 56 | 64 | 108 | 124, 0, 0, 0])
    {
        return found(Image, "BMP");
    }
    if at(b, 128, b"DICM") {
        return found(Image, "DICOM");
    }
    if at(b, 0, b"%PDF-") {
        return found(Document, "PDF");
    }
    if at(b, 0, &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return found(Document, "OLE2 (legacy Office)");
    }
    if at(b, 0, b"PK\x03\x04") {
        // The first entry's name (at 30) tells office documents from other archives.
        let rest = b.get(30..).unwrap_or_default();
        let has = |needle: &[u8]| rest.windows(needle.len()).any(|w| w == needle);
        if has(b"[Content_Types].xml") || has(b"word/") || has(b"xl/") || has(b"ppt/") {
            return found(Document, "Office Open XML");
        }
        if has(b"mimetypeapplication/vnd.oasis.opendocument") {
            return found(Document, "OpenDocument");
        }
        return None;
    }
    if at(b, 0, b"{\\rtf") {
        return found(Document, "RTF");
    }
    if at(b, 0, b"%!PS") {
        return found(Document, "PostScript");
    }
    if at(b, 0, b"AT&TFORM") {
        return found(Document, "DjVu");
    }
    if at(b, 0, b"ID3") && b.len() >= 10 && b[3] <= 4 {
        return found(Audio, "MP3");
    }
    if at(b, 0, b"RIFF") && at(b, 8, b"WAVE") {
        return found(Audio, "WAV");
    }
    if at(b, 0, b"OggS") {
        return found(Audio, "Ogg");
    }
    if at(b, 0, b"fLaC") {
        return found(Audio, "FLAC");
    }
    if at(b, 0, b"#!AMR") {
        return found(Audio, "AMR");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let word = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((word >> (18 - 6 * i)) & 63) as usize] as char);
            }
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
        out
    }

    /// The first bytes of files of each format, as their specifications lay them out.
    fn starts() -> Vec<(Vec<u8>, ContentKind, &'static str)> {
        let mut dicom = vec![0u8; 128];
        dicom.extend_from_slice(b"DICM\x02\0\0\0UL\x04\0");
        let mut docx = b"PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0".to_vec();
        docx.resize(30, 0);
        docx.extend_from_slice(b"[Content_Types].xml");
        let mut odt = b"PK\x03\x04\x14\0\0\0\0\0".to_vec();
        odt.resize(30, 0);
        odt.extend_from_slice(b"mimetypeapplication/vnd.oasis.opendocument.text");
        let mut bmp = b"BM\x36\x0c\0\0\0\0\0\0\x36\0\0\0".to_vec();
        bmp.extend_from_slice(&[40, 0, 0, 0, 0x40, 0, 0, 0]);
        vec![
            (
                b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01".to_vec(),
                ContentKind::Image,
                "JPEG",
            ),
            (
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
                ContentKind::Image,
                "PNG",
            ),
            (b"GIF89a\x10\0\x10\0".to_vec(), ContentKind::Image, "GIF"),
            (
                b"II*\0\x08\0\0\0\x10\0".to_vec(),
                ContentKind::Image,
                "TIFF",
            ),
            (
                b"RIFF\x24\x10\0\0WEBPVP8 ".to_vec(),
                ContentKind::Image,
                "WebP",
            ),
            (
                b"\0\0\0\x18ftypheic\0\0\0\0".to_vec(),
                ContentKind::Image,
                "HEIF",
            ),
            (bmp, ContentKind::Image, "BMP"),
            (dicom, ContentKind::Image, "DICOM"),
            (
                b"%PDF-1.7\n%\xe2\xe3\xcf\xd3".to_vec(),
                ContentKind::Document,
                "PDF",
            ),
            (
                b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0".to_vec(),
                ContentKind::Document,
                "OLE2 (legacy Office)",
            ),
            (docx, ContentKind::Document, "Office Open XML"),
            (odt, ContentKind::Document, "OpenDocument"),
            (
                b"{\\rtf1\\ansi\\deff0".to_vec(),
                ContentKind::Document,
                "RTF",
            ),
            (
                b"ID3\x04\0\0\0\0\x0f\x76".to_vec(),
                ContentKind::Audio,
                "MP3",
            ),
            (
                b"RIFF\x24\x08\0\0WAVEfmt ".to_vec(),
                ContentKind::Audio,
                "WAV",
            ),
            (b"OggS\0\x02\0\0\0\0".to_vec(), ContentKind::Audio, "Ogg"),
            (b"fLaC\0\0\0\x22\x10\0".to_vec(), ContentKind::Audio, "FLAC"),
            (
                b"\0\0\0\x20ftypM4A \0\0\0\0".to_vec(),
                ContentKind::Audio,
                "M4A",
            ),
        ]
    }

    #[test]
    fn every_format_is_recognised_as_hex_prefixed_hex_base64_and_data_uri() {
        for (bytes, kind, format) in starts() {
            let expected = Some(Sniffed { kind, format });
            assert_eq!(sniff(&hex(&bytes)), expected, "hex {format}");
            assert_eq!(sniff(&hex(&bytes).to_uppercase()), expected, "HEX {format}");
            assert_eq!(
                sniff(&format!("\\x{}", hex(&bytes))),
                expected,
                "\\x {format}"
            );
            assert_eq!(sniff(&base64(&bytes)), expected, "base64 {format}");
            assert_eq!(
                sniff(&format!(
                    "data:application/octet-stream;base64,{}",
                    base64(&bytes)
                )),
                expected,
                "data URI {format}"
            );
        }
    }

    #[test]
    fn digests_tokens_words_and_plain_archives_are_nothing() {
        for value in [
            "9f4c2e71a08b3d56c7e1f2a4b9d06e38",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "Qm7XrT2vLp9KdW4sNb8ZyH3cJf6GtA1eRk5UoPxM",
            "hello world, this is a note",
            "2031-02-09",
            "40917263",
            // A ZIP archive that is not an office document.
            &hex(b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0backup/db.sql"),
            // "BM" without a valid header size.
            &hex(b"BMxxxxxxxxxxxxxxxxxxxxxx"),
            // A video: no kind is claimed.
            &hex(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42"),
        ] {
            assert_eq!(sniff(value), None, "{value}");
        }
    }

    #[test]
    fn random_hex_of_digest_length_almost_never_matches() {
        // 200 000 pseudo-random 32-byte values: a digest column must not look like content.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut matches = 0;
        for _ in 0..200_000 {
            let mut bytes = [0u8; 32];
            for b in &mut bytes {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = state as u8;
            }
            if sniff(&hex(&bytes)).is_some() {
                matches += 1;
            }
        }
        assert!(
            matches <= 2,
            "{matches} random digests were taken for content"
        );
    }
}
