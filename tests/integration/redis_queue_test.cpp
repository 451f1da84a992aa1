// RedisTaskQueue against a real redis-server: the behaviours SqliteTaskQueue's tests check
// (priorities, weighted share, delays, leases and their loss, bounds), plus what only a network
// backend has: blocking waits, several workers at once, and Redis going away and coming back.
//
// Time is real here (leases are idle times on the Redis server), so leases are short and every
// "eventually" is a bounded polling loop, never a fixed sleep that hopes to be long enough.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "support/redis_server.hpp"
#include "tasks/redis/streams_queue.hpp"

namespace facefuse::tasks::redis {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Polls `done` every 10 ms until it is true or `limit` passes; returns whether it became true.
template <typename F>
bool eventually(F done, std::chrono::milliseconds limit = 5s) {
    const auto until = Clock::now() + limit;
    while (Clock::now() < until) {
        if (done()) return true;
        std::this_thread::sleep_for(10ms);  // polling interval
    }
    return done();
}

class RedisQueueTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(redis_.ready()) << redis_.log(); }

    std::shared_ptr<RedisClient> client(std::chrono::milliseconds timeout = 2000ms) {
        RedisOptions options;
        options.url = redis_.url();
        options.connect_timeout = timeout;
        options.command_timeout = timeout;
        auto c = RedisClient::open(options);
        EXPECT_TRUE(c.ok()) << c.error().message;
        return c.ok() ? *c : nullptr;
    }

    std::unique_ptr<RedisTaskQueue> queue(RedisQueueOptions options = {}) {
        return std::make_unique<RedisTaskQueue>(client(), options);
    }

    // One lease with no waiting; an empty Lease when nothing was runnable.
    static Lease lease_one(RedisTaskQueue& q, const std::string& worker = "worker-1",
                           std::chrono::milliseconds lease_for = 30s) {
        auto leased = q.lease(worker, 1, lease_for, 0ms);
        EXPECT_TRUE(leased.ok()) << leased.error().message;
        if (!leased.ok() || leased->empty()) return Lease{};
        return leased->front();
    }

    test::RedisServer redis_;
};

TEST_F(RedisQueueTest, LeasesInPriorityOrderFifoWithinALane) {
    auto q = queue();
    ASSERT_TRUE(q->enqueue("batch-1", Priority::kBatch, 0).ok());
    ASSERT_TRUE(q->enqueue("normal-1", Priority::kNormal, 0).ok());
    ASSERT_TRUE(q->enqueue("vip-1", Priority::kVip, 0).ok());
    ASSERT_TRUE(q->enqueue("vip-2", Priority::kVip, 0).ok());
    // Schedule slots V, N, V, V: vip-1, normal-1, vip-2, then (no vip left) batch-1.
    EXPECT_EQ(lease_one(*q).task_id, "vip-1");
    EXPECT_EQ(lease_one(*q).task_id, "normal-1");
    EXPECT_EQ(lease_one(*q).task_id, "vip-2");
    const Lease last = lease_one(*q);
    EXPECT_EQ(last.task_id, "batch-1");
    EXPECT_EQ(last.priority, Priority::kBatch);
    EXPECT_EQ(lease_one(*q).task_id, "");
}

TEST_F(RedisQueueTest, BatchIsLeasedWithinTwelveLeasesDespiteManyVip) {
    auto q = queue();
    ASSERT_TRUE(q->enqueue("batch", Priority::kBatch, 0).ok());
    for (int i = 0; i < 50; ++i)
        ASSERT_TRUE(q->enqueue("vip-" + std::to_string(i), Priority::kVip, 0).ok());
    int position = 0;
    for (int i = 1; i <= 12 && position == 0; ++i)
        if (lease_one(*q).task_id == "batch") position = i;
    EXPECT_GT(position, 0) << "batch starved behind vip";
}

TEST_F(RedisQueueTest, SharesLeasesEightThreeOne) {
    auto q = queue();
    for (int i = 0; i < 100; ++i)
        for (Priority p : {Priority::kVip, Priority::kNormal, Priority::kBatch})
            ASSERT_TRUE(q->enqueue(std::string(priority_name(p)) + std::to_string(i), p, 0).ok());
    std::map<Priority, int> counts;
    for (int i = 0; i < 10; ++i) {  // 120 leases, 12 at a time
        auto leased = q->lease("w", 12, 30s, 0ms);
        ASSERT_TRUE(leased.ok()) << leased.error().message;
        ASSERT_EQ(leased->size(), 12u);
        for (const Lease& l : *leased) ++counts[l.priority];
    }
    EXPECT_EQ(counts[Priority::kVip], 80);
    EXPECT_EQ(counts[Priority::kNormal], 30);
    EXPECT_EQ(counts[Priority::kBatch], 10);
}

TEST_F(RedisQueueTest, DelayedTaskIsNotLeasableBeforeNotBefore) {
    auto q = queue();
    const std::int64_t not_before = unix_now_ms() + 400;
    ASSERT_TRUE(q->enqueue("later", Priority::kNormal, not_before).ok());
    EXPECT_EQ(*q->depth(Priority::kNormal), 1);  // waiting, though not runnable yet
    EXPECT_EQ(lease_one(*q).task_id, "");
    auto leased = q->lease("w", 1, 30s, 5s);  // wakes between blocks to promote it
    ASSERT_TRUE(leased.ok()) << leased.error().message;
    ASSERT_EQ(leased->size(), 1u);
    EXPECT_EQ(leased->front().task_id, "later");
    EXPECT_GE(unix_now_ms(), not_before);
}

TEST_F(RedisQueueTest, RetryWithBackoffRedeliversLater) {
    auto q = queue();
    ASSERT_TRUE(q->enqueue("t", Priority::kNormal, 0).ok());
    const Lease first = lease_one(*q);
    ASSERT_EQ(first.deliveries, 1);
    const std::int64_t not_before = unix_now_ms() + 300;
    ASSERT_TRUE(q->retry(first, not_before).ok());
    EXPECT_EQ(*q->depth(Priority::kNormal), 1);
    EXPECT_EQ(lease_one(*q).task_id, "");
    Lease second;
    ASSERT_TRUE(eventually([&] { return !(second = lease_one(*q)).task_id.empty(); }));
    EXPECT_GE(unix_now_ms(), not_before);
    EXPECT_EQ(second.task_id, "t");
    EXPECT_EQ(second.deliveries, 1) << "a retry is a fresh delivery, not a lost lease";
    EXPECT_NE(second.token, first.token);
    auto stale = q->retry(first, 0);
    ASSERT_FALSE(stale.ok());
    EXPECT_EQ(stale.error().code, ErrorCode::kLeaseLost);
}

TEST_F(RedisQueueTest, ExpiredLeaseIsRedeliveredToAnotherWorker) {
    auto q = queue();
    ASSERT_TRUE(q->enqueue("t", Priority::kVip, 0).ok());
    const Lease first = lease_one(*q, "worker-a", 200ms);
    ASSERT_EQ(first.task_id, "t");
    EXPECT_EQ(*q->depth(Priority::kVip), 0);
    EXPECT_EQ(lease_one(*q, "worker-b", 200ms).task_id, "") << "a held lease is not handed out";
    Lease second;
    ASSERT_TRUE(
        eventually([&] { return !(second = lease_one(*q, "worker-b", 200ms)).task_id.empty(); }));
    EXPECT_EQ(second.task_id, "t");
    EXPECT_EQ(second.deliveries, 2);
    Lease stale = first;
    for (Status s : {q->heartbeat(stale, 30s), q->ack(first), q->retry(first, 0),
                     q->dead_letter(first, "x")}) {
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.error().code, ErrorCode::kLeaseLost);
    }
    EXPECT_TRUE(q->heartbeat(second, 30s).ok());
    EXPECT_TRUE(q->ack(second).ok());
    EXPECT_EQ(lease_one(*q).task_id, "");
}

TEST_F(RedisQueueTest, HeartbeatKeepsTheLease) {
    auto q = queue();
    ASSERT_TRUE(q->enqueue("t", Priority::kNormal, 0).ok());
    Lease held = lease_one(*q, "worker-a", 300ms);
    ASSERT_EQ(held.task_id, "t");
    const auto until = Clock::now() + 1200ms;  // four lease durations
    while (Clock::now() < until) {
        ASSERT_TRUE(q->heartbeat(held, 300ms).ok());
        EXPECT_EQ(lease_one(*q, "worker-b", 300ms).task_id, "");
        std::this_thread::sleep_for(50ms);  // heartbeat interval, well inside the lease
    }
    // Without heartbeats it expires and goes to the other worker.
    Lease taken;
    ASSERT_TRUE(
        eventually([&] { return !(taken = lease_one(*q, "worker-b", 300ms)).task_id.empty(); }));
    EXPECT_EQ(taken.deliveries, 2);
    auto lost = q->heartbeat(held, 300ms);
    ASSERT_FALSE(lost.ok());
    EXPECT_EQ(lost.error().code, ErrorCode::kLeaseLost);
}

TEST_F(RedisQueueTest, ExpiredButUntakenLeaseLosesHeartbeatYetMayAck) {
    auto q = queue();
    ASSERT_TRUE(q->enqueue("t", Priority::kNormal, 0).ok());
    Lease held = lease_one(*q, "worker-a", 100ms);
    ASSERT_TRUE(eventually([&] { return unix_now_ms() >= held.expires_at_ms; }));
    auto late = q->heartbeat(held, 100ms);
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().code, ErrorCode::kLeaseLost);
    EXPECT_TRUE(q->ack(held).ok()) << "no one took it, so the finished work still counts";
    EXPECT_EQ(lease_one(*q, "worker-b", 100ms).task_id, "");
}

TEST_F(RedisQueueTest, AckRemovesTheTask) {
    auto q = queue();
    ASSERT_TRUE(q->enqueue("t", Priority::kBatch, 0).ok());
    const Lease l = lease_one(*q);
    ASSERT_TRUE(q->ack(l).ok());
    EXPECT_EQ(*q->depth(Priority::kBatch), 0);
    EXPECT_EQ(lease_one(*q).task_id, "");
    auto again = q->ack(l);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, ErrorCode::kLeaseLost);
    auto len = client()->command({"XLEN", "facefuse:q:batch"});
    ASSERT_TRUE(len.ok());
    EXPECT_EQ(len->as_int(), 0) << "acked entries are deleted, not only acknowledged";
    // The task may be queued again afterwards.
    ASSERT_TRUE(q->enqueue("t", Priority::kBatch, 0).ok());
    EXPECT_EQ(*q->depth(Priority::kBatch), 1);
}

TEST_F(RedisQueueTest, DeadLetterIsRecorded) {
    auto q = queue();
    ASSERT_TRUE(q->enqueue("t", Priority::kVip, 0).ok());
    const Lease l = lease_one(*q);
    ASSERT_TRUE(q->dead_letter(l, "storage down 3 times").ok());
    EXPECT_EQ(*q->depth(Priority::kVip), 0);
    EXPECT_EQ(lease_one(*q).task_id, "");
    auto dead = client()->command({"XRANGE", "facefuse:dead", "-", "+"});
    ASSERT_TRUE(dead.ok());
    ASSERT_EQ(dead->elements.size(), 1u);
    std::map<std::string, std::string> fields;
    const auto& f = dead->elements[0].elements[1].elements;
    for (size_t i = 0; i + 1 < f.size(); i += 2) fields[f[i].str] = f[i + 1].str;
    EXPECT_EQ(fields["task"], "t");
    EXPECT_EQ(fields["reason"], "storage down 3 times");
    EXPECT_EQ(fields["priority"], "vip");
    EXPECT_EQ(fields["deliveries"], "1");
}

TEST_F(RedisQueueTest, BoundedLaneAnswersQueueFull) {
    RedisQueueOptions options;
    options.max_depth = 3;
    auto q = queue(options);
    ASSERT_TRUE(q->enqueue("a", Priority::kNormal, 0).ok());
    ASSERT_TRUE(q->enqueue("b", Priority::kNormal, 0).ok());
    ASSERT_TRUE(q->enqueue("c", Priority::kNormal, unix_now_ms() + 60'000).ok());  // delayed counts
    auto full = q->enqueue("d", Priority::kNormal, 0);
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error().code, ErrorCode::kQueueFull);
    EXPECT_TRUE(q->enqueue("v", Priority::kVip, 0).ok()) << "each lane has its own bound";
    EXPECT_TRUE(q->enqueue("a", Priority::kNormal, 0).ok()) << "a task already queued is a no-op";
    EXPECT_EQ(*q->depth(Priority::kNormal), 3);
    // A leased task no longer waits, so it makes room; retrying it is never refused.
    auto leased = q->lease("w", 2, 30s, 0ms);
    ASSERT_TRUE(leased.ok());
    ASSERT_EQ(leased->size(), 2u);  // v and a
    const Lease normal = leased->back();
    ASSERT_EQ(normal.task_id, "a");
    EXPECT_TRUE(q->enqueue("d", Priority::kNormal, 0).ok());
    EXPECT_TRUE(q->retry(normal, 0).ok());
    EXPECT_EQ(*q->depth(Priority::kNormal), 4);
}

TEST_F(RedisQueueTest, RemoveTakesOutWaitingTasksOnly) {
    auto q = queue();
    ASSERT_TRUE(q->enqueue("now", Priority::kNormal, 0).ok());
    ASSERT_TRUE(q->enqueue("later", Priority::kNormal, unix_now_ms() + 60'000).ok());
    ASSERT_TRUE(q->enqueue("run", Priority::kVip, 0).ok());
    const Lease running = lease_one(*q);
    ASSERT_EQ(running.task_id, "run");
    EXPECT_TRUE(q->remove("now", Priority::kNormal).ok());
    EXPECT_TRUE(q->remove("later", Priority::kBatch).ok()) << "the lane comes from the index";
    EXPECT_TRUE(q->remove("run", Priority::kVip).ok());  // leased: left alone, not an error
    EXPECT_TRUE(q->remove("never-queued", Priority::kVip).ok());
    EXPECT_EQ(*q->depth(Priority::kNormal), 0);
    EXPECT_EQ(lease_one(*q).task_id, "");
    EXPECT_TRUE(q->ack(running).ok());
}

TEST_F(RedisQueueTest, WaitingLeaseWakesWhenWorkArrives) {
    RedisQueueOptions options;
    options.max_block = 3s;  // so only a wake-up, not the end of a block, can return early
    auto q = queue(options);
    std::thread producer([&] {
        std::this_thread::sleep_for(200ms);  // let the consumer block first
        EXPECT_TRUE(q->enqueue("late", Priority::kBatch, 0).ok());
    });
    const auto start = Clock::now();
    auto leased = q->lease("w", 4, 30s, 10s);
    const auto took = Clock::now() - start;
    producer.join();
    ASSERT_TRUE(leased.ok()) << leased.error().message;
    ASSERT_EQ(leased->size(), 1u);
    EXPECT_EQ(leased->front().task_id, "late");
    EXPECT_LT(took, 2s) << "the blocked read should wake on the XADD";
    auto none = q->lease("w", 1, 30s, 300ms);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty()) << "nothing to lease after the wait: empty, not an error";
}

TEST_F(RedisQueueTest, ConcurrentWorkersNeverShareATask) {
    auto q = queue();
    constexpr int kTasks = 200;
    for (int i = 0; i < kTasks; ++i) {
        std::string id = "t";  // not "t" + ...: GCC 12 warns falsely (-Wrestrict, bug 105329)
        id += std::to_string(i);
        ASSERT_TRUE(q->enqueue(id, static_cast<Priority>(i % 3), 0).ok());
    }
    std::mutex mu;
    std::multiset<std::string> seen;
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&, w] {
            for (;;) {
                auto leased = q->lease("worker-" + std::to_string(w), 3, 30s, 0ms);
                ASSERT_TRUE(leased.ok()) << leased.error().message;
                if (leased->empty()) return;
                for (const Lease& l : *leased) {
                    ASSERT_TRUE(q->ack(l).ok());
                    std::lock_guard lock(mu);
                    seen.insert(l.task_id);
                }
            }
        });
    }
    for (auto& t : workers) t.join();
    EXPECT_EQ(seen.size(), static_cast<size_t>(kTasks));
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), static_cast<size_t>(kTasks))
        << "some task was leased twice";
}

TEST_F(RedisQueueTest, RedisDownIsUnavailableQuicklyAndRecovers) {
    auto q = queue();
    ASSERT_TRUE(q->enqueue("before", Priority::kNormal, 0).ok());
    redis_.stop();
    const auto start = Clock::now();
    const std::string endpoint = "127.0.0.1:" + std::to_string(redis_.port());
    auto enqueued = q->enqueue("x", Priority::kNormal, 0);
    ASSERT_FALSE(enqueued.ok());
    EXPECT_EQ(enqueued.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(enqueued.error().message.find(endpoint), std::string::npos)
        << enqueued.error().message;
    auto depth = q->depth(Priority::kNormal);
    ASSERT_FALSE(depth.ok());
    EXPECT_EQ(depth.error().code, ErrorCode::kUnavailable);
    auto leased = q->lease("w", 1, 30s, 5s);
    ASSERT_FALSE(leased.ok()) << "a waiting lease() must not hide the outage";
    EXPECT_EQ(leased.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(Clock::now() - start, 2s);
    // Back, but empty (no persistence): the first call works again and remakes the group.
    ASSERT_TRUE(redis_.start());
    auto after = q->enqueue("after", Priority::kNormal, 0);
    ASSERT_TRUE(after.ok()) << after.error().message;
    EXPECT_EQ(lease_one(*q).task_id, "after");
}

TEST_F(RedisQueueTest, BlockedLeaseReturnsWhenRedisDies) {
    RedisQueueOptions options;
    options.max_block = 5s;
    auto q = queue(options);
    ASSERT_TRUE(q->depth(Priority::kVip).ok());  // the lanes exist
    Result<std::vector<Lease>> leased = std::vector<Lease>{};
    Clock::time_point returned;
    std::thread worker([&] {
        leased = q->lease("w", 1, 30s, 10s);
        returned = Clock::now();
    });
    std::this_thread::sleep_for(300ms);  // let it block in XREADGROUP
    redis_.stop();
    const auto stopped = Clock::now();
    worker.join();
    ASSERT_FALSE(leased.ok());
    EXPECT_EQ(leased.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(returned - stopped, 1s);
}

TEST_F(RedisQueueTest, HungRedisTimesOutInsteadOfHanging) {
    RedisTaskQueue q(client(300ms));
    ASSERT_TRUE(q.enqueue("t", Priority::kNormal, 0).ok());
    redis_.freeze();
    const auto start = Clock::now();
    auto depth = q.depth(Priority::kNormal);
    const auto took = Clock::now() - start;
    redis_.thaw();
    ASSERT_FALSE(depth.ok());
    EXPECT_EQ(depth.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(depth.error().message.find("did not answer"), std::string::npos)
        << depth.error().message;
    EXPECT_LT(took, 2s);
    auto again = q.depth(Priority::kNormal);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(*again, 1);
}

}  // namespace
}  // namespace facefuse::tasks::redis
