// SqliteTaskQueue: priorities and weighted share, delays, leases and their loss, bounds, waiting.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "sqlite_fixture.hpp"

namespace facefuse::tasks::testing {
namespace {

using namespace std::chrono_literals;
using QueueTest = SqliteTest;

// One lease with no waiting; the task id, or "" when none was runnable.
Lease lease_one(SqliteTaskQueue& queue, std::chrono::milliseconds lease_for = 30s) {
    auto leased = queue.lease("worker-1", 1, lease_for, 0ms);
    EXPECT_TRUE(leased.ok()) << leased.error().message;
    if (!leased.ok() || leased->empty()) return Lease{};
    return leased->front();
}

TEST_F(QueueTest, LeasesInPriorityOrderFifoWithinALane) {
    SqliteTaskQueue queue(open());
    ASSERT_TRUE(queue.enqueue("batch-1", Priority::kBatch, 0).ok());
    ASSERT_TRUE(queue.enqueue("normal-1", Priority::kNormal, 0).ok());
    clock_->advance(1);
    ASSERT_TRUE(queue.enqueue("vip-1", Priority::kVip, 0).ok());
    clock_->advance(1);
    ASSERT_TRUE(queue.enqueue("vip-2", Priority::kVip, 0).ok());
    // Schedule slots V, N, V, V: vip-1, normal-1, vip-2, then (no vip left) batch-1.
    EXPECT_EQ(lease_one(queue).task_id, "vip-1");
    EXPECT_EQ(lease_one(queue).task_id, "normal-1");
    EXPECT_EQ(lease_one(queue).task_id, "vip-2");
    Lease last = lease_one(queue);
    EXPECT_EQ(last.task_id, "batch-1");
    EXPECT_EQ(last.priority, Priority::kBatch);
    EXPECT_EQ(lease_one(queue).task_id, "");
}

TEST_F(QueueTest, BatchIsLeasedWithinTwelveLeasesDespiteManyVip) {
    SqliteTaskQueue queue(open());
    ASSERT_TRUE(queue.enqueue("batch", Priority::kBatch, 0).ok());
    for (int i = 0; i < 50; ++i)
        ASSERT_TRUE(queue.enqueue(numbered("vip-", i), Priority::kVip, 0).ok());
    int position = 0;
    for (int i = 1; i <= 12 && position == 0; ++i)
        if (lease_one(queue).task_id == "batch") position = i;
    EXPECT_GT(position, 0) << "batch starved behind vip";
}

TEST_F(QueueTest, SharesLeasesEightThreeOne) {
    SqliteTaskQueue queue(open());
    for (int i = 0; i < 100; ++i)
        for (Priority p : {Priority::kVip, Priority::kNormal, Priority::kBatch})
            ASSERT_TRUE(
                queue.enqueue(std::string(priority_name(p)) + std::to_string(i), p, 0).ok());
    std::map<Priority, int> counts;
    for (int i = 0; i < 10; ++i) {  // 120 leases, 12 at a time
        auto leased = queue.lease("w", 12, 30s, 0ms);
        ASSERT_TRUE(leased.ok());
        ASSERT_EQ(leased->size(), 12u);
        for (const Lease& l : *leased) ++counts[l.priority];
    }
    EXPECT_EQ(counts[Priority::kVip], 80);
    EXPECT_EQ(counts[Priority::kNormal], 30);
    EXPECT_EQ(counts[Priority::kBatch], 10);
}

TEST_F(QueueTest, DelayedTaskIsNotLeasableBeforeNotBefore) {
    SqliteTaskQueue queue(open());
    ASSERT_TRUE(queue.enqueue("later", Priority::kNormal, kStartMs + 5000).ok());
    EXPECT_EQ(*queue.depth(Priority::kNormal), 1);  // waiting, though not runnable yet
    EXPECT_EQ(lease_one(queue).task_id, "");
    clock_->advance(4999);
    EXPECT_EQ(lease_one(queue).task_id, "");
    clock_->advance(1);
    EXPECT_EQ(lease_one(queue).task_id, "later");
}

TEST_F(QueueTest, RetryWithBackoffRedeliversLater) {
    SqliteTaskQueue queue(open());
    ASSERT_TRUE(queue.enqueue("t", Priority::kNormal, 0).ok());
    Lease first = lease_one(queue);
    ASSERT_EQ(first.deliveries, 1);
    ASSERT_TRUE(queue.retry(first, kStartMs + 2000).ok());
    EXPECT_EQ(*queue.depth(Priority::kNormal), 1);
    EXPECT_EQ(lease_one(queue).task_id, "");
    clock_->advance(2000);
    Lease second = lease_one(queue);
    EXPECT_EQ(second.task_id, "t");
    EXPECT_EQ(second.deliveries, 1) << "a retry is a fresh delivery, not a lost lease";
    EXPECT_NE(second.token, first.token);
    auto stale = queue.retry(first, 0);
    ASSERT_FALSE(stale.ok());
    EXPECT_EQ(stale.error().code, ErrorCode::kLeaseLost);
}

TEST_F(QueueTest, ExpiredLeaseIsRedeliveredAndTheOldHolderLosesIt) {
    SqliteTaskQueue queue(open());
    ASSERT_TRUE(queue.enqueue("t", Priority::kVip, 0).ok());
    Lease first = lease_one(queue, 30s);
    ASSERT_EQ(first.task_id, "t");
    EXPECT_EQ(first.expires_at_ms, kStartMs + 30'000);
    EXPECT_EQ(*queue.depth(Priority::kVip), 0);
    clock_->advance(29'999);
    EXPECT_EQ(lease_one(queue).task_id, "") << "leased tasks are not handed out twice";
    clock_->advance(1);
    EXPECT_EQ(*queue.depth(Priority::kVip), 1) << "an expired lease is waiting again";
    Lease second = lease_one(queue, 30s);
    ASSERT_EQ(second.task_id, "t");
    EXPECT_EQ(second.deliveries, 2);
    EXPECT_NE(second.token, first.token);

    for (Status s : {queue.heartbeat(first, 30s), queue.ack(first), queue.retry(first, 0),
                     queue.dead_letter(first, "x")}) {
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.error().code, ErrorCode::kLeaseLost);
    }
    EXPECT_TRUE(queue.heartbeat(second, 30s).ok());
    EXPECT_TRUE(queue.ack(second).ok());
    EXPECT_EQ(lease_one(queue).task_id, "");
}

TEST_F(QueueTest, HeartbeatExtendsTheLease) {
    SqliteTaskQueue queue(open());
    ASSERT_TRUE(queue.enqueue("t", Priority::kNormal, 0).ok());
    Lease held = lease_one(queue, 10s);
    for (int i = 0; i < 5; ++i) {
        clock_->advance(9000);
        ASSERT_TRUE(queue.heartbeat(held, 10s).ok());
        EXPECT_EQ(held.expires_at_ms, clock_->now() + 10'000);
        EXPECT_EQ(lease_one(queue).task_id, "");
    }
    // Past its expiry the lease is lost, even though no one has taken the task yet...
    clock_->advance(10'000);
    auto late = queue.heartbeat(held, 10s);
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().code, ErrorCode::kLeaseLost);
    // ...but finished work may still be acknowledged while no one else holds it.
    EXPECT_TRUE(queue.ack(held).ok());
    EXPECT_EQ(*queue.depth(Priority::kNormal), 0);
}

TEST_F(QueueTest, LaneBoundGivesQueueFull) {
    SqliteQueueOptions options;
    options.max_depth = {2, 2, 1};
    SqliteTaskQueue queue(open(), options);
    ASSERT_TRUE(queue.enqueue("v1", Priority::kVip, 0).ok());
    ASSERT_TRUE(queue.enqueue("v2", Priority::kVip, 0).ok());
    auto full = queue.enqueue("v3", Priority::kVip, 0);
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error().code, ErrorCode::kQueueFull);
    EXPECT_NE(full.error().message.find("vip"), std::string::npos);
    EXPECT_TRUE(queue.enqueue("v1", Priority::kVip, 0).ok()) << "re-enqueue is a no-op";
    EXPECT_TRUE(queue.enqueue("b1", Priority::kBatch, 0).ok()) << "lanes are bounded apart";
    EXPECT_FALSE(queue.enqueue("b2", Priority::kBatch, 0).ok());
    Lease l = lease_one(queue);  // a leased task no longer counts as waiting
    ASSERT_FALSE(l.task_id.empty());
    EXPECT_TRUE(queue.enqueue("v3", Priority::kVip, 0).ok());
    // retry never fails for a full lane: an admitted task is never dropped.
    EXPECT_TRUE(queue.retry(l, 0).ok());
    EXPECT_EQ(*queue.depth(Priority::kVip), 3);
}

TEST_F(QueueTest, DeadLetterRecordsTheReason) {
    auto db = open();
    SqliteTaskQueue queue(db);
    ASSERT_TRUE(queue.enqueue("t", Priority::kBatch, 0).ok());
    Lease held = lease_one(queue);
    clock_->advance(7);
    ASSERT_TRUE(queue.dead_letter(held, "storage unavailable after 3 attempts").ok());
    EXPECT_EQ(*queue.depth(Priority::kBatch), 0);
    EXPECT_EQ(lease_one(queue).task_id, "");

    sqlite3* raw = nullptr;
    ASSERT_EQ(open_raw(db_path(), &raw), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(raw,
                                 "SELECT task_id, priority, reason, deliveries, worker, "
                                 "dead_at_ms FROM dead_letters",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "t");
    EXPECT_EQ(sqlite3_column_int(stmt, 1), 2);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2)),
                 "storage unavailable after 3 attempts");
    EXPECT_EQ(sqlite3_column_int(stmt, 3), 1);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 4)), "worker-1");
    EXPECT_EQ(sqlite3_column_int64(stmt, 5), kStartMs + 7);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    sqlite3_close(raw);
}

TEST_F(QueueTest, RemoveTakesOnlyWaitingTasks) {
    SqliteTaskQueue queue(open());
    ASSERT_TRUE(queue.enqueue("a", Priority::kNormal, 0).ok());
    ASSERT_TRUE(queue.enqueue("b", Priority::kNormal, 0).ok());
    Lease held = lease_one(queue);
    ASSERT_EQ(held.task_id, "a");
    EXPECT_TRUE(queue.remove("a", Priority::kNormal).ok());  // leased: stays, not an error
    EXPECT_TRUE(queue.remove("b", Priority::kNormal).ok());
    EXPECT_TRUE(queue.remove("never-there", Priority::kNormal).ok());
    EXPECT_EQ(*queue.depth(Priority::kNormal), 0);
    EXPECT_TRUE(queue.ack(held).ok()) << "the leased task was not removed";
}

TEST_F(QueueTest, LeaseTakesUpToMaxAndRejectsBadArguments) {
    SqliteTaskQueue queue(open());
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(queue.enqueue(std::to_string(i), Priority::kNormal, 0).ok());
    auto two = queue.lease("w", 2, 30s, 0ms);
    ASSERT_TRUE(two.ok());
    EXPECT_EQ(two->size(), 2u);
    auto rest = queue.lease("w", 5, 30s, 0ms);
    ASSERT_TRUE(rest.ok());
    EXPECT_EQ(rest->size(), 1u);
    auto none = queue.lease("w", 0, 30s, 0ms);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, ErrorCode::kUsage);
    auto instant = queue.lease("w", 1, 0ms, 0ms);
    ASSERT_FALSE(instant.ok());
    EXPECT_EQ(instant.error().code, ErrorCode::kUsage);
}

TEST_F(QueueTest, WaitingLeaseWakesOnEnqueue) {
    auto db = open();
    SqliteTaskQueue consumer(db);
    SqliteTaskQueue producer(db);  // another queue object on the same database
    Result<std::vector<Lease>> got = std::vector<Lease>{};
    const auto start = std::chrono::steady_clock::now();
    std::thread waiter([&] { got = consumer.lease("w", 1, 30s, 20s); });
    ASSERT_TRUE(producer.enqueue("t", Priority::kNormal, 0).ok());
    waiter.join();
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ(got->front().task_id, "t");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

// While leases find work they skip the read-only look; the first one to find the queue empty
// must still wait, and wake for the next task.
TEST_F(QueueTest, ALeaseAfterTheQueueDrainsWaitsAndWakesOnEnqueue) {
    auto db = open();
    SqliteTaskQueue consumer(db);
    SqliteTaskQueue producer(db);
    ASSERT_TRUE(producer.enqueue("first", Priority::kNormal, 0).ok());
    EXPECT_EQ(lease_one(consumer).task_id, "first");
    auto drained = consumer.lease("w", 1, 30s, 0ms);
    ASSERT_TRUE(drained.ok()) << drained.error().message;
    EXPECT_TRUE(drained->empty());

    ASSERT_TRUE(producer.enqueue("second", Priority::kNormal, 0).ok());
    EXPECT_EQ(lease_one(consumer).task_id, "second");
    Result<std::vector<Lease>> got = std::vector<Lease>{};
    std::thread waiter([&] { got = consumer.lease("w", 1, 30s, 20s); });
    ASSERT_TRUE(producer.enqueue("third", Priority::kNormal, 0).ok());
    waiter.join();
    ASSERT_TRUE(got.ok()) << got.error().message;
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ(got->front().task_id, "third");
}

TEST_F(QueueTest, WaitingLeaseSeesOtherConnectionsAndTimesOut) {
    SqliteQueueOptions options;
    options.poll_interval = 5ms;
    SqliteTaskQueue consumer(open(), options);
    SqliteTaskQueue producer(open());  // as another process: no shared condition variable
    const auto start = std::chrono::steady_clock::now();
    auto empty = consumer.lease("w", 1, 30s, 30ms);
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());
    EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);

    Result<std::vector<Lease>> got = std::vector<Lease>{};
    std::thread waiter([&] { got = consumer.lease("w", 1, 30s, 20s); });
    ASSERT_TRUE(producer.enqueue("t", Priority::kBatch, 0).ok());
    waiter.join();
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ(got->front().task_id, "t");
}

TEST_F(QueueTest, ConcurrentWorkersNeverShareATask) {
    auto queue_a = std::make_shared<SqliteTaskQueue>(open());
    auto queue_b = std::make_shared<SqliteTaskQueue>(open());
    for (int i = 0; i < 200; ++i)
        ASSERT_TRUE(queue_a->enqueue(numbered("t", i), static_cast<Priority>(i % 3), 0).ok());
    std::mutex mu;
    std::multiset<std::string> leased;
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&, w] {
            SqliteTaskQueue& queue = w % 2 == 0 ? *queue_a : *queue_b;
            const std::string worker = std::string("worker-").append(std::to_string(w));
            while (true) {
                auto got = queue.lease(worker, 3, 30s, 0ms);
                if (!got.ok() || got->empty()) return;
                for (const Lease& l : *got) {
                    EXPECT_TRUE(queue.ack(l).ok());
                    std::lock_guard lock(mu);
                    leased.insert(l.task_id);
                }
            }
        });
    }
    for (auto& t : workers) t.join();
    EXPECT_EQ(leased.size(), 200u);
    EXPECT_EQ(std::set<std::string>(leased.begin(), leased.end()).size(), 200u);
}

}  // namespace
}  // namespace facefuse::tasks::testing

namespace facefuse::tasks::testing {
namespace {

// The lane bound reads counts kept by triggers; after any mix of operations they must equal
// the rows they stand for.
TEST_F(QueueTest, LaneCountsFollowEveryOperation) {
    auto db = open();
    SqliteTaskQueue queue(db);
    std::vector<Lease> held;
    for (int i = 0; i < 30; ++i) {
        ASSERT_TRUE(queue.enqueue(numbered("t", i), static_cast<Priority>(i % 3), 0).ok());
        if (i % 4 == 0) held.push_back(lease_one(queue));
    }
    ASSERT_TRUE(queue.ack(held[0]).ok());
    ASSERT_TRUE(queue.retry(held[1], 0).ok());
    ASSERT_TRUE(queue.dead_letter(held[2], "gave up").ok());
    ASSERT_TRUE(queue.remove(numbered("t", 29), static_cast<Priority>(29 % 3)).ok());
    held.push_back(lease_one(queue));
    ASSERT_EQ(*queue.release_all_leases(), 6);

    sqlite3* raw = nullptr;
    ASSERT_EQ(open_raw(db_path(), &raw), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(raw,
                                 "SELECT l.priority, l.waiting, (SELECT count(*) FROM queue q WHERE q.priority = "
                                 "l.priority AND q.lease_token IS NULL) FROM lane_waiting l",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    int lanes = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        ++lanes;
        EXPECT_EQ(sqlite3_column_int(stmt, 1), sqlite3_column_int(stmt, 2)) << "lane " << sqlite3_column_int(stmt, 0);
    }
    EXPECT_EQ(lanes, 3);
    sqlite3_finalize(stmt);
    sqlite3_close(raw);
    std::int64_t total = 0;
    for (Priority p : {Priority::kVip, Priority::kNormal, Priority::kBatch}) total += *queue.depth(p);
    EXPECT_EQ(total, 27) << "30 enqueued, one acked, one dead, one removed";
}

}  // namespace
}  // namespace facefuse::tasks::testing
