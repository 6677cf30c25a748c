//! The index's one table, as GitLab's gateway creates and queries it. An index either side
//! builds is read by the other: these statements are the contract.

use rusqlite::Connection;

use crate::error::OpenError;

/// `PRAGMA user_version` of an index in this layout.
pub const USER_VERSION: i64 = 1;

/// The table: one row per Markdown file; `processed` is searched, `content` is the raw Markdown,
/// `metadata` is JSON `{"filename": "/user/…md"}`.
pub const CREATE_TABLE: &str = "CREATE VIRTUAL TABLE doc_index USING fts5(processed, content, metadata, tokenize='porter trigram')";

/// One row.
pub const INSERT_ROW: &str =
    "INSERT INTO doc_index (processed, content, metadata) VALUES (?1, ?2, ?3)";

/// The search: best-ranked first (FTS5's bm25, lower is better), at most `?2` rows.
pub const SEARCH: &str = "SELECT metadata, content FROM doc_index WHERE processed MATCH ?1 ORDER BY bm25(doc_index) LIMIT ?2";

/// The number of documents.
pub const COUNT: &str = "SELECT count(*) FROM doc_index";

/// The columns `doc_index` must have, in order.
const COLUMNS: [&str; 3] = ["processed", "content", "metadata"];

/// Checks that `conn` holds an index in this layout and returns its document count.
///
/// # Errors
/// [`OpenError::Version`] for another `user_version`, [`OpenError::Schema`] when `doc_index` is
/// missing or has other columns, [`OpenError::Sqlite`] when the file is not a database.
pub(crate) fn check(conn: &Connection) -> Result<u64, OpenError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version != USER_VERSION {
        return Err(OpenError::Version {
            found: version,
            expected: USER_VERSION,
        });
    }
    let mut statement = conn.prepare("SELECT name FROM pragma_table_info('doc_index')")?;
    let columns = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    if columns != COLUMNS {
        return Err(OpenError::Schema(if columns.is_empty() {
            "no table doc_index".to_owned()
        } else {
            format!(
                "doc_index has the columns ({}), not (processed, content, metadata)",
                columns.join(", ")
            )
        }));
    }
    let sql: String = conn.query_row(
        "SELECT sql FROM sqlite_master WHERE name = 'doc_index'",
        [],
        |row| row.get(0),
    )?;
    if !sql.to_ascii_lowercase().contains("using fts5") {
        return Err(OpenError::Schema(
            "doc_index is not an FTS5 table".to_owned(),
        ));
    }
    let count: i64 = conn.query_row(COUNT, [], |row| row.get(0))?;
    Ok(u64::try_from(count).unwrap_or(0))
}
