//! The `compliance` read model against the machine's PostgreSQL and NATS: violations through
//! detection, re-detection, acceptance, expiry and resolution; titles of built-in and custom
//! rules; counts and scores per source and tenant that always equal a recount; the daily trend;
//! history with each event's id and hash; keyset pages; tenant isolation; and a rebuild that
//! gives the same rows. Each test has its own stream and database, removed when it ends.

mod support;
use support::Env;

use domain::compliance::{
    builtin_rules, policy_id, violation_id, CitedFact, CompliancePolicy, CompliancePolicyCommand,
    Evidence, Finding, FrameworkId, RuleDefinition, Severity, Subject, SubjectLevel, Violation,
    ViolationCommand,
};
use domain::{Aggregate, TenantId};
use projections::compliance::{self, Compliance, ViolationFilter};
use projections::{ProjectionRunner, StatusBoard};
use tokio::sync::watch;
use uuid::Uuid;

impl Env {
    async fn detect(&self, tenant: &str, finding: Finding) -> u64 {
        let id = violation_id(
            &TenantId::parse(tenant).unwrap(),
            &finding.rule_id,
            &finding.subject,
        );
        self.run::<Violation>(
            tenant,
            id,
            ViolationCommand::Detect {
                tenant: TenantId::parse(tenant).unwrap(),
                finding,
            },
        )
        .await
    }

    /// Every row of every table of the read model, as JSON text, in key order.
    async fn dump(&self) -> Vec<String> {
        let mut rows = Vec::new();
        for (table, order) in [
            ("violations", "tenant_id, id"),
            ("violation_history", "tenant_id, violation_id, version"),
            ("scores", "tenant_id, source_id, framework"),
            ("daily_scores", "tenant_id, source_id, framework, day"),
            ("custom_rules", "tenant_id, rule_id, version"),
        ] {
            let table_rows: Vec<(String,)> = sqlx::query_as(&format!(
                "SELECT '{table} ' || to_jsonb(t)::text FROM rm_compliance.{table} t ORDER BY {order}"
            ))
            .fetch_all(&self.pool)
            .await
            .unwrap();
            rows.extend(table_rows.into_iter().map(|(r,)| r));
        }
        rows
    }
}

fn evidence(sequence: u64) -> Evidence {
    Evidence {
        event_id: Uuid::from_u128(sequence as u128),
        sequence,
        hash: format!("{sequence:064x}"),
    }
}

const SOURCE: Uuid = Uuid::from_u128(0x5100);
const ASSET: Uuid = Uuid::from_u128(0xa55e7);

fn column(name: &str) -> Subject {
    Subject::Column {
        source_id: SOURCE,
        asset_id: ASSET,
        path: "shop.public.payments".into(),
        column: name.into(),
    }
}

fn finding(rule: &str, framework: FrameworkId, severity: Severity, subject: Subject) -> Finding {
    Finding {
        rule_id: rule.into(),
        rule_version: 1,
        framework,
        control: "control".into(),
        severity,
        subject,
        facts: vec![CitedFact {
            fact: "label.status".into(),
            column: Some("cvv".into()),
            label: Some("CARD_SECURITY_CODE".into()),
            role: None,
            value: "applied".into(),
            evidence: evidence(7),
        }],
        evidence: vec![evidence(3), evidence(7)],
    }
}

fn custom_rule() -> RuleDefinition {
    RuleDefinition {
        id: "acme-emails-in-payments".into(),
        version: 1,
        title: "Customer e-mails kept beside payments".into(),
        framework: FrameworkId::Gdpr,
        control: "GDPR Art. 5(1)(c)".into(),
        severity: Severity::High,
        remediation: "Move e-mail addresses out of the payments tables.".into(),
        subject: SubjectLevel::Column,
        condition: r#"any label (label.type == "EMAIL_ADDRESS")"#.into(),
    }
}

#[tokio::test]
async fn violations_scores_trend_and_history_follow_the_events_per_tenant_and_rebuild_alike() {
    let env = Env::new().await;
    let (stop, stopped) = watch::channel(false);
    let runner = tokio::spawn(
        ProjectionRunner::new(
            Compliance,
            env.store.clone(),
            env.pool.clone(),
            StatusBoard::default(),
        )
        .run(stopped),
    );
    let acme = TenantId::parse("acme").unwrap();
    let sad = builtin_rules()
        .find(|r| r.definition.id == "pci-dss-sad-stored")
        .unwrap();
    let special = builtin_rules()
        .find(|r| r.definition.id == "gdpr-special-category-unconfirmed")
        .unwrap();

    // A custom rule, then a violation of it, of a built-in PCI DSS rule and of a GDPR rule.
    env.run::<CompliancePolicy>(
        "acme",
        policy_id(&acme),
        CompliancePolicyCommand::DefineCustomRule {
            definition: custom_rule(),
        },
    )
    .await;
    let cvv = finding(
        "pci-dss-sad-stored",
        FrameworkId::PciDss,
        Severity::Critical,
        column("cvv"),
    );
    env.detect("acme", cvv.clone()).await;
    env.detect(
        "acme",
        finding(
            "acme-emails-in-payments",
            FrameworkId::Gdpr,
            Severity::High,
            column("email"),
        ),
    )
    .await;
    let diagnosis = finding(
        "gdpr-special-category-unconfirmed",
        FrameworkId::Gdpr,
        Severity::High,
        column("diagnosis"),
    );
    env.detect("acme", diagnosis.clone()).await;
    // Another tenant's violation on the same subject.
    let last_globex = env.detect("globex", cvv.clone()).await;

    let cvv_id = violation_id(&acme, "pci-dss-sad-stored", &column("cvv"));
    let diagnosis_id = violation_id(
        &acme,
        "gdpr-special-category-unconfirmed",
        &column("diagnosis"),
    );
    // The special-category risk is accepted, the acceptance runs out, and then it is resolved.
    let now = chrono::Utc::now();
    env.run::<Violation>(
        "acme",
        diagnosis_id,
        ViolationCommand::Accept {
            by: "officer@acme".into(),
            reason: "Pseudonymised research extract".into(),
            expires_at: now + chrono::Duration::days(30),
            now,
        },
    )
    .await;
    env.wait_for(compliance::NAME, env.store.last_sequence().await.unwrap())
        .await;
    let accepted = compliance::violation(&env.pool, "acme", diagnosis_id.as_uuid())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(accepted.status, "accepted");
    assert_eq!(
        accepted.accepted_reason.as_deref(),
        Some("Pseudonymised research extract")
    );
    let gdpr = |rows: &[compliance::ScoreRow]| {
        rows.iter()
            .find(|r| r.framework == "gdpr")
            .cloned()
            .unwrap()
    };
    let scores = compliance::scores(&env.pool, "acme", Some(SOURCE))
        .await
        .unwrap();
    // The custom rule's violation is open (high, 10); the accepted one does not count.
    assert_eq!(
        (gdpr(&scores).open_high, gdpr(&scores).accepted_high),
        (1, 1)
    );
    assert_eq!(gdpr(&scores).score(), 90);

    env.run::<Violation>(
        "acme",
        diagnosis_id,
        ViolationCommand::ExpireAcceptance {
            now: now + chrono::Duration::days(31),
        },
    )
    .await;
    env.run::<Violation>(
        "acme",
        diagnosis_id,
        ViolationCommand::Resolve {
            change: "label.status".into(),
            evidence: vec![evidence(40)],
        },
    )
    .await;
    // The card security code is found again with a tuned severity: it moves from critical to high.
    let mut tuned = cvv.clone();
    tuned.severity = Severity::High;
    let last = env.detect("acme", tuned).await;
    env.wait_for(compliance::NAME, last.max(last_globex)).await;
    let parked: Vec<(String,)> = sqlx::query_as("SELECT error FROM public.projection_parked")
        .fetch_all(&env.pool)
        .await
        .unwrap();
    assert!(parked.is_empty(), "{parked:?}");

    // Violations: status, titles (built-in from its pack, custom from its definition),
    // evidence in the API's form.
    let all = compliance::violations(
        &env.pool,
        "acme",
        &ViolationFilter {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
    let by_rule = |rule: &str| all.iter().find(|v| v.rule_id == rule).unwrap();
    let card = by_rule("pci-dss-sad-stored");
    assert_eq!(
        (card.status.as_str(), card.severity.as_str()),
        ("open", "high")
    );
    assert_eq!(card.title, sad.definition.title);
    assert_eq!(card.remediation, sad.definition.remediation);
    assert_eq!(card.column_name.as_deref(), Some("cvv"));
    assert_eq!(card.asset_path.as_deref(), Some("shop.public.payments"));
    assert_eq!(card.evidence[0]["eventId"], Uuid::from_u128(3).to_string());
    assert_eq!(card.evidence[1]["sequence"], 7);
    assert_eq!(card.facts()[0].evidence.hash, format!("{:064x}", 7));
    let custom = by_rule("acme-emails-in-payments");
    assert_eq!(custom.title, "Customer e-mails kept beside payments");
    assert_eq!(
        custom.remediation,
        "Move e-mail addresses out of the payments tables."
    );
    let resolved = by_rule("gdpr-special-category-unconfirmed");
    assert_eq!(resolved.title, special.definition.title);
    assert_eq!(resolved.status, "resolved");
    assert_eq!(resolved.resolution_change.as_deref(), Some("label.status"));
    assert!(resolved.accepted_until.is_none() && resolved.resolved_at.is_some());

    // Filters and keyset pages: most severe first, then by id, every violation once.
    let open = compliance::violations(
        &env.pool,
        "acme",
        &ViolationFilter {
            statuses: vec!["open".into()],
            framework: Some("gdpr".into()),
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        open.iter().map(|v| v.rule_id.as_str()).collect::<Vec<_>>(),
        ["acme-emails-in-payments"]
    );
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = compliance::violations(
            &env.pool,
            "acme",
            &ViolationFilter {
                after,
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let Some(last) = page.last() else { break };
        after = Some((last.severity_rank, last.id));
        paged.extend(page.into_iter().map(|v| v.id));
    }
    let mut ids: Vec<Uuid> = all.iter().map(|v| v.id).collect();
    assert_eq!(paged, ids);
    ids.sort();
    paged.sort();
    paged.dedup();
    assert_eq!(paged, ids);

    // History: one row per event, with the event's own id and hash as in the stream.
    let history = compliance::history(&env.pool, "acme", diagnosis_id.as_uuid(), 100)
        .await
        .unwrap();
    assert_eq!(
        history
            .iter()
            .map(|h| (h.event_type.as_str(), h.status.as_str()))
            .collect::<Vec<_>>(),
        [
            ("ViolationDetected", "open"),
            ("ViolationAccepted", "accepted"),
            ("AcceptanceExpired", "open"),
            ("ViolationResolved", "resolved"),
        ]
    );
    let stream = env
        .store
        .load(&acme, Violation::NAME, &diagnosis_id)
        .await
        .unwrap();
    for (row, stored) in history.iter().zip(&stream.events) {
        assert_eq!(row.event_id, stored.event.id);
        assert_eq!(row.event_hash, stored.event.hash);
        assert_eq!(row.sequence as u64, stored.sequence);
    }
    assert_eq!(history[3].evidence[0]["sequence"], 40);

    // Scores per source and for the tenant equal a recount over the violations.
    for source in [Some(SOURCE), None] {
        let scores = compliance::scores(&env.pool, "acme", source).await.unwrap();
        for row in &scores {
            let recount: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT status, severity, count(*) FROM rm_compliance.violations
                 WHERE tenant_id = 'acme' AND framework = $1 AND status <> 'resolved'
                 GROUP BY status, severity",
            )
            .bind(&row.framework)
            .fetch_all(&env.pool)
            .await
            .unwrap();
            let count = |status: &str, severity: &str| {
                recount
                    .iter()
                    .find(|(s, v, _)| s == status && v == severity)
                    .map_or(0, |r| r.2)
            };
            assert_eq!(
                [
                    row.open_low,
                    row.open_medium,
                    row.open_high,
                    row.open_critical
                ],
                ["low", "medium", "high", "critical"].map(|s| count("open", s)),
                "{row:?}"
            );
            assert_eq!(row.accepted(), 0, "{row:?}");
        }
        let pci = scores.iter().find(|r| r.framework == "pci-dss").unwrap();
        assert_eq!((pci.open_critical, pci.open_high, pci.score()), (0, 1, 90));
        assert_eq!(gdpr(&scores).score(), 90);
    }
    // Today's trend: the figures at the end of the day, i.e. now.
    let today = chrono::Utc::now().date_naive();
    let trend = compliance::trend(
        &env.pool,
        "acme",
        Some(SOURCE),
        "pci-dss",
        today - chrono::Duration::days(2),
        today,
    )
    .await
    .unwrap();
    assert_eq!(trend.len(), 3);
    assert_eq!(
        (trend[2].score, trend[2].open_high, trend[2].open_critical),
        (90, 1, 0)
    );
    assert_eq!(trend[0].score, 100, "no violation before today");

    // The other tenant sees only its own.
    let theirs = compliance::violations(
        &env.pool,
        "globex",
        &ViolationFilter {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].severity, "critical");
    assert!(compliance::violation(&env.pool, "globex", cvv_id.as_uuid())
        .await
        .unwrap()
        .is_none());
    let globex = compliance::scores(&env.pool, "globex", None).await.unwrap();
    assert_eq!(globex.len(), 1);
    assert_eq!(globex[0].score(), 75);

    // A rebuild gives the same rows.
    let before = env.dump().await;
    assert!(before.len() > 10, "{before:?}");
    stop.send(true).unwrap();
    runner.await.unwrap().unwrap();
    let report =
        projections::rebuild::rebuild_by_name(compliance::NAME, &env.store, &env.pool, &|_, _| {})
            .await
            .unwrap();
    assert_eq!(
        report.last_sequence,
        env.store.last_sequence().await.unwrap()
    );
    assert_eq!(env.dump().await, before);
}
