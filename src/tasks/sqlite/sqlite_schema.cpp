// open_sqlite(): connection settings and the schema (its design is described in
// sqlite_backend.hpp).
//
// Settings, per connection:
//   journal_mode=WAL    readers never block the writer nor it them, and a commit is one append;
//                       needed so that HTTP handlers reading tasks do not stall the workers.
//   synchronous=NORMAL  in WAL mode a commit survives the process being killed; only an OS crash
//                       or power loss can lose the last commits (never corrupt the file). FULL
//                       would fsync every commit, several ms each, for that last margin.
//   busy_timeout        another process holding the write lock is waited for, not failed on.
//   foreign_keys=ON     so an idempotency key goes with the task it names.
//
// The schema version lives in PRAGMA user_version. Version 0 is an empty file: the tables are
// created in one IMMEDIATE transaction, so two processes opening a new file at once cannot both
// create it. A version above ours is a file from a newer facefuse: refused, never downgraded.
// A future version 2 adds an `if (version < 2)` step here, in the same transaction.
#include <sqlite3.h>

#include <string>

#include "storage/sqlite/sqlite_vfs.hpp"
#include "tasks/sqlite/sqlite_backend.hpp"
#include "tasks/sqlite/sqlite_db.hpp"

namespace facefuse::tasks {
namespace {

constexpr std::int64_t kSchemaVersion = 3;
// Enough for the HTTP threads' polls and the workers' reads to rarely wait for each other.
constexpr int kReaderConnections = 4;

constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE IF NOT EXISTS lane_waiting (
    priority INTEGER PRIMARY KEY NOT NULL,
    waiting  INTEGER NOT NULL
);
INSERT INTO lane_waiting (priority, waiting) VALUES (0, 0), (1, 0), (2, 0) ON CONFLICT DO NOTHING;
UPDATE lane_waiting SET waiting =
    (SELECT count(*) FROM queue WHERE queue.priority = lane_waiting.priority AND queue.lease_token IS NULL);
CREATE TRIGGER IF NOT EXISTS lane_waiting_insert AFTER INSERT ON queue WHEN NEW.lease_token IS NULL
BEGIN
    UPDATE lane_waiting SET waiting = waiting + 1 WHERE priority = NEW.priority;
END;
CREATE TRIGGER IF NOT EXISTS lane_waiting_delete AFTER DELETE ON queue WHEN OLD.lease_token IS NULL
BEGIN
    UPDATE lane_waiting SET waiting = waiting - 1 WHERE priority = OLD.priority;
END;
CREATE TRIGGER IF NOT EXISTS lane_waiting_leased AFTER UPDATE OF lease_token ON queue
    WHEN OLD.lease_token IS NULL AND NEW.lease_token IS NOT NULL
BEGIN
    UPDATE lane_waiting SET waiting = waiting - 1 WHERE priority = OLD.priority;
END;
CREATE TRIGGER IF NOT EXISTS lane_waiting_released AFTER UPDATE OF lease_token ON queue
    WHEN OLD.lease_token IS NOT NULL AND NEW.lease_token IS NULL
BEGIN
    UPDATE lane_waiting SET waiting = waiting + 1 WHERE priority = NEW.priority;
END;
)sql";

constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE tasks ADD COLUMN moderation TEXT NOT NULL DEFAULT '';
CREATE TABLE IF NOT EXISTS tenant_queued (
    tenant TEXT PRIMARY KEY NOT NULL,
    queued INTEGER NOT NULL
);
INSERT INTO tenant_queued (tenant, queued)
    SELECT tenant, count(*) FROM tasks WHERE state = 'queued' GROUP BY tenant;
CREATE TRIGGER IF NOT EXISTS tenant_queued_insert AFTER INSERT ON tasks WHEN NEW.state = 'queued'
BEGIN
    INSERT INTO tenant_queued (tenant, queued) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET queued = queued + 1;
END;
CREATE TRIGGER IF NOT EXISTS tenant_queued_leave AFTER UPDATE OF state ON tasks
    WHEN OLD.state = 'queued' AND NEW.state <> 'queued'
BEGIN
    UPDATE tenant_queued SET queued = queued - 1 WHERE tenant = OLD.tenant;
END;
CREATE TRIGGER IF NOT EXISTS tenant_queued_enter AFTER UPDATE OF state ON tasks
    WHEN OLD.state <> 'queued' AND NEW.state = 'queued'
BEGIN
    INSERT INTO tenant_queued (tenant, queued) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET queued = queued + 1;
END;
CREATE TRIGGER IF NOT EXISTS tenant_queued_delete AFTER DELETE ON tasks WHEN OLD.state = 'queued'
BEGIN
    UPDATE tenant_queued SET queued = queued - 1 WHERE tenant = OLD.tenant;
END;
)sql";

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS tasks (
    id                  TEXT PRIMARY KEY NOT NULL,
    tenant              TEXT NOT NULL,
    kind                TEXT NOT NULL,
    priority            TEXT NOT NULL,      -- priority_name(): "vip", "normal", "batch"
    state               TEXT NOT NULL,      -- state_name(): "queued", "running", ...
    attempts            INTEGER NOT NULL,
    max_attempts        INTEGER NOT NULL,
    options_json        TEXT NOT NULL,
    source_key          TEXT NOT NULL,
    target_key          TEXT NOT NULL,
    result_key          TEXT NOT NULL,
    result_content_type TEXT NOT NULL,
    idempotency_key     TEXT NOT NULL,
    request_hash        TEXT NOT NULL,
    progress            REAL NOT NULL,
    cancel_requested    INTEGER NOT NULL,
    error_code          TEXT,               -- NULL when the task has no error
    error_message       TEXT,
    created_at_ms       INTEGER NOT NULL,
    updated_at_ms       INTEGER NOT NULL,
    started_at_ms       INTEGER NOT NULL,
    finished_at_ms      INTEGER NOT NULL,
    expires_at_ms       INTEGER NOT NULL    -- 0: never
);
CREATE INDEX IF NOT EXISTS tasks_by_tenant ON tasks (tenant, created_at_ms DESC, id DESC);
CREATE INDEX IF NOT EXISTS tasks_by_expiry ON tasks (expires_at_ms) WHERE expires_at_ms > 0;

CREATE TABLE IF NOT EXISTS idempotency_keys (
    tenant       TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    task_id      TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    expires_ms   INTEGER NOT NULL,
    PRIMARY KEY (tenant, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_by_task ON idempotency_keys (task_id);
CREATE INDEX IF NOT EXISTS idempotency_by_expiry ON idempotency_keys (expires_ms);

CREATE TABLE IF NOT EXISTS queue (
    task_id          TEXT PRIMARY KEY NOT NULL,
    priority         INTEGER NOT NULL,      -- 0 vip, 1 normal, 2 batch
    not_before_ms    INTEGER NOT NULL,
    leased_by        TEXT,                  -- NULL, with lease_token, when not leased
    lease_token      TEXT,
    lease_expires_ms INTEGER NOT NULL DEFAULT 0,
    deliveries       INTEGER NOT NULL DEFAULT 0,
    enqueued_ms      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_by_lane ON queue (priority, not_before_ms, enqueued_ms);

CREATE TABLE IF NOT EXISTS dead_letters (
    id          INTEGER PRIMARY KEY,
    task_id     TEXT NOT NULL,
    priority    INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    deliveries  INTEGER NOT NULL,
    worker      TEXT NOT NULL,
    dead_at_ms  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_task ON dead_letters (task_id);
)sql";

// Runs a PRAGMA that answers with one row and returns its first column as text.
Result<std::string> pragma(SqliteConn& conn, const std::string& sql, std::string_view what) {
    auto stmt = conn.prepare(sql, what);
    if (!stmt) return stmt.error();
    auto row = stmt->step();
    if (!row) return row.error();
    return *row ? stmt->text_at(0) : std::string();
}

Status configure(SqliteConn& conn) {
    auto mode = pragma(conn, "PRAGMA journal_mode=WAL", "switch to WAL mode");
    if (!mode) return mode.error();
    // An in-memory database (":memory:") answers "memory"; it is not shared, but works.
    if (*mode != "wal" && *mode != "memory")
        return make_error(ErrorCode::kUnavailable,
                          "the task database " + conn.path() +
                              " cannot use WAL mode (it stays in " + *mode +
                              " mode); put it on a local filesystem, not a network share");
    return conn.exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", "configure");
}

Status migrate(SqliteConn& conn) {
    auto version = pragma(conn, "PRAGMA user_version", "read the schema version");
    if (!version) return version.error();
    const std::int64_t current = std::stoll(version->empty() ? "0" : *version);
    if (current > kSchemaVersion)
        return make_error(ErrorCode::kUnavailable,
                          "the task database " + conn.path() + " has schema version " +
                              std::to_string(current) + ", newer than this facefuse knows (" +
                              std::to_string(kSchemaVersion) +
                              "); run a newer facefuse or use another file");
    if (current == kSchemaVersion) return Status::Ok();
    if (current < 1) {
        if (Status created = conn.exec(kSchemaV1, "create the schema"); !created.ok()) return created;
    }
    if (current < 2) {
        // v2: the content policy's decision on each task, and per-tenant counts of queued
        // tasks for quotas. The counts are kept by triggers in the same transactions that
        // change a task's state, so reading one is O(1) however long the queue (counting rows
        // on every submit made submits slower the fuller the queue).
        if (Status added = conn.exec(kSchemaV2, "add the moderation column and the queued counts"); !added.ok())
            return added;
    }
    if (current < 3) {
        // v3: per-lane counts of unleased queue rows, kept by triggers, for the lane bound that
        // enqueue() checks: counting the rows on every enqueue cost more the longer the queue
        // (9% of the server's CPU with a few thousand tasks waiting).
        if (Status added = conn.exec(kSchemaV3, "add the per-lane waiting counts"); !added.ok()) return added;
    }
    return conn.exec("PRAGMA user_version=3", "record the schema version");
}

}  // namespace

Result<std::shared_ptr<SqliteDatabase>> open_sqlite(const std::string& path,
                                                    SqliteOptions options) {
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, storage::kSqliteVfs);
    if (rc != SQLITE_OK) {
        Error error = sqlite_error(rc, raw, path, "open it");
        sqlite3_close(raw);
        return error;
    }
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, static_cast<int>(options.busy_timeout.count()));
    const auto busy_timeout_ms = options.busy_timeout.count();
    std::shared_ptr<SqliteDatabase> db;
    try {
        db = std::make_shared<SqliteDatabase>(raw, path, std::move(options));
    } catch (const std::exception& e) {
        sqlite3_close(raw);
        return make_error(ErrorCode::kInternal,
                          std::string("could not open the task database: ") + e.what());
    }
    if (Status configured = db->on_writer("configure", configure); !configured.ok())
        return configured.error();
    if (Status migrated = db->write("create the schema", migrate); !migrated.ok())
        return migrated.error();
    // Reader connections (see sqlite_db.hpp), opened once the file is in WAL mode and has its
    // tables. An in-memory database is private to its connection: it gets none.
    if (path != ":memory:" && !path.empty()) {
        // Checkpoints in the background, not inside some request's commit.
        if (Status off = db->on_writer("configure", [](SqliteConn& conn) { return conn.exec("PRAGMA wal_autocheckpoint=0", "configure"); });
            !off.ok())
            return off.error();
        auto checkpointer = storage::WalCheckpointer::start(path);
        if (!checkpointer) return checkpointer.error();
        db->set_checkpointer(std::move(checkpointer.value()));
        for (int i = 0; i < kReaderConnections; ++i) {
            sqlite3* reader = nullptr;
            const int opened = sqlite3_open_v2(path.c_str(), &reader,
                                               SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, storage::kSqliteVfs);
            if (opened != SQLITE_OK) {
                Error error = sqlite_error(opened, reader, path, "open a reader connection");
                sqlite3_close(reader);
                return error;
            }
            sqlite3_extended_result_codes(reader, 1);
            sqlite3_busy_timeout(reader, static_cast<int>(busy_timeout_ms));
            db->add_reader(reader);
        }
    }
    return db;
}

}  // namespace facefuse::tasks
