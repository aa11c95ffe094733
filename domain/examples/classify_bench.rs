//! Measures profiling and classification speed on synthetic data: by default 10,000 columns of
//! 100 sampled values each, in tables of 20 columns.
//!
//! ```text
//! cargo run --release -p domain --example classify_bench [-- COLUMNS VALUES]
//! ```

use domain::classification::{
    classify_table, ClassifierSettings, ColumnProfile, FeedbackModel, TableProfile,
};
use std::time::Instant;

/// A small deterministic generator (SplitMix64), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Anna", "Ben", "Chloé", "Daan", "Elif", "Femke", "Giulia", "Hugo", "Ines", "Jan",
];
const LAST: &[&str] = &[
    "Smith", "Müller", "de Vries", "Rossi", "García", "Dubois", "Nowak", "Jansen",
];
const WORDS: &[&str] = &[
    "order",
    "delivered",
    "late",
    "the",
    "parcel",
    "refund",
    "please",
    "thanks",
    "item",
    "broken",
];

fn value(kind: usize, rng: &mut Rng) -> Option<String> {
    if rng.below(10) == 0 {
        return None;
    }
    Some(match kind {
        0 => format!(
            "{}.{}{}@example.com",
            rng.pick(FIRST).to_lowercase(),
            rng.pick(LAST).to_lowercase().replace(' ', ""),
            rng.below(100)
        ),
        1 => format!("+31 6 {:08}", rng.below(100_000_000)),
        2 => format!("{} {}", rng.pick(FIRST), rng.pick(LAST)),
        3 => rng.below(1_000_000).to_string(),
        4 => format!("{}.{:02}", rng.below(10_000), rng.below(100)),
        5 => format!(
            "{}-{:02}-{:02}",
            1950 + rng.below(70),
            1 + rng.below(12),
            1 + rng.below(28)
        ),
        6 => format!(
            "2024-{:02}-{:02} {:02}:{:02}:{:02}",
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60)
        ),
        7 => format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            rng.next() as u32,
            rng.below(65536),
            rng.below(4096),
            rng.below(4096),
            rng.next() & 0xFFFF_FFFF_FFFF
        ),
        8 => format!("{:016x}{:016x}", rng.next(), rng.next()),
        9 => (0..8)
            .map(|_| rng.pick(WORDS))
            .collect::<Vec<_>>()
            .join(" "),
        10 => format!(
            "{}.{}.{}.{}",
            rng.below(224),
            rng.below(256),
            rng.below(256),
            rng.below(256)
        ),
        _ => format!("SKU-{:05}", rng.below(100_000)),
    })
}

const NAMES: &[&str] = &[
    "email",
    "phone",
    "full_name",
    "quantity",
    "amount",
    "birth_date",
    "created_at",
    "request_id",
    "checksum",
    "comment",
    "client_ip",
    "sku",
];

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let columns = args.first().copied().unwrap_or(10_000);
    let per_column = args.get(1).copied().unwrap_or(100);
    let mut rng = Rng(20_241_117);
    let data: Vec<(String, String, Vec<Option<String>>)> = (0..columns)
        .map(|i| {
            let kind = rng.below(12) as usize;
            let name = format!("{}_{}", NAMES[kind], i % 7);
            let data_type = match kind {
                3 => "integer",
                4 => "numeric",
                6 => "timestamp without time zone",
                _ => "character varying",
            };
            (
                name,
                data_type.to_owned(),
                (0..per_column).map(|_| value(kind, &mut rng)).collect(),
            )
        })
        .collect();

    let settings = ClassifierSettings::default();
    let feedback = FeedbackModel::default();
    let start = Instant::now();
    let profiles: Vec<ColumnProfile> = data
        .iter()
        .map(|(name, dt, values)| {
            let values: Vec<Option<&str>> = values.iter().map(|v| v.as_deref()).collect();
            ColumnProfile::build(name, dt, &values, &[])
        })
        .collect();
    let profiled = start.elapsed();
    let mut applied = 0;
    for (t, chunk) in profiles.chunks(20).enumerate() {
        let table = TableProfile {
            table: format!("table_{t}"),
            columns: chunk.to_vec(),
            places: Vec::new(),
        };
        for verdict in classify_table(&table, &settings, &feedback) {
            if verdict
                .candidates
                .first()
                .is_some_and(|c| c.confidence >= settings.threshold)
            {
                applied += 1;
            }
        }
    }
    let total = start.elapsed();
    println!(
        "{columns} columns x {per_column} values: profile {profiled:.2?}, classify {:.2?}, total {total:.2?} ({applied} columns labelled)",
        total - profiled
    );
}
