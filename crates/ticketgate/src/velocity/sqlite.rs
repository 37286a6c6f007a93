//! The SQLite store: velocity counts, suspensions and revocations shared by the processes
//! of one host (web workers), in one file. Each admission is one `BEGIN IMMEDIATE`
//! transaction, which SQLite serialises across processes, so the count is exact.

use super::{Observation, Suspension, VelocityStore, Windows};
use crate::error::StoreError;
use crate::time::Timestamp;
use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS reveals (employee TEXT NOT NULL, customer TEXT NOT NULL,
  at_ms INTEGER NOT NULL, PRIMARY KEY (employee, customer)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS suspensions (employee TEXT PRIMARY KEY, reason TEXT NOT NULL,
  at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS revocations (grant_id TEXT PRIMARY KEY, until_ms INTEGER NOT NULL);
";

/// Velocity counts and suspensions in a SQLite file shared by the processes of one host.
pub struct SqliteStore {
    path: PathBuf,
    /// The connection and the process that opened it: a connection must not cross `fork()`.
    conn: Mutex<(u32, Connection)>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn err(e: impl fmt::Display) -> StoreError {
    StoreError {
        message: format!("sqlite: {e}"),
    }
}

fn open(path: &Path) -> Result<Connection, StoreError> {
    // a new store is made as the audit trail's files are, as it says who revealed which
    // customer (SQLite gives its -wal and -shm files the database's mode); an existing one
    // is left as it is, and any failure here is Connection::open's to report
    if path != Path::new(":memory:") {
        let _ = crate::audit::segments::private_file()
            .create_new(true)
            .write(true)
            .open(path);
    }
    let c = Connection::open(path).map_err(err)?;
    c.busy_timeout(Duration::from_secs(5)).map_err(err)?;
    c.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
    c.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    c.execute_batch(SCHEMA).map_err(err)?;
    Ok(c)
}

impl SqliteStore {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let path = path.into();
        let conn = open(&path)?;
        Ok(Self {
            path,
            conn: Mutex::new((std::process::id(), conn)),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.conn.lock();
        if guard.0 != std::process::id() {
            *guard = (std::process::id(), open(&self.path)?);
        }
        f(&mut guard.1)
    }
}

impl VelocityStore for SqliteStore {
    fn admit(
        &self,
        employee: &str,
        customer: &str,
        at: Timestamp,
        windows: Windows,
        decide: &mut dyn FnMut(&Observation) -> bool,
    ) -> Result<Observation, StoreError> {
        self.with(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            let cutoff = at.millis().saturating_sub(windows.long_ms);
            let short_cutoff = at.millis().saturating_sub(windows.short_ms);
            tx.execute(
                "DELETE FROM reveals WHERE employee = ?1 AND at_ms <= ?2",
                params![employee, cutoff],
            )
            .map_err(err)?;
            let (total, short): (i64, i64) = tx
                .query_row(
                    "SELECT count(*), count(*) FILTER (WHERE at_ms > ?2) FROM reveals WHERE employee = ?1",
                    params![employee, short_cutoff],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(err)?;
            let last: Option<i64> = tx
                .query_row(
                    "SELECT at_ms FROM reveals WHERE employee = ?1 AND customer = ?2",
                    params![employee, customer],
                    |r| r.get(0),
                )
                .optional()
                .map_err(err)?;
            let (day_counted, counted) = (last.is_some(), last.is_some_and(|t| t > short_cutoff));
            let suspended: Option<String> = tx
                .query_row(
                    "SELECT reason FROM suspensions WHERE employee = ?1",
                    params![employee],
                    |r| r.get(0),
                )
                .optional()
                .map_err(err)?;
            let obs = Observation {
                count: u64::try_from(short).unwrap_or(0) - u64::from(counted),
                counted,
                day_count: u64::try_from(total).unwrap_or(0) - u64::from(day_counted),
                day_counted,
                suspended,
            };
            if decide(&obs) {
                tx.execute(
                    "INSERT INTO reveals (employee, customer, at_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (employee, customer) DO UPDATE SET at_ms = max(at_ms, excluded.at_ms)",
                    params![employee, customer, at.millis()],
                )
                .map_err(err)?;
            }
            tx.commit().map_err(err)?;
            Ok(obs)
        })
    }

    fn record(
        &self,
        employee: &str,
        customer: &str,
        at: Timestamp,
        _window_ms: i64,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO reveals (employee, customer, at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (employee, customer) DO UPDATE SET at_ms = max(at_ms, excluded.at_ms)",
                params![employee, customer, at.millis()],
            )
            .map(|_| ())
            .map_err(err)
        })
    }

    fn suspend(&self, employee: &str, reason: &str, at: Timestamp) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO suspensions (employee, reason, at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (employee) DO UPDATE SET reason = excluded.reason, at_ms = excluded.at_ms",
                params![employee, reason, at.millis()],
            )
            .map(|_| ())
            .map_err(err)
        })
    }

    fn reinstate(&self, employee: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM suspensions WHERE employee = ?1",
                params![employee],
            )
            .map(|n| n > 0)
            .map_err(err)
        })
    }

    fn suspended(&self) -> Result<Vec<Suspension>, StoreError> {
        self.with(|c| {
            let mut st = c
                .prepare("SELECT employee, reason, at_ms FROM suspensions ORDER BY employee")
                .map_err(err)?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(err)?;
            let mut out = Vec::new();
            for row in rows {
                let (employee, reason, at) = row.map_err(err)?;
                out.push(Suspension {
                    employee,
                    reason,
                    at: Timestamp::from_millis(at).unwrap_or_else(Timestamp::now),
                });
            }
            Ok(out)
        })
    }

    fn revoke(&self, grant: &str, until: Timestamp) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO revocations (grant_id, until_ms) VALUES (?1, ?2)
                 ON CONFLICT (grant_id) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)",
                params![grant, until.millis()],
            )
            .map(|_| ())
            .map_err(err)
        })
    }

    fn is_revoked(&self, grant: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT 1 FROM revocations WHERE grant_id = ?1 AND until_ms > ?2",
                params![grant, now.millis()],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(err)
        })
    }

    fn sweep(&self, now: Timestamp, window_ms: i64) {
        let cutoff = now.millis().saturating_sub(window_ms);
        let swept = self.with(|c| {
            c.execute("DELETE FROM reveals WHERE at_ms <= ?1", params![cutoff])
                .and_then(|_| {
                    c.execute(
                        "DELETE FROM revocations WHERE until_ms <= ?1",
                        params![now.millis()],
                    )
                })
                .map(|_| ())
                .map_err(err)
        });
        if let Err(e) = swept {
            log::warn!("ticketgate: sweeping the sqlite store failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + min * 60_000).unwrap()
    }

    const HOUR: i64 = 3_600_000;

    /// The store says who revealed which customer: not for every local user to read.
    #[cfg(unix)]
    #[test]
    fn a_new_store_is_not_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("velocity.db");
        let store = SqliteStore::open(&path).unwrap();
        store.record("e", "c", t(0), HOUR).unwrap();
        for f in [path.clone(), dir.path().join("velocity.db-wal")] {
            let mode = std::fs::metadata(&f).unwrap().permissions().mode();
            assert_eq!(mode & 0o007, 0, "{}: {mode:o}", f.display());
        }
    }

    #[test]
    fn suspensions_and_revocations_are_shared() {
        let dir = tempfile::tempdir().unwrap();
        let a = SqliteStore::open(dir.path().join("v.db")).unwrap();
        let b = SqliteStore::open(dir.path().join("v.db")).unwrap();
        a.suspend("e", "sold data", t(0)).unwrap();
        let o = b
            .admit("e", "x", t(1), HOUR.into(), &mut |_| false)
            .unwrap();
        assert_eq!(o.suspended.as_deref(), Some("sold data"));
        assert!(b.reinstate("e").unwrap());
        a.revoke("g", t(10)).unwrap();
        assert!(b.is_revoked("g", t(5)).unwrap());
        assert!(!b.is_revoked("g", t(11)).unwrap());
    }
}
