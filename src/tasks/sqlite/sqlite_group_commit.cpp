// Group commit: how SqliteDatabase::write() turns many concurrent writers into few transactions.
//
// Why: under load every submit and every worker step is a small write transaction, and each one
// pays the same fixed costs -- BEGIN IMMEDIATE and COMMIT take and release the WAL locks (several
// fcntl calls), and the commit appends every page it touched to the log, although consecutive
// transactions touch mostly the same pages (the end of the queue index, the tenant counters).
// Measured on `serve` with noop tasks, the task database's commits were the largest single cost.
//
// How: a write() queues itself and waits. If no one is committing, the first waiter becomes the
// leader: it takes everything queued (up to kMaxGroup), runs each function in its own SAVEPOINT
// inside one IMMEDIATE transaction, and commits once. A function that fails or throws is rolled
// back to its savepoint, so it leaves nothing behind while the others' changes stand -- the
// same outcome as its own transaction would have had. The group is serialisable in queue order:
// each function sees the changes of those before it, exactly as if they had committed one by
// one. Every write() returns only after the commit that holds its changes (or with the error
// that lost them), so "returned ok" still means "committed".
//
// A lone writer pays nothing extra (no savepoint when the group has one member). Writers that
// arrive while a group commits wait for it, then form the next group: the busier the database,
// the larger the groups. Each writer waits on its own condition variable, and the leader wakes
// exactly its group's members and the next leader: with one shared variable, every commit woke
// every waiting writer (most of them only to sleep again), ~28 futex calls per noop task.
//
// If SQLite rolls the whole transaction back by itself (a full disk, an I/O error), every
// member of the group that had not failed already gets that outcome as an error: nothing of the
// group was committed.
#include <algorithm>

#include "tasks/sqlite/sqlite_db.hpp"

namespace facefuse::tasks {
namespace {

// Bounds how long the last member of a group waits for the others' functions to run.
constexpr std::size_t kMaxGroup = 64;

}  // namespace

void SqliteDatabase::commit_in_group(GroupWrite& op) {
    std::unique_lock lock(group_mu_);
    group_queue_.push_back(&op);
    while (!op.done) {
        if (group_leader_) {
            op.wake.wait(lock);
            continue;
        }
        group_leader_ = true;
        const std::size_t n = std::min(group_queue_.size(), kMaxGroup);
        std::vector<GroupWrite*> group(group_queue_.begin(), group_queue_.begin() + static_cast<std::ptrdiff_t>(n));
        group_queue_.erase(group_queue_.begin(), group_queue_.begin() + static_cast<std::ptrdiff_t>(n));
        lock.unlock();
        try {
            run_group(group);
        } catch (...) {
            // Only an allocation failure gets here (the members' own exceptions are caught in
            // write()). The leader must still hand the group back, or every writer waits forever.
            {
                std::lock_guard guard(mu_);
                conn_.rollback();
            }
            for (GroupWrite* member : group) {
                try {
                    member->fail(make_error(ErrorCode::kUnavailable, "out of memory while committing; retry later"));
                } catch (...) {
                }
            }
        }
        lock.lock();
        group_leader_ = false;
        for (GroupWrite* member : group) {
            member->done = true;
            if (member != &op) member->wake.notify_one();
        }
        if (!group_queue_.empty()) group_queue_.front()->wake.notify_one();  // the next leader
    }
}

void SqliteDatabase::run_group(const std::vector<GroupWrite*>& group) {
    std::lock_guard lock(mu_);
    const bool alone = group.size() == 1;
    if (Status begun = conn_.exec("BEGIN IMMEDIATE", group.front()->what); !begun.ok()) {
        for (GroupWrite* member : group) member->fail(begun.error());
        return;
    }
    std::vector<GroupWrite*> kept;  // members whose changes are in the transaction
    for (std::size_t i = 0; i < group.size(); ++i) {
        GroupWrite* member = group[i];
        if (!alone) {
            if (Status saved = conn_.exec("SAVEPOINT member", member->what); !saved.ok()) {
                member->fail(saved.error());
                continue;
            }
        }
        const bool ok = member->run(conn_);
        if (sqlite3_get_autocommit(conn_.handle()) != 0) {
            // SQLite ended the transaction itself: the group's changes are gone.
            const Error lost = make_error(ErrorCode::kUnavailable,
                                          "the task database " + path() +
                                              " rolled back a transaction (I/O error or full disk); retry later");
            for (GroupWrite* earlier : kept) earlier->fail(lost);
            if (ok) member->fail(lost);
            for (std::size_t j = i + 1; j < group.size(); ++j) group[j]->fail(lost);
            return;
        }
        if (alone) {
            if (!ok) {
                conn_.rollback();
                return;
            }
            kept.push_back(member);
            continue;
        }
        Status undone = ok ? Status::Ok() : conn_.exec("ROLLBACK TO member", member->what);
        Status released = undone.ok() ? conn_.exec("RELEASE member", member->what) : undone;
        if (!released.ok()) {
            // The savepoint stack is in an unknown state: give up on the whole group.
            conn_.rollback();
            for (GroupWrite* earlier : kept) earlier->fail(released.error());
            if (ok) member->fail(released.error());
            for (std::size_t j = i + 1; j < group.size(); ++j) group[j]->fail(released.error());
            return;
        }
        if (ok) kept.push_back(member);
    }
    if (kept.empty()) {
        conn_.rollback();
        return;
    }
    if (Status committed = conn_.exec("COMMIT", kept.front()->what); !committed.ok()) {
        conn_.rollback();
        for (GroupWrite* member : kept) member->fail(committed.error());
    }
}

}  // namespace facefuse::tasks
