// SqliteTaskQueue: the queue table as a leased, prioritised, bounded work queue.
//
// A row's life: enqueue() inserts it with not_before_ms = max(not_before, now), so that column
// is "runnable since" and ordering a lane by (not_before_ms, enqueued_ms) is first-ready,
// first-served. lease() stamps it with a worker, a fresh random token and an expiry, and counts
// the delivery. While the worker works, heartbeat() pushes the expiry on; ack() deletes the row;
// retry() clears the lease and sets a later not_before_ms; dead_letter() moves it into
// dead_letters. If none of these comes the expiry passes, the row is runnable again and the next
// lease() hands it out with deliveries + 1 and a new token, which the old holder no longer
// matches (kLeaseLost). There is no reclaim sweep: expiry is checked in the lease query itself.
//
// Picking, inside one IMMEDIATE transaction (so two workers, threads or processes, can never
// take the same row): for each task wanted, the schedule slot names a lane; the oldest runnable
// row of that lane is taken, or else of the first non-empty lane in priority order. The slot
// counter advances only when a task is leased, so the 8:3:1 share is a share of leases made.
//
// Waiting: lease() first looks with a plain read (no write lock, so idle workers polling an
// empty queue do not contend with writers; skipped while the last lease found work, when the
// look would only cost one more transaction), and when nothing is runnable waits on the
// database's condition variable, which every enqueue and retry through the same SqliteDatabase
// signals, for at most poll_interval: the interval is how soon work from other processes, or a
// delayed task coming due, is noticed. It never spins.
#include <algorithm>
#include <array>

#include "tasks/sqlite/sqlite_backend.hpp"
#include "tasks/sqlite/sqlite_db.hpp"

namespace facefuse::tasks {
namespace {

constexpr Priority kV = Priority::kVip, kN = Priority::kNormal, kB = Priority::kBatch;
// 8 vip, 3 normal, 1 batch, spread out so no lane waits a whole cycle for its turn.
constexpr std::array<Priority, 12> kSchedule = {kV, kN, kV, kV, kB, kV, kV, kN, kV, kV, kN, kV};

// "Waiting" = not held: unleased, or its lease has expired. ?2 is now.
constexpr const char* kCountWaiting =
    "SELECT COUNT(*) FROM queue WHERE priority = ?1 "
    "AND (lease_token IS NULL OR lease_expires_ms <= ?2)";
constexpr const char* kAnyRunnable =
    "SELECT 1 FROM queue WHERE priority IN (0, 1, 2) AND not_before_ms <= ?1 "
    "AND (lease_token IS NULL OR lease_expires_ms <= ?1) LIMIT 1";
constexpr const char* kOldestRunnable =
    "SELECT task_id, deliveries FROM queue WHERE priority = ?1 AND not_before_ms <= ?2 "
    "AND (lease_token IS NULL OR lease_expires_ms <= ?2) "
    "ORDER BY not_before_ms, enqueued_ms LIMIT 1";

int lane(Priority priority) {
    return static_cast<int>(priority);
}

bool valid(Priority priority) {
    return lane(priority) >= 0 && lane(priority) < kPriorityCount;
}

Error bad_priority(Priority priority) {
    return make_error(ErrorCode::kUsage, "priority " + std::to_string(lane(priority)) +
                                             " is not vip, normal or batch");
}

Error lease_lost(const Lease& lease) {
    return make_error(ErrorCode::kLeaseLost,
                      "the lease on task " + lease.task_id +
                          " was lost (it expired, the task was leased again, or it left the "
                          "queue); stop working on it and do not write its state");
}

Error bad_lease_for() {
    return make_error(ErrorCode::kUsage, "a lease must last longer than 0 ms");
}

Result<std::int64_t> count_waiting(SqliteConn& conn, Priority priority, std::int64_t now) {
    auto stmt = conn.prepare(kCountWaiting, "count waiting tasks");
    if (!stmt) return stmt.error();
    auto row = stmt->bind(1, lane(priority)).bind(2, now).step();
    if (!row) return row.error();
    return stmt->int_at(0);
}

// The lane's unleased rows, as the triggers of schema v3 count them: O(1) whatever the depth.
Result<std::int64_t> unleased(SqliteConn& conn, Priority priority) {
    auto stmt = conn.prepare("SELECT waiting FROM lane_waiting WHERE priority = ?1", "count waiting tasks");
    if (!stmt) return stmt.error();
    auto row = stmt->bind(1, lane(priority)).step();
    if (!row) return row.error();
    return *row ? stmt->int_at(0) : 0;
}

struct Picked {
    std::string task_id;
    Priority priority = Priority::kNormal;
    int deliveries = 0;
};

// The lanes a schedule slot tries: its own, then the others in priority order.
std::array<Priority, kPriorityCount> lane_order(Priority preferred) {
    switch (preferred) {
        case Priority::kNormal:
            return {kN, kV, kB};
        case Priority::kBatch:
            return {kB, kV, kN};
        default:
            return {kV, kN, kB};
    }
}

// The oldest runnable row, preferring `preferred`'s lane; an empty id when nothing is runnable.
Result<Picked> pick(SqliteConn& conn, Priority preferred, std::int64_t now) {
    for (Priority candidate : lane_order(preferred)) {
        auto stmt = conn.prepare(kOldestRunnable, "lease tasks");
        if (!stmt) return stmt.error();
        auto row = stmt->bind(1, lane(candidate)).bind(2, now).step();
        if (!row) return row.error();
        if (*row) return Picked{stmt->text_at(0), candidate, static_cast<int>(stmt->int_at(1))};
    }
    return Picked{};
}

}  // namespace

SqliteTaskQueue::SqliteTaskQueue(std::shared_ptr<SqliteDatabase> db, SqliteQueueOptions options)
    : db_(std::move(db)), options_(options) {
    if (options_.poll_interval.count() < 1) options_.poll_interval = std::chrono::milliseconds(1);
}

Status SqliteTaskQueue::enqueue(const std::string& task_id, Priority priority,
                                std::int64_t not_before_ms) {
    if (!valid(priority)) return bad_priority(priority);
    Status done = db_->write("enqueue task " + task_id, [&](SqliteConn& conn) -> Status {
        return enqueue_in(conn, task_id, priority, not_before_ms);
    });
    if (done.ok()) db_->signal_work();
    return done;
}

Status SqliteTaskQueue::enqueue_in(SqliteConn& conn, const std::string& task_id, Priority priority,
                                   std::int64_t not_before_ms) const {
    if (!valid(priority)) return bad_priority(priority);
    const std::int64_t now = db_->now_ms();
    auto existing = conn.prepare("SELECT 1 FROM queue WHERE task_id = ?1", "enqueue a task");
    if (!existing) return existing.error();
    auto found = existing->bind(1, task_id).step();
    if (!found) return found.error();
    if (*found) return Status::Ok();  // already queued: enqueue is idempotent

    auto waiting = unleased(conn, priority);
    if (!waiting) return waiting.error();
    const std::int64_t bound = options_.max_depth[static_cast<size_t>(lane(priority))];
    if (*waiting >= bound)
        return make_error(ErrorCode::kQueueFull, "the " + std::string(priority_name(priority)) +
                                                     " queue is full (" + std::to_string(bound) +
                                                     " tasks waiting); retry after a while");

    auto insert = conn.prepare(
        "INSERT INTO queue (task_id, priority, not_before_ms, enqueued_ms) "
        "VALUES (?1, ?2, ?3, ?4)",
        "enqueue a task");
    if (!insert) return insert.error();
    return insert->bind(1, task_id)
        .bind(2, lane(priority))
        .bind(3, std::max(not_before_ms, now))
        .bind(4, now)
        .run();
}

Result<std::vector<Lease>> SqliteTaskQueue::lease(const std::string& worker_id, int max,
                                                  std::chrono::milliseconds lease_for,
                                                  std::chrono::milliseconds wait) {
    if (max < 1)
        return make_error(ErrorCode::kUsage, "lease at least 1 task, not " + std::to_string(max));
    if (lease_for.count() <= 0) return bad_lease_for();
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::max(wait, std::chrono::milliseconds(0));
    while (true) {
        const std::uint64_t seen = db_->work_generation();  // before looking: no lost wake-up
        auto leased = try_lease(worker_id, max, lease_for);
        if (!leased || !leased->empty()) return leased;
        const auto now = Clock::now();
        if (now >= deadline) return leased;
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
        db_->wait_for_work(seen, std::min(left, options_.poll_interval));
    }
}

Result<std::vector<Lease>> SqliteTaskQueue::try_lease(const std::string& worker_id, int max,
                                                      std::chrono::milliseconds lease_for) {
    if (!found_work_.load(std::memory_order_relaxed)) {
        auto any = db_->read("look for runnable tasks", [&](SqliteConn& conn) -> Result<bool> {
            auto stmt = conn.prepare(kAnyRunnable, "look for runnable tasks");
            if (!stmt) return stmt.error();
            return stmt->bind(1, db_->now_ms()).step();
        });
        if (!any) return any.error();
        if (!*any) return std::vector<Lease>{};
    }

    auto leased = db_->write("lease tasks", [&](SqliteConn& conn) -> Result<std::vector<Lease>> {
        const std::int64_t now = db_->now_ms();
        std::vector<Lease> leases;
        while (static_cast<int>(leases.size()) < max) {
            const Priority preferred = kSchedule[slot_.load() % kSchedule.size()];
            auto picked = pick(conn, preferred, now);
            if (!picked) return picked.error();
            if (picked->task_id.empty()) break;
            Lease lease;
            lease.task_id = std::move(picked->task_id);
            lease.priority = picked->priority;
            lease.token = new_task_id();  // 128 random bits; throws only without an OS CSPRNG
            lease.expires_at_ms = now + lease_for.count();
            lease.deliveries = picked->deliveries + 1;
            auto update = conn.prepare(
                "UPDATE queue SET leased_by = ?2, lease_token = ?3, lease_expires_ms = ?4, "
                "deliveries = deliveries + 1 WHERE task_id = ?1",
                "lease tasks");
            if (!update) return update.error();
            Status stamped = update->bind(1, lease.task_id)
                                 .bind(2, worker_id)
                                 .bind(3, lease.token)
                                 .bind(4, lease.expires_at_ms)
                                 .run();
            if (!stamped.ok()) return stamped.error();
            slot_.fetch_add(1);
            leases.push_back(std::move(lease));
        }
        return leases;
    });
    if (leased) found_work_.store(!leased->empty(), std::memory_order_relaxed);
    return leased;
}

Status SqliteTaskQueue::heartbeat(Lease& lease, std::chrono::milliseconds lease_for) {
    if (lease_for.count() <= 0) return bad_lease_for();
    std::int64_t expires = 0;
    Status renewed = db_->write("renew a lease", [&](SqliteConn& conn) -> Status {
        const std::int64_t now = db_->now_ms();
        expires = now + lease_for.count();
        auto stmt = conn.prepare(
            "UPDATE queue SET lease_expires_ms = ?3 "
            "WHERE task_id = ?1 AND lease_token = ?2 AND lease_expires_ms > ?4",
            "renew a lease");
        if (!stmt) return stmt.error();
        Status run =
            stmt->bind(1, lease.task_id).bind(2, lease.token).bind(3, expires).bind(4, now).run();
        if (!run.ok()) return run;
        return conn.changes() == 0 ? Status(lease_lost(lease)) : Status::Ok();
    });
    if (renewed.ok()) lease.expires_at_ms = expires;
    return renewed;
}

Status SqliteTaskQueue::ack(const Lease& lease) {
    return db_->write("acknowledge a task", [&](SqliteConn& conn) -> Status {
        auto stmt = conn.prepare("DELETE FROM queue WHERE task_id = ?1 AND lease_token = ?2",
                                 "acknowledge a task");
        if (!stmt) return stmt.error();
        Status run = stmt->bind(1, lease.task_id).bind(2, lease.token).run();
        if (!run.ok()) return run;
        return conn.changes() == 0 ? Status(lease_lost(lease)) : Status::Ok();
    });
}

Status SqliteTaskQueue::retry(const Lease& lease, std::int64_t not_before_ms) {
    Status done = db_->write("put a task back", [&](SqliteConn& conn) -> Status {
        auto stmt = conn.prepare(
            "UPDATE queue SET leased_by = NULL, lease_token = NULL, lease_expires_ms = 0, "
            "deliveries = 0, not_before_ms = ?3 WHERE task_id = ?1 AND lease_token = ?2",
            "put a task back");
        if (!stmt) return stmt.error();
        Status run = stmt->bind(1, lease.task_id)
                         .bind(2, lease.token)
                         .bind(3, std::max(not_before_ms, db_->now_ms()))
                         .run();
        if (!run.ok()) return run;
        return conn.changes() == 0 ? Status(lease_lost(lease)) : Status::Ok();
    });
    if (done.ok()) db_->signal_work();
    return done;
}

Status SqliteTaskQueue::dead_letter(const Lease& lease, const std::string& reason) {
    return db_->write("dead-letter a task", [&](SqliteConn& conn) -> Status {
        auto record = conn.prepare(
            "INSERT INTO dead_letters (task_id, priority, reason, deliveries, worker, dead_at_ms) "
            "SELECT task_id, priority, ?3, deliveries, COALESCE(leased_by, ''), ?4 FROM queue "
            "WHERE task_id = ?1 AND lease_token = ?2",
            "dead-letter a task");
        if (!record) return record.error();
        Status run = record->bind(1, lease.task_id)
                         .bind(2, lease.token)
                         .bind(3, reason)
                         .bind(4, db_->now_ms())
                         .run();
        if (!run.ok()) return run;
        if (conn.changes() == 0) return lease_lost(lease);
        auto remove = conn.prepare("DELETE FROM queue WHERE task_id = ?1", "dead-letter a task");
        if (!remove) return remove.error();
        return remove->bind(1, lease.task_id).run();
    });
}

Result<std::int64_t> SqliteTaskQueue::depth(Priority priority) {
    if (!valid(priority)) return bad_priority(priority);
    return db_->read("count waiting tasks", [&](SqliteConn& conn) {
        return count_waiting(conn, priority, db_->now_ms());
    });
}

Status SqliteTaskQueue::remove(const std::string& task_id, Priority /*priority*/) {
    return db_->write("remove a task from the queue", [&](SqliteConn& conn) -> Status {
        auto stmt = conn.prepare(
            "DELETE FROM queue WHERE task_id = ?1 "
            "AND (lease_token IS NULL OR lease_expires_ms <= ?2)",
            "remove a task from the queue");
        if (!stmt) return stmt.error();
        return stmt->bind(1, task_id).bind(2, db_->now_ms()).run();
    });
}

Result<std::int64_t> SqliteTaskQueue::release_all_leases() {
    auto released = db_->write("release all leases", [&](SqliteConn& conn) -> Result<std::int64_t> {
        auto stmt = conn.prepare(
            "UPDATE queue SET leased_by = NULL, lease_token = NULL, lease_expires_ms = 0 "
            "WHERE lease_token IS NOT NULL",
            "release all leases");
        if (!stmt) return stmt.error();
        if (Status run = stmt->run(); !run.ok()) return run.error();
        return conn.changes();
    });
    if (released && *released > 0) db_->signal_work();
    return released;
}

}  // namespace facefuse::tasks
