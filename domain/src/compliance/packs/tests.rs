//! Pack loading: the built-in packs load, and every kind of mistake in a pack names the pack,
//! the rule and the field.

use super::*;

#[test]
fn the_four_built_in_packs_load_with_their_framework_ids_and_unique_rule_ids() {
    let packs = builtin_packs();
    let ids: Vec<&str> = packs.iter().map(|p| p.framework.as_str()).collect();
    assert_eq!(ids, ["gdpr", "pci-dss", "hipaa", "soc2"]);
    let mut seen = std::collections::BTreeSet::new();
    for pack in packs {
        assert!(!pack.rules.is_empty(), "{}", pack.framework);
        for rule in &pack.rules {
            let d = &rule.definition;
            assert_eq!(d.framework, pack.framework, "{}", d.id);
            assert!(d.id.starts_with(pack.framework.as_str()), "{}", d.id);
            assert!(seen.insert(d.id.clone()), "{} twice", d.id);
        }
    }
    let controls: Vec<&str> = builtin_rules()
        .map(|r| r.definition.control.as_str())
        .collect();
    for cited in [
        "PCI DSS v4.0 3.3.1",
        "PCI DSS v4.0 3.5.1",
        "PCI DSS v4.0 4.2.1",
        "HIPAA 164.312(a)(1)",
        "HIPAA 164.312(e)(1)",
        "GDPR Art. 5(1)(e)",
        "GDPR Art. 9",
        "GDPR Art. 25",
        "GDPR Art. 30",
        "GDPR Art. 32",
        "GDPR Art. 44",
        "SOC 2 CC6.1",
        "SOC 2 CC6.7",
        "SOC 2 CC7.2",
    ] {
        assert!(controls.contains(&cited), "no rule cites {cited}");
    }
}

const GOOD_RULE: &str = r#"
[[rule]]
id = "soc2-x"
version = 1
title = "X"
control = "SOC 2 CC6.1"
severity = "high"
subject = "asset"
remediation = "Fix it."
condition = "not source.monitoring"
"#;

fn problems(text: &str) -> String {
    load_pack("soc2", text).unwrap_err().to_string()
}

#[test]
fn mistakes_in_a_pack_name_the_pack_the_rule_and_the_field() {
    let head = "framework = \"soc2\"\ntitle = \"SOC 2\"\n";
    assert!(load_pack("soc2", &format!("{head}{GOOD_RULE}")).is_ok());
    let cases = [
        (
            GOOD_RULE.replace("severity = \"high\"", "severity = \"urgent\""),
            "pack soc2, rule soc2-x, severity: unknown severity \"urgent\"",
        ),
        (
            GOOD_RULE.replace("not source.monitoring", "not source.monitored"),
            "pack soc2, rule soc2-x, condition: at character 5: unknown fact `source.monitored`",
        ),
        (
            GOOD_RULE.replace("version = 1\n", ""),
            "pack soc2, rule soc2-x, version: is missing",
        ),
        (
            GOOD_RULE.replace("version = 1", "version = 0"),
            "pack soc2, rule soc2-x, version: must be a whole number from 1",
        ),
        (
            GOOD_RULE.replace("title = \"X\"", "titel = \"X\""),
            "pack soc2, rule soc2-x, titel: unknown key",
        ),
        (
            GOOD_RULE.replace("subject = \"asset\"", "subject = \"table\""),
            "pack soc2, rule soc2-x, subject: unknown subject level",
        ),
        (
            GOOD_RULE.replace("id = \"soc2-x\"", "id = \"Soc2 X\""),
            "pack soc2, rule Soc2 X, id: must be 3 to 80 characters",
        ),
        (
            GOOD_RULE.replace("version = 1", "version = 1\nframework = \"gdpr\""),
            "pack soc2, rule soc2-x, framework: is gdpr, but the pack is soc2",
        ),
        (
            format!("{GOOD_RULE}{GOOD_RULE}"),
            "pack soc2, rule soc2-x, id: is used by another rule of the pack",
        ),
    ];
    for (rule, expected) in cases {
        let got = problems(&format!("{head}{rule}"));
        assert!(got.contains(expected), "expected {expected:?} in {got:?}");
    }
    assert!(problems(&format!(
        "framework = \"hipaa\"\ntitle = \"T\"\n{GOOD_RULE}"
    ))
    .contains("pack soc2, framework: is hipaa, but the pack is soc2"));
    assert!(problems("framework = \"soc3\"\ntitle = \"T\"\n")
        .contains("pack soc2, framework: unknown framework \"soc3\""));
    assert!(problems("framework = [").contains("pack soc2, (file): not valid TOML"));
    assert!(problems(head).contains("pack soc2, rule: a pack needs at least one [[rule]]"));
}
