// SqliteTaskStore: records, tenant scoping, compare-and-set, progress, cancel, paging, expiry.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "sqlite_fixture.hpp"

namespace facefuse::tasks::testing {
namespace {

using StoreTest = SqliteTest;

TEST_F(StoreTest, CreateThenGetRoundTripsEveryField) {
    SqliteTaskStore store(open());
    Task task = make_task("acme");
    task.priority = Priority::kVip;
    task.max_attempts = 5;
    task.idempotency_key = "k1";
    task.result_content_type = "image/png";
    task.created_at_ms = kStartMs - 5;
    auto created = store.create(task, kStartMs + 1000);
    ASSERT_TRUE(created.ok()) << created.error().message;
    EXPECT_FALSE(created->replayed);
    EXPECT_EQ(created->task.updated_at_ms, kStartMs);

    auto got = store.get("acme", task.id);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(got->id, task.id);
    EXPECT_EQ(got->tenant, "acme");
    EXPECT_EQ(got->kind, "swap");
    EXPECT_EQ(got->priority, Priority::kVip);
    EXPECT_EQ(got->state, TaskState::kQueued);
    EXPECT_EQ(got->max_attempts, 5);
    EXPECT_EQ(got->options_json, task.options_json);
    EXPECT_EQ(got->source_key, task.source_key);
    EXPECT_EQ(got->target_key, task.target_key);
    EXPECT_EQ(got->result_content_type, "image/png");
    EXPECT_EQ(got->idempotency_key, "k1");
    EXPECT_EQ(got->request_hash, task.request_hash);
    EXPECT_EQ(got->created_at_ms, kStartMs - 5);
    EXPECT_EQ(got->expires_at_ms, task.expires_at_ms);
    EXPECT_FALSE(got->error.has_value());

    auto failed = store.transition(task.id, {TaskState::kQueued}, [](Task& t) {
        t.state = TaskState::kFailed;
        t.error = TaskError{"no_face_in_target", "No face found in the target image."};
        t.progress = 0.25;
    });
    ASSERT_TRUE(failed.ok()) << failed.error().message;
    got = store.get("", task.id);  // empty tenant: any (workers, admins)
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(got->error.has_value());
    EXPECT_EQ(got->error->code, "no_face_in_target");
    EXPECT_EQ(got->error->message, "No face found in the target image.");
    EXPECT_DOUBLE_EQ(got->progress, 0.25);
    EXPECT_EQ(got->finished_at_ms, kStartMs);
}

TEST_F(StoreTest, AssignsIdAndCreationTimeWhenMissing) {
    SqliteTaskStore store(open());
    Task task = make_task("acme");
    task.id.clear();
    task.created_at_ms = 0;
    auto created = store.create(task, 0);
    ASSERT_TRUE(created.ok());
    EXPECT_EQ(created->task.id.size(), 32u);
    EXPECT_EQ(created->task.created_at_ms, kStartMs);
    EXPECT_TRUE(store.get("acme", created->task.id).ok());
}

TEST_F(StoreTest, DuplicateIdIsAConflict) {
    SqliteTaskStore store(open());
    Task task = make_task("acme");
    ASSERT_TRUE(store.create(task, 0).ok());
    auto again = store.create(task, 0);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

TEST_F(StoreTest, OtherTenantsTaskIsNotFound) {
    SqliteTaskStore store(open());
    Task task = make_task("acme");
    ASSERT_TRUE(store.create(task, 0).ok());
    auto other = store.get("globex", task.id);
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().code, ErrorCode::kNotFound);
    auto missing = store.get("acme", "0123456789abcdef0123456789abcdef");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
    // The same message shape for both: nothing tells the two apart.
    EXPECT_EQ(other.error().message.find("globex"), std::string::npos);
    auto cancel = store.request_cancel("globex", task.id);
    ASSERT_FALSE(cancel.ok());
    EXPECT_EQ(cancel.error().code, ErrorCode::kNotFound);
}

TEST_F(StoreTest, TransitionIsCompareAndSet) {
    SqliteTaskStore store(open());
    Task task = make_task("acme");
    ASSERT_TRUE(store.create(task, 0).ok());
    clock_->advance(10);
    auto running = store.transition(task.id, {TaskState::kQueued}, [](Task& t) {
        t.state = TaskState::kRunning;
        t.attempts += 1;
    });
    ASSERT_TRUE(running.ok()) << running.error().message;
    EXPECT_EQ(running->attempts, 1);
    EXPECT_EQ(running->started_at_ms, kStartMs + 10);
    EXPECT_EQ(running->updated_at_ms, kStartMs + 10);

    auto stale = store.transition(task.id, {TaskState::kQueued},
                                  [](Task& t) { t.state = TaskState::kRunning; });
    ASSERT_FALSE(stale.ok());
    EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
    EXPECT_NE(stale.error().message.find("running"), std::string::npos) << stale.error().message;

    // A change to a state the machine forbids is refused even when `from` matches.
    auto back = store.transition(task.id, {TaskState::kRunning},
                                 [](Task& t) { t.state = TaskState::kRunning; });
    ASSERT_TRUE(back.ok());
    ASSERT_TRUE(store
                    .transition(task.id, {TaskState::kRunning},
                                [](Task& t) { t.state = TaskState::kSucceeded; })
                    .ok());
    auto after_terminal = store.transition(task.id, {TaskState::kSucceeded},
                                           [](Task& t) { t.state = TaskState::kQueued; });
    ASSERT_FALSE(after_terminal.ok());
    EXPECT_EQ(after_terminal.error().code, ErrorCode::kConflict);
    EXPECT_EQ(store.get("acme", task.id)->state, TaskState::kSucceeded);

    auto missing = store.transition("nope", {TaskState::kQueued},
                                    [](Task& t) { t.state = TaskState::kRunning; });
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(StoreTest, TransitionKeepsIdentityAndRefusesForbiddenTargets) {
    SqliteTaskStore store(open());
    Task task = make_task("acme");
    ASSERT_TRUE(store.create(task, 0).ok());
    auto skipped = store.transition(task.id, {TaskState::kQueued},
                                    [](Task& t) { t.state = TaskState::kSucceeded; });
    ASSERT_FALSE(skipped.ok());
    EXPECT_EQ(skipped.error().code, ErrorCode::kConflict);
    auto moved = store.transition(task.id, {TaskState::kQueued}, [](Task& t) {
        t.state = TaskState::kRunning;
        t.tenant = "globex";
        t.id = "other";
    });
    ASSERT_TRUE(moved.ok());
    EXPECT_EQ(moved->tenant, "acme");
    EXPECT_EQ(moved->id, task.id);
    EXPECT_TRUE(store.get("acme", task.id).ok());
}

TEST_F(StoreTest, ThrowingChangeStoresNothing) {
    SqliteTaskStore store(open());
    Task task = make_task("acme");
    ASSERT_TRUE(store.create(task, 0).ok());
    auto thrown = store.transition(task.id, {TaskState::kQueued}, [](Task& t) {
        t.state = TaskState::kRunning;
        throw std::runtime_error("boom");
    });
    ASSERT_FALSE(thrown.ok());
    EXPECT_EQ(thrown.error().code, ErrorCode::kInternal);
    EXPECT_EQ(store.get("acme", task.id)->state, TaskState::kQueued);
    // The connection is usable afterwards (the transaction was rolled back).
    EXPECT_TRUE(store
                    .transition(task.id, {TaskState::kQueued},
                                [](Task& t) { t.state = TaskState::kRunning; })
                    .ok());
}

TEST_F(StoreTest, TwoFinishersOnlyOneWins) {
    auto store_a = std::make_shared<SqliteTaskStore>(open());
    auto store_b = std::make_shared<SqliteTaskStore>(open());
    for (int round = 0; round < 20; ++round) {
        Task task = make_task("acme");
        task.state = TaskState::kRunning;
        ASSERT_TRUE(store_a->create(task, 0).ok());
        std::atomic<int> wins{0}, conflicts{0};
        auto finish = [&](SqliteTaskStore& store, TaskState to) {
            auto r =
                store.transition(task.id, {TaskState::kRunning}, [to](Task& t) { t.state = to; });
            if (r.ok())
                ++wins;
            else if (r.error().code == ErrorCode::kConflict)
                ++conflicts;
        };
        std::thread a([&] { finish(*store_a, TaskState::kSucceeded); });
        std::thread b([&] { finish(*store_b, TaskState::kFailed); });
        a.join();
        b.join();
        EXPECT_EQ(wins.load(), 1) << "round " << round;
        EXPECT_EQ(conflicts.load(), 1) << "round " << round;
    }
}

TEST_F(StoreTest, ProgressOnlyForRunningTasks) {
    SqliteTaskStore store(open());
    Task task = make_task("acme");
    ASSERT_TRUE(store.create(task, 0).ok());
    ASSERT_TRUE(store.set_progress(task.id, 0.5).ok());
    EXPECT_DOUBLE_EQ(store.get("acme", task.id)->progress, 0.0);  // still queued
    ASSERT_TRUE(store
                    .transition(task.id, {TaskState::kQueued},
                                [](Task& t) { t.state = TaskState::kRunning; })
                    .ok());
    ASSERT_TRUE(store.set_progress(task.id, 0.5).ok());
    EXPECT_DOUBLE_EQ(store.get("acme", task.id)->progress, 0.5);
    ASSERT_TRUE(store.set_progress(task.id, 7).ok());
    EXPECT_DOUBLE_EQ(store.get("acme", task.id)->progress, 1.0);
    EXPECT_TRUE(store.set_progress("gone", 0.5).ok());
}

TEST_F(StoreTest, RequestCancelSetsTheFlagUntilFinished) {
    SqliteTaskStore store(open());
    Task task = make_task("acme");
    task.state = TaskState::kRunning;
    ASSERT_TRUE(store.create(task, 0).ok());
    auto cancel = store.request_cancel("acme", task.id);
    ASSERT_TRUE(cancel.ok());
    EXPECT_TRUE(cancel->cancel_requested);
    EXPECT_TRUE(store.get("acme", task.id)->cancel_requested);

    Task done = make_task("acme");
    done.state = TaskState::kSucceeded;
    ASSERT_TRUE(store.create(done, 0).ok());
    auto unchanged = store.request_cancel("acme", done.id);
    ASSERT_TRUE(unchanged.ok());
    EXPECT_FALSE(unchanged->cancel_requested);
    EXPECT_EQ(unchanged->state, TaskState::kSucceeded);
}

TEST_F(StoreTest, ListPagesNewestFirst) {
    SqliteTaskStore store(open());
    std::vector<std::string> expected;
    for (int i = 0; i < 25; ++i) {
        Task task = make_task("acme");
        task.created_at_ms = kStartMs + i / 2;  // pairs share a timestamp: id breaks the tie
        ASSERT_TRUE(store.create(task, 0).ok());
        expected.push_back(task.id);
        ASSERT_TRUE(store.create(make_task("globex"), 0).ok());
    }
    std::vector<Task> all;
    std::string cursor;
    int pages = 0;
    do {
        auto page = store.list("acme", 10, cursor);
        ASSERT_TRUE(page.ok()) << page.error().message;
        ++pages;
        for (auto& t : page->tasks) all.push_back(t);
        cursor = page->next_cursor;
    } while (!cursor.empty() && pages < 10);
    EXPECT_EQ(pages, 3);
    ASSERT_EQ(all.size(), 25u);
    for (size_t i = 1; i < all.size(); ++i) {
        EXPECT_EQ(all[i].tenant, "acme");
        const bool newer_first =
            all[i - 1].created_at_ms > all[i].created_at_ms ||
            (all[i - 1].created_at_ms == all[i].created_at_ms && all[i - 1].id > all[i].id);
        EXPECT_TRUE(newer_first) << "row " << i;
    }
    std::set<std::string> ids;
    for (auto& t : all) ids.insert(t.id);
    EXPECT_EQ(ids, std::set<std::string>(expected.begin(), expected.end()));

    auto exact = store.list("acme", 25, "");
    ASSERT_TRUE(exact.ok());
    EXPECT_EQ(exact->tasks.size(), 25u);
    EXPECT_TRUE(exact->next_cursor.empty()) << "a full last page has no next page";
    auto nobody = store.list("initech", 10, "");
    ASSERT_TRUE(nobody.ok());
    EXPECT_TRUE(nobody->tasks.empty());
}

TEST_F(StoreTest, ListRejectsBadArguments) {
    SqliteTaskStore store(open());
    for (const char* cursor : {"zz", "abc", "3132", "3a6162"}) {  // not hex, odd, no ':', no time
        auto page = store.list("acme", 10, cursor);
        ASSERT_FALSE(page.ok()) << cursor;
        EXPECT_EQ(page.error().code, ErrorCode::kUsage);
    }
    auto zero = store.list("acme", 0, "");
    ASSERT_FALSE(zero.ok());
    EXPECT_EQ(zero.error().code, ErrorCode::kUsage);
}

TEST_F(StoreTest, ExpireDeletesAndReturnsExpiredTasksOldestFirst) {
    auto db = open();
    SqliteTaskStore store(db);
    SqliteTaskQueue queue(db);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        Task task = make_task("acme");
        task.expires_at_ms = kStartMs + 1000 * (5 - i);  // the last one created expires first
        task.idempotency_key = numbered("key-", i);
        ASSERT_TRUE(store.create(task, kStartMs + 100'000).ok());
        ASSERT_TRUE(queue.enqueue(task.id, Priority::kNormal, 0).ok());
        ids.push_back(task.id);
    }
    Task forever = make_task("acme");
    forever.expires_at_ms = 0;
    ASSERT_TRUE(store.create(forever, 0).ok());

    auto gone = store.expire(kStartMs + 3000, 2);  // three are due; at most two go
    ASSERT_TRUE(gone.ok()) << gone.error().message;
    ASSERT_EQ(gone->size(), 2u);
    EXPECT_EQ((*gone)[0].id, ids[4]);
    EXPECT_EQ((*gone)[1].id, ids[3]);
    EXPECT_FALSE(store.get("acme", ids[4]).ok());
    EXPECT_TRUE(store.get("acme", ids[2]).ok());
    EXPECT_EQ(*queue.depth(Priority::kNormal), 3);  // their queue rows went with them

    // Their idempotency keys went too: the same key now makes a new task.
    Task reuse = make_task("acme");
    reuse.idempotency_key = "key-4";
    auto created = store.create(reuse, kStartMs + 100'000);
    ASSERT_TRUE(created.ok());
    EXPECT_FALSE(created->replayed);

    gone = store.expire(kStartMs + 1'000'000, 100);
    ASSERT_TRUE(gone.ok());
    EXPECT_EQ(gone->size(), 3u);  // ids[0..2]; not `reuse` (a day away), never `forever`
    EXPECT_TRUE(store.get("acme", forever.id).ok());
}

// A state change leaves the expiry index alone unless the expiry itself changed (the update then
// names that column); expire() finds the task by its expiry either way.
TEST_F(StoreTest, ExpiryFollowsTransitionsThatKeepOrMoveIt) {
    SqliteTaskStore store(open());
    Task kept = make_task("acme");
    kept.expires_at_ms = kStartMs + 1000;
    Task moved = make_task("acme");
    moved.expires_at_ms = kStartMs + 1000;
    for (const Task* task : {&kept, &moved}) ASSERT_TRUE(store.create(*task, 0).ok());

    auto running = store.transition(kept.id, {TaskState::kQueued},
                                    [](Task& t) { t.state = TaskState::kRunning; });
    ASSERT_TRUE(running.ok()) << running.error().message;
    EXPECT_EQ(running->expires_at_ms, kStartMs + 1000);
    auto later = store.transition(moved.id, {TaskState::kQueued}, [](Task& t) {
        t.state = TaskState::kRunning;
        t.expires_at_ms = kStartMs + 50'000;
    });
    ASSERT_TRUE(later.ok()) << later.error().message;
    EXPECT_EQ(store.get("acme", moved.id)->expires_at_ms, kStartMs + 50'000);

    auto gone = store.expire(kStartMs + 2000, 10);
    ASSERT_TRUE(gone.ok()) << gone.error().message;
    ASSERT_EQ(gone->size(), 1u);
    EXPECT_EQ((*gone)[0].id, kept.id);
    EXPECT_EQ((*gone)[0].state, TaskState::kRunning);
    gone = store.expire(kStartMs + 60'000, 10);
    ASSERT_TRUE(gone.ok());
    ASSERT_EQ(gone->size(), 1u);
    EXPECT_EQ((*gone)[0].id, moved.id);
}

// The per-tenant quota counts a tenant's queued tasks only, following every transition.
TEST_F(StoreTest, CountQueuedFollowsTheStateOfTheTenantsTasks) {
    SqliteTaskStore store(open());
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        Task t = make_task("acme");
        ASSERT_TRUE(store.create(t, kStartMs + 1000).ok());
        ids.push_back(t.id);
    }
    ASSERT_TRUE(store.create(make_task("globex"), kStartMs + 1000).ok());
    EXPECT_EQ(*store.count_queued("acme"), 3);
    EXPECT_EQ(*store.count_queued("globex"), 1);
    EXPECT_EQ(*store.count_queued("nobody"), 0);
    ASSERT_TRUE(store.transition(ids[0], {TaskState::kQueued}, [](Task& t) { t.state = TaskState::kRunning; }).ok());
    ASSERT_TRUE(store.transition(ids[1], {TaskState::kQueued}, [](Task& t) { t.state = TaskState::kCancelled; }).ok());
    EXPECT_EQ(*store.count_queued("acme"), 1);
    // A retry puts a task back in the queue: it counts again.
    ASSERT_TRUE(store.transition(ids[0], {TaskState::kRunning}, [](Task& t) { t.state = TaskState::kQueued; }).ok());
    EXPECT_EQ(*store.count_queued("acme"), 2);
    // Expiry deletes records; a queued one stops counting with it.
    Task stale = make_task("temp");
    stale.expires_at_ms = kStartMs - 1;
    ASSERT_TRUE(store.create(stale, kStartMs + 1000).ok());
    EXPECT_EQ(*store.count_queued("temp"), 1);
    ASSERT_TRUE(store.expire(kStartMs, 10).ok());
    EXPECT_EQ(*store.count_queued("temp"), 0);
}

}  // namespace
}  // namespace facefuse::tasks::testing
