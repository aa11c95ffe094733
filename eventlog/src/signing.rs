//! Signed exports: an Ed25519 signature, detached beside the export, over the export's trailer
//! (which holds the SHA-256 of every event line, the stream, the subject filter and the sequence
//! range covered).
//!
//! The trailer's digest proves an export whole but not who wrote it; the signature proves that
//! the holder of the private key vouched for exactly this range and these lines. Verification is
//! offline: the signature file, the export and the public key are all it needs.
//!
//! Keys are stored in the standard formats (PKCS#8 PEM for the private key, SubjectPublicKeyInfo
//! PEM for the public one), so a third party can check a signature with their own tools, e.g.
//! OpenSSL: the signed message is the signature file's `message` text, byte for byte.

use crate::export::Trailer;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Marks a signature file and its format version.
pub const SIGNATURE_FORMAT: &str = "pursight-export-signature/1";

/// What a signature file holds (`E.sig` beside export `E`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    /// [`SIGNATURE_FORMAT`].
    pub format: String,
    /// Always `ed25519`.
    pub algorithm: String,
    /// Hex SHA-256 of the public key's 32 bytes: which key signed.
    pub key_id: String,
    /// The signed text: [`SIGNATURE_FORMAT`], a newline, and the export's trailer line.
    pub message: String,
    /// Hex Ed25519 signature over `message`'s UTF-8 bytes.
    pub signature: String,
}

/// Why a key or a signature could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("the private key is not an Ed25519 PKCS#8 PEM key: {0}")]
    PrivateKey(String),
    #[error("the public key is not an Ed25519 public key PEM: {0}")]
    PublicKey(String),
    #[error("the signature file is unreadable: {0}")]
    Unreadable(String),
    #[error("the signature was made by another key (key id {signed_by}, this key is {this_key})")]
    OtherKey { signed_by: String, this_key: String },
    #[error("the signature does not match its message: the signature file was altered or forged")]
    BadSignature,
    #[error("the signature covers another export: {0}")]
    OtherExport(String),
}

/// A new key pair: the private key as PKCS#8 PEM and the public key as SPKI PEM.
pub fn generate_key_pair() -> Result<(String, String), SigningError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| SigningError::PrivateKey(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| SigningError::PrivateKey(e.to_string()))?;
    let public = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| SigningError::PublicKey(e.to_string()))?;
    Ok((private.to_string(), public))
}

/// The key id of a public key: hex SHA-256 of its 32 bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The text a signature covers for `trailer`.
pub fn message(trailer: &Trailer) -> String {
    let line = serde_json::to_string(trailer).expect("a trailer always serialises");
    format!("{SIGNATURE_FORMAT}\n{line}")
}

/// A private key, read before an export starts so that a bad key fails before any work.
pub struct ExportSigner(SigningKey);

impl ExportSigner {
    /// Reads a PKCS#8 PEM Ed25519 private key.
    pub fn from_pem(private_pem: &str) -> Result<Self, SigningError> {
        SigningKey::from_pkcs8_pem(private_pem)
            .map(Self)
            .map_err(|e| SigningError::PrivateKey(e.to_string()))
    }

    /// The id of the matching public key.
    pub fn key_id(&self) -> String {
        key_id(&self.0.verifying_key())
    }

    /// Signs `trailer`.
    pub fn sign(&self, trailer: &Trailer) -> SignatureFile {
        let message = message(trailer);
        let signature = self.0.sign(message.as_bytes());
        SignatureFile {
            format: SIGNATURE_FORMAT.into(),
            algorithm: "ed25519".into(),
            key_id: self.key_id(),
            message,
            signature: hex::encode(signature.to_bytes()),
        }
    }
}

/// Signs `trailer` with the PKCS#8 PEM private key.
pub fn sign(private_pem: &str, trailer: &Trailer) -> Result<SignatureFile, SigningError> {
    Ok(ExportSigner::from_pem(private_pem)?.sign(trailer))
}

/// Checks that `signature` (a signature file's text) was made with the public key over exactly
/// `trailer` (the trailer of the export being verified).
pub fn verify(
    public_pem: &str,
    signature: &str,
    trailer: &Trailer,
) -> Result<SignatureFile, SigningError> {
    let key = VerifyingKey::from_public_key_pem(public_pem)
        .map_err(|e| SigningError::PublicKey(e.to_string()))?;
    let file: SignatureFile =
        serde_json::from_str(signature).map_err(|e| SigningError::Unreadable(e.to_string()))?;
    if file.format != SIGNATURE_FORMAT || file.algorithm != "ed25519" {
        return Err(SigningError::Unreadable(format!(
            "format {:?} with algorithm {:?}; this version reads {SIGNATURE_FORMAT} with ed25519",
            file.format, file.algorithm
        )));
    }
    let this_key = key_id(&key);
    if file.key_id != this_key {
        return Err(SigningError::OtherKey {
            signed_by: file.key_id,
            this_key,
        });
    }
    let bytes: [u8; 64] = hex::decode(&file.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| SigningError::Unreadable("the signature is not 64 hex bytes".into()))?;
    key.verify(file.message.as_bytes(), &Signature::from_bytes(&bytes))
        .map_err(|_| SigningError::BadSignature)?;
    // The signature is genuine; it must also be over this export's trailer.
    let expected = message(trailer);
    if file.message != expected {
        let signed = file
            .message
            .split_once('\n')
            .and_then(|(_, line)| serde_json::from_str::<Trailer>(line).ok());
        return Err(SigningError::OtherExport(match signed {
            Some(t) => format!(
                "it was made over stream sequences {}..{} ({} events, digest {}), the export holds {}..{} ({} events, digest {})",
                t.firstsequence,
                t.lastsequence,
                t.events,
                &t.sha256[..t.sha256.len().min(12)],
                trailer.firstsequence,
                trailer.lastsequence,
                trailer.events,
                &trailer.sha256[..trailer.sha256.len().min(12)]
            ),
            None => "its message is not an export trailer".into(),
        }));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trailer(last: u64, sha: &str) -> Trailer {
        Trailer {
            pursightexport: 1,
            stream: "PURSIGHT".into(),
            filter: "pursight.events.>".into(),
            everysequence: true,
            firstsequence: 1,
            lastsequence: last,
            commits: last,
            events: last,
            sha256: sha.into(),
        }
    }

    #[test]
    fn a_signature_verifies_with_its_public_key_and_only_over_its_own_trailer() {
        let (private, public) = generate_key_pair().unwrap();
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
        let signed = sign(&private, &trailer(3, "ab")).unwrap();
        let text = serde_json::to_string(&signed).unwrap();
        assert_eq!(verify(&public, &text, &trailer(3, "ab")).unwrap(), signed);

        let err = verify(&public, &text, &trailer(4, "ab")).unwrap_err();
        assert!(
            matches!(&err, SigningError::OtherExport(m) if m.contains("1..3") && m.contains("1..4")),
            "{err}"
        );
    }

    #[test]
    fn another_key_an_altered_message_or_signature_is_refused() {
        let (private, _) = generate_key_pair().unwrap();
        let (_, other_public) = generate_key_pair().unwrap();
        let signed = sign(&private, &trailer(3, "ab")).unwrap();
        let text = serde_json::to_string(&signed).unwrap();
        assert!(matches!(
            verify(&other_public, &text, &trailer(3, "ab")),
            Err(SigningError::OtherKey { .. })
        ));

        let (private, public) = generate_key_pair().unwrap();
        let mut signed = sign(&private, &trailer(3, "ab")).unwrap();
        // Someone widens the range the signature claims, keeping the signature.
        signed.message = message(&trailer(4, "ab"));
        let text = serde_json::to_string(&signed).unwrap();
        assert!(matches!(
            verify(&public, &text, &trailer(4, "ab")),
            Err(SigningError::BadSignature)
        ));

        let mut signed = sign(&private, &trailer(3, "ab")).unwrap();
        let flipped = if signed.signature.starts_with('0') {
            "1"
        } else {
            "0"
        };
        signed.signature.replace_range(0..1, flipped);
        let text = serde_json::to_string(&signed).unwrap();
        assert!(matches!(
            verify(&public, &text, &trailer(3, "ab")),
            Err(SigningError::BadSignature)
        ));
        assert!(matches!(
            verify(&public, "not json", &trailer(3, "ab")),
            Err(SigningError::Unreadable(_))
        ));
        assert!(matches!(
            verify("garbage", &text, &trailer(3, "ab")),
            Err(SigningError::PublicKey(_))
        ));
    }
}
