//! AWS Signature Version 4 for header-signed requests, small enough to read in one sitting
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>).
//!
//! Only what the JSON-protocol services need: the caller passes the already-normalised path and
//! query, and the headers to sign; this module builds the canonical request, the string to sign,
//! derives the signing key and returns the `Authorization` header value. Checked against vectors
//! of AWS's published SigV4 test suite.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// One request to sign.
pub(crate) struct SigningRequest<'a> {
    pub method: &'a str,
    /// The URI-encoded absolute path, `/` when empty.
    pub path: &'a str,
    /// The canonical query string (sorted, encoded), empty when none.
    pub query: &'a str,
    /// Every header to sign, including `host` and `x-amz-date`; any case, any order.
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
}

/// Who signs, where and when.
pub(crate) struct SigningParams<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub time: DateTime<Utc>,
}

/// `20150830T123600Z`, the value of `X-Amz-Date`.
pub(crate) fn amz_date(time: DateTime<Utc>) -> String {
    time.format("%Y%m%dT%H%M%SZ").to_string()
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// Lowercased names, trimmed values with inner runs of spaces collapsed, sorted by name.
fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut normalised: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| {
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            (name.trim().to_ascii_lowercase(), value)
        })
        .collect();
    normalised.sort();
    let canonical = normalised
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect::<String>();
    let signed = normalised
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (canonical, signed)
}

pub(crate) fn canonical_request(request: &SigningRequest<'_>) -> (String, String) {
    let (headers, signed) = canonical_headers(request.headers);
    let path = if request.path.is_empty() {
        "/"
    } else {
        request.path
    };
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        path,
        request.query,
        headers,
        signed,
        sha256_hex(request.payload)
    );
    (canonical, signed)
}

/// The `Authorization` header value for `request`.
pub(crate) fn authorization(request: &SigningRequest<'_>, params: &SigningParams<'_>) -> String {
    let date = params.time.format("%Y%m%d").to_string();
    let scope = format!("{date}/{}/{}/aws4_request", params.region, params.service);
    let (canonical, signed_headers) = canonical_request(request);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        amz_date(params.time),
        sha256_hex(canonical.as_bytes())
    );
    let key = signing_key(
        params.secret_access_key,
        &date,
        params.region,
        params.service,
    );
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        params.access_key_id
    )
}

#[cfg(test)]
mod tests {
    //! Vectors from AWS's SigV4 documentation and test suite (`aws-sig-v4-test-suite`): the
    //! example credentials `AKIDEXAMPLE` / `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, region
    //! `us-east-1`, service `service`, time 2015-08-30T12:36:00Z.
    use super::*;
    use chrono::TimeZone;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn params() -> SigningParams<'static> {
        SigningParams {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: SECRET,
            region: "us-east-1",
            service: "service",
            time: Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap(),
        }
    }

    #[test]
    fn derives_the_documented_signing_key() {
        // "Examples of how to derive a signing key for Signature Version 4" (IAM, 2012-02-15).
        let key = signing_key(SECRET, "20120215", "us-east-1", "iam");
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn signs_post_vanilla() {
        let request = SigningRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &[
                ("Host", "example.amazonaws.com"),
                ("X-Amz-Date", "20150830T123600Z"),
            ],
            payload: b"",
        };
        assert_eq!(
            authorization(&request, &params()),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn signs_post_x_www_form_urlencoded_with_a_body() {
        let request = SigningRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Host", "example.amazonaws.com"),
                ("X-Amz-Date", "20150830T123600Z"),
            ],
            payload: b"Param1=value1",
        };
        let (canonical, _) = canonical_request(&request);
        assert_eq!(
            canonical,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n\
             x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n\
             9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
        );
        assert_eq!(
            authorization(&request, &params()),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        );
    }

    #[test]
    fn signs_post_vanilla_query() {
        let request = SigningRequest {
            method: "POST",
            path: "/",
            query: "Param1=value1",
            headers: &[
                ("Host", "example.amazonaws.com"),
                ("X-Amz-Date", "20150830T123600Z"),
            ],
            payload: b"",
        };
        assert!(authorization(&request, &params()).ends_with(
            "Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"
        ));
    }

    #[test]
    fn signs_a_secrets_manager_request_like_botocore() {
        // The request `aws::resolve` sends, with a session token, signed by botocore 1.43's
        // `SigV4Auth` for comparison.
        let request = SigningRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &[
                ("content-type", "application/x-amz-json-1.1"),
                ("host", "127.0.0.1:4566"),
                ("x-amz-date", "20261125T185929Z"),
                ("x-amz-target", "secretsmanager.GetSecretValue"),
                ("x-amz-security-token", "SESSIONTOKEN"),
            ],
            payload: br#"{"SecretId":"prod/orders-db"}"#,
        };
        let params = SigningParams {
            region: "eu-west-1",
            service: "secretsmanager",
            time: Utc.with_ymd_and_hms(2026, 11, 25, 18, 59, 29).unwrap(),
            ..params()
        };
        assert_eq!(
            authorization(&request, &params),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/eu-west-1/secretsmanager/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
             Signature=49c42e0164bda2d7b185e8f4c8945b37bc8326bafd55768a1ab92e9447e2b38c"
        );
    }

    #[test]
    fn header_values_are_trimmed_and_spaces_collapsed() {
        let (canonical, signed) =
            canonical_headers(&[("My-Header1", "  a   b   c  "), ("host", "h")]);
        assert_eq!(canonical, "host:h\nmy-header1:a b c\n");
        assert_eq!(signed, "host;my-header1");
    }
}
