//! The Redis velocity store, for fleets of support-tool hosts sharing one count and one
//! kill switch per employee. One script round trip per decision in the common case:
//! the gate decides on a cached guess of the employee's window, then a server-side
//! script prunes, counts, checks the guess and records atomically (compare-and-set).
//! A wrong guess costs a second trip, never a wrong count.

use super::{Observation, Suspension, VelocityStore, Windows};
use crate::error::StoreError;
use crate::time::Timestamp;
use parking_lot::Mutex;
use redis::{Client, Commands, Connection, Script};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ADMIT: &str = r#"
-- KEYS[1] velocity zset, KEYS[2] suspensions hash
-- ARGV: customer, at_ms, long_ms, employee, commit(0/1), expect_count, expect_counted(0/1),
--       expect_susp, short_ms, expect_day_count, expect_day_counted(0/1)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
local short_cut = tonumber(ARGV[2]) - tonumber(ARGV[9])
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
local counted, day_counted = 0, 0
if cur then
  day_counted = 1
  if tonumber(cur) > short_cut then counted = 1 end
end
local day_count = redis.call('ZCARD', KEYS[1]) - day_counted
local count = redis.call('ZCOUNT', KEYS[1], '(' .. short_cut, '+inf') - counted
local susp = redis.call('HGET', KEYS[2], ARGV[4]) or ''
local applied = 0
if ARGV[5] == '1' and count == tonumber(ARGV[6]) and counted == tonumber(ARGV[7]) and susp == ARGV[8]
   and day_count == tonumber(ARGV[10]) and day_counted == tonumber(ARGV[11]) then
  if (not cur) or tonumber(cur) < tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  end
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + 60000)
  applied = 1
end
return {count, counted, susp, applied, day_count, day_counted}
"#;

const RECORD: &str = r#"
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not cur) or tonumber(cur) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[3]) + 60000 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + 60000) end
return 1
"#;

/// Connection and timing settings of the Redis store.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// `redis://host:port/db`.
    pub url: String,
    /// Prefix of every key (default `tg:`).
    pub prefix: String,
    /// Connect timeout (default 250 ms).
    pub connect_timeout: Duration,
    /// Read/write timeout per command (default 250 ms).
    pub io_timeout: Duration,
    /// Idle connections kept (default 16).
    pub pool: usize,
    /// After a failure, fail fast for this long before trying again (default 1 s).
    pub backoff: Duration,
}

impl RedisOptions {
    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: "tg:".into(),
            connect_timeout: Duration::from_millis(250),
            io_timeout: Duration::from_millis(250),
            pool: 16,
            backoff: Duration::from_secs(1),
        }
    }
}

/// Velocity counts and suspensions in Redis.
pub struct RedisStore {
    opts: RedisOptions,
    client: Client,
    idle: Mutex<Vec<Connection>>,
    down_until: Mutex<Option<Instant>>,
    admit: Script,
    record: Script,
    /// Per employee: the last window size seen, the customer it was for and whether that
    /// customer is in the window, and the raw suspension value: the next decision's guess.
    guesses: Mutex<HashMap<String, Guess>>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.opts.url)
            .finish_non_exhaustive()
    }
}

fn store_err(e: impl fmt::Display) -> StoreError {
    StoreError {
        message: format!("redis: {e}"),
    }
}

/// A Redis store with default options, ready to pass to `GateBuilder::store`.
pub fn redis_store(url: &str) -> Result<Arc<dyn VelocityStore>, StoreError> {
    Ok(Arc::new(RedisStore::new(RedisOptions::new(url))?))
}

impl RedisStore {
    /// Checks the URL; connections are made lazily, so a server that is down at start
    /// only fails the decisions that need it.
    pub fn new(opts: RedisOptions) -> Result<Self, StoreError> {
        let client = Client::open(opts.url.as_str()).map_err(store_err)?;
        Ok(Self {
            opts,
            client,
            idle: Mutex::new(Vec::new()),
            down_until: Mutex::new(None),
            admit: Script::new(ADMIT),
            record: Script::new(RECORD),
            guesses: Mutex::new(HashMap::new()),
        })
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T, StoreError> {
        if let Some(until) = *self.down_until.lock() {
            if Instant::now() < until {
                return Err(store_err("unavailable (recent failure; retrying shortly)"));
            }
        }
        let pooled = self.idle.lock().pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => self.connect().inspect_err(|_| self.mark_down())?,
        };
        match f(&mut conn) {
            Ok(v) => {
                let mut idle = self.idle.lock();
                if idle.len() < self.opts.pool {
                    idle.push(conn);
                }
                Ok(v)
            }
            Err(e) => {
                // the connection may be half-read; never reuse it
                if e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                {
                    self.idle.lock().clear();
                    self.mark_down();
                }
                Err(store_err(e))
            }
        }
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let c = self
            .client
            .get_connection_with_timeout(self.opts.connect_timeout)
            .map_err(store_err)?;
        c.set_read_timeout(Some(self.opts.io_timeout))
            .map_err(store_err)?;
        c.set_write_timeout(Some(self.opts.io_timeout))
            .map_err(store_err)?;
        Ok(c)
    }

    fn mark_down(&self) {
        *self.down_until.lock() = Some(Instant::now() + self.opts.backoff);
    }

    fn vel_key(&self, employee: &str) -> String {
        format!("{}vel:{{{employee}}}", self.opts.prefix)
    }

    fn susp_key(&self) -> String {
        format!("{}suspended", self.opts.prefix)
    }

    #[allow(clippy::too_many_arguments)]
    fn script(
        &self,
        employee: &str,
        customer: &str,
        at: Timestamp,
        windows: Windows,
        commit: bool,
        expect: &Observation,
        expect_susp: &str,
    ) -> Result<(Observation, String, bool), StoreError> {
        type Reply = (i64, i64, String, i64, i64, i64);
        let (count, counted, susp, applied, day_count, day_counted): Reply =
            self.with_conn(|c| {
                self.admit
                    .key(self.vel_key(employee))
                    .key(self.susp_key())
                    .arg(customer)
                    .arg(at.millis())
                    .arg(windows.long_ms)
                    .arg(employee)
                    .arg(u8::from(commit))
                    .arg(expect.count)
                    .arg(u8::from(expect.counted))
                    .arg(expect_susp)
                    .arg(windows.short_ms)
                    .arg(expect.day_count)
                    .arg(u8::from(expect.day_counted))
                    .invoke(c)
            })?;
        let obs = Observation {
            count: u64::try_from(count).unwrap_or(0),
            counted: counted == 1,
            day_count: u64::try_from(day_count).unwrap_or(0),
            day_counted: day_counted == 1,
            suspended: reason_of(&susp),
        };
        Ok((obs, susp, applied == 1))
    }
}

fn reason_of(raw: &str) -> Option<String> {
    if raw.is_empty() {
        return None;
    }
    Some(
        serde_json::from_str::<Suspension>(raw)
            .map(|s| s.reason)
            .unwrap_or_else(|_| raw.to_owned()),
    )
}

#[derive(Debug, Clone, Default)]
struct Guess {
    size: u64,
    day_size: u64,
    customer: String,
    counted: bool,
    day_counted: bool,
    susp: String,
}

/// Contention on one employee needs that employee in several concurrent decisions on
/// several hosts: rare, so retries back off with jitter rather than taking a lock.
const MAX_TRIES: u32 = 40;

impl VelocityStore for RedisStore {
    fn admit(
        &self,
        employee: &str,
        customer: &str,
        at: Timestamp,
        windows: Windows,
        decide: &mut dyn FnMut(&Observation) -> bool,
    ) -> Result<Observation, StoreError> {
        let last = self
            .guesses
            .lock()
            .get(employee)
            .cloned()
            .unwrap_or_default();
        let same = last.customer == customer;
        let (counted, day_counted) = (same && last.counted, same && last.day_counted);
        let mut guess = Observation {
            count: last.size - u64::from(counted),
            counted,
            day_count: last.day_size - u64::from(day_counted),
            day_counted,
            suspended: reason_of(&last.susp),
        };
        let mut guess_susp = last.susp;
        for attempt in 0..MAX_TRIES {
            if attempt > 1 {
                use rand::Rng;
                let cap = 200 * u64::from(attempt.min(20));
                std::thread::sleep(Duration::from_micros(rand::rng().random_range(0..cap)));
            }
            let reveal = decide(&guess);
            let (actual, susp, applied) =
                self.script(employee, customer, at, windows, reveal, &guess, &guess_susp)?;
            let matched = actual.count == guess.count
                && actual.counted == guess.counted
                && actual.day_count == guess.day_count
                && actual.day_counted == guess.day_counted
                && susp == guess_susp;
            let counted = actual.counted || applied;
            let day_counted = actual.day_counted || applied;
            self.guesses.lock().insert(
                employee.to_owned(),
                Guess {
                    size: actual.count + u64::from(counted),
                    day_size: actual.day_count + u64::from(day_counted),
                    customer: customer.to_owned(),
                    counted,
                    day_counted,
                    susp: susp.clone(),
                },
            );
            if matched && (applied || !reveal) {
                return Ok(guess);
            }
            guess = actual;
            guess_susp = susp;
        }
        Err(store_err("too much contention on one employee's window"))
    }

    fn record(
        &self,
        employee: &str,
        customer: &str,
        at: Timestamp,
        window_ms: i64,
    ) -> Result<(), StoreError> {
        let _: i64 = self.with_conn(|c| {
            self.record
                .key(self.vel_key(employee))
                .arg(customer)
                .arg(at.millis())
                .arg(window_ms)
                .invoke(c)
        })?;
        Ok(())
    }

    fn suspend(&self, employee: &str, reason: &str, at: Timestamp) -> Result<(), StoreError> {
        let s = Suspension {
            employee: employee.to_owned(),
            reason: reason.to_owned(),
            at,
        };
        let json = serde_json::to_string(&s).map_err(store_err)?;
        self.with_conn(|c| c.hset::<_, _, _, ()>(self.susp_key(), employee, json))
    }

    fn revoke(&self, grant: &str, until: Timestamp) -> Result<(), StoreError> {
        let ttl = (until.millis() - Timestamp::now().millis()).max(1000);
        let ttl = u64::try_from(ttl).unwrap_or(1000);
        let key = format!("{}revoked:{grant}", self.opts.prefix);
        self.with_conn(|c| c.pset_ex::<_, _, ()>(&key, 1, ttl))
    }

    fn is_revoked(&self, grant: &str, _now: Timestamp) -> Result<bool, StoreError> {
        let key = format!("{}revoked:{grant}", self.opts.prefix);
        self.with_conn(|c| c.exists(&key))
    }

    fn reinstate(&self, employee: &str) -> Result<bool, StoreError> {
        let n: i64 = self.with_conn(|c| c.hdel(self.susp_key(), employee))?;
        Ok(n > 0)
    }

    fn suspended(&self) -> Result<Vec<Suspension>, StoreError> {
        let all: HashMap<String, String> = self.with_conn(|c| c.hgetall(self.susp_key()))?;
        let mut v: Vec<Suspension> = all
            .into_iter()
            .map(|(employee, raw)| {
                serde_json::from_str(&raw).unwrap_or(Suspension {
                    employee,
                    reason: raw,
                    at: Timestamp::from_millis(0).unwrap_or_else(Timestamp::now),
                })
            })
            .collect();
        v.sort_by(|a, b| a.employee.cmp(&b.employee));
        Ok(v)
    }
}
