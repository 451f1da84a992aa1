// SqliteTaskStore idempotency keys: replay, conflict, expiry, and one task under contention.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "sqlite_fixture.hpp"

namespace facefuse::tasks::testing {
namespace {

using IdempotencyTest = SqliteTest;

// A count, or -1 for an error (which the EXPECT then reports as a wrong count).
std::int64_t count_of(const Result<std::int64_t>& counted) {
    return counted.ok() ? *counted : -1;
}

TEST_F(IdempotencyTest, ReplaysSameRequestAndRejectsDifferentOne) {
    SqliteTaskStore store(open());
    Task first = make_task("acme");
    first.idempotency_key = "order-42";
    first.request_hash = "h1";
    auto created = store.create(first, kStartMs + 60'000);
    ASSERT_TRUE(created.ok());

    Task again = make_task("acme");
    again.idempotency_key = "order-42";
    again.request_hash = "h1";
    auto replay = store.create(again, kStartMs + 60'000);
    ASSERT_TRUE(replay.ok()) << replay.error().message;
    EXPECT_TRUE(replay->replayed);
    EXPECT_EQ(replay->task.id, first.id);
    EXPECT_FALSE(store.get("acme", again.id).ok()) << "a replay must not create a second task";

    Task different = make_task("acme");
    different.idempotency_key = "order-42";
    different.request_hash = "h2";
    auto conflict = store.create(different, kStartMs + 60'000);
    ASSERT_FALSE(conflict.ok());
    EXPECT_EQ(conflict.error().code, ErrorCode::kIdempotencyConflict);

    // Keys are per tenant.
    Task other_tenant = make_task("globex");
    other_tenant.idempotency_key = "order-42";
    other_tenant.request_hash = "h2";
    auto separate = store.create(other_tenant, kStartMs + 60'000);
    ASSERT_TRUE(separate.ok());
    EXPECT_FALSE(separate->replayed);
}

TEST_F(IdempotencyTest, ExpiredKeyCountsAsAbsent) {
    SqliteTaskStore store(open());
    Task first = make_task("acme");
    first.idempotency_key = "order-7";
    ASSERT_TRUE(store.create(first, kStartMs + 1000).ok());
    clock_->advance(1000);
    Task second = make_task("acme");
    second.idempotency_key = "order-7";  // different hash too: no conflict once the key expired
    auto created = store.create(second, kStartMs + 5000);
    ASSERT_TRUE(created.ok()) << created.error().message;
    EXPECT_FALSE(created->replayed);
    EXPECT_EQ(created->task.id, second.id);
    Task third = make_task("acme");
    third.idempotency_key = "order-7";
    third.request_hash = second.request_hash;
    auto replay = store.create(third, kStartMs + 5000);
    ASSERT_TRUE(replay.ok());
    EXPECT_TRUE(replay->replayed);
    EXPECT_EQ(replay->task.id, second.id);
}

TEST_F(IdempotencyTest, HundredConcurrentCreatesWithOneKeyMakeOneTask) {
    // Two connections to the file, as two processes would have, 50 threads on each.
    auto store_a = std::make_shared<SqliteTaskStore>(open());
    auto store_b = std::make_shared<SqliteTaskStore>(open());
    std::atomic<int> created{0}, replayed{0}, failed{0};
    std::vector<std::string> ids(100);
    std::vector<std::thread> threads;
    for (int i = 0; i < 100; ++i) {
        threads.emplace_back([&, i] {
            Task task = make_task("acme");
            task.idempotency_key = "same-key";
            task.request_hash = "same-hash";
            auto result = (i % 2 == 0 ? store_a : store_b)->create(task, kStartMs + 60'000);
            if (!result.ok()) {
                ++failed;
                return;
            }
            ++(result->replayed ? replayed : created);
            ids[static_cast<size_t>(i)] = result->task.id;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(created.load(), 1);
    EXPECT_EQ(replayed.load(), 99);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
    auto page = store_a->list("acme", 1000, "");
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->tasks.size(), 1u);
}

// Built with its queue, the store enqueues in create()'s own transaction: a full lane leaves no
// record and no key behind, so a client that retries after the 429 with the same key gets a task
// (before, the key pointed at a task failed with queue_full, replayed to every retry for a day).
TEST_F(IdempotencyTest, CreateWithItsQueueEnqueuesOrLeavesNothingWhenTheLaneIsFull) {
    using namespace std::chrono_literals;
    auto db = open();
    SqliteQueueOptions bounded;
    bounded.max_depth = {1, 1, 1};
    auto queue = std::make_shared<SqliteTaskQueue>(db, bounded);
    SqliteTaskStore store(db, queue);

    Task first = make_task("acme");
    auto created = store.create(first, kStartMs + 60'000);
    ASSERT_TRUE(created.ok()) << created.error().message;
    EXPECT_TRUE(created->enqueued);
    ASSERT_EQ(count_of(queue->depth(Priority::kNormal)), 1);

    Task refused = make_task("acme");
    refused.idempotency_key = "order-9";
    auto full = store.create(refused, kStartMs + 60'000);
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error().code, ErrorCode::kQueueFull);
    EXPECT_EQ(store.get("acme", refused.id).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(count_of(store.count_queued("acme")), 1);

    // The queue drains; the same request again creates its task, not a replay.
    auto leased = queue->lease("w", 1, 30s, 0ms);
    ASSERT_TRUE(leased.ok());
    ASSERT_EQ(leased->size(), 1u);
    EXPECT_EQ(leased->front().task_id, first.id);
    Task again = make_task("acme");
    again.idempotency_key = "order-9";
    again.request_hash = refused.request_hash;
    auto retried = store.create(again, kStartMs + 60'000);
    ASSERT_TRUE(retried.ok()) << retried.error().message;
    EXPECT_FALSE(retried->replayed);
    EXPECT_TRUE(retried->enqueued);
    auto next = queue->lease("w", 1, 30s, 0ms);
    ASSERT_TRUE(next.ok());
    ASSERT_EQ(next->size(), 1u);
    EXPECT_EQ(next->front().task_id, again.id);

    // Without a queue the caller enqueues; a queue on another database is refused.
    SqliteTaskStore alone(db);
    auto plain = alone.create(make_task("acme"), kStartMs + 60'000);
    ASSERT_TRUE(plain.ok());
    EXPECT_FALSE(plain->enqueued);
    SqliteTaskStore mismatched(db, std::make_shared<SqliteTaskQueue>(open("other.db")));
    auto refused_pair = mismatched.create(make_task("acme"), kStartMs + 60'000);
    ASSERT_FALSE(refused_pair.ok());
    EXPECT_EQ(refused_pair.error().code, ErrorCode::kUsage);
}

}  // namespace
}  // namespace facefuse::tasks::testing
