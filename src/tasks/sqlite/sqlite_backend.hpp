#pragma once
// The embedded shape's task backend: TaskQueue and TaskStore over one SQLite database file.
//
// One file holds everything `facefuse serve` must not lose: the task records, the queue, the
// idempotency keys and the dead letters. Keeping them in one database means a create and its
// idempotency key, or an expiry and the queue rows it leaves behind, commit together.
//
// Schema (version 3, kept in PRAGMA user_version; see sqlite_schema.cpp; v2 added tasks.moderation
// and per-tenant queued counts, v3 per-lane waiting counts):
//   tasks             one row per Task, every field (options_json, error code and message, the
//                     five timestamps). Index (tenant, created_at_ms DESC, id DESC) serves list()
//                     and its cursor; index expires_at_ms serves expire().
//   tenant_queued     tenant -> how many of its tasks are queued, kept by triggers on tasks
//                     (v2), for per-tenant quotas.
//   idempotency_keys  (tenant, key) -> request_hash, task_id, expires_ms. The primary key makes
//                     "one key, one task" a database constraint; task_id cascades on delete, so
//                     an expired task takes its key with it. Keys past expires_ms count as absent.
//   queue             one row per enqueued task: priority lane, not_before_ms, the lease
//                     (leased_by, lease_token, lease_expires_ms), deliveries, enqueued_ms. A row is
//                     runnable when not_before_ms <= now and it is unleased or its lease expired.
//   dead_letters      task_id, priority, reason, deliveries, worker, dead_at_ms: why a task
//                     gave up.
//   lane_waiting      priority -> unleased queue rows, kept by triggers on queue (v3), for the
//                     lane bound enqueue() checks.
//
// Leases are rows, not locks: lease() stamps a row with a fresh random token and an expiry in
// one IMMEDIATE transaction. A worker that dies simply stops renewing, and once the expiry passes
// the row is runnable again (at-least-once delivery); the new token makes every later heartbeat,
// ack or retry of the dead worker fail with kLeaseLost, so it cannot touch the new holder's run.
//
// Weighted share: each SqliteTaskQueue cycles a counter through a 12-slot schedule (8 vip,
// 3 normal, 1 batch, interleaved). A slot prefers its own lane and falls back to the others in
// priority order, so an idle lane's share goes to the rest and batch gets at least one lease in
// twelve while it has work: it never starves behind a flood of vip tasks.
//
// Durability: WAL journal with synchronous=NORMAL. Every committed transaction survives the
// process being killed at any point (the WAL is in the OS page cache and is replayed on the next
// open); an OS crash or power loss can roll back the last few commits but never corrupts the
// file. Leases held by a killed process expire by themselves; a single-process server can hand
// them back at once at start-up with SqliteTaskQueue::release_all_leases().
//
// Concurrency: each SqliteDatabase is one connection guarded by a mutex (all methods of the
// queue and store are thread-safe). Several processes (or several SqliteDatabase objects on one
// file) coordinate through SQLite's file locks: writes are IMMEDIATE transactions that wait up to
// busy_timeout for the write lock, and give kUnavailable after that. Nothing here throws.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "tasks/queue.hpp"
#include "tasks/store.hpp"

namespace facefuse::tasks {

struct SqliteOptions {
    // The clock (ms since the epoch) for lease expiry, not_before, updated_at_ms and key and
    // record expiry. Empty: the system clock. Tests inject a fake one and never sleep. Called
    // from any thread, so it must be thread-safe.
    std::function<std::int64_t()> now_ms;
    // How long a write waits for another process's write lock before giving kUnavailable.
    std::chrono::milliseconds busy_timeout{5000};
};

// One open database file (a connection plus the in-process wake-up of waiting lease() calls).
// Shared by the queue and the store; closed when the last shared_ptr goes. Defined in
// sqlite_db.hpp, which only the backend's own files include.
class SqliteDatabase;
class SqliteConn;

// Opens (creating if needed) the database at `path` and brings its schema to the current
// version. Errors: kUnavailable if the file cannot be opened or locked (message names the path),
// or if it was written by a newer facefuse (schema version above ours).
Result<std::shared_ptr<SqliteDatabase>> open_sqlite(const std::string& path,
                                                    SqliteOptions options = {});

struct SqliteQueueOptions {
    // Bound on the waiting (not leased) tasks of each lane, indexed by Priority; enqueue beyond
    // it gives kQueueFull. A task already admitted is never refused: retry() and expired
    // leases put tasks back even into a full lane (which may then briefly exceed its bound).
    // The bound counts unleased rows (kept by triggers, O(1)); a task whose lease expired
    // counts again once it is leased anew or retried -- depth() counts it at once.
    std::array<std::int64_t, kPriorityCount> max_depth{10000, 10000, 10000};
    // How often a waiting lease() looks for work enqueued by other processes. Enqueues by this
    // process (through any queue on the same SqliteDatabase) wake it at once.
    std::chrono::milliseconds poll_interval{25};
};

class SqliteTaskQueue final : public TaskQueue {
  public:
    explicit SqliteTaskQueue(std::shared_ptr<SqliteDatabase> db, SqliteQueueOptions options = {});

    // Enqueueing a task that is already in the queue changes nothing and is not an error.
    Status enqueue(const std::string& task_id, Priority priority,
                   std::int64_t not_before_ms) override;
    // kUsage if max < 1 or lease_for <= 0. `wait` is real time (it bounds how long the call
    // blocks); lease expiry uses the injected clock.
    Result<std::vector<Lease>> lease(const std::string& worker_id, int max,
                                     std::chrono::milliseconds lease_for,
                                     std::chrono::milliseconds wait) override;
    // kLeaseLost if the lease has expired (even if no one has taken the task yet: from its
    // expiry on the task may be running elsewhere), was re-leased, or the task left the queue.
    Status heartbeat(Lease& lease, std::chrono::milliseconds lease_for) override;
    // ack, retry and dead_letter: kLeaseLost if the task was leased again by someone else or
    // left the queue. A lease that expired but was not taken yet still counts as held.
    Status ack(const Lease& lease) override;
    // Deliveries restart: the next lease has deliveries == 1 (more only after lost leases).
    Status retry(const Lease& lease, std::int64_t not_before_ms) override;
    Status dead_letter(const Lease& lease, const std::string& reason) override;
    // Waiting tasks: unleased or with an expired lease, runnable now or delayed.
    Result<std::int64_t> depth(Priority priority) override;
    // Removes the task if it is waiting (unleased or lease expired); `priority` is not needed.
    Status remove(const std::string& task_id, Priority priority) override;

    // Makes every leased task runnable at once, whoever holds it; returns how many. For a
    // single-process server at start-up, before its workers start: the leases left in the file
    // are all from its own previous run, which is dead, so waiting out their expiry only delays
    // those tasks. Never call it while other processes work on the same file: it would hand
    // their running tasks out a second time.
    Result<std::int64_t> release_all_leases();

  private:
    friend class SqliteTaskStore;  // create() enqueues in its own transaction
    // enqueue()'s work inside a transaction the caller holds; the caller signals waiting
    // lease() calls once it has committed.
    Status enqueue_in(SqliteConn& conn, const std::string& task_id, Priority priority,
                      std::int64_t not_before_ms) const;
    Result<std::vector<Lease>> try_lease(const std::string& worker_id, int max,
                                         std::chrono::milliseconds lease_for);

    std::shared_ptr<SqliteDatabase> db_;
    SqliteQueueOptions options_;
    std::atomic<std::uint64_t> slot_{0};  // position in the weighted-share schedule
    // Whether the last lease found work. While it does, lease() skips its read-only look: that
    // look only spares an idle queue the write lock, and under load it was one more transaction
    // a task.
    std::atomic<bool> found_work_{false};
};

class SqliteTaskStore final : public TaskStore {
  public:
    // With `queue` (a queue on the same database), create() enqueues a new queued task in its
    // own transaction (Created::enqueued). kUsage from create() if `queue` is on another database.
    explicit SqliteTaskStore(std::shared_ptr<SqliteDatabase> db,
                             std::shared_ptr<SqliteTaskQueue> queue = nullptr);

    // An empty task.id gets a new_task_id(); created_at_ms 0 becomes now; updated_at_ms is set
    // to now. kConflict if a task with that id exists. With a queue: kQueueFull, nothing stored,
    // when the task's lane is full.
    Result<Created> create(const Task& task, std::int64_t key_expires_at_ms) override;
    Result<Task> get(const std::string& tenant, const std::string& id) override;
    // kNotFound if there is no such task. The change may not move the task: id, tenant and
    // created_at_ms keep their stored values. updated_at_ms becomes now; started_at_ms becomes
    // now on entering running if the change left it as it was, and finished_at_ms on entering a
    // terminal state if the change left it 0. A change that throws gives kInternal, nothing stored.
    // The change runs inside the transaction, holding the connection: it must be quick and must
    // not call this store or a queue on the same database (that would deadlock).
    Result<Task> transition(const std::string& id, std::vector<TaskState> from,
                            const std::function<void(Task&)>& change) override;
    // Progress is clamped to 0..1 and stored only while the task is running.
    Status set_progress(const std::string& id, double progress) override;
    // A finished task is returned unchanged (terminal records never change).
    Result<Task> request_cancel(const std::string& tenant, const std::string& id) override;
    // kUsage if limit < 1 or the cursor is not one that list() returned.
    Result<Page> list(const std::string& tenant, int limit, const std::string& cursor) override;
    // Oldest expiry first. expires_at_ms == 0 means "never expires". Also deletes the expired
    // tasks' idempotency keys, queue rows and dead letters, and up to `max` idempotency keys
    // past their own expiry.
    Result<std::vector<Task>> expire(std::int64_t now_ms, int max) override;
    Result<std::int64_t> count_queued(const std::string& tenant) override;

  private:
    std::shared_ptr<SqliteDatabase> db_;
    std::shared_ptr<SqliteTaskQueue> queue_;
};

}  // namespace facefuse::tasks
