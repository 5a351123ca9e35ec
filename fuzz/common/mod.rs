//! What the import and form targets share: the board's categories and an
//! in-memory database to store a validated job in and read it back.

use std::sync::{Mutex, OnceLock};

use jobboard::config::{Category, Config};
use jobboard::jobs::input::NewJob;
use jobboard::jobs::model::Job;
use jobboard::jobs::store::Placement;
use rusqlite::Connection;

/// Now, for placements.
pub const NOW: i64 = 1_800_000_000;

/// The default categories of a board.
pub fn categories() -> &'static [Category] {
    static CATS: OnceLock<Vec<Category>> = OnceLock::new();
    CATS.get_or_init(|| {
        Config::for_data_dir(std::path::Path::new("/nonexistent"))
            .site
            .categories
    })
}

fn db() -> &'static Mutex<Connection> {
    static DB: OnceLock<Mutex<Connection>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut conn = Connection::open_in_memory().expect("open");
        jobboard::db::migrations::migrate(&mut conn).expect("migrate");
        Mutex::new(conn)
    })
}

/// Stores `job` as `import` does and reads it back, leaving the database as
/// it was (the transaction is rolled back).
pub fn store_and_read(job: &NewJob, placement: Placement) -> Job {
    let mut conn = db().lock().unwrap_or_else(|e| e.into_inner());
    let tx = conn.transaction().expect("transaction");
    let id = jobboard::jobs::create(&tx, job, placement, NOW)
        .unwrap_or_else(|e| panic!("a valid job is not stored: {e}\n{job:?}"));
    jobboard::jobs::store::get(&tx, id).expect("read back")
}
