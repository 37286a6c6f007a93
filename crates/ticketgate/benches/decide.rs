//! Criterion benches of the core. `cargo bench -p ticketgate` runs them;
//! set `TICKETGATE_BENCH_REDIS=redis://127.0.0.1:6379` to include the Redis store.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "bench code"
)]

// the allocator the bindings and the CLI use, so that their figures compare
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cedar_policy::{Authorizer, Context, Entities, PolicySet, Request, Schema};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ticketgate::{
    audit, AccessRequest, AuditLog, AuditOptions, ChainKey, Clock, Decision, Durability, Gate,
    Observation, Outcome, PolicyPack, SourceFile, StoreError, Suspension, Timestamp, VelocityStore,
    Windows,
};

const REQUEST: &str = r#"{"employee":{"id":"alice","roles":["agent"],"teams":["billing"],"segments":["consumer"],"shift":{"start":"2026-11-28T08:00:00Z","end":"2026-11-28T16:00:00Z"}},
 "customer":{"id":"c1","segment":"consumer","vip":false,"employee":false},
 "ticket":{"id":"T-1","customer":"c1","assignee":"alice","queue":"billing","status":"open","opened_at":"2026-11-28T07:00:00Z","callback_at":"2026-11-28T10:30:00Z"},
 "purpose":"support","at":"2026-11-28T10:20:00Z"}"#;

/// A store that stores nothing: the baseline for the velocity overhead.
#[derive(Debug)]
struct NullStore;

impl VelocityStore for NullStore {
    fn admit(
        &self,
        _: &str,
        _: &str,
        _: Timestamp,
        _: Windows,
        d: &mut dyn FnMut(&Observation) -> bool,
    ) -> Result<Observation, StoreError> {
        let o = Observation::default();
        d(&o);
        Ok(o)
    }
    fn record(&self, _: &str, _: &str, _: Timestamp, _: i64) -> Result<(), StoreError> {
        Ok(())
    }
    fn suspend(&self, _: &str, _: &str, _: Timestamp) -> Result<(), StoreError> {
        Ok(())
    }
    fn reinstate(&self, _: &str) -> Result<bool, StoreError> {
        Ok(false)
    }
    fn suspended(&self) -> Result<Vec<Suspension>, StoreError> {
        Ok(Vec::new())
    }
}

fn request() -> AccessRequest {
    AccessRequest::from_json(REQUEST).unwrap()
}

/// What a user of `cedar-policy` alone would write for the same question: the whole pack,
/// entities built once, one `is_authorized` per field's reveal action.
struct RawCedar {
    policies: PolicySet,
    entities: Entities,
    requests: Vec<Request>,
}

impl RawCedar {
    fn new(pack: &PolicyPack) -> Self {
        let text = |name: &str| {
            pack.sources()
                .iter()
                .filter(|s| s.name.ends_with(name))
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (schema, _) = Schema::from_cedarschema_str(&text(".cedarschema")).unwrap();
        let policies: PolicySet = text(".cedar").parse().unwrap();
        let entities = Entities::from_json_value(
            serde_json::json!([
                {"uid": {"type": "Employee", "id": "alice"}, "parents": [],
                 "attrs": {"roles": ["agent"], "teams": ["billing"], "segments": ["consumer"], "suspended": false,
                   "shift": {"start": {"__extn": {"fn": "datetime", "arg": "2026-11-28T08:00:00Z"}},
                             "end": {"__extn": {"fn": "datetime", "arg": "2026-11-28T16:00:00Z"}}}}},
                {"uid": {"type": "Customer", "id": "c1"}, "parents": [],
                 "attrs": {"segment": "consumer", "vip": false, "employee": false}},
                {"uid": {"type": "Ticket", "id": "T-1"}, "parents": [],
                 "attrs": {"customer": {"__entity": {"type": "Customer", "id": "c1"}},
                   "assignee": {"__entity": {"type": "Employee", "id": "alice"}},
                   "queue": "billing", "status": "open",
                   "opened_at": {"__extn": {"fn": "datetime", "arg": "2026-11-28T07:00:00Z"}},
                   "callback_at": {"__extn": {"fn": "datetime", "arg": "2026-11-28T10:30:00Z"}}}}
            ]),
            Some(&schema),
        )
        .unwrap();
        let requests = ["name", "email", "phone", "ticket_numbers"]
            .iter()
            .map(|f| {
                let context = Context::from_json_value(
                    serde_json::json!({
                        "at": {"__extn": {"fn": "datetime", "arg": "2026-11-28T10:20:00Z"}},
                        "purpose": "support", "field": f,
                        "ticket": {"__entity": {"type": "Ticket", "id": "T-1"}},
                        "velocity": {"count": 0, "soft": 15, "hard": 30, "window_s": 3600, "new_customer": true,
                          "day_count": 0, "day_soft": 120, "day_hard": 240, "day_window_s": 86400, "day_new_customer": true}
                    }),
                    None,
                )
                .unwrap();
                Request::new(
                    r#"Employee::"alice""#.parse().unwrap(),
                    format!(r#"Action::"reveal_{f}""#).parse().unwrap(),
                    r#"Customer::"c1""#.parse().unwrap(),
                    context,
                    None,
                )
                .unwrap()
            })
            .collect();
        Self {
            policies,
            entities,
            requests,
        }
    }

    fn decide(&self, authorizer: &Authorizer) -> usize {
        self.requests
            .iter()
            .filter(|r| {
                authorizer
                    .is_authorized(r, &self.policies, &self.entities)
                    .decision()
                    == cedar_policy::Decision::Allow
            })
            .count()
    }
}

fn decide(c: &mut Criterion) {
    let req = request();
    let mut g = c.benchmark_group("decide_4_fields");
    let memory = Gate::builder().clock(Clock::Replay).build().unwrap();
    assert!(memory
        .decide(&req)
        .unwrap()
        .fields
        .values()
        .all(|f| f.outcome == Outcome::Reveal));
    g.bench_function("memory_store", |b| b.iter(|| memory.decide(&req).unwrap()));
    let raw = RawCedar::new(&PolicyPack::default());
    let authorizer = Authorizer::new();
    assert_eq!(
        raw.decide(&authorizer),
        4,
        "the floor must decide what the gate decides"
    );
    g.bench_function("raw_cedar_4_is_authorized", |b| {
        b.iter(|| raw.decide(&authorizer))
    });
    // The two benches above run one after the other, so on a host whose speed drifts (a
    // shared machine) they can land in different weather: one busy run measured them 0.53x
    // apart and 0.45x here. Here every sample (warm-up ones too) times both back to back and
    // keeps their ratio; criterion reports the gate's half.
    let ratios = Mutex::new(Vec::new());
    g.bench_function("paired_with_floor", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                criterion::black_box(memory.decide(&req).unwrap());
            }
            let gate = t.elapsed();
            let t = Instant::now();
            for _ in 0..iters {
                criterion::black_box(raw.decide(&authorizer));
            }
            let floor = t.elapsed();
            ratios
                .lock()
                .unwrap()
                .push(gate.as_secs_f64() / floor.as_secs_f64());
            gate
        })
    });
    let direct = Gate::builder()
        .clock(Clock::Replay)
        .pack(PolicyPack::default().without_plan())
        .build()
        .unwrap();
    g.bench_function("memory_store_without_plan", |b| {
        b.iter(|| direct.decide(&req).unwrap())
    });
    let null = Gate::builder()
        .clock(Clock::Replay)
        .store(Arc::new(NullStore))
        .build()
        .unwrap();
    g.bench_function("no_store", |b| b.iter(|| null.decide(&req).unwrap()));
    if let Ok(url) = std::env::var("TICKETGATE_BENCH_REDIS") {
        let redis = Gate::builder()
            .clock(Clock::Replay)
            .store(ticketgate::redis_store(&url).unwrap())
            .build()
            .unwrap();
        g.bench_function("redis_store", |b| b.iter(|| redis.decide(&req).unwrap()));
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut con = client.get_connection().unwrap();
        g.bench_function("redis_ping_alone", |b| {
            b.iter(|| redis::cmd("PING").query::<String>(&mut con).unwrap())
        });
    }
    g.finish();
    let mut ratios = ratios.into_inner().unwrap();
    if !ratios.is_empty() {
        // benches/compare_report.py reads this line
        ratios.sort_by(f64::total_cmp);
        println!(
            "decide_4_fields/paired_with_floor: gate / floor {:.3} (median of {} samples, each timing both back to back)",
            ratios[ratios.len() / 2],
            ratios.len()
        );
    }
}

fn audit(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("audit_append");
    g.throughput(Throughput::Elements(1));
    let batched = AuditLog::open(
        AuditOptions::new(dir.path().join("b.jsonl")).durability(Durability::Batched),
    )
    .unwrap();
    g.bench_function("batched", |b| {
        b.iter(|| batched.append_event("bench", "employee-1", "x").unwrap())
    });
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for writers in [1usize, 8] {
        let log = AuditLog::open(AuditOptions::new(
            dir.path().join(format!("a{writers}.jsonl")),
        ))
        .unwrap();
        g.bench_with_input(
            BenchmarkId::new("always_writers", writers),
            &writers,
            |b, &w| {
                b.iter_custom(|iters| {
                    let per = (iters as usize).div_ceil(w);
                    let t = Instant::now();
                    std::thread::scope(|s| {
                        for _ in 0..w {
                            let log = log.clone();
                            s.spawn(move || {
                                for _ in 0..per {
                                    log.append_event("bench", "employee-1", "x").unwrap();
                                }
                            });
                        }
                    });
                    // time per record, whichever writer wrote it
                    t.elapsed() * (iters as u32) / ((per * w) as u32).max(1)
                })
            },
        );
    }
    g.finish();
    let path = dir.path().join("million.jsonl");
    let log = AuditLog::open(AuditOptions::new(&path).durability(Durability::None)).unwrap();
    let req = request();
    let d = Gate::builder()
        .clock(Clock::Replay)
        .build()
        .unwrap()
        .decide(&req)
        .unwrap();
    for _ in 0..1_000_000 {
        log.append_decision(&d, &req).unwrap();
    }
    log.sync().unwrap();
    let mut g = c.benchmark_group("audit_verify");
    g.sample_size(10)
        .throughput(Throughput::Elements(1_000_000));
    g.bench_function("1M_decision_records", |b| {
        b.iter(|| {
            audit::verify(
                std::slice::from_ref(&path),
                &audit::VerifyOptions::default(),
            )
            .unwrap()
        })
    });
    g.finish();
    restore(c, &d, &req, dir.path());
}

/// What a restart reads from 100,000 decision records: all within the long velocity window
/// (a replay trail, counted back from its own latest decision), or all older than it (a
/// live gate's trail after a day: only each line's opening is read).
fn restore(c: &mut Criterion, d: &Decision, req: &AccessRequest, dir: &std::path::Path) {
    let path = dir.join("restore.jsonl");
    let log = AuditLog::open(AuditOptions::new(&path).durability(Durability::None)).unwrap();
    for _ in 0..100_000 {
        log.append_decision(d, req).unwrap();
    }
    log.sync().unwrap();
    let mut g = c.benchmark_group("audit_restore");
    g.sample_size(10).throughput(Throughput::Elements(100_000));
    let day = 86_400_000;
    let later = Timestamp::from_millis(d.at.millis() + 2 * day).unwrap();
    for (name, now) in [
        ("within_the_window", None),
        ("older_than_the_window", Some(later)),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                audit::in_force(std::slice::from_ref(&path), &ChainKey::plain(), day, now).unwrap()
            })
        });
    }
    g.finish();
}

/// 10,000 requests for distinct customers: a loop of `decide` against one `decide_many`,
/// which spreads the batch over the cores.
fn batch(c: &mut Criterion) {
    let base = serde_json::to_value(request()).unwrap();
    let reqs: Vec<AccessRequest> = (0..10_000)
        .map(|i| {
            let mut v = base.clone();
            let id = format!("c{i}");
            // 50 employees, as a batch job over many agents' requests would have
            v["employee"]["id"] = format!("e{}", i % 50).into();
            v["ticket"]["assignee"] = format!("e{}", i % 50).into();
            v["customer"]["id"] = id.clone().into();
            v["ticket"]["customer"] = id.into();
            AccessRequest::from_value(v).unwrap()
        })
        .collect();
    let gate = || {
        Gate::builder()
            .clock(Clock::Replay)
            .velocity(ticketgate::VelocityConfig {
                window_s: 3600,
                soft: 1_000_000,
                hard: 1_000_000,
                day: ticketgate::DayLimits {
                    window_s: 86_400,
                    soft: 1_000_000,
                    hard: 1_000_000,
                },
            })
            .build()
            .unwrap()
    };
    let mut g = c.benchmark_group("batch_10k");
    g.sample_size(10)
        .throughput(Throughput::Elements(reqs.len() as u64));
    // a fresh gate per run (velocity starts at zero), built and dropped outside the timing:
    // building parses the pack, which is neither the loop's work nor the batch's
    let fresh = BatchSize::PerIteration;
    g.bench_function("loop_of_decide", |b| {
        b.iter_batched_ref(
            gate,
            |gate| {
                for r in &reqs {
                    criterion::black_box(gate.decide(r).unwrap());
                }
            },
            fresh,
        )
    });
    g.bench_function("decide_many", |b| {
        b.iter_batched_ref(gate, |g| g.decide_many(&reqs), fresh)
    });
    // a threaded server: single `decide` calls on one gate from two threads at once (each
    // thread its own employees), which a cache shared by the gate's threads slowed by 8%
    let (first, second): (Vec<_>, Vec<_>) = reqs.iter().enumerate().partition(|(i, _)| i % 50 < 25);
    g.bench_function("two_threads_of_decide", |b| {
        b.iter_batched_ref(
            gate,
            |gate| {
                std::thread::scope(|s| {
                    for half in [&first, &second] {
                        let gate = &*gate;
                        s.spawn(move || half.iter().for_each(|(_, r)| drop(gate.decide(r))));
                    }
                })
            },
            fresh,
        )
    });
    let items: Vec<_> = reqs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let record = serde_json::json!({"name": "Jane Doe", "email": format!("jane{i}@example.com"),
                "phone": "+1 555-555-1234", "ticket_numbers": ["billing-10423"], "plan": "pro"});
            (r.clone(), record.as_object().unwrap().clone())
        })
        .collect();
    g.bench_function("loop_of_view", |b| {
        b.iter_batched_ref(
            gate,
            |gate| {
                for (r, m) in &items {
                    criterion::black_box(gate.view(r, m).unwrap());
                }
            },
            fresh,
        )
    });
    g.bench_function("view_many", |b| {
        b.iter_batched_ref(gate, |g| g.view_many(&items), fresh)
    });
    g.finish();
}

/// Policies of the default pack a team without grants or special purposes leaves out, to
/// make a pack smaller than the default one.
const OPTIONAL: [&str; 4] = [
    "R9-approved-grant",
    "R9-break-glass",
    "R10-security-review",
    "R10-legal-and-incident-need-grant",
];

/// A pack of `n` policies: below the default pack's size, the default pack without some of
/// [`OPTIONAL`]; above it, the default pack's plus per-team rules of the kinds a support
/// organisation adds (queue masks for team leads, segment restrictions per queue, grants
/// scoped to a team's fields); about a third read `context.field`.
fn pack_of(n: usize) -> PolicyPack {
    let base = PolicyPack::default();
    let mut sources = base.sources().to_vec();
    let drop = base.policy_ids().len().saturating_sub(n);
    for id in OPTIONAL.iter().take(drop) {
        for src in &mut sources {
            // a policy of the default pack runs from its `@id` to the `;` that ends it
            let Some(start) = src.text.find(&format!("@id(\"{id}\")")) else {
                continue;
            };
            let end = src.text[start..]
                .find(";\n")
                .map_or(src.text.len(), |e| start + e + 2);
            src.text.replace_range(start..end, "");
        }
    }
    let mut text = String::new();
    for i in 0..n.saturating_sub(base.policy_ids().len()) {
        let team = format!("team-{}", i / 3);
        text.push_str(&match i % 3 {
            0 => format!(
                "@id(\"{team}-lead-mask\")\npermit (principal, action in [Action::\"mask_name\", Action::\"mask_email\"], resource)\nwhen {{ context.purpose == \"support\" && context has ticket && context.ticket.queue == \"{team}\" && principal.teams.contains(\"{team}-leads\") }};\n"
            ),
            1 => format!(
                "@id(\"{team}-segment\")\nforbid (principal, action in Action::\"reveal\", resource)\nwhen {{ context has ticket && context.ticket.queue == \"{team}\" && resource.segment == \"government\" && !principal.roles.contains(\"senior_agent\") }};\n"
            ),
            _ => format!(
                "@id(\"{team}-grant\")\npermit (principal, action in Action::\"reveal\", resource)\nwhen {{ context has grant && context.grant.grantee == principal && context.grant.reason == \"{team}\" && context.grant.fields.contains(context.field) && context.at < context.grant.expires_at }};\n"
            ),
        });
    }
    sources.push(SourceFile {
        name: "teams.cedar".into(),
        text,
    });
    PolicyPack::from_sources(sources).unwrap()
}

/// Cost against pack size, with and without the plan, beside the raw floor on that pack.
fn pack_size(c: &mut Criterion) {
    let req = request();
    let authorizer = Authorizer::new();
    let mut g = c.benchmark_group("pack_size");
    let default = PolicyPack::default().policy_ids().len();
    for n in [10, default, 100, 1000] {
        let pack = pack_of(n);
        assert_eq!(pack.policy_ids().len(), n);
        let planned = Gate::builder()
            .clock(Clock::Replay)
            .pack(pack.clone())
            .build()
            .unwrap();
        let direct = Gate::builder()
            .clock(Clock::Replay)
            .pack(pack.without_plan())
            .build()
            .unwrap();
        let raw = RawCedar::new(&pack);
        g.bench_with_input(BenchmarkId::new("decide", n), &n, |b, _| {
            b.iter(|| planned.decide(&req).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("decide_without_plan", n), &n, |b, _| {
            b.iter(|| direct.decide(&req).unwrap())
        });
        g.bench_with_input(
            BenchmarkId::new("raw_cedar_4_is_authorized", n),
            &n,
            |b, _| b.iter(|| raw.decide(&authorizer)),
        );
    }
    g.finish();
}

criterion_group!(benches, decide, audit, batch, pack_size);
criterion_main!(benches);
