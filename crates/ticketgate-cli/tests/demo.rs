//! The main job at small scale, with assertions on the report's ground truth, and a
//! replay of the shipped example files.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use std::path::Path;
use std::process::Command;

fn ticketgate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ticketgate"))
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn demo_stops_the_insiders_and_not_the_agents() {
    let out = tempfile::tempdir().unwrap();
    let run = ticketgate()
        .args([
            "demo",
            "--customers",
            "1500",
            "--employees",
            "24",
            "--days",
            "6",
            "--seed",
            "7",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let s = summary(out.path());
    let l = &s["labels"];
    assert!(s["audit_verified"].as_bool().unwrap());
    assert_eq!(s["audit_records"], s["decisions"]);
    // the 2019 pattern leaks (almost) nothing and is flagged at once
    assert!(l["bulk_reader"]["customers_touched"].as_u64().unwrap() > 1000);
    assert!(
        l["bulk_reader"]["customers_leaked"].as_u64().unwrap() <= 5,
        "{}",
        l["bulk_reader"]
    );
    assert_eq!(l["bulk_reader"]["first_alert_after_ms"], 0);
    assert_eq!(l["off_shift_reader"]["customers_leaked"], 0);
    assert!(
        l["off_shift_reader"]["alerts"]["off_shift"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(l["queue_snooper"]["customers_leaked"], 0);
    // the patient reader is not stopped by rules, but is bounded and fully attributed
    assert!(l["patient_reader"]["customers_leaked"].as_u64().unwrap() > 0);
    // ... and alerted within hours (a canary or the self-assignment signal), and named by complaints
    let detection = &l["patient_reader"]["detection"];
    assert!(
        detection["working_hours_to_alert"].as_f64().unwrap() <= 8.0,
        "{detection}"
    );
    assert!(
        detection["complaints_to_rank_first"].as_u64().unwrap() <= 3,
        "{detection}"
    );
    for insider in [
        "bulk_reader",
        "patient_reader",
        "queue_snooper",
        "off_shift_reader",
        "after_hours_spreader",
        "slow_burner",
    ] {
        assert_eq!(l[insider]["audit_matches"], true, "{insider}");
        assert_eq!(
            l[insider]["audit_affected"], l[insider]["customers_leaked"],
            "{insider}"
        );
    }
    // legitimate work: no refusals except the accesses the generator marked off-rule, and
    // few alert episodes worth a security team's time
    assert_eq!(l["legit"]["false_refusals"], 0, "{}", l["legit"]);
    let episodes: u64 = l["legit"]["alert_episodes"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let agent_days = l["legit"]["agent_days"].as_u64().unwrap();
    assert!(
        episodes * 100 <= 2 * agent_days,
        "{episodes} episodes in {agent_days} agent-days"
    );
    assert!(l["legit"]["accesses"].as_u64().unwrap() > 500);
    assert_eq!(l["legit"]["off_rule"], l["legit"]["off_rule_refused"]);
    assert!(stdout.contains("chain verified"));
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("bulk_reader"));
    // three complaints from the patient reader's victims name the patient reader first
    let accesses = std::fs::read_to_string(out.path().join("dataset/accesses.csv")).unwrap();
    let header: Vec<&str> = accesses.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let insider = accesses
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|r| r[col("label")] == "patient_reader")
        .map(|r| r[col("employee")].to_owned())
        .unwrap();
    let log = out.path().join("audit.jsonl");
    let json = |args: &[&str]| -> serde_json::Value {
        let o = ticketgate()
            .args(args)
            .arg("--log")
            .arg(&log)
            .arg("--json")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let leaked = json(&["audit", "affected", "--employee", &insider]);
    let victims: Vec<String> = leaked
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|a| a["customer"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(victims.len(), 3);
    let ranked = json(&["audit", "suspects", "--customers", &victims.join(",")]);
    assert_eq!(ranked[0]["employee"], insider.as_str(), "{ranked}");
    assert_eq!(ranked[0]["matched"], 3);
    // `audit anomalies`, from the trail alone, flags the patient reader's self-assignments
    let anomalies = json(&["audit", "anomalies", "--min-severity", "high"]);
    assert!(
        anomalies
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["employee"] == insider.as_str() && a["signal"] == "self_assigned"),
        "{anomalies}"
    );
    // the dataset it wrote replays to the same decisions
    let d = out.path().join("dataset");
    let again = tempfile::tempdir().unwrap();
    let run = ticketgate()
        .arg("replay")
        .args(["--employees", d.join("employees.csv").to_str().unwrap()])
        .args(["--customers", d.join("customers.csv").to_str().unwrap()])
        .args(["--tickets", d.join("tickets.csv").to_str().unwrap()])
        .args(["--accesses", d.join("accesses.csv").to_str().unwrap()])
        .arg("--out")
        .arg(again.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r = summary(again.path());
    assert_eq!(r["decisions"], s["decisions"]);
    assert_eq!(
        r["labels"]["patient_reader"]["customers_leaked"],
        l["patient_reader"]["customers_leaked"]
    );
}

#[test]
fn replay_of_the_shipped_examples() {
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/replay");
    for ext in ["csv", "jsonl"] {
        let out = tempfile::tempdir().unwrap();
        let run = ticketgate()
            .arg("replay")
            .args([
                "--employees",
                ex.join(format!("employees.{ext}")).to_str().unwrap(),
            ])
            .args([
                "--customers",
                ex.join(format!("customers.{ext}")).to_str().unwrap(),
            ])
            .args([
                "--tickets",
                ex.join(format!("tickets.{ext}")).to_str().unwrap(),
            ])
            .args([
                "--accesses",
                ex.join(format!("accesses.{ext}")).to_str().unwrap(),
            ])
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{ext}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let s = summary(out.path());
        assert_eq!(s["invalid"], serde_json::json!({}), "{ext}");
        assert!(s["decisions"].as_u64().unwrap() >= 10, "{ext}");
        assert!(
            s["labels"]["bulk_reader"]["customers_leaked"]
                .as_u64()
                .unwrap()
                == 0,
            "{ext}"
        );
    }
}

#[test]
fn replay_names_the_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("employees.csv");
    std::fs::write(&bad, "id,roles,shoe_size\ne1,agent,44\n").unwrap();
    let run = ticketgate()
        .arg("replay")
        .args([
            "--employees",
            bad.to_str().unwrap(),
            "--customers",
            "x",
            "--tickets",
            "x",
            "--accesses",
            "x",
        ])
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("row 2") && err.contains("shoe_size"), "{err}");
}

/// A team's export with a sensitivity column left out replays each access as the invalid
/// request it would be (never as "not sensitive"); one listing a customer twice is refused
/// (which row's facts count would be a guess).
#[test]
fn replay_refuses_missing_sensitivity_facts_and_ids_given_twice() {
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/replay");
    let dir = tempfile::tempdir().unwrap();
    let customers = std::fs::read_to_string(ex.join("customers.csv")).unwrap();
    let first_row = customers.lines().nth(1).unwrap().to_owned();
    let replay = |text: String| {
        let file = dir.path().join("customers.csv");
        std::fs::write(&file, text).unwrap();
        ticketgate()
            .arg("replay")
            .arg("--customers")
            .arg(&file)
            .args(["employees", "tickets", "accesses"].iter().flat_map(|t| {
                [
                    format!("--{t}"),
                    ex.join(format!("{t}.csv")).display().to_string(),
                ]
            }))
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .unwrap()
    };
    let without: Vec<&str> = customers
        .lines()
        .map(|l| l.rsplitn(3, ',').last().unwrap())
        .collect();
    let run = replay(without.join("\n"));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let s = summary(&dir.path().join("out"));
    assert_eq!(s["decisions"], 0);
    let (why, n) = s["invalid"].as_object().unwrap().iter().next().unwrap();
    assert!(
        why.contains("without vip or employee") && n.as_u64() > Some(0),
        "{s}"
    );
    let run = replay(format!("{customers}{first_row}\n"));
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("is given twice"), "{err}");
}
