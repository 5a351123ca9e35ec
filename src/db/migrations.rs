//! Embedded schema migrations, tracked with `PRAGMA user_version`.
//!
//! Each migration runs in its own transaction together with the version bump. A
//! database whose version is newer than this binary knows is refused.

use rusqlite::Connection;

/// The migrations in order; the database version is the number applied.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("migrations/0001_init.sql")),
    (
        "0002_search_queue",
        include_str!("migrations/0002_search_queue.sql"),
    ),
    (
        "0003_accounts",
        include_str!("migrations/0003_accounts.sql"),
    ),
    ("0004_tasks", include_str!("migrations/0004_tasks.sql")),
    ("0005_alerts", include_str!("migrations/0005_alerts.sql")),
    (
        "0006_payments",
        include_str!("migrations/0006_payments.sql"),
    ),
];

/// The schema version this binary writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the database is at schema version {found}, newer than this jobboard knows ({known}): \
         run a newer jobboard, or restore a backup made by this version"
    )]
    TooNew { found: i64, known: i64 },
    #[error("migration {name} failed: {source}")]
    Failed {
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// The database's current schema version.
pub fn current(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies pending migrations; returns how many ran.
pub fn migrate(conn: &mut Connection) -> Result<usize, MigrateError> {
    let found = current(conn)?;
    let known = latest();
    if found > known {
        return Err(MigrateError::TooNew { found, known });
    }
    let mut ran = 0;
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = i as i64 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .and_then(|_| tx.pragma_update(None, "user_version", version))
            .map_err(|source| MigrateError::Failed { name, source })?;
        tx.commit()?;
        ran += 1;
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every CREATE statement of a database, comments and spacing folded.
    fn schema_of(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name")
            .expect("prepare");
        stmt.query_map([], |r| r.get::<_, String>(0))
            .expect("query")
            .map(|s| normalise(&s.expect("row")))
            .collect()
    }

    fn normalise(sql: &str) -> String {
        sql.lines()
            .map(|l| l.split("--").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn schema_sql_matches_the_migrations() {
        let mut migrated = Connection::open_in_memory().expect("open");
        migrate(&mut migrated).expect("migrate");
        let documented = Connection::open_in_memory().expect("open");
        documented
            .execute_batch(include_str!("../../schema.sql"))
            .expect("schema.sql runs");
        assert_eq!(
            schema_of(&migrated),
            schema_of(&documented),
            "schema.sql is out of step with src/db/migrations"
        );
    }

    #[test]
    fn refuses_a_newer_database() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.pragma_update(None, "user_version", latest() + 1)
            .expect("bump");
        let err = migrate(&mut conn).expect_err("too new");
        assert!(err.to_string().contains("newer than this jobboard knows"));
    }

    #[test]
    fn migrating_twice_does_nothing_the_second_time() {
        let mut conn = Connection::open_in_memory().expect("open");
        assert_eq!(migrate(&mut conn).expect("first"), MIGRATIONS.len());
        assert_eq!(migrate(&mut conn).expect("second"), 0);
    }
}
