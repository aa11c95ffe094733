//! Personal data inside free text, end to end: a real PostgreSQL table of support tickets whose
//! notes mention people (e-mail addresses, phone numbers, names) in some rows is scanned, and the
//! notes column is labelled `FREE_TEXT_PII` with signals citing the counts, while the columns of
//! prose without personal data, product descriptions and log lines stay unlabelled and the
//! e-mail column stays `EMAIL_ADDRESS`. No sampled text appears in the answer.
//!
//! Binary content, end to end: `bytea` columns holding photos, scanned documents and voice
//! recordings of people are labelled `PHOTO`, `DOCUMENT` and `AUDIO_RECORDING` from their first
//! bytes alone, while a product catalogue's pictures are not.
//!
//! The same for S3 objects that are not records (moto): a prefix of staff photos is labelled
//! `PHOTO`, one of patients' scanned PDFs `DOCUMENT`, a prefix of PDFs without context gets a
//! suggestion only, product pictures and a prefix of random bytes and text files get nothing;
//! only the first bytes of a few objects are read, and none of them appears in the answer.

mod support;

use domain::access::Role;
use serde_json::{json, Value};
use support::{register_and_scan, wait_projected, SourceDb, TestApp};

const SECRET_VALUE: &str = "free-text-secret-7c2e";

/// 80 tickets: every second note mentions a person (an e-mail address, a phone number or a name
/// with a title); the other columns are prose, product text and log lines about no one.
const TICKETS: &str = r#"
CREATE SCHEMA helpdesk;
CREATE TABLE helpdesk.tickets (
    id            serial PRIMARY KEY,
    requester     text NOT NULL,
    notes         text NOT NULL,
    summary       text NOT NULL,
    product_blurb text NOT NULL,
    worker_log    text NOT NULL
);
INSERT INTO helpdesk.tickets (requester, notes, summary, product_blurb, worker_log)
SELECT lower(n.first) || '.' || lower(n.last) || g || '@example.org',
       CASE g % 6
         WHEN 0 THEN 'Customer asked us to send the invoice to ' || lower(n.first) || '.' || lower(n.last) || '@example.org instead.'
         WHEN 1 THEN 'Please call back on 020 7946 ' || lpad((1000 + g)::text, 4, '0') || ' about the refund.'
         WHEN 2 THEN 'Mrs ' || n.last || ' complained again about the late delivery of her order.'
         ELSE (ARRAY['The parcel left the depot this morning and arrives tomorrow.',
                     'Replacement part ordered, the technician fits it next week.',
                     'Escalated to second-line support, waiting for their analysis.'])[1 + g % 3]
       END,
       (ARRAY['The order was packed and handed to the carrier.',
              'Invoice corrected because the discount was missing.',
              'Ticket closed after the fix was confirmed by the team.'])[1 + g % 3],
       (ARRAY['Rose Gold Edition wristwatch with a brushed aluminium case, EAN 4006381333931.',
              'Leather hiking boot in sizes 38 to 46 with a breathable mesh upper.',
              'Cast iron skillet, pre-seasoned and suitable for all hob types.'])[1 + g % 3],
       '2025-03-1' || (g % 10) || 'T10:00:00Z INFO worker ' || (g % 8) || ' finished job ' || (40000 + g * 17) || ' in ' || (g * 37 % 900) || ' ms from 10.0.0.' || (g % 250)
FROM generate_series(1, 80) AS g
JOIN (SELECT row_number() OVER () AS i, first, last FROM unnest(
        ARRAY['Margaret','Thomas','Laura','Daniel','Sophie'],
        ARRAY['Fairweather','Okonkwo','Lindqvist','Brennan','Castellano']) AS t(first, last)) n
  ON n.i = 1 + g % 5;
"#;

const LABELS: &str = r#"query($s: ID!) {
  columnLabels(sourceId: $s) {
    assetPath column label status confidence sensitivity frameworks explanation
    signals { tier detail weight }
  }
}"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_notes_column_that_mentions_people_is_labelled_free_text_pii_and_plain_prose_is_not() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(TICKETS, SECRET_VALUE).await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let source = register_and_scan(&app, &admin, db.input()).await;
    wait_projected(&app, &admin).await;
    let response = app.gql(Some(&admin), LABELS, json!({ "s": source })).await;
    assert!(response["errors"].is_null(), "{response}");
    let labels: Vec<Value> = response["data"]["columnLabels"].as_array().unwrap().clone();
    let of = |column: &str| -> Vec<&Value> {
        labels
            .iter()
            .filter(|l| {
                l["assetPath"]
                    .as_str()
                    .unwrap()
                    .ends_with("helpdesk.tickets")
                    && l["column"] == column
            })
            .collect()
    };

    let notes = of("notes");
    let pii = notes
        .iter()
        .find(|l| l["label"] == "FREE_TEXT_PII")
        .unwrap_or_else(|| panic!("notes is not labelled FREE_TEXT_PII: {labels:#?}"));
    assert_eq!(pii["status"], "applied", "{pii}");
    assert_eq!(pii["sensitivity"], "high", "{pii}");
    assert!(
        pii["frameworks"]
            .as_array()
            .unwrap()
            .contains(&json!("gdpr_personal")),
        "{pii}"
    );
    // 80 rows: rows with g % 6 in {0, 1, 2} mention someone, 13 + 14 + 14 of them.
    let details: Vec<&str> = pii["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["detail"].as_str().unwrap())
        .collect();
    for expected in [
        "41 of 80 sampled values are sentences that mention personal data",
        "13 of 80 sampled values contain an e-mail address",
        "14 of 80 sampled values contain a phone number",
        "14 of 80 sampled values contain a person's name",
    ] {
        assert!(
            details.iter().any(|d| d.starts_with(expected)),
            "missing `{expected}` in {details:#?}"
        );
    }

    // Prose about no one, product text and log lines: no label applied, none suggested as
    // free-text personal data.
    for column in ["summary", "product_blurb", "worker_log"] {
        assert!(
            of(column)
                .iter()
                .all(|l| l["status"] != "applied" && l["label"] != "FREE_TEXT_PII"),
            "{column} must not be labelled: {:#?}",
            of(column)
        );
    }
    // A well-typed column keeps its type.
    let requester = of("requester");
    assert!(
        requester
            .iter()
            .any(|l| l["label"] == "EMAIL_ADDRESS" && l["status"] == "applied"),
        "{requester:#?}"
    );
    assert!(requester.iter().all(|l| l["label"] != "FREE_TEXT_PII"));

    // Nothing sampled leaves the engine.
    let text = response.to_string();
    for sampled in [
        "Fairweather",
        "@example.org",
        "020 7946",
        "parcel left the depot",
    ] {
        assert!(!text.contains(sampled), "`{sampled}` leaked: {text}");
    }
    db.remove().await;
    app.stop().await;
}

/// Crew members with a portrait (JPEG), a scanned ID (PDF) and a voicemail greeting (WAV), each
/// 40 KB; products with a picture (PNG). Only the first bytes of each value are ever sampled.
const MEDIA: &str = r#"
CREATE SCHEMA media;
CREATE TABLE media.crew_members (
    id         serial PRIMARY KEY,
    full_name  text NOT NULL,
    portrait   bytea NOT NULL,
    id_scan    bytea NOT NULL,
    greeting   bytea NOT NULL
);
INSERT INTO media.crew_members (full_name, portrait, id_scan, greeting)
SELECT (ARRAY['Wilma Ashgrove','Teodor Finch','Rania Oyelaran','Bo Sjöberg'])[1 + g % 4] || ' ' || g,
       '\xffd8ffe000104a46494600'::bytea || decode(repeat(md5(g::text), 1250), 'hex'),
       '\x255044462d312e370a'::bytea || decode(repeat(md5((g + 1)::text), 1250), 'hex'),
       '\x524946462408000057415645666d7420'::bytea || decode(repeat(md5((g + 2)::text), 1250), 'hex')
FROM generate_series(1, 40) AS g;
CREATE TABLE media.catalog_items (
    id      serial PRIMARY KEY,
    sku     text NOT NULL,
    picture bytea NOT NULL
);
INSERT INTO media.catalog_items (sku, picture)
SELECT 'SKU-' || (7000 + g), '\x89504e470d0a1a0a'::bytea || decode(repeat(md5(g::text), 1250), 'hex')
FROM generate_series(1, 40) AS g;
"#;

#[tokio::test(flavor = "multi_thread")]
async fn photos_documents_and_recordings_of_people_are_found_by_their_first_bytes() {
    let app = TestApp::spawn().await;
    let db = SourceDb::create(MEDIA, "media-secret-5d1a").await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let source = register_and_scan(&app, &admin, db.input()).await;
    wait_projected(&app, &admin).await;
    let response = app.gql(Some(&admin), LABELS, json!({ "s": source })).await;
    assert!(response["errors"].is_null(), "{response}");
    let labels: Vec<Value> = response["data"]["columnLabels"].as_array().unwrap().clone();
    let applied = |table: &str, column: &str| -> Vec<String> {
        labels
            .iter()
            .filter(|l| {
                l["assetPath"].as_str().unwrap().ends_with(table)
                    && l["column"] == column
                    && l["status"] == "applied"
            })
            .map(|l| l["label"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        applied("media.crew_members", "portrait"),
        ["PHOTO"],
        "{labels:#?}"
    );
    assert_eq!(
        applied("media.crew_members", "id_scan"),
        ["DOCUMENT"],
        "{labels:#?}"
    );
    assert_eq!(
        applied("media.crew_members", "greeting"),
        ["AUDIO_RECORDING"],
        "{labels:#?}"
    );
    assert!(
        applied("media.catalog_items", "picture").is_empty(),
        "{labels:#?}"
    );
    let portrait = labels
        .iter()
        .find(|l| l["column"] == "portrait" && l["label"] == "PHOTO")
        .unwrap();
    assert!(
        portrait["explanation"]
            .as_str()
            .unwrap()
            .contains("40 of 40 sampled non-null values are images"),
        "{portrait}"
    );
    db.remove().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_objects_that_are_photos_or_scans_are_typed_by_their_first_bytes() {
    const JPEG: &[u8] = b"\xff\xd8\xff\xe1\x00\x18Exif\x00\x00II*\x00";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
    const PDF: &[u8] = b"%PDF-1.5\n%\xb5\xed\xae\xfb\n";
    let app = TestApp::spawn().await;
    let moto = testkit::MotoServer::start(&[]).await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let bucket = format!("media-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let mut objects: Vec<(String, Vec<u8>)> = vec![(bucket.clone(), Vec::new())];
    for i in 0..12u64 {
        let magic = if i % 3 == 0 { PNG } else { JPEG };
        objects.push((
            format!("{bucket}/hr/staff/photos/{i:02}.img"),
            testkit::file_with_magic(magic, i, 64 * 1024),
        ));
        objects.push((
            format!("{bucket}/catalog/products/{i:02}.jpg"),
            testkit::file_with_magic(JPEG, 100 + i, 8 * 1024),
        ));
    }
    for i in 0..8u64 {
        objects.push((
            format!("{bucket}/patients/scans/{i}.pdf"),
            testkit::file_with_magic(PDF, 200 + i, 30_000),
        ));
        objects.push((
            format!("{bucket}/inbox/{i}.pdf"),
            testkit::file_with_magic(PDF, 300 + i, 20_000),
        ));
        objects.push((
            format!("{bucket}/misc/{i}.bin"),
            testkit::noise(400 + i, 2048),
        ));
        objects.push((
            format!("{bucket}/misc/{i}.txt"),
            format!("Release notes {i}: the importer now retries failed batches and reports progress every minute while it runs.").into_bytes(),
        ));
    }
    support::put_objects(&moto.endpoint(), objects).await;
    let secret_file = support::write_secret(
        "acme",
        &format!("pursight-e2e-s3-{}", uuid::Uuid::new_v4()),
        "moto-accepts-any-secret",
    );
    let input = json!({
        "name": "Media", "kind": "s3", "database": bucket,
        "cloudConfig": {
            "endpointUrl": moto.endpoint(), "region": "us-east-1",
            "accessKeyId": "AKIAPURSIGHTE2E00000",
            "secretAccessKey": format!("file:{}", secret_file.display()),
        },
    });
    let source = register_and_scan(&app, &admin, input).await;
    wait_projected(&app, &admin).await;
    let response = app.gql(Some(&admin), LABELS, json!({ "s": source })).await;
    assert!(response["errors"].is_null(), "{response}");
    let labels: Vec<Value> = response["data"]["columnLabels"].as_array().unwrap().clone();
    let of = |prefix: &str, status: &str| -> Vec<String> {
        labels
            .iter()
            .filter(|l| {
                l["assetPath"].as_str().unwrap().ends_with(prefix)
                    && l["column"] == "content"
                    && l["status"] == status
            })
            .map(|l| l["label"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(of("hr/staff/photos/", "applied"), ["PHOTO"], "{labels:#?}");
    assert_eq!(
        of("patients/scans/", "applied"),
        ["DOCUMENT"],
        "{labels:#?}"
    );
    assert!(of("inbox/", "applied").is_empty(), "{labels:#?}");
    assert_eq!(of("inbox/", "suggested"), ["DOCUMENT"], "{labels:#?}");
    assert!(
        labels.iter().all(|l| !l["assetPath"]
            .as_str()
            .unwrap()
            .ends_with("catalog/products/")
            && !l["assetPath"].as_str().unwrap().ends_with("misc/")),
        "{labels:#?}"
    );
    let photo = labels.iter().find(|l| l["label"] == "PHOTO").unwrap();
    assert!(
        photo["explanation"]
            .as_str()
            .unwrap()
            .contains("12 of 12 sampled non-null values are images"),
        "{photo}"
    );
    // What was read stays out of the answer: no header bytes, as hex or otherwise.
    let text = response.to_string();
    assert!(
        !text.contains("ffd8ff") && !text.contains("89504e47"),
        "{text}"
    );
    let _ = std::fs::remove_file(&secret_file);
    app.stop().await;
}
