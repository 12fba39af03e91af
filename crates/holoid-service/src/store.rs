//! The service's storage: SQLite (embedded, the default) or PostgreSQL (shared by many
//! service processes), through one set of SQL statements on sqlx's `Any` driver.
//!
//! - Schema migrations are numbered and recorded in `schema_migrations`; they run on start
//!   (on PostgreSQL under an advisory lock, so servers starting together do not race).
//! - SQLite runs in WAL mode with `synchronous=FULL`: a commit is on disk when it returns, so a
//!   copy is acknowledged only once it is durable. One process writes a SQLite file at a time
//!   (an in-process lock orders its writers); several servers share PostgreSQL instead.
//! - Every audited write happens in the same transaction as its audit entry. The audit log's
//!   head row is locked (`FOR UPDATE` on PostgreSQL) while an entry is appended, so entries
//!   from many servers form one log; before appending, the stored head is checked (its
//!   signature, its tree edge, the newest entry, the newest head this process has seen) and
//!   the append refused when it fails ([`StoreError::AuditRefused`]).

use std::fmt;
use std::sync::Arc;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};

use super::audit::{self, AuditEntry, AuditEvent, Frontier, TreeHead};
use holoid_core::encoding::{from_hex, to_hex};
use holoid_core::keys::{IssuerPublic, IssuerSecret};
use holoid_core::status::StatusRef;

/// Why the store failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL is neither `sqlite:PATH` nor `postgres://…`.
    BadUrl(String),
    /// The database could not be opened or reached.
    Open(String),
    /// A statement failed.
    Query(String),
    /// A stored value is not what the schema promises (a hand-edited row).
    Corrupt(String),
    /// The change does not apply to what is stored (a suspended card suspended again, an
    /// older enrolment registered after a newer one); the sentence says why.
    Conflict(String),
    /// The audit log failed the check made before every append, so nothing audited can be
    /// written until an administrator restores it; the sentence says what failed.
    AuditRefused(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::BadUrl(u) => write!(
                f,
                "`{u}` is not a database URL: give sqlite:PATH (created if missing) or postgres://USER@HOST/DB"
            ),
            StoreError::Open(e) => write!(f, "cannot open the database: {e}"),
            StoreError::Query(e) => write!(f, "database error: {e}"),
            StoreError::Corrupt(e) => write!(f, "the database holds a damaged row: {e}"),
            StoreError::Conflict(e) => f.write_str(e),
            StoreError::AuditRefused(e) => write!(f, "audited writes refused: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Query(e.to_string())
    }
}

/// Which database is behind the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A bearer token's holder, as stored (the token itself is stored only as its SHA-256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    /// Public id of the token (for the audit log).
    pub id: String,
    /// `officer`, `auditor` or `admin`.
    pub role: String,
    /// The office it belongs to.
    pub office: String,
    /// The person's name (printed on copies they make; never logged).
    pub name: String,
    /// When it was made, Unix milliseconds.
    pub created_ms: i64,
    /// When it stops working (`None`: a token made before tokens expired).
    pub expires_ms: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_ms: Option<i64>,
    /// What it lets its holder see (`identity`, `age` or `kiosk`; `None`: `identity`).
    pub view_kind: Option<String>,
    /// The age threshold of an `age` view.
    pub age_over: Option<i64>,
}

impl TokenRow {
    /// Why the token does not work at `now_ms`, if it does not.
    pub fn unusable_at(&self, now_ms: i64) -> Option<TokenEnd> {
        if let Some(at) = self.revoked_ms {
            return Some(TokenEnd::Revoked(at));
        }
        self.expires_ms.filter(|&at| now_ms >= at).map(TokenEnd::Expired)
    }
}

/// How a token ended, and when (Unix milliseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenEnd {
    /// Past its expiry.
    Expired(i64),
    /// Revoked by `holoid token revoke`.
    Revoked(i64),
}

/// A registered credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRow {
    /// Credential id.
    pub id: String,
    /// The credential file's JSON.
    pub json: String,
    /// The portrait file's bytes.
    pub portrait: Vec<u8>,
}

/// A stored check.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRow {
    /// Check id.
    pub id: String,
    /// When it was made, Unix ms.
    pub created_ms: i64,
    /// The office that made it.
    pub office: String,
    /// The token id that made it.
    pub actor: String,
    /// The credential checked against.
    pub credential_id: String,
    /// `genuine`, `forgery` or `inconclusive`.
    pub decision: String,
    /// The verdict as JSON.
    pub verdict_json: String,
    /// The rectified card (PNG), kept for genuine checks so a copy can be made.
    pub card_png: Option<Vec<u8>>,
    /// The officer's answer, once given ([`Store::answer_holder`]; not written by
    /// [`Store::insert_check`]).
    pub holder_answer: Option<HolderAnswer>,
}

/// The officer's answer: does the person in front of them match the registered portrait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolderAnswer {
    /// They match.
    pub matches: bool,
    /// When it was answered, Unix ms.
    pub at_ms: i64,
    /// The token id that answered.
    pub by: String,
}

/// A stored digital copy (without its image).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyRow {
    /// Copy id.
    pub id: String,
    /// The genuine check it was made from.
    pub check_id: String,
    /// The office that made it.
    pub office: String,
    /// When it was made, Unix ms.
    pub created_ms: i64,
    /// When retention ends, Unix ms.
    pub expires_ms: i64,
    /// The signed record (canonical JSON).
    pub record_json: String,
    /// Ed25519 signature of `record_json`, hex.
    pub signature: String,
}

/// The columns of `enrolments`, in [`EnrolmentRow`]'s order.
const ENROLMENT_COLUMNS: &str =
    "credential_id, epoch, status_list, status_index, credential_json, status, reason, changed_ms";

/// One device enrolment of a credential, with its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolmentRow {
    /// The credential.
    pub credential_id: String,
    /// Its device epoch (1, 2, …).
    pub epoch: i64,
    /// Its status list and index.
    pub status_list: i64,
    /// Its index in the list.
    pub status_index: i64,
    /// The enrolment's signed credential document.
    pub credential_json: String,
    /// `valid`, `suspended`, `revoked` or `replaced`.
    pub status: String,
    /// Why, as the officer said it (or "moved to a new phone").
    pub reason: String,
    /// When the status last changed, Unix ms.
    pub changed_ms: i64,
}

/// One change of an enrolment's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusEventRow {
    /// The epoch it changed.
    pub epoch: i64,
    /// The new status.
    pub status: String,
    /// Why.
    pub reason: String,
    /// When, Unix ms.
    pub at_ms: i64,
    /// The token id that changed it.
    pub actor: String,
    /// Its office.
    pub office: String,
}

/// A one-time enrolment offer (its secret is derived from the master key, never stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferRow {
    /// The offer's id, hex.
    pub id: String,
    /// The credential it enrols.
    pub credential_id: String,
    /// When it was made, Unix ms.
    pub created_ms: i64,
    /// When it stops being usable, Unix ms.
    pub expires_ms: i64,
    /// The token id that made it.
    pub actor: String,
    /// Its office.
    pub office: String,
    /// When a phone used it, Unix ms.
    pub used_ms: Option<i64>,
    /// The device epoch it enrolled.
    pub epoch: Option<i64>,
}

/// A status change asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusChange {
    /// Reported lost: valid → suspended.
    Suspend,
    /// Found: suspended → valid.
    Resume,
    /// For good: valid or suspended → revoked.
    Revoke,
}

impl StatusChange {
    /// The status it leads to.
    pub fn target(self) -> &'static str {
        match self {
            StatusChange::Suspend => "suspended",
            StatusChange::Resume => "valid",
            StatusChange::Revoke => "revoked",
        }
    }

    /// The statuses it may start from.
    fn from(self) -> &'static [&'static str] {
        match self {
            StatusChange::Suspend => &["valid"],
            StatusChange::Resume => &["suspended"],
            StatusChange::Revoke => &["valid", "suspended"],
        }
    }

    /// The audit action.
    pub fn action(self) -> &'static str {
        match self {
            StatusChange::Suspend => "credential_suspend",
            StatusChange::Resume => "credential_resume",
            StatusChange::Revoke => "credential_revoke",
        }
    }
}

/// The numbered schema steps. `{blob}` is the binary column type of the backend, `{serial}`
/// an auto-numbered primary key.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE tokens (hash TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
        office TEXT NOT NULL, name TEXT NOT NULL, created_ms BIGINT NOT NULL);
     CREATE TABLE credentials (id TEXT PRIMARY KEY, locator TEXT NOT NULL,
        credential_json TEXT NOT NULL, portrait {blob} NOT NULL, registered_ms BIGINT NOT NULL);
     CREATE INDEX credentials_locator ON credentials (locator);
     CREATE TABLE checks (id TEXT PRIMARY KEY, created_ms BIGINT NOT NULL, office TEXT NOT NULL,
        actor TEXT NOT NULL, credential_id TEXT NOT NULL, decision TEXT NOT NULL,
        verdict_json TEXT NOT NULL, card_png {blob});
     CREATE TABLE copies (id TEXT PRIMARY KEY, check_id TEXT NOT NULL, office TEXT NOT NULL,
        created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL, image_png {blob} NOT NULL,
        record_json TEXT NOT NULL, signature TEXT NOT NULL);
     CREATE INDEX copies_office_created ON copies (office, created_ms);
     CREATE INDEX copies_expires ON copies (expires_ms);
     CREATE TABLE audit_log (seq BIGINT PRIMARY KEY, at_ms BIGINT NOT NULL, actor TEXT NOT NULL,
        office TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
     CREATE TABLE audit_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL,
        signature TEXT NOT NULL);
     INSERT INTO audit_head (id, seq, hash, signature) VALUES
        (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', '')",
    ),
    (
        2,
        "CREATE TABLE enrolments (credential_id TEXT NOT NULL, epoch BIGINT NOT NULL,
        status_list BIGINT NOT NULL, status_index BIGINT NOT NULL, credential_json TEXT NOT NULL,
        status TEXT NOT NULL, reason TEXT NOT NULL, changed_ms BIGINT NOT NULL,
        PRIMARY KEY (credential_id, epoch));
     CREATE UNIQUE INDEX enrolments_status_entry ON enrolments (status_list, status_index);
     CREATE TABLE status_events (seq {serial}, credential_id TEXT NOT NULL,
        epoch BIGINT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL, at_ms BIGINT NOT NULL,
        actor TEXT NOT NULL, office TEXT NOT NULL);
     CREATE INDEX status_events_credential ON status_events (credential_id)",
    ),
    (
        3,
        "CREATE TABLE offers (id TEXT PRIMARY KEY, credential_id TEXT NOT NULL,
        created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL, actor TEXT NOT NULL,
        office TEXT NOT NULL, used_ms BIGINT, epoch BIGINT);
     CREATE INDEX offers_credential ON offers (credential_id)",
    ),
    (
        4,
        "ALTER TABLE audit_head ADD COLUMN log_id TEXT;
     ALTER TABLE audit_head ADD COLUMN root TEXT;
     ALTER TABLE audit_head ADD COLUMN time_ms BIGINT;
     ALTER TABLE audit_head ADD COLUMN key_id TEXT;
     ALTER TABLE audit_head ADD COLUMN frontier TEXT",
    ),
    (
        5,
        "ALTER TABLE tokens ADD COLUMN expires_ms BIGINT;
     ALTER TABLE tokens ADD COLUMN revoked_ms BIGINT",
    ),
    (
        6,
        "CREATE TABLE frames_seen (hash TEXT PRIMARY KEY, check_id TEXT NOT NULL,
        created_ms BIGINT NOT NULL);
     CREATE INDEX frames_seen_created ON frames_seen (created_ms)",
    ),
    (
        7,
        // Copies made before this step keep a NULL purpose key (NULLs never collide).
        "ALTER TABLE copies ADD COLUMN purpose_key TEXT;
     CREATE UNIQUE INDEX copies_check_purpose ON copies (check_id, purpose_key)",
    ),
    (
        8,
        // Tokens made before this step see the whole record (`identity`, as NULL). A check's
        // holder answer is the officer's: does the person in front of them match the
        // registered portrait.
        "ALTER TABLE tokens ADD COLUMN view_kind TEXT;
     ALTER TABLE tokens ADD COLUMN age_over BIGINT;
     ALTER TABLE checks ADD COLUMN holder_matches BIGINT;
     ALTER TABLE checks ADD COLUMN holder_answered_ms BIGINT;
     ALTER TABLE checks ADD COLUMN holder_answered_by TEXT",
    ),
];

/// The audit head row as stored.
enum HeadRow {
    /// No entry was ever written and no head signed.
    Initial,
    /// A version-1 head (before migration 4): the newest entry's (seq, hash), signed.
    Legacy {
        seq: i64,
        hash: [u8; 32],
        signature: String,
    },
    /// A signed tree head and the tree's right edge.
    Tree { head: TreeHead, frontier: String },
}

/// What this process knows of the audit log beyond the database: the newest signed head it
/// has seen (the database must never fall below it) and why appends are refused, if they are.
#[derive(Default)]
struct AuditGuard {
    floor: std::sync::Mutex<Option<TreeHead>>,
    refusal: std::sync::Mutex<Option<String>>,
    refusals: std::sync::atomic::AtomicU64,
}

/// The store: a connection pool and what it needs to write the audit chain.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Orders this process's writers (SQLite allows one writer at a time).
    write_lock: Arc<tokio::sync::Mutex<()>>,
    audit_guard: Arc<AuditGuard>,
}

fn hex32(s: &str, what: &str) -> Result<[u8; 32], StoreError> {
    from_hex::<32>(s).map_err(|_| StoreError::Corrupt(format!("{what} `{s}` is not 32 hex bytes")))
}

impl Store {
    /// Opens (SQLite: creating the file if missing) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(StoreError::BadUrl(url.to_string()));
            }
            let sep = if path.contains('?') { '&' } else { '?' };
            (Backend::Sqlite, format!("sqlite:{path}{sep}mode=rwc"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::BadUrl(url.to_string()));
        };
        let options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(std::time::Duration::from_secs(10));
        let options = if backend == Backend::Sqlite {
            options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode=WAL").await?;
                    conn.execute("PRAGMA synchronous=FULL").await?;
                    conn.execute("PRAGMA busy_timeout=10000").await?;
                    // Deleted rows (expired checks, card images, copies) are overwritten with
                    // zeros, not left readable in free pages of the file.
                    conn.execute("PRAGMA secure_delete=ON").await?;
                    Ok(())
                })
            })
        } else {
            options
        };
        let pool = options
            .connect(&url)
            .await
            .map_err(|e| StoreError::Open(e.to_string()))?;
        let store = Store {
            pool,
            backend,
            write_lock: Arc::default(),
            audit_guard: Arc::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs the migrations not yet applied; returns the schema version.
    async fn migrate(&self) -> Result<i64, StoreError> {
        let _w = self.write_lock.lock().await;
        self.pool
            .execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)")
            .await
            ?;
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            tx.execute("SELECT pg_advisory_xact_lock(7318031)").await?;
        }
        let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("version"))
            .collect::<Result<_, _>>()?;
        let (blob, serial) = match self.backend {
            Backend::Sqlite => ("BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT"),
            Backend::Postgres => ("BYTEA", "BIGSERIAL PRIMARY KEY"),
        };
        let mut version = applied.iter().copied().max().unwrap_or(0);
        for (v, sql) in MIGRATIONS.iter().filter(|(v, _)| !applied.contains(v)) {
            for statement in sql.replace("{blob}", blob).replace("{serial}", serial).split(';') {
                tx.execute(statement).await?;
            }
            sqlx::query("INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)")
                .bind(*v)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            version = *v;
        }
        tx.commit().await?;
        Ok(version)
    }

    /// Begins a write transaction, holding this process's writer lock for SQLite. SQLite's
    /// transaction begins IMMEDIATE: it takes the database's write lock at once, waiting
    /// (busy_timeout) for a connection whose transaction is still being rolled back, where a
    /// deferred one that reads first and writes later is refused at once with "database is
    /// locked" (seen once in CI: two copies requested at the same moment, one answered 500).
    async fn begin_write(
        &self,
    ) -> Result<(Option<tokio::sync::MutexGuard<'_, ()>>, Transaction<'static, Any>), StoreError> {
        let (guard, tx) = match self.backend {
            Backend::Sqlite => (
                Some(self.write_lock.lock().await),
                self.pool.begin_with("BEGIN IMMEDIATE").await?,
            ),
            Backend::Postgres => (None, self.pool.begin().await?),
        };
        Ok((guard, tx))
    }

    /// Appends `event` to the audit log inside `tx`, signing the new tree head with `key`.
    /// First checks what is stored (see [`Store::check_head`]) and refuses to append to a log
    /// that fails: a server never signs a head over entries it has not checked.
    async fn append_audit(
        &self,
        tx: &mut Transaction<'static, Any>,
        event: AuditEvent,
        key: &IssuerSecret,
    ) -> Result<AuditEntry, StoreError> {
        let (log_id, mut frontier, last_hash, last_time) = match self.locked_head(tx).await? {
            HeadRow::Initial => (self.begin_log()?, Frontier::new(), audit::GENESIS, 0),
            HeadRow::Legacy { seq, hash, signature } => {
                let (head, frontier) = self.upgrade_legacy(tx, seq, hash, &signature, key).await?;
                (head.log_id, frontier, head.last_entry_hash, head.time_ms)
            }
            HeadRow::Tree { head, frontier } => {
                let frontier = self.check_head(tx, &head, &frontier, &key.public()).await?;
                (head.log_id, frontier, head.last_entry_hash, head.time_ms)
            }
        };
        let entry = audit::next_entry(frontier.size() as i64, last_hash, event);
        let e = &entry.event;
        sqlx::query(
            "INSERT INTO audit_log (seq, at_ms, actor, office, action, subject, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(entry.seq)
        .bind(e.at_ms)
        .bind(e.actor.clone())
        .bind(e.office.clone())
        .bind(e.action.clone())
        .bind(e.subject.clone())
        .bind(to_hex(&entry.prev_hash))
        .bind(to_hex(&entry.hash))
        .execute(&mut **tx)
        .await?;
        frontier.push(audit::leaf_hash(&entry.hash));
        let head = TreeHead::sign(log_id, &frontier, entry.hash, now_ms().max(last_time), key);
        Self::write_head(tx, &head, &frontier).await?;
        Ok(entry)
    }

    /// Reads the head row inside `tx`, locking it on PostgreSQL.
    async fn locked_head(&self, tx: &mut Transaction<'static, Any>) -> Result<HeadRow, StoreError> {
        let lock = match self.backend {
            Backend::Sqlite => HEAD_COLUMNS.to_string(),
            Backend::Postgres => format!("{HEAD_COLUMNS} FOR UPDATE"),
        };
        head_row(&sqlx::query(&lock).fetch_one(&mut **tx).await?)
    }

    async fn write_head(
        tx: &mut Transaction<'static, Any>,
        head: &TreeHead,
        frontier: &Frontier,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE audit_head SET seq = $1, hash = $2, signature = $3, log_id = $4, root = $5, \
             time_ms = $6, key_id = $7, frontier = $8 WHERE id = 1",
        )
        .bind(head.size)
        .bind(to_hex(&head.last_entry_hash))
        .bind(to_hex(&head.signature))
        .bind(head.log_id_hex())
        .bind(to_hex(&head.root))
        .bind(head.time_ms)
        .bind(head.key_id.clone())
        .bind(frontier.to_text())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// A new log's id, unless this process has seen a head of a log with entries (then the
    /// empty database is a wiped one).
    fn begin_log(&self) -> Result<[u8; audit::LOG_ID_LEN], StoreError> {
        if let Some(seen) = self.known_head().filter(|h| h.size > 0) {
            return Err(self.refuse(format!(
                "the audit log is empty but log {} had {} entries: the log was wiped",
                seen.log_id_hex(),
                seen.size
            )));
        }
        let mut id = [0; audit::LOG_ID_LEN];
        getrandom::fill(&mut id).map_err(|e| StoreError::Query(format!("no random source: {e}")))?;
        Ok(id)
    }

    /// The checks made before every append; returns the tree's right edge. The stored head
    /// must be signed by `key`, the stored right edge must give its root, the newest stored
    /// entry must be intact and be the one the head names, no entry may lie beyond it, and the
    /// head may not be older than (or another log than) the newest head this process has seen.
    async fn check_head(
        &self,
        tx: &mut Transaction<'static, Any>,
        head: &TreeHead,
        frontier: &str,
        key: &IssuerPublic,
    ) -> Result<Frontier, StoreError> {
        if !head.is_signed_by(key) {
            let why = if head.key_id != key.key_id() {
                format!(
                    "it names key {}: if that was this server's copy key before a rotation, start \
                     with --retired-copy-pub and its public file; otherwise ",
                    head.key_id
                )
            } else {
                String::new()
            };
            return Err(self.refuse(format!(
                "the stored audit head (size {}) is not signed by this server's key {}: {why}the head row was rewritten",
                head.size,
                key.key_id()
            )));
        }
        let Some(frontier) = Frontier::from_text(head.size, frontier).filter(|f| f.root() == head.root)
        else {
            return Err(self.refuse(
                "the stored tree edge does not give the signed root: the head row was edited".into(),
            ));
        };
        let newest = entries_after(&mut **tx, head.size - 1, 2).await?;
        let intact = match newest.as_slice() {
            [] => head.size == 0,
            [e] => {
                e.seq == head.size
                    && e.hash == head.last_entry_hash
                    && audit::entry_hash(&e.prev_hash, e.seq, &e.event) == e.hash
            }
            _ => false,
        };
        if !intact {
            return Err(self.refuse(format!(
                "the newest audit entries are not the ones the signed head (size {}) names: entries were edited, added or removed",
                head.size
            )));
        }
        if let Some(seen) = self.known_head() {
            let problem = if seen.log_id != head.log_id {
                Some(format!(
                    "the database holds audit log {}, not log {}: the log was replaced",
                    head.log_id_hex(),
                    seen.log_id_hex()
                ))
            } else if seen.size > head.size {
                Some(format!(
                    "the audit log has {} entries but a head of {} entries was seen: the database was rolled back",
                    head.size, seen.size
                ))
            } else if seen.size == head.size && seen.root != head.root {
                Some(format!(
                    "the audit log of {} entries is not the one seen: it was rewritten",
                    head.size
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(self.refuse(problem));
            }
        }
        self.clear_refusal();
        Ok(frontier)
    }

    /// Upgrades a version-1 log: checks its chain against the version-1 signed head, then
    /// signs the tree head of the same entries.
    async fn upgrade_legacy(
        &self,
        tx: &mut Transaction<'static, Any>,
        seq: i64,
        hash: [u8; 32],
        signature: &str,
        key: &IssuerSecret,
    ) -> Result<(TreeHead, Frontier), StoreError> {
        let entries = entries_upto(tx, i64::MAX).await?;
        let signed = from_hex::<64>(signature)
            .is_ok_and(|sig| key.public().verify(&audit::legacy_head_message(seq, &hash), &sig));
        let mut prev = audit::GENESIS;
        let mut frontier = Frontier::new();
        for (i, e) in entries.iter().enumerate() {
            if e.seq != i as i64 + 1
                || e.prev_hash != prev
                || audit::entry_hash(&prev, e.seq, &e.event) != e.hash
            {
                return Err(self.refuse(format!("the version-1 audit log breaks at entry {}", i + 1)));
            }
            prev = e.hash;
            frontier.push(audit::leaf_hash(&e.hash));
        }
        if !signed || prev != hash || frontier.size() as i64 != seq {
            return Err(self.refuse("the version-1 audit log does not match its signed head".into()));
        }
        let log_id = self.begin_log()?;
        let head = TreeHead::sign(log_id, &frontier, hash, now_ms(), key);
        Self::write_head(tx, &head, &frontier).await?;
        Ok((head, frontier))
    }

    /// After the copy key is rotated: the stored head, signed by a `retired` key, and the whole
    /// log are verified (against the newest head seen), and the same tree is signed again with
    /// `key`. Only the current key's heads pass the checks made before each append, so a
    /// retired (perhaps leaked) key can sign nothing the server will build on after this.
    async fn rotate_head(
        &self,
        tx: &mut Transaction<'static, Any>,
        head: &TreeHead,
        frontier: &str,
        key: &IssuerSecret,
        retired: &[IssuerPublic],
    ) -> Result<TreeHead, StoreError> {
        let Some(frontier) = Frontier::from_text(head.size, frontier).filter(|f| f.root() == head.root)
        else {
            return Err(self.refuse(
                "the stored tree edge does not give the signed root: the head row was edited".into(),
            ));
        };
        let ring: Vec<IssuerPublic> = std::iter::once(key.public())
            .chain(retired.iter().copied())
            .collect();
        let entries = entries_upto(tx, i64::MAX).await?;
        let floor: Vec<TreeHead> = self.known_head().into_iter().collect();
        audit::verify(&entries, Some(head), &ring, &floor).map_err(|b| {
            self.refuse(format!(
                "the audit log signed by the retired key {} does not verify: {b}",
                head.key_id
            ))
        })?;
        let rotated = TreeHead::sign(
            head.log_id,
            &frontier,
            head.last_entry_hash,
            now_ms().max(head.time_ms),
            key,
        );
        Self::write_head(tx, &rotated, &frontier).await?;
        Ok(rotated)
    }

    /// Makes sure the log has a signed tree head (a new log's, an upgraded version-1 log's, or
    /// the head a `retired` copy key signed, checked and signed again with `key`) and that it
    /// passes the checks made before an append; returns it.
    pub async fn prepare_audit(
        &self,
        key: &IssuerSecret,
        retired: &[IssuerPublic],
    ) -> Result<TreeHead, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let head = match self.locked_head(&mut tx).await? {
            HeadRow::Initial => {
                let frontier = Frontier::new();
                let head = TreeHead::sign(self.begin_log()?, &frontier, audit::GENESIS, now_ms(), key);
                Self::write_head(&mut tx, &head, &frontier).await?;
                head
            }
            HeadRow::Legacy { seq, hash, signature } => {
                self.upgrade_legacy(&mut tx, seq, hash, &signature, key).await?.0
            }
            // Once a head signed by the current key has been seen (in the witness file), the
            // rotation is over: a retired key's head is then a forgery, not a rotation.
            HeadRow::Tree { head, frontier }
                if !head.is_signed_by(&key.public())
                    && head.is_signed_by_any(retired)
                    && !self.known_head().is_some_and(|h| h.is_signed_by(&key.public())) =>
            {
                let rotated = self.rotate_head(&mut tx, &head, &frontier, key, retired).await?;
                self.check_head(&mut tx, &rotated, &frontier, &key.public())
                    .await?;
                rotated
            }
            HeadRow::Tree { head, frontier } => {
                self.check_head(&mut tx, &head, &frontier, &key.public()).await?;
                head
            }
        };
        tx.commit().await?;
        self.know_head(&head);
        Ok(head)
    }

    /// Remembers `head` (signed by this service, seen in the database or a witness file) as
    /// the newest the log may not fall below, if it is newer than the one remembered.
    pub fn know_head(&self, head: &TreeHead) {
        let mut floor = self.audit_guard.floor.lock().unwrap_or_else(|p| p.into_inner());
        if floor.as_ref().is_none_or(|f| head.size >= f.size) {
            *floor = Some(head.clone());
        }
    }

    /// The newest head this process has seen.
    pub fn known_head(&self) -> Option<TreeHead> {
        self.audit_guard
            .floor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Why audited writes are refused now, if they are.
    pub fn audit_refusal(&self) -> Option<String> {
        self.audit_guard
            .refusal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// How many appends this process refused.
    pub fn audit_refusals(&self) -> u64 {
        self.audit_guard
            .refusals
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records a refusal (kept for `/healthz`, counted, logged) and returns its error.
    pub fn refuse(&self, why: String) -> StoreError {
        eprintln!("holoid serve: AUDIT LOG DAMAGED, audited writes refused: {why}");
        self.audit_guard
            .refusals
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *self.audit_guard.refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.clone());
        StoreError::AuditRefused(why)
    }

    fn clear_refusal(&self) {
        *self.audit_guard.refusal.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Appends one audit entry on its own (a copy read).
    pub async fn audit(&self, event: AuditEvent, key: &IssuerSecret) -> Result<AuditEntry, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let entry = self.append_audit(&mut tx, event, key).await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// Stores a token (by its SHA-256) for a person, with its audit entry.
    pub async fn insert_token(
        &self,
        hash_hex: &str,
        t: &TokenRow,
        event: AuditEvent,
        key: &IssuerSecret,
    ) -> Result<(), StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO tokens (hash, id, role, office, name, created_ms, expires_ms, view_kind, age_over) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(hash_hex.to_string())
        .bind(t.id.clone())
        .bind(t.role.clone())
        .bind(t.office.clone())
        .bind(t.name.clone())
        .bind(t.created_ms)
        .bind(t.expires_ms)
        .bind(t.view_kind.clone())
        .bind(t.age_over)
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, event, key).await?;
        tx.commit().await.map_err(StoreError::from)
    }

    /// Revokes the token with public id `id`, audited; `Ok(false)` when there is no such token,
    /// a conflict when it was revoked already.
    pub async fn revoke_token(
        &self,
        id: &str,
        event: AuditEvent,
        key: &IssuerSecret,
    ) -> Result<bool, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let revoked: Option<Option<i64>> = sqlx::query("SELECT revoked_ms FROM tokens WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get::<Option<i64>, _>("revoked_ms"))
            .transpose()?;
        match revoked {
            None => return Ok(false),
            Some(Some(_)) => return Err(StoreError::Conflict(format!("token {id} was revoked already"))),
            Some(None) => {}
        }
        sqlx::query("UPDATE tokens SET revoked_ms = $1 WHERE id = $2")
            .bind(event.at_ms)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        self.append_audit(&mut tx, event, key).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The token whose SHA-256 is `hash_hex`, if any (expired and revoked ones too).
    pub async fn find_token(&self, hash_hex: &str) -> Result<Option<TokenRow>, StoreError> {
        let row = sqlx::query(&format!("{TOKEN_COLUMNS} WHERE hash = $1"))
            .bind(hash_hex.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_row).transpose()
    }

    /// Every token, newest first (never the token itself: only its holder and dates).
    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        sqlx::query(&format!("{TOKEN_COLUMNS} ORDER BY created_ms DESC, id"))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(token_row)
            .collect()
    }

    /// Registers one enrolment's credential document (`c`, with `epoch` and its status entry
    /// `status`): the credential's current document from now on. A later epoch ends every
    /// earlier enrolment at once (`replaced`); the same epoch again replaces its document and
    /// keeps its status; an earlier one, a revoked credential, or a status entry another
    /// credential holds is a [`StoreError::Conflict`].
    pub async fn register_credential(
        &self,
        c: &CredentialRow,
        enrolment: (i64, StatusRef),
        locator_hex: &str,
        event: AuditEvent,
        key: &IssuerSecret,
    ) -> Result<(), StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        self.register_in(&mut tx, c, enrolment, locator_hex, &event)
            .await?;
        self.append_audit(&mut tx, event, key).await?;
        tx.commit().await.map_err(StoreError::from)
    }

    /// [`Store::register_credential`]'s work inside `tx`, without the audit entry.
    async fn register_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        c: &CredentialRow,
        enrolment: (i64, StatusRef),
        locator_hex: &str,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let (epoch, status) = enrolment;
        let (list, index) = (i64::from(status.list), i64::from(status.index));
        let lock = self.for_update();
        let existing = sqlx::query(&format!(
            "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE credential_id = $1 ORDER BY epoch DESC{lock}"
        ))
        .bind(c.id.clone())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(Self::enrolment_row)
        .collect::<Result<Vec<_>, _>>()?;
        if existing.iter().any(|e| e.status == "revoked") {
            return Err(StoreError::Conflict(format!(
                "credential {} is revoked: it cannot be enrolled again",
                c.id
            )));
        }
        if let Some(newest) = existing.first().filter(|e| e.epoch > epoch) {
            return Err(StoreError::Conflict(format!(
                "a newer enrolment of {} (device epoch {}) is registered",
                c.id, newest.epoch
            )));
        }
        let holder = sqlx::query(
            "SELECT credential_id FROM enrolments WHERE status_list = $1 AND status_index = $2 \
             AND NOT (credential_id = $3 AND epoch = $4)",
        )
        .bind(list)
        .bind(index)
        .bind(c.id.clone())
        .bind(epoch)
        .fetch_optional(&mut **tx)
        .await?;
        if holder.is_some() {
            return Err(StoreError::Conflict(format!(
                "status list {list} entry {index} belongs to another enrolment: the issuer must draw another"
            )));
        }
        let now = now_ms();
        let same = existing.first().is_some_and(|e| e.epoch == epoch);
        if same {
            sqlx::query(
                "UPDATE enrolments SET credential_json = $1, status_list = $2, status_index = $3 \
                 WHERE credential_id = $4 AND epoch = $5",
            )
            .bind(c.json.clone())
            .bind(list)
            .bind(index)
            .bind(c.id.clone())
            .bind(epoch)
            .execute(&mut **tx)
            .await?;
        } else {
            let moved = format!("moved to a new phone (device epoch {epoch})");
            for old in existing.iter().filter(|e| e.status != "replaced") {
                self.set_enrolment_status(tx, old, "replaced", &moved, now, event)
                    .await?;
            }
            sqlx::query(&format!(
                "INSERT INTO enrolments ({ENROLMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, 'valid', 'enrolled', $6)"
            ))
            .bind(c.id.clone())
            .bind(epoch)
            .bind(list)
            .bind(index)
            .bind(c.json.clone())
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        self.status_event(
            tx,
            &c.id,
            epoch,
            "valid",
            if same { "re-registered" } else { "enrolled" },
            now,
            event,
        )
        .await?;
        sqlx::query("DELETE FROM credentials WHERE id = $1")
            .bind(c.id.clone())
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO credentials (id, locator, credential_json, portrait, registered_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(c.id.clone())
        .bind(locator_hex.to_string())
        .bind(c.json.clone())
        .bind(c.portrait.clone())
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Makes a one-time offer, audited.
    pub async fn insert_offer(
        &self,
        o: &OfferRow,
        event: AuditEvent,
        key: &IssuerSecret,
    ) -> Result<(), StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO offers (id, credential_id, created_ms, expires_ms, actor, office) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(o.id.clone())
        .bind(o.credential_id.clone())
        .bind(o.created_ms)
        .bind(o.expires_ms)
        .bind(o.actor.clone())
        .bind(o.office.clone())
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, event, key).await?;
        tx.commit().await.map_err(StoreError::from)
    }

    /// The offer `id`, if there is one.
    pub async fn offer(&self, id: &str) -> Result<Option<OfferRow>, StoreError> {
        sqlx::query(
            "SELECT id, credential_id, created_ms, expires_ms, actor, office, used_ms, epoch \
             FROM offers WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| {
            Ok(OfferRow {
                id: r.try_get("id")?,
                credential_id: r.try_get("credential_id")?,
                created_ms: r.try_get("created_ms")?,
                expires_ms: r.try_get("expires_ms")?,
                actor: r.try_get("actor")?,
                office: r.try_get("office")?,
                used_ms: r.try_get("used_ms")?,
                epoch: r.try_get("epoch")?,
            })
        })
        .transpose()
    }

    /// Whether an enrolment holds entry `index` of status list `list`.
    pub async fn status_entry_taken(&self, list: i64, index: i64) -> Result<bool, StoreError> {
        Ok(
            sqlx::query("SELECT 1 AS one FROM enrolments WHERE status_list = $1 AND status_index = $2")
                .bind(list)
                .bind(index)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// Uses offer `offer_id` (once, before `now`'s expiry) to register the enrolment `c` of a
    /// new phone, as [`Store::register_credential`] does, all in one transaction: a second
    /// use, an expired offer or a newer enrolment made meanwhile is a [`StoreError::Conflict`]
    /// and nothing is written.
    pub async fn enrol_with_offer(
        &self,
        offer_id: &str,
        c: &CredentialRow,
        enrolment: (i64, StatusRef),
        locator_hex: &str,
        event: AuditEvent,
        key: &IssuerSecret,
    ) -> Result<(), StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let now = now_ms();
        let claimed = sqlx::query(
            "UPDATE offers SET used_ms = $1, epoch = $2 \
             WHERE id = $3 AND used_ms IS NULL AND expires_ms > $4",
        )
        .bind(now)
        .bind(enrolment.0)
        .bind(offer_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            return Err(StoreError::Conflict(
                "this offer was used or has expired meanwhile: ask the officer for a new QR code".into(),
            ));
        }
        self.register_in(&mut tx, c, enrolment, locator_hex, &event)
            .await?;
        self.append_audit(&mut tx, event, key).await?;
        tx.commit().await.map_err(StoreError::from)
    }

    /// ` FOR UPDATE` on PostgreSQL (SQLite's writer lock already serialises writers).
    fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Sets one enrolment's status and records the change.
    async fn set_enrolment_status(
        &self,
        tx: &mut Transaction<'static, Any>,
        e: &EnrolmentRow,
        status: &str,
        reason: &str,
        now: i64,
        by: &AuditEvent,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE enrolments SET status = $1, reason = $2, changed_ms = $3 \
             WHERE credential_id = $4 AND epoch = $5",
        )
        .bind(status.to_string())
        .bind(reason.to_string())
        .bind(now)
        .bind(e.credential_id.clone())
        .bind(e.epoch)
        .execute(&mut **tx)
        .await?;
        self.status_event(tx, &e.credential_id, e.epoch, status, reason, now, by)
            .await
    }

    /// Records a status change in the history.
    #[allow(clippy::too_many_arguments)]
    async fn status_event(
        &self,
        tx: &mut Transaction<'static, Any>,
        credential_id: &str,
        epoch: i64,
        status: &str,
        reason: &str,
        now: i64,
        by: &AuditEvent,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO status_events (credential_id, epoch, status, reason, at_ms, actor, office) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(credential_id.to_string())
        .bind(epoch)
        .bind(status.to_string())
        .bind(reason.to_string())
        .bind(now)
        .bind(by.actor.clone())
        .bind(by.office.clone())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    fn enrolment_row(r: &AnyRow) -> Result<EnrolmentRow, StoreError> {
        Ok(EnrolmentRow {
            credential_id: r.try_get("credential_id")?,
            epoch: r.try_get("epoch")?,
            status_list: r.try_get("status_list")?,
            status_index: r.try_get("status_index")?,
            credential_json: r.try_get("credential_json")?,
            status: r.try_get("status")?,
            reason: r.try_get("reason")?,
            changed_ms: r.try_get("changed_ms")?,
        })
    }

    /// Every enrolment of a credential, newest first (read from the database each time, so
    /// a change made through another server is seen at once).
    pub async fn enrolments(&self, credential_id: &str) -> Result<Vec<EnrolmentRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE credential_id = $1 ORDER BY epoch DESC"
        ))
        .bind(credential_id.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(Self::enrolment_row)
        .collect()
    }

    /// A credential's status history, oldest first.
    pub async fn status_events(&self, credential_id: &str) -> Result<Vec<StatusEventRow>, StoreError> {
        sqlx::query(
            "SELECT epoch, status, reason, at_ms, actor, office FROM status_events \
             WHERE credential_id = $1 ORDER BY seq",
        )
        .bind(credential_id.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(StatusEventRow {
                epoch: r.try_get("epoch")?,
                status: r.try_get("status")?,
                reason: r.try_get("reason")?,
                at_ms: r.try_get("at_ms")?,
                actor: r.try_get("actor")?,
                office: r.try_get("office")?,
            })
        })
        .collect()
    }

    /// Changes the status of a credential's current enrolment, audited; `None` when there is
    /// no such credential, [`StoreError::Conflict`] when the change does not apply.
    pub async fn change_status(
        &self,
        credential_id: &str,
        change: StatusChange,
        reason: &str,
        event: AuditEvent,
        key: &IssuerSecret,
    ) -> Result<Option<EnrolmentRow>, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let lock = self.for_update();
        let Some(current) = sqlx::query(&format!(
            "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE credential_id = $1 \
             ORDER BY epoch DESC LIMIT 1{lock}"
        ))
        .bind(credential_id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(Self::enrolment_row)
        .transpose()?
        else {
            return Ok(None);
        };
        if !change.from().contains(&current.status.as_str()) {
            return Err(StoreError::Conflict(format!(
                "the card is {}: it cannot become {}",
                current.status,
                change.target()
            )));
        }
        let now = now_ms();
        self.set_enrolment_status(&mut tx, &current, change.target(), reason, now, &event)
            .await?;
        self.append_audit(&mut tx, event, key).await?;
        tx.commit().await?;
        Ok(Some(EnrolmentRow {
            status: change.target().to_string(),
            reason: reason.to_string(),
            changed_ms: now,
            ..current
        }))
    }

    /// The entries of status list `list`: (index, status) of every enrolment in it.
    pub async fn status_entries(&self, list: i64) -> Result<Vec<(i64, String)>, StoreError> {
        sqlx::query("SELECT status_index, status FROM enrolments WHERE status_list = $1")
            .bind(list)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("status_index")?, r.try_get("status")?)))
            .collect()
    }

    /// A number that grows with every status change anywhere (for caching signed lists).
    pub async fn status_version(&self) -> Result<i64, StoreError> {
        // The newest change's number (an index lookup, not a count of every change).
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS n FROM status_events")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    fn credential_row(r: &AnyRow) -> Result<CredentialRow, StoreError> {
        Ok(CredentialRow {
            id: r.try_get("id")?,
            json: r.try_get("credential_json")?,
            portrait: r.try_get("portrait")?,
        })
    }

    /// The credential with this id.
    pub async fn credential(&self, id: &str) -> Result<Option<CredentialRow>, StoreError> {
        sqlx::query("SELECT id, credential_json, portrait FROM credentials WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(Self::credential_row)
            .transpose()
    }

    /// The credentials whose code locator is `locator_hex` (normally one).
    pub async fn credentials_by_locator(&self, locator_hex: &str) -> Result<Vec<CredentialRow>, StoreError> {
        sqlx::query("SELECT id, credential_json, portrait FROM credentials WHERE locator = $1")
            .bind(locator_hex.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(Self::credential_row)
            .collect()
    }

    /// Stores a check with its audit entry.
    /// `frames` are the hashes of the photos checked ([`Store::frame_seen`]); a photo already
    /// recorded (two identical submissions at once) is a conflict and nothing is stored.
    pub async fn insert_check(
        &self,
        c: &CheckRow,
        frames: &[String],
        event: AuditEvent,
        key: &IssuerSecret,
    ) -> Result<(), StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        for hash in frames {
            let inserted =
                sqlx::query("INSERT INTO frames_seen (hash, check_id, created_ms) VALUES ($1, $2, $3)")
                    .bind(hash.clone())
                    .bind(c.id.clone())
                    .bind(c.created_ms)
                    .execute(&mut *tx)
                    .await;
            match inserted {
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(StoreError::Conflict("this photo was checked already".into()));
                }
                other => {
                    other?;
                }
            }
        }
        sqlx::query(
            "INSERT INTO checks (id, created_ms, office, actor, credential_id, decision, verdict_json, card_png) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(c.id.clone())
        .bind(c.created_ms)
        .bind(c.office.clone())
        .bind(c.actor.clone())
        .bind(c.credential_id.clone())
        .bind(c.decision.clone())
        .bind(c.verdict_json.clone())
        .bind(c.card_png.clone())
        .execute(&mut *tx)
        .await
        ?;
        self.append_audit(&mut tx, event, key).await?;
        tx.commit().await.map_err(StoreError::from)
    }

    /// The check that already had one of these photos (by hash), if any.
    pub async fn frame_seen(&self, frames: &[String]) -> Result<Option<String>, StoreError> {
        for hash in frames {
            let row = sqlx::query("SELECT check_id FROM frames_seen WHERE hash = $1")
                .bind(hash.clone())
                .fetch_optional(&self.pool)
                .await?;
            if let Some(r) = row {
                return Ok(Some(r.try_get("check_id")?));
            }
        }
        Ok(None)
    }

    /// Forgets the hashes of photos checked before `before_ms`; returns how many.
    pub async fn forget_frames(&self, before_ms: i64) -> Result<u64, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM frames_seen WHERE created_ms < $1")
            .bind(before_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// The check with this id.
    pub async fn check(&self, id: &str) -> Result<Option<CheckRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, created_ms, office, actor, credential_id, decision, verdict_json, card_png, \
             holder_matches, holder_answered_ms, holder_answered_by FROM checks WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let matches: Option<i64> = r.try_get("holder_matches")?;
            let (at, by): (Option<i64>, Option<String>) =
                (r.try_get("holder_answered_ms")?, r.try_get("holder_answered_by")?);
            let holder_answer = match (matches, at, by) {
                (None, _, _) => None,
                (Some(m @ (0 | 1)), Some(at_ms), Some(by)) => Some(HolderAnswer {
                    matches: m == 1,
                    at_ms,
                    by,
                }),
                _ => {
                    return Err(StoreError::Corrupt(format!(
                        "check {id}: a partial holder answer"
                    )));
                }
            };
            Ok(CheckRow {
                id: r.try_get("id")?,
                created_ms: r.try_get("created_ms")?,
                office: r.try_get("office")?,
                actor: r.try_get("actor")?,
                credential_id: r.try_get("credential_id")?,
                decision: r.try_get("decision")?,
                verdict_json: r.try_get("verdict_json")?,
                card_png: r.try_get("card_png")?,
                holder_answer,
            })
        })
        .transpose()
    }

    /// Records the officer's answer to "does the person match the registered portrait" for
    /// check `id`, with its audit entry: `Ok(false)`, and nothing stored, when the check was
    /// answered before (the first answer stands).
    pub async fn answer_holder(
        &self,
        id: &str,
        answer: &HolderAnswer,
        event: AuditEvent,
        key: &IssuerSecret,
    ) -> Result<bool, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE checks SET holder_matches = $1, holder_answered_ms = $2, holder_answered_by = $3 \
             WHERE id = $4 AND holder_matches IS NULL",
        )
        .bind(i64::from(answer.matches))
        .bind(answer.at_ms)
        .bind(answer.by.clone())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        self.append_audit(&mut tx, event, key).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stores a copy with its audit entry; durable when this returns. One copy is kept per
    /// check and purpose (`purpose_key`, see [`crate::copy::purpose_key`]): false, and nothing
    /// stored, when that check already has a copy for that purpose.
    pub async fn insert_copy(
        &self,
        c: &CopyRow,
        purpose_key: &str,
        image_png: &[u8],
        event: AuditEvent,
        key: &IssuerSecret,
    ) -> Result<bool, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let stored = sqlx::query(
            "INSERT INTO copies (id, check_id, office, created_ms, expires_ms, image_png, record_json, signature, purpose_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (check_id, purpose_key) DO NOTHING",
        )
        .bind(c.id.clone())
        .bind(c.check_id.clone())
        .bind(c.office.clone())
        .bind(c.created_ms)
        .bind(c.expires_ms)
        .bind(image_png.to_vec())
        .bind(c.record_json.clone())
        .bind(c.signature.clone())
        .bind(purpose_key.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if stored == 0 {
            return Ok(false);
        }
        self.append_audit(&mut tx, event, key).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The copy made of `check_id` for the purpose `purpose_key`, if there is one.
    pub async fn copy_for(&self, check_id: &str, purpose_key: &str) -> Result<Option<CopyRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {} FROM copies WHERE check_id = $1 AND purpose_key = $2",
            Self::COPY_COLUMNS
        ))
        .bind(check_id.to_string())
        .bind(purpose_key.to_string())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(Self::copy_row)
        .transpose()
    }

    fn copy_row(r: &AnyRow) -> Result<CopyRow, StoreError> {
        Ok(CopyRow {
            id: r.try_get("id")?,
            check_id: r.try_get("check_id")?,
            office: r.try_get("office")?,
            created_ms: r.try_get("created_ms")?,
            expires_ms: r.try_get("expires_ms")?,
            record_json: r.try_get("record_json")?,
            signature: r.try_get("signature")?,
        })
    }

    const COPY_COLUMNS: &str = "id, check_id, office, created_ms, expires_ms, record_json, signature";

    /// The copy with this id (without its image).
    pub async fn copy(&self, id: &str) -> Result<Option<CopyRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {} FROM copies WHERE id = $1",
            Self::COPY_COLUMNS
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(Self::copy_row)
        .transpose()
    }

    /// The copy's image (PNG).
    pub async fn copy_image(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query("SELECT image_png FROM copies WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get("image_png").map_err(StoreError::from))
            .transpose()
    }

    /// An office's copies, newest first: at most `limit`, made before `before_ms`.
    pub async fn list_copies(
        &self,
        office: &str,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<CopyRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {} FROM copies WHERE office = $1 AND created_ms < $2 ORDER BY created_ms DESC, id DESC LIMIT $3",
            Self::COPY_COLUMNS
        ))
        .bind(office.to_string())
        .bind(before_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        ?
        .iter()
        .map(Self::copy_row)
        .collect()
    }

    /// Deletes a copy with its audit entry; false if there was none.
    pub async fn delete_copy(
        &self,
        id: &str,
        event: AuditEvent,
        key: &IssuerSecret,
    ) -> Result<bool, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let gone = sqlx::query("DELETE FROM copies WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            return Ok(false);
        }
        self.append_audit(&mut tx, event, key).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes the copies whose retention ended before `now_ms`, the card images of checks made
    /// before `cards_before_ms` and the checks made before `checks_before_ms`, each change
    /// audited (`copy_expire`, `check_card_expire`, `check_expire`); returns how many copies.
    pub async fn expire(
        &self,
        now_ms: i64,
        cards_before_ms: i64,
        checks_before_ms: i64,
        key: &IssuerSecret,
    ) -> Result<usize, StoreError> {
        let due: Vec<(String, String)> = sqlx::query("SELECT id, office FROM copies WHERE expires_ms <= $1")
            .bind(now_ms)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("office")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        let mut n = 0;
        for (id, office) in due {
            let event = AuditEvent {
                at_ms: now_ms,
                actor: "retention".into(),
                office,
                action: "copy_expire".into(),
                subject: id.clone(),
            };
            if self.delete_copy(&id, event, key).await? {
                n += 1;
            }
        }
        // Card images of checks, then whole checks, each change audited with its own entry.
        let steps = [
            (
                "SELECT id, office FROM checks WHERE created_ms < $1 AND card_png IS NOT NULL",
                "UPDATE checks SET card_png = NULL WHERE id = $1 AND card_png IS NOT NULL",
                cards_before_ms,
                "check_card_expire",
            ),
            (
                "SELECT id, office FROM checks WHERE created_ms < $1",
                "DELETE FROM checks WHERE id = $1",
                checks_before_ms,
                "check_expire",
            ),
        ];
        for (select, change, before, action) in steps {
            let due: Vec<(String, String)> = sqlx::query(select)
                .bind(before)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("id")?, r.try_get("office")?)))
                .collect::<Result<_, sqlx::Error>>()?;
            for (id, office) in due {
                let (_w, mut tx) = self.begin_write().await?;
                let changed = sqlx::query(change)
                    .bind(id.clone())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if changed > 0 {
                    let event = AuditEvent {
                        at_ms: now_ms,
                        actor: "retention".into(),
                        office,
                        action: action.into(),
                        subject: id,
                    };
                    self.append_audit(&mut tx, event, key).await?;
                }
                tx.commit().await?;
            }
        }
        self.scrub().await?;
        Ok(n)
    }

    /// SQLite: moves the write-ahead log into the database file and empties it, so rows just
    /// deleted (overwritten with zeros there: `secure_delete`) leave no older copy in the log.
    /// PostgreSQL: nothing here (dead rows go at its next vacuum; docs/service.md).
    pub async fn scrub(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            let _w = self.write_lock.lock().await;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_all(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// How many copies are stored.
    pub async fn count_copies(&self) -> Result<i64, StoreError> {
        sqlx::query("SELECT COUNT(*) AS n FROM copies")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")
            .map_err(StoreError::from)
    }

    /// The signed tree head, or `None` while no head was ever signed.
    pub async fn audit_head(&self) -> Result<Option<TreeHead>, StoreError> {
        let r = sqlx::query(HEAD_COLUMNS).fetch_optional(&self.pool).await?;
        let Some(r) = r else {
            return Err(StoreError::Corrupt("the audit head row is missing".into()));
        };
        match head_row(&r)? {
            HeadRow::Initial => Ok(None),
            HeadRow::Legacy { .. } => Err(StoreError::Corrupt(
                "the audit log is still in the version-1 format: start `holoid serve` once to upgrade it"
                    .into(),
            )),
            HeadRow::Tree { head, .. } => Ok(Some(head)),
        }
    }

    /// The stored head, remembered (see [`Store::know_head`]) when `key` signed it.
    pub async fn observe_audit_head(&self, key: &IssuerPublic) -> Result<Option<TreeHead>, StoreError> {
        let head = self.audit_head().await?;
        if let Some(h) = head.as_ref().filter(|h| h.is_signed_by(key)) {
            self.know_head(h);
        }
        Ok(head)
    }

    /// Every audit entry in sequence order, read in pages.
    pub async fn all_audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        self.first_audit_entries(i64::MAX).await
    }

    /// The first `n` audit entries (fewer when the log is shorter), read in pages.
    pub async fn first_audit_entries(&self, n: i64) -> Result<Vec<AuditEntry>, StoreError> {
        entries_upto(&mut *self.pool.acquire().await?, n).await
    }
}

const TOKEN_COLUMNS: &str =
    "SELECT id, role, office, name, created_ms, expires_ms, revoked_ms, view_kind, age_over FROM tokens";

fn token_row(r: &AnyRow) -> Result<TokenRow, StoreError> {
    Ok(TokenRow {
        id: r.try_get("id")?,
        role: r.try_get("role")?,
        office: r.try_get("office")?,
        name: r.try_get("name")?,
        created_ms: r.try_get("created_ms")?,
        expires_ms: r.try_get("expires_ms")?,
        revoked_ms: r.try_get("revoked_ms")?,
        view_kind: r.try_get("view_kind")?,
        age_over: r.try_get("age_over")?,
    })
}

/// The head row's columns.
const HEAD_COLUMNS: &str =
    "SELECT seq, hash, signature, log_id, root, time_ms, key_id, frontier FROM audit_head WHERE id = 1";

fn head_row(r: &AnyRow) -> Result<HeadRow, StoreError> {
    let seq: i64 = r.try_get("seq")?;
    let hash = hex32(&r.try_get::<String, _>("hash")?, "audit head hash")?;
    let signature: String = r.try_get("signature")?;
    let Some(log_id) = r.try_get::<Option<String>, _>("log_id")? else {
        return Ok(if seq == 0 && signature.is_empty() {
            HeadRow::Initial
        } else {
            HeadRow::Legacy { seq, hash, signature }
        });
    };
    let corrupt = |what: &str| StoreError::Corrupt(format!("the audit head's {what} is damaged"));
    let head = TreeHead {
        log_id: from_hex::<{ audit::LOG_ID_LEN }>(&log_id).map_err(|_| corrupt("log id"))?,
        size: seq,
        root: hex32(
            &r.try_get::<Option<String>, _>("root")?.unwrap_or_default(),
            "audit root",
        )?,
        time_ms: r
            .try_get::<Option<i64>, _>("time_ms")?
            .ok_or_else(|| corrupt("time"))?,
        last_entry_hash: hash,
        key_id: r
            .try_get::<Option<String>, _>("key_id")?
            .ok_or_else(|| corrupt("key id"))?,
        signature: from_hex::<64>(&signature).map_err(|_| corrupt("signature"))?,
    };
    let frontier = r.try_get::<Option<String>, _>("frontier")?.unwrap_or_default();
    Ok(HeadRow::Tree { head, frontier })
}

/// The first `n` audit entries in sequence order through `conn`, read in pages of 1000.
async fn entries_upto(conn: &mut sqlx::AnyConnection, n: i64) -> Result<Vec<AuditEntry>, StoreError> {
    let mut all: Vec<AuditEntry> = Vec::new();
    loop {
        let left = n.saturating_sub(all.len() as i64);
        if left <= 0 {
            return Ok(all);
        }
        let after = all.last().map_or(0, |e| e.seq);
        let page = entries_after(&mut *conn, after, left.min(1000)).await?;
        if page.is_empty() {
            return Ok(all);
        }
        all.extend(page);
    }
}

/// Audit entries `after_seq + 1 …` in sequence order, at most `limit`, read through `exec`.
async fn entries_after<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    sqlx::query(
        "SELECT seq, at_ms, actor, office, action, subject, prev_hash, hash FROM audit_log \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after_seq)
    .bind(limit)
    .fetch_all(exec)
    .await?
    .iter()
    .map(|r| {
        Ok(AuditEntry {
            seq: r.try_get("seq")?,
            event: AuditEvent {
                at_ms: r.try_get("at_ms")?,
                actor: r.try_get("actor")?,
                office: r.try_get("office")?,
                action: r.try_get("action")?,
                subject: r.try_get("subject")?,
            },
            prev_hash: hex32(&r.try_get::<String, _>("prev_hash")?, "prev_hash")?,
            hash: hex32(&r.try_get::<String, _>("hash")?, "hash")?,
        })
    })
    .collect()
}

/// The wall clock, Unix milliseconds (the service is an I/O edge: it may read the clock).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
