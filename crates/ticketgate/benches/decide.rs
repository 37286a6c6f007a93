//! Criterion benches of the core. `cargo bench -p ticketgate` runs them;
//! set `TICKETGATE_BENCH_REDIS=redis://127.0.0.1:6379` to include the Redis store.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "bench code"
)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ticketgate::{
    audit, AccessRequest, AuditLog, AuditOptions, Clock, Durability, Gate, Observation, StoreError,
    Suspension, Timestamp, VelocityStore,
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
        _: i64,
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

fn decide(c: &mut Criterion) {
    let req = request();
    let mut g = c.benchmark_group("decide_4_fields");
    let memory = Gate::builder().clock(Clock::Replay).build().unwrap();
    g.bench_function("memory_store", |b| b.iter(|| memory.decide(&req).unwrap()));
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
            })
            .build()
            .unwrap()
    };
    let mut g = c.benchmark_group("batch_10k");
    g.sample_size(10)
        .throughput(Throughput::Elements(reqs.len() as u64));
    g.bench_function("loop_of_decide", |b| {
        b.iter(|| {
            let gate = gate();
            for r in &reqs {
                criterion::black_box(gate.decide(r).unwrap());
            }
        })
    });
    g.bench_function("decide_many", |b| {
        b.iter(|| gate().decide_many(&reqs).len())
    });
    g.finish();
}

criterion_group!(benches, decide, audit, batch);
criterion_main!(benches);
