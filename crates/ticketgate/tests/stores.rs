//! The shared stores, held to one suite: the Redis store against a real `redis-server` that
//! each test starts on a free loopback port (`scripts/test.sh` installs the server), and the
//! SQLite store on a file that separate connections share, as separate processes would.
//! Outage behaviour is Redis's own (SQLite is a local file).

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::expect_used,
    reason = "test code"
)]

use serde_json::json;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ticketgate::*;

struct Server {
    port: u16,
    child: Option<Child>,
}

impl Server {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = Server { port, child: None };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server not found: install it (scripts/test.sh does: apt-get install redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(c) = redis::Client::open(self.url()) {
                if let Ok(mut con) = c.get_connection() {
                    if redis::cmd("PING").query::<String>(&mut con).is_ok() {
                        return;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn request(customer: &str, at: &str, assignee: &str) -> AccessRequest {
    AccessRequest::from_value(json!({
        "employee": {"id": "alice", "roles": ["agent"], "teams": ["billing"], "segments": ["consumer"],
            "shift": {"start": "2026-11-28T00:00:00Z", "end": "2026-11-29T00:00:00Z"}},
        "customer": {"id": customer, "segment": "consumer", "vip": false, "employee": false},
        "ticket": {"id": format!("T-{customer}"), "customer": customer, "assignee": assignee, "queue": "billing",
            "status": "open", "opened_at": "2026-11-28T00:00:00Z"},
        "purpose": "support",
        "at": at
    }))
    .unwrap()
}

/// A store several gates share (as several processes or hosts would).
trait Shared {
    fn store(&self) -> Arc<dyn VelocityStore>;

    fn gate(&self, cfg: VelocityConfig) -> Gate {
        Gate::builder()
            .clock(Clock::Replay)
            .store(self.store())
            .velocity(cfg)
            .build()
            .unwrap()
    }
}

impl Shared for Server {
    fn store(&self) -> Arc<dyn VelocityStore> {
        redis_store(&self.url()).unwrap()
    }
}

/// A SQLite file: every `store()` is a separate connection, as in a separate process.
struct SqliteFile(tempfile::TempDir);

impl SqliteFile {
    fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }
}

impl Shared for SqliteFile {
    fn store(&self) -> Arc<dyn VelocityStore> {
        Arc::new(SqliteStore::open(self.0.path().join("velocity.db")).unwrap())
    }
}

/// The same semantics, checked on every shared store.
macro_rules! on_every_store {
    ($($name:ident),*) => {
        mod redis_store {
            $(#[test] fn $name() { super::$name(&super::Server::start()) })*
        }
        mod sqlite_store {
            $(#[test] fn $name() { super::$name(&super::SqliteFile::new()) })*
        }
    };
}

on_every_store!(
    sliding_window_with_a_controlled_clock,
    eight_gates_on_threads_never_pass_the_hard_limit,
    a_suspension_on_one_gate_applies_on_another,
    recorded_reveals_warm_the_shared_count,
    a_revocation_on_one_gate_applies_on_another,
    the_long_window_counts_what_the_short_one_forgot
);

/// Memory too: the long window is kept and counted by every store alike.
#[test]
fn the_long_window_in_memory() {
    the_long_window_counts_what_the_short_one_forgot(&InMemory);
}

struct InMemory;

impl Shared for InMemory {
    fn store(&self) -> Arc<dyn VelocityStore> {
        Arc::new(MemoryStore::new())
    }
}

/// Customers read an hour apart never fill a 1-hour window, but fill the day's.
fn the_long_window_counts_what_the_short_one_forgot(server: &impl Shared) {
    let gate = server.gate(VelocityConfig {
        window_s: 3600,
        soft: 2,
        hard: 3,
        day: DayLimits {
            window_s: 86_400,
            soft: 3,
            hard: 4,
        },
    });
    for (i, c) in ["a", "b", "c", "d"].iter().enumerate() {
        let d = gate
            .decide(&request(c, &format!("2026-11-28T1{i}:00:00Z"), "alice"))
            .unwrap();
        assert_eq!(d.outcome("name"), Outcome::Reveal, "{c}");
        let v = d.velocity.unwrap();
        assert_eq!((v.count, v.day.count), (1, i as u64 + 1), "{c}");
        assert_eq!(d.has_alert("velocity_soft"), i >= 2, "{c}");
    }
    let refused = gate
        .decide(&request("e", "2026-11-28T14:00:00Z", "alice"))
        .unwrap();
    assert_eq!(refused.outcome("name"), Outcome::Mask);
    assert!(refused.fields["name"]
        .policies
        .contains(&"R8-velocity-day".to_owned()));
    // re-reading a customer counted today is not a new one
    let again = gate
        .decide(&request("a", "2026-11-28T14:00:00Z", "alice"))
        .unwrap();
    assert_eq!(again.outcome("name"), Outcome::Reveal);
    assert_eq!(again.velocity.unwrap().day.count, 4);
}

const DEFAULT: VelocityConfig = VelocityConfig {
    window_s: 3600,
    soft: 15,
    hard: 30,
    day: DayLimits {
        window_s: 86_400,
        soft: 120,
        hard: 240,
    },
};

fn sliding_window_with_a_controlled_clock(server: &impl Shared) {
    let gate = server.gate(VelocityConfig {
        window_s: 3600,
        soft: 2,
        hard: 3,
        ..VelocityConfig::default()
    });
    for (i, c) in ["a", "b", "c"].iter().enumerate() {
        let d = gate
            .decide(&request(c, &format!("2026-11-28T10:0{i}:00Z"), "alice"))
            .unwrap();
        assert_eq!(d.outcome("name"), Outcome::Reveal, "{c}");
    }
    // a 4th customer within the hour is refused; re-reading a counted one is not
    assert_eq!(
        gate.decide(&request("d", "2026-11-28T10:30:00Z", "alice"))
            .unwrap()
            .outcome("name"),
        Outcome::Mask
    );
    let again = gate
        .decide(&request("b", "2026-11-28T10:31:00Z", "alice"))
        .unwrap();
    assert_eq!(again.outcome("name"), Outcome::Reveal);
    assert_eq!(again.velocity.unwrap().count, 3);
    // `a` leaves the window at 11:00 (start of window exclusive), so `d` fits at 11:00:01
    let later = gate
        .decide(&request("d", "2026-11-28T11:00:01Z", "alice"))
        .unwrap();
    assert_eq!(later.outcome("name"), Outcome::Reveal);
    assert_eq!(later.velocity.unwrap().count, 3);
}

fn eight_gates_on_threads_never_pass_the_hard_limit(server: &impl Shared) {
    let revealed = Arc::new(AtomicU64::new(0));
    std::thread::scope(|s| {
        for t in 0..8 {
            let gate = server.gate(DEFAULT); // one gate per "host": no shared process state
            let revealed = revealed.clone();
            s.spawn(move || {
                for i in 0..20 {
                    let d = gate
                        .decide(&request(
                            &format!("c{t}-{i}"),
                            "2026-11-28T10:00:00Z",
                            "alice",
                        ))
                        .unwrap();
                    assert!(d.fields["name"].errors.is_empty(), "{:?}", d.fields["name"]);
                    if d.outcome("name") == Outcome::Reveal {
                        revealed.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    assert_eq!(revealed.load(Ordering::SeqCst), 30);
}

#[test]
fn redis_down_fails_closed_for_reveals_and_recovers_after_restart() {
    let mut server = Server::start();
    let gate = server.gate(DEFAULT);
    assert_eq!(
        gate.decide(&request("a", "2026-11-28T10:00:00Z", "alice"))
            .unwrap()
            .outcome("name"),
        Outcome::Reveal
    );
    server.stop();
    let d = gate
        .decide(&request("b", "2026-11-28T10:01:00Z", "alice"))
        .unwrap();
    assert_eq!(
        d.outcome("name"),
        Outcome::Mask,
        "reveal refused, queue mask still served"
    );
    assert!(
        d.fields["name"].errors.iter().any(|e| e.contains("redis")),
        "{:?}",
        d.fields["name"]
    );
    assert!(d.has_alert("store_unavailable"));
    assert!(d.velocity.is_none());
    server.spawn(); // same port, empty data: the script is loaded again by itself
    std::thread::sleep(Duration::from_millis(1100)); // the store's fail-fast back-off
    let d = gate
        .decide(&request("c", "2026-11-28T10:02:00Z", "alice"))
        .unwrap();
    assert_eq!(d.outcome("name"), Outcome::Reveal, "{:?}", d.fields["name"]);
}

#[test]
fn unreachable_redis_fails_closed() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .store(redis_store(&format!("redis://127.0.0.1:{port}/")).unwrap())
        .build()
        .unwrap();
    let d = gate
        .decide(&request("a", "2026-11-28T10:00:00Z", "alice"))
        .unwrap();
    assert!(d.fields.values().all(|f| f.outcome != Outcome::Reveal));
    assert_eq!(d.outcome("email"), Outcome::Mask);
    assert!(gate.suspend("alice", "x").is_err());
    assert!(matches!(redis_store("not a url"), Err(StoreError { .. })));
}

fn a_suspension_on_one_gate_applies_on_another(server: &impl Shared) {
    let (a, b) = (server.gate(DEFAULT), server.gate(DEFAULT));
    assert_eq!(
        b.decide(&request("a", "2026-11-28T10:00:00Z", "alice"))
            .unwrap()
            .outcome("name"),
        Outcome::Reveal
    );
    a.suspend("alice", "sold customer data").unwrap();
    let d = b
        .decide(&request("a", "2026-11-28T10:01:00Z", "alice"))
        .unwrap();
    assert!(
        d.fields.values().all(|f| f.outcome == Outcome::Withhold),
        "{d:?}"
    );
    assert!(d.has_alert("suspended"));
    assert_eq!(b.suspended().unwrap()[0].reason, "sold customer data");
    assert!(b.reinstate("alice").unwrap());
    assert_eq!(
        a.decide(&request("a", "2026-11-28T10:02:00Z", "alice"))
            .unwrap()
            .outcome("name"),
        Outcome::Reveal
    );
}

fn recorded_reveals_warm_the_shared_count(server: &impl Shared) {
    let gate = server.gate(DEFAULT);
    for i in 0..30 {
        gate.record_reveal(
            "alice",
            &format!("old-{i}"),
            Timestamp::parse("2026-11-28T09:30:00Z").unwrap(),
        )
        .unwrap();
    }
    let other = server.gate(DEFAULT);
    let d = other
        .decide(&request("new", "2026-11-28T10:00:00Z", "alice"))
        .unwrap();
    assert_eq!(d.outcome("name"), Outcome::Mask);
    assert!(d.has_alert("velocity_hard"));
}

fn a_revocation_on_one_gate_applies_on_another(server: &impl Shared) {
    let key = || GrantKey::new([3u8; 32]).unwrap();
    let a = Gate::builder()
        .clock(Clock::Replay)
        .store(server.store())
        .grant_key(key())
        .build()
        .unwrap();
    let b = Gate::builder()
        .clock(Clock::Replay)
        .store(server.store())
        .grant_key(key())
        .build()
        .unwrap();
    let mut req = request("a", "2026-11-28T10:00:00Z", "bob");
    req.ticket = None;
    req.grant = Some(
        a.sign_grant(
            serde_json::from_value(json!({"id": "g-9", "kind": "approved", "grantee": "alice",
            "customer": "a", "fields": ["name"], "purpose": "support", "reason": "call back",
            "approver": "sam", "approver_roles": ["supervisor"],
            "issued_at": "2026-11-28T09:00:00Z", "expires_at": "2026-11-28T12:00:00Z"}))
            .unwrap(),
        ),
    );
    assert_eq!(b.decide(&req).unwrap().outcome("name"), Outcome::Reveal);
    a.revoke_grant("g-9").unwrap();
    let d = b.decide(&req).unwrap();
    assert_eq!(d.outcome("name"), Outcome::Withhold);
    assert!(d.has_alert("grant_revoked"));
}
