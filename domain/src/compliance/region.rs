//! Whether a cloud region lies in the EU/EEA, for data-residency rules (GDPR Chapter V).
//!
//! The lists name each provider's regions in EU and EEA member states. A region that is not
//! listed counts as outside: a residency rule asks for proof that data stays in, and London
//! (`eu-west-2`, `europe-west2`, `uksouth`) and Zurich (`eu-central-2`, `europe-west6`,
//! `switzerlandnorth`) are outside the EEA despite their names.

use crate::datasource::CloudProvider;

const AWS: &[&str] = &[
    "eu-central-1", // Frankfurt
    "eu-west-1",    // Ireland
    "eu-west-3",    // Paris
    "eu-south-1",   // Milan
    "eu-south-2",   // Spain
    "eu-north-1",   // Stockholm
];

const AZURE: &[&str] = &[
    "westeurope",
    "northeurope",
    "francecentral",
    "francesouth",
    "germanywestcentral",
    "germanynorth",
    "swedencentral",
    "swedensouth",
    "norwayeast",
    "norwaywest",
    "polandcentral",
    "italynorth",
    "spaincentral",
    "austriaeast",
    "belgiumcentral",
    "denmarkeast",
    "finlandcentral",
    "greececentral",
];

const GCP: &[&str] = &[
    "europe-west1",      // Belgium
    "europe-west3",      // Frankfurt
    "europe-west4",      // Netherlands
    "europe-west8",      // Milan
    "europe-west9",      // Paris
    "europe-west10",     // Berlin
    "europe-west12",     // Turin
    "europe-central2",   // Warsaw
    "europe-north1",     // Finland
    "europe-north2",     // Stockholm
    "europe-southwest1", // Madrid
];

/// Whether `region` of `provider` is in the EU/EEA. Without a provider every list is consulted.
/// Case and surrounding spaces are ignored.
pub fn is_eea(provider: Option<CloudProvider>, region: &str) -> bool {
    let region = region.trim();
    let listed = |list: &[&str]| list.iter().any(|r| r.eq_ignore_ascii_case(region));
    match provider {
        Some(CloudProvider::Aws) => listed(AWS),
        Some(CloudProvider::Azure) => listed(AZURE),
        Some(CloudProvider::Gcp) => listed(GCP),
        None => listed(AWS) || listed(AZURE) || listed(GCP),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eu_named_regions_outside_the_eea_count_as_outside() {
        assert!(is_eea(Some(CloudProvider::Aws), "eu-west-1"));
        assert!(is_eea(Some(CloudProvider::Gcp), "Europe-West3 "));
        assert!(is_eea(None, "westeurope"));
        for outside in ["eu-west-2", "eu-central-2", "us-east-1", "", "eu-anything"] {
            assert!(!is_eea(Some(CloudProvider::Aws), outside), "{outside}");
        }
        assert!(!is_eea(Some(CloudProvider::Gcp), "europe-west2"));
        assert!(!is_eea(Some(CloudProvider::Azure), "uksouth"));
        // A region of another provider does not count for this one.
        assert!(!is_eea(Some(CloudProvider::Azure), "eu-west-1"));
    }
}
