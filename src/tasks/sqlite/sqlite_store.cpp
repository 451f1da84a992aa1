// SqliteTaskStore: task records, idempotency keys, tenant-scoped reads, compare-and-set.
//
// Every read-modify-write (create with its key, transition, request_cancel, expire) is one
// IMMEDIATE transaction: the write lock is taken before the row is read, so the check and the
// change are atomic across threads and processes alike. That is what makes "of 100 concurrent
// creates with one key exactly one creates" and "of two workers finishing one task exactly one
// wins" hold without any further locking.
//
// Tenant scoping is part of each query (WHERE tenant = ?), so another tenant's task is simply not
// found. List paging is keyset paging on the (tenant, created_at_ms DESC, id DESC) index: the
// cursor carries the last row's (created_at_ms, id), and the next page starts strictly after it,
// so pages neither skip nor repeat rows when tasks are created between two requests.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "tasks/page_cursor.hpp"
#include "tasks/sqlite/sqlite_backend.hpp"
#include "tasks/sqlite/sqlite_db.hpp"

namespace facefuse::tasks {
namespace {

// Column order = bind order (?1..?24) = read order (0..23).
constexpr const char* kColumns =
    "id, tenant, kind, priority, state, attempts, max_attempts, options_json, source_key, "
    "target_key, result_key, result_content_type, idempotency_key, request_hash, progress, "
    "cancel_requested, error_code, error_message, created_at_ms, updated_at_ms, started_at_ms, "
    "finished_at_ms, expires_at_ms, moderation";

const std::string& select_sql() {
    static const std::string sql = std::string("SELECT ") + kColumns + " FROM tasks ";
    return sql;
}

const std::string& insert_sql() {
    static const std::string sql =
        std::string("INSERT INTO tasks (") + kColumns +
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
        "?18, ?19, ?20, ?21, ?22, ?23, ?24)";
    return sql;
}

// An update sets only the columns a change may alter. tenant and created_at_ms never change
// (transition() restores them), and expires_at_ms is set only when it did change: SQLite
// rewrites the entries of every index whose columns appear in SET, even with equal values, and
// those two indexes were two of the three pages (and WAL frames) a worker's state change wrote.
// bind_task() binds ?2 and ?19 as well; a statement that does not use them ignores them.
constexpr const char* kUpdateColumnsSql =
    "UPDATE tasks SET kind = ?3, priority = ?4, state = ?5, attempts = ?6, "
    "max_attempts = ?7, options_json = ?8, source_key = ?9, target_key = ?10, result_key = ?11, "
    "result_content_type = ?12, idempotency_key = ?13, request_hash = ?14, progress = ?15, "
    "cancel_requested = ?16, error_code = ?17, error_message = ?18, "
    "updated_at_ms = ?20, started_at_ms = ?21, finished_at_ms = ?22, moderation = ?24 ";
const std::string& update_sql(bool expiry_changed) {
    static const std::string keeping_expiry = std::string(kUpdateColumnsSql) + "WHERE id = ?1";
    static const std::string with_expiry =
        std::string(kUpdateColumnsSql) + ", expires_at_ms = ?23 WHERE id = ?1";
    return expiry_changed ? with_expiry : keeping_expiry;
}

void bind_task(Stmt& stmt, const Task& task) {
    stmt.bind(1, task.id)
        .bind(2, task.tenant)
        .bind(3, task.kind)
        .bind(4, priority_name(task.priority))
        .bind(5, state_name(task.state))
        .bind(6, task.attempts)
        .bind(7, task.max_attempts)
        .bind(8, task.options_json)
        .bind(9, task.source_key)
        .bind(10, task.target_key)
        .bind(11, task.result_key)
        .bind(12, task.result_content_type)
        .bind(13, task.idempotency_key)
        .bind(14, task.request_hash)
        .bind(15, task.progress)
        .bind(16, task.cancel_requested ? 1 : 0)
        .bind(19, task.created_at_ms)
        .bind(20, task.updated_at_ms)
        .bind(21, task.started_at_ms)
        .bind(22, task.finished_at_ms)
        .bind(23, task.expires_at_ms)
        .bind(24, task.moderation);
    if (task.error) {
        stmt.bind(17, task.error->code).bind(18, task.error->message);
    } else {
        stmt.bind_null(17).bind_null(18);
    }
}

Result<Task> read_task(const Stmt& stmt) {
    Task task;
    task.id = stmt.text_at(0);
    task.tenant = stmt.text_at(1);
    task.kind = stmt.text_at(2);
    const auto priority = parse_priority(stmt.text_at(3));
    const auto state = parse_state(stmt.text_at(4));
    if (!priority || !state)
        return make_error(ErrorCode::kInternal, "task " + task.id + " has an unknown priority (" +
                                                    stmt.text_at(3) + ") or state (" +
                                                    stmt.text_at(4) + ") in the database");
    task.priority = *priority;
    task.state = *state;
    task.attempts = static_cast<int>(stmt.int_at(5));
    task.max_attempts = static_cast<int>(stmt.int_at(6));
    task.options_json = stmt.text_at(7);
    task.source_key = stmt.text_at(8);
    task.target_key = stmt.text_at(9);
    task.result_key = stmt.text_at(10);
    task.result_content_type = stmt.text_at(11);
    task.idempotency_key = stmt.text_at(12);
    task.request_hash = stmt.text_at(13);
    task.progress = stmt.double_at(14);
    task.cancel_requested = stmt.int_at(15) != 0;
    if (!stmt.is_null(16)) task.error = TaskError{stmt.text_at(16), stmt.text_at(17)};
    task.created_at_ms = stmt.int_at(18);
    task.updated_at_ms = stmt.int_at(19);
    task.started_at_ms = stmt.int_at(20);
    task.finished_at_ms = stmt.int_at(21);
    task.expires_at_ms = stmt.int_at(22);
    task.moderation = stmt.text_at(23);
    return task;
}

// Runs a SELECT of task rows and reads them all.
Result<std::vector<Task>> read_all(Stmt& stmt) {
    std::vector<Task> tasks;
    while (true) {
        auto row = stmt.step();
        if (!row) return row.error();
        if (!*row) return tasks;
        auto task = read_task(stmt);
        if (!task) return task.error();
        tasks.push_back(std::move(task.value()));
    }
}

// The task with `id`, if it belongs to `tenant` (empty: any); an empty id when there is none.
Result<Task> find(SqliteConn& conn, const std::string& tenant, const std::string& id) {
    auto stmt =
        conn.prepare(select_sql() + "WHERE id = ?1 AND (?2 = '' OR tenant = ?2)", "read a task");
    if (!stmt) return stmt.error();
    auto rows = read_all(stmt->bind(1, id).bind(2, tenant));
    if (!rows) return rows.error();
    return rows->empty() ? Task{} : std::move(rows->front());
}

Error not_found(const std::string& id) {
    return make_error(ErrorCode::kNotFound, "there is no task " + id);
}

// Stores `task` over `before`, the row as read in the same transaction.
Status update(SqliteConn& conn, const Task& before, const Task& task) {
    auto stmt =
        conn.prepare(update_sql(task.expires_at_ms != before.expires_at_ms), "store a task");
    if (!stmt) return stmt.error();
    bind_task(*stmt, task);
    return stmt->run();
}

std::string state_list(const std::vector<TaskState>& states) {
    std::string out;
    for (size_t i = 0; i < states.size(); ++i)
        out += (i == 0                   ? ""
                : i + 1 == states.size() ? " or "
                                         : ", ") +
               std::string(state_name(states[i]));
    return out.empty() ? "(no state)" : out;
}

}  // namespace

SqliteTaskStore::SqliteTaskStore(std::shared_ptr<SqliteDatabase> db,
                                 std::shared_ptr<SqliteTaskQueue> queue)
    : db_(std::move(db)), queue_(std::move(queue)) {}

Result<Created> SqliteTaskStore::create(const Task& input, std::int64_t key_expires_at_ms) {
    if (queue_ && queue_->db_ != db_)
        return make_error(ErrorCode::kUsage,
                          "a task store enqueues only into a queue on its own database");
    const bool enqueue = queue_ && input.state == TaskState::kQueued;
    auto created = db_->write("create a task", [&](SqliteConn& conn) -> Result<Created> {
        const std::int64_t now = db_->now_ms();
        const std::string& key = input.idempotency_key;
        if (!key.empty()) {
            auto stmt = conn.prepare(
                "SELECT request_hash, task_id FROM idempotency_keys "
                "WHERE tenant = ?1 AND key = ?2 AND expires_ms > ?3",
                "check an idempotency key");
            if (!stmt) return stmt.error();
            auto row = stmt->bind(1, input.tenant).bind(2, key).bind(3, now).step();
            if (!row) return row.error();
            if (*row) {  // a live key; an expired one counts as absent and is replaced below
                if (stmt->text_at(0) != input.request_hash)
                    return make_error(ErrorCode::kIdempotencyConflict,
                                      "Idempotency-Key '" + key +
                                          "' was already used for a different request; send a "
                                          "new key for a new request");
                const std::string task_id = stmt->text_at(1);
                auto earlier = find(conn, input.tenant, task_id);
                if (!earlier) return earlier.error();
                if (!earlier->id.empty()) return Created{std::move(earlier.value()), true};
            }
        }
        Task task = input;
        if (task.id.empty()) task.id = new_task_id();
        if (task.created_at_ms == 0) task.created_at_ms = now;
        task.updated_at_ms = now;
        auto insert = conn.prepare(insert_sql(), "create a task");
        if (!insert) return insert.error();
        bind_task(*insert, task);
        if (Status inserted = insert->run(); !inserted.ok()) return inserted.error();
        if (!key.empty()) {
            auto remember = conn.prepare(
                "INSERT OR REPLACE INTO idempotency_keys "
                "(tenant, key, request_hash, task_id, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                "store an idempotency key");
            if (!remember) return remember.error();
            Status stored = remember->bind(1, task.tenant)
                                .bind(2, key)
                                .bind(3, task.request_hash)
                                .bind(4, task.id)
                                .bind(5, key_expires_at_ms)
                                .run();
            if (!stored.ok()) return stored.error();
        }
        // In the same transaction: a crash cannot leave a record no worker will run, and a
        // full lane (kQueueFull) undoes the insert and the key, so a retry with the same key
        // creates the task then.
        if (enqueue) {
            if (Status queued = queue_->enqueue_in(conn, task.id, task.priority, 0); !queued.ok())
                return queued.error();
        }
        return Created{std::move(task), false, enqueue};
    });
    if (created && created->enqueued) db_->signal_work();
    return created;
}

Result<Task> SqliteTaskStore::get(const std::string& tenant, const std::string& id) {
    return db_->read("read a task", [&](SqliteConn& conn) -> Result<Task> {
        auto task = find(conn, tenant, id);
        if (task && task->id.empty()) return not_found(id);
        return task;
    });
}

Result<Task> SqliteTaskStore::transition(const std::string& id, std::vector<TaskState> from,
                                         const std::function<void(Task&)>& change) {
    return db_->write("change task " + id, [&](SqliteConn& conn) -> Result<Task> {
        auto current = find(conn, "", id);
        if (!current) return current.error();
        if (current->id.empty()) return not_found(id);
        const TaskState was = current->state;
        if (std::find(from.begin(), from.end(), was) == from.end())
            return make_error(
                ErrorCode::kConflict,
                "task " + id + " is " + std::string(state_name(was)) + ", not " + state_list(from));
        Task next = *current;
        change(next);
        next.id = current->id;  // identity is not the change's to alter
        next.tenant = current->tenant;
        next.created_at_ms = current->created_at_ms;
        if (!can_transition(was, next.state))
            return make_error(ErrorCode::kConflict,
                              "task " + id + " is " + std::string(state_name(was)) +
                                  " and cannot become " + std::string(state_name(next.state)));
        const std::int64_t now = db_->now_ms();
        next.updated_at_ms = now;
        if (next.state == TaskState::kRunning && next.started_at_ms == current->started_at_ms)
            next.started_at_ms = now;
        if (is_terminal(next.state) && next.finished_at_ms == 0) next.finished_at_ms = now;
        if (Status stored = update(conn, *current, next); !stored.ok()) return stored.error();
        return next;
    });
}

Status SqliteTaskStore::set_progress(const std::string& id, double progress) {
    const double clamped = std::isnan(progress) ? 0.0 : std::clamp(progress, 0.0, 1.0);
    return db_->write("report progress", [&](SqliteConn& conn) -> Status {
        auto stmt = conn.prepare(
            "UPDATE tasks SET progress = ?2, updated_at_ms = ?3 "
            "WHERE id = ?1 AND state = 'running'",
            "report progress");
        if (!stmt) return stmt.error();
        return stmt->bind(1, id).bind(2, clamped).bind(3, db_->now_ms()).run();
    });
}

Result<Task> SqliteTaskStore::request_cancel(const std::string& tenant, const std::string& id) {
    return db_->write("cancel task " + id, [&](SqliteConn& conn) -> Result<Task> {
        auto task = find(conn, tenant, id);
        if (!task) return task.error();
        if (task->id.empty()) return not_found(id);
        if (is_terminal(task->state) || task->cancel_requested) return task;
        task->cancel_requested = true;
        task->updated_at_ms = db_->now_ms();
        auto stmt =
            conn.prepare("UPDATE tasks SET cancel_requested = 1, updated_at_ms = ?2 WHERE id = ?1",
                         "cancel a task");
        if (!stmt) return stmt.error();
        if (Status stored = stmt->bind(1, task->id).bind(2, task->updated_at_ms).run();
            !stored.ok())
            return stored.error();
        return task;
    });
}

Result<Page> SqliteTaskStore::list(const std::string& tenant, int limit,
                                   const std::string& cursor) {
    if (limit < 1)
        return make_error(ErrorCode::kUsage,
                          "a page holds at least 1 task, not " + std::to_string(limit));
    std::int64_t after_created = 0;
    std::string after_id;
    if (!cursor.empty() && !decode_page_cursor(cursor, after_created, after_id))
        return make_error(ErrorCode::kUsage,
                          "the cursor is not one this server returned; pass next_cursor from the "
                          "previous page unchanged, or none for the first page");
    return db_->read("list tasks", [&](SqliteConn& conn) -> Result<Page> {
        const std::string order = "ORDER BY created_at_ms DESC, id DESC LIMIT ?2";
        auto stmt = conn.prepare(
            select_sql() + "WHERE tenant = ?1 " +
                (cursor.empty() ? ""
                                : "AND (created_at_ms < ?3 OR (created_at_ms = ?3 AND id < ?4)) ") +
                order,
            "list tasks");
        if (!stmt) return stmt.error();
        stmt->bind(1, tenant).bind(2, static_cast<std::int64_t>(limit) + 1);
        if (!cursor.empty()) stmt->bind(3, after_created).bind(4, after_id);
        auto rows = read_all(*stmt);
        if (!rows) return rows.error();
        Page page;
        page.tasks = std::move(rows.value());
        if (page.tasks.size() > static_cast<size_t>(limit)) {
            page.tasks.resize(static_cast<size_t>(limit));
            page.next_cursor =
                encode_page_cursor(page.tasks.back().created_at_ms, page.tasks.back().id);
        }
        return page;
    });
}

Result<std::vector<Task>> SqliteTaskStore::expire(std::int64_t now_ms, int max) {
    if (max < 1) return std::vector<Task>{};
    return db_->write("expire tasks", [&](SqliteConn& conn) -> Result<std::vector<Task>> {
        auto select = conn.prepare(select_sql() +
                                       "WHERE expires_at_ms > 0 AND expires_at_ms <= ?1 "
                                       "ORDER BY expires_at_ms LIMIT ?2",
                                   "expire tasks");
        if (!select) return select.error();
        auto expired = read_all(select->bind(1, now_ms).bind(2, max));
        if (!expired) return expired.error();
        for (const Task& task : *expired) {
            // The task's idempotency key goes by ON DELETE CASCADE.
            for (const char* sql : {"DELETE FROM queue WHERE task_id = ?1",
                                    "DELETE FROM dead_letters WHERE task_id = ?1",
                                    "DELETE FROM tasks WHERE id = ?1"}) {
                auto stmt = conn.prepare(sql, "expire tasks");
                if (!stmt) return stmt.error();
                if (Status gone = stmt->bind(1, task.id).run(); !gone.ok()) return gone.error();
            }
        }
        // Keys that outlived their own expiry (their task may live on) are dead weight.
        auto keys = conn.prepare(
            "DELETE FROM idempotency_keys WHERE (tenant, key) IN (SELECT tenant, key FROM "
            "idempotency_keys WHERE expires_ms <= ?1 LIMIT ?2)",
            "expire idempotency keys");
        if (!keys) return keys.error();
        if (Status purged = keys->bind(1, db_->now_ms()).bind(2, max).run(); !purged.ok())
            return purged.error();
        return expired;
    });
}

Result<std::int64_t> SqliteTaskStore::count_queued(const std::string& tenant) {
    return db_->read(
        "count a tenant's queued tasks", [&](SqliteConn& conn) -> Result<std::int64_t> {
            // Kept by triggers (schema v2, sqlite_schema.cpp).
            auto stmt = conn.prepare("SELECT queued FROM tenant_queued WHERE tenant = ?1",
                                     "count a tenant's queued tasks");
            if (!stmt) return stmt.error();
            auto row = stmt->bind(1, tenant).step();
            if (!row) return row.error();
            return *row ? stmt->int_at(0) : std::int64_t{0};
        });
}

}  // namespace facefuse::tasks
