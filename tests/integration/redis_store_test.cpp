// RedisTaskStore against a real redis-server: the behaviours SqliteTaskStore's tests check
// (round trip, tenant scoping, idempotency, compare-and-set transitions, paging, expiry), plus
// the Redis-specific ones: TTLs on the keys, races between clients, Redis down and back.
#include "tasks/redis/redis_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "support/redis_server.hpp"

namespace facefuse::tasks::redis {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A count, or -1 for an error (which the EXPECT then reports as a wrong count).
std::int64_t count_of(const Result<std::int64_t>& counted) {
    return counted.ok() ? *counted : -1;
}

class RedisStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(redis_.ready()) << redis_.log();
        RedisOptions options;
        options.url = redis_.url();
        auto c = RedisClient::open(options);
        ASSERT_TRUE(c.ok()) << c.error().message;
        client_ = *c;
        store_ = std::make_unique<RedisTaskStore>(client_);
    }

    static Task sample(const std::string& tenant = "acme", const std::string& id = new_task_id()) {
        Task t;
        t.id = id;
        t.tenant = tenant;
        t.kind = "swap";
        t.priority = Priority::kVip;
        t.max_attempts = 5;
        t.options_json = R"({"face_selector_mode":"one"})";
        t.source_key = "tenants/" + tenant + "/tasks/" + id + "/source.jpg";
        t.target_key = "tenants/" + tenant + "/tasks/" + id + "/target.png";
        t.request_hash = "hash-1";
        t.created_at_ms = unix_now_ms();
        t.expires_at_ms = unix_now_ms() + 3'600'000;
        return t;
    }

    Task create(const Task& t) {
        auto created = store_->create(t, unix_now_ms() + 60'000);
        EXPECT_TRUE(created.ok()) << created.error().message;
        return created.ok() ? created->task : Task{};
    }

    // queued -> running, as a worker's lease does.
    bool start(const std::string& id) {
        return store_
            ->transition(id, {TaskState::kQueued}, [](Task& x) { x.state = TaskState::kRunning; })
            .ok();
    }

    long long pttl(const std::string& key) {
        auto r = client_->command({"PTTL", key});
        EXPECT_TRUE(r.ok());
        return r.ok() ? r->as_int() : -3;
    }

    test::RedisServer redis_;
    std::shared_ptr<RedisClient> client_;
    std::unique_ptr<RedisTaskStore> store_;
};

TEST_F(RedisStoreTest, CreateThenGetRoundTripsEveryField) {
    Task t = sample();
    t.attempts = 2;
    t.state = TaskState::kQueued;
    t.progress = 0.125;
    t.idempotency_key = "key with spaces: and colons";
    t.error = TaskError{"storage_unavailable", "S3 said 503"};
    t.started_at_ms = 11;
    t.finished_at_ms = 12;
    const Task stored = create(t);
    auto got = store_->get("acme", t.id);
    ASSERT_TRUE(got.ok()) << got.error().message;
    // A sample of fields (the codec's unit test covers each one's encoding).
    EXPECT_EQ(got->id, t.id);
    EXPECT_EQ(got->tenant, "acme");
    EXPECT_EQ(got->priority, Priority::kVip);
    EXPECT_EQ(got->attempts, 2);
    EXPECT_EQ(got->max_attempts, 5);
    EXPECT_EQ(got->options_json, t.options_json);
    EXPECT_EQ(got->idempotency_key, t.idempotency_key);
    EXPECT_DOUBLE_EQ(got->progress, 0.125);
    ASSERT_TRUE(got->error.has_value());
    EXPECT_EQ(got->error->message, "S3 said 503");
    EXPECT_EQ(got->updated_at_ms, stored.updated_at_ms);
    EXPECT_EQ(got->finished_at_ms, 12);
    EXPECT_EQ(got->expires_at_ms, t.expires_at_ms);
    EXPECT_TRUE(store_->get("", t.id).ok()) << "an empty tenant (workers) reads any task";
}

TEST_F(RedisStoreTest, FillsIdTimesAndExpiryAndRefusesADuplicateId) {
    Task t = sample();
    t.id.clear();
    t.created_at_ms = 0;
    t.expires_at_ms = 0;
    const std::int64_t before = unix_now_ms();
    const Task stored = create(t);
    EXPECT_EQ(stored.id.size(), 32u);
    EXPECT_GE(stored.created_at_ms, before);
    EXPECT_GE(stored.updated_at_ms, before);
    EXPECT_GT(stored.expires_at_ms, before) << "every record gets an expiry, hence a TTL";
    EXPECT_TRUE(store_->get("acme", stored.id).ok());
    auto again = store_->create(stored, 0);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, ErrorCode::kConflict) << "an id is created once";
}

TEST_F(RedisStoreTest, EveryTaskKeyHasATtl) {
    Task t = sample();
    t.idempotency_key = "k1";
    create(t);
    const long long task_ttl = pttl("facefuse:task:" + t.id);
    EXPECT_GT(task_ttl, 3'600'000) << "expires_at plus the grace period";
    EXPECT_GT(pttl("facefuse:tenant:acme:tasks"), 3'600'000);
    auto keys = client_->command({"KEYS", "facefuse:idem:acme:*"});
    ASSERT_TRUE(keys.ok());
    ASSERT_EQ(keys->elements.size(), 1u);
    const long long idem_ttl = pttl(keys->elements[0].str);
    EXPECT_GT(idem_ttl, 0);
    EXPECT_LE(idem_ttl, 60'000);
    // A transition that moves the expiry moves the TTL with it.
    auto moved = store_->transition(t.id, {TaskState::kQueued}, [](Task& x) {
        x.state = TaskState::kRunning;
        x.expires_at_ms = unix_now_ms() + 7'200'000;
    });
    ASSERT_TRUE(moved.ok()) << moved.error().message;
    EXPECT_GT(pttl("facefuse:task:" + t.id), task_ttl + 3'000'000);
}

TEST_F(RedisStoreTest, OtherTenantsTaskIsNotFound) {
    const Task t = create(sample("acme"));
    for (auto result : {store_->get("globex", t.id), store_->request_cancel("globex", t.id),
                        store_->get("acme", "no-such-id")}) {
        ASSERT_FALSE(result.ok());
        EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
    }
    auto page = store_->list("globex", 10, "");
    ASSERT_TRUE(page.ok());
    EXPECT_TRUE(page->tasks.empty());
    EXPECT_FALSE(store_->get("acme", t.id)->cancel_requested);
}

TEST_F(RedisStoreTest, IdempotencyReplaysSameRequestAndRejectsDifferentOne) {
    Task first = sample();
    first.idempotency_key = "order-42";
    const Task made = create(first);
    Task retry = sample();  // a new id, as a retried HTTP request would get
    retry.idempotency_key = "order-42";
    auto replay = store_->create(retry, unix_now_ms() + 60'000);
    ASSERT_TRUE(replay.ok()) << replay.error().message;
    EXPECT_TRUE(replay->replayed);
    EXPECT_EQ(replay->task.id, made.id);
    Task different = sample();
    different.idempotency_key = "order-42";
    different.request_hash = "hash-2";
    auto conflict = store_->create(different, unix_now_ms() + 60'000);
    ASSERT_FALSE(conflict.ok());
    EXPECT_EQ(conflict.error().code, ErrorCode::kIdempotencyConflict);
    Task other_tenant = sample("globex");
    other_tenant.idempotency_key = "order-42";
    auto separate = store_->create(other_tenant, unix_now_ms() + 60'000);
    ASSERT_TRUE(separate.ok());
    EXPECT_FALSE(separate->replayed) << "keys are per tenant";
}

TEST_F(RedisStoreTest, HundredConcurrentCreatesWithOneKeyMakeOneTask) {
    constexpr int kRequests = 100;
    std::vector<Result<Created>> results(kRequests, make_error(ErrorCode::kInternal, "not run"));
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kRequests; ++i) {
        threads.emplace_back([&, i] {
            Task t = sample();
            t.idempotency_key = "same-key";
            while (!go) std::this_thread::yield();
            results[i] = store_->create(t, unix_now_ms() + 60'000);
        });
    }
    go = true;
    for (auto& t : threads) t.join();
    int created = 0;
    std::set<std::string> ids;
    for (const auto& r : results) {
        ASSERT_TRUE(r.ok()) << r.error().message;
        if (!r->replayed) ++created;
        ids.insert(r->task.id);
    }
    EXPECT_EQ(created, 1);
    EXPECT_EQ(ids.size(), 1u) << "every request must see the one task";
    auto card = client_->command({"ZCARD", "facefuse:tenant:acme:tasks"});
    ASSERT_TRUE(card.ok());
    EXPECT_EQ(card->as_int(), 1);
}

TEST_F(RedisStoreTest, TransitionIsCompareAndSetOnTheStateMachine) {
    const Task t = create(sample());
    auto wrong = store_->transition(t.id, {TaskState::kRunning},
                                    [](Task& x) { x.state = TaskState::kSucceeded; });
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().code, ErrorCode::kConflict);
    EXPECT_NE(wrong.error().message.find("queued"), std::string::npos) << wrong.error().message;
    auto forbidden = store_->transition(t.id, {TaskState::kQueued},
                                        [](Task& x) { x.state = TaskState::kSucceeded; });
    ASSERT_FALSE(forbidden.ok());
    EXPECT_EQ(forbidden.error().code, ErrorCode::kConflict);
    auto running = store_->transition(t.id, {TaskState::kQueued}, [](Task& x) {
        x.state = TaskState::kRunning;
        x.attempts += 1;
        x.id = "hijacked";  // identity is not the change's to alter
        x.tenant = "globex";
    });
    ASSERT_TRUE(running.ok()) << running.error().message;
    EXPECT_EQ(running->id, t.id);
    EXPECT_EQ(running->tenant, "acme");
    EXPECT_GT(running->started_at_ms, 0);
    auto done = store_->transition(t.id, {TaskState::kRunning}, [](Task& x) {
        x.state = TaskState::kSucceeded;
        x.result_key = "tenants/acme/result.png";
        x.error.reset();
    });
    ASSERT_TRUE(done.ok());
    EXPECT_GT(done->finished_at_ms, 0);
    auto stored = store_->get("acme", t.id);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->state, TaskState::kSucceeded);
    EXPECT_EQ(stored->attempts, 1);
    EXPECT_EQ(stored->result_key, "tenants/acme/result.png");
    auto throwing = store_->transition(t.id, {TaskState::kSucceeded},
                                       [](Task&) { throw std::runtime_error("boom"); });
    ASSERT_FALSE(throwing.ok());
    EXPECT_EQ(throwing.error().code, ErrorCode::kInternal);
}

TEST_F(RedisStoreTest, RacingFinishersOnlyOneWins) {
    const Task t = create(sample());
    ASSERT_TRUE(start(t.id));
    constexpr int kWorkers = 20;
    std::atomic<int> wins{0}, conflicts{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kWorkers; ++i) {
        threads.emplace_back([&, i] {
            while (!go) std::this_thread::yield();
            auto r = store_->transition(t.id, {TaskState::kRunning}, [i](Task& x) {
                x.state = i % 2 == 0 ? TaskState::kSucceeded : TaskState::kFailed;
            });
            if (r.ok()) ++wins;
            if (!r.ok() && r.error().code == ErrorCode::kConflict) ++conflicts;
        });
    }
    go = true;
    for (auto& th : threads) th.join();
    EXPECT_EQ(wins, 1);
    EXPECT_EQ(conflicts, kWorkers - 1);
}

TEST_F(RedisStoreTest, TransitionNeverLosesAConcurrentCancelOrProgress) {
    const Task t = create(sample());
    ASSERT_TRUE(start(t.id));
    std::atomic<bool> stop{false};
    std::thread reporter([&] {
        for (int i = 0; !stop; ++i) (void)store_->set_progress(t.id, (i % 100) / 100.0);
    });
    // Re-deliveries (running -> running) bump attempts while progress keeps coming.
    for (int i = 0; i < 50; ++i) {
        auto r = store_->transition(t.id, {TaskState::kRunning}, [](Task& x) { x.attempts++; });
        ASSERT_TRUE(r.ok()) << r.error().message;
        if (i == 25) {
            ASSERT_TRUE(store_->request_cancel("acme", t.id).ok());
        }
    }
    stop = true;
    reporter.join();
    auto final_task = store_->get("acme", t.id);
    ASSERT_TRUE(final_task.ok());
    EXPECT_EQ(final_task->attempts, 50) << "no increment was lost";
    EXPECT_TRUE(final_task->cancel_requested) << "a later transition overwrote the cancel";
}

TEST_F(RedisStoreTest, ProgressAndCancelFollowTheState) {
    const Task t = create(sample());
    ASSERT_TRUE(store_->set_progress(t.id, 0.5).ok());
    EXPECT_EQ(store_->get("acme", t.id)->progress, 0) << "only running tasks take progress";
    ASSERT_TRUE(start(t.id));
    ASSERT_TRUE(store_->set_progress(t.id, 7).ok());
    EXPECT_EQ(store_->get("acme", t.id)->progress, 1) << "clamped to 0..1";
    EXPECT_TRUE(store_->set_progress("gone-task", 0.5).ok());
    auto asked = store_->request_cancel("acme", t.id);
    ASSERT_TRUE(asked.ok());
    EXPECT_TRUE(asked->cancel_requested);
    const Task other = create(sample());
    ASSERT_TRUE(store_
                    ->transition(other.id, {TaskState::kQueued},
                                 [](Task& x) { x.state = TaskState::kCancelled; })
                    .ok());
    auto finished = store_->request_cancel("acme", other.id);
    ASSERT_TRUE(finished.ok());
    EXPECT_FALSE(finished->cancel_requested) << "terminal records never change";
}

TEST_F(RedisStoreTest, ListPagesNewestFirst) {
    std::vector<std::string> expected;  // newest first
    const std::int64_t base = unix_now_ms();
    for (int i = 0; i < 25; ++i) {
        Task t = sample();
        t.created_at_ms = base + i / 3;  // groups of three share a millisecond
        create(t);
        expected.push_back(t.id);
    }
    // Newest first; within one millisecond, by id descending.
    std::vector<std::pair<std::int64_t, std::string>> order;
    for (int i = 0; i < 25; ++i) order.emplace_back(base + i / 3, expected[i]);
    std::sort(order.rbegin(), order.rend());
    std::vector<std::string> seen;
    std::string cursor;
    int pages = 0;
    do {
        auto page = store_->list("acme", 10, cursor);
        ASSERT_TRUE(page.ok()) << page.error().message;
        for (const Task& t : page->tasks) seen.push_back(t.id);
        cursor = page->next_cursor;
        ++pages;
    } while (!cursor.empty() && pages < 10);
    EXPECT_EQ(pages, 3);
    ASSERT_EQ(seen.size(), 25u);
    for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], order[i].second) << i;
    for (auto bad : {store_->list("acme", 0, ""), store_->list("acme", 10, "not-a-cursor")}) {
        ASSERT_FALSE(bad.ok());
        EXPECT_EQ(bad.error().code, ErrorCode::kUsage);
    }
}

TEST_F(RedisStoreTest, ExpireDeletesAndReturnsDueTasksOldestFirst) {
    const std::int64_t now = unix_now_ms();
    Task old = sample();
    old.expires_at_ms = now - 2000;
    Task older = sample();
    older.expires_at_ms = now - 3000;
    Task fresh = sample();
    fresh.expires_at_ms = now + 60'000;
    for (const Task& t : {old, older, fresh}) create(t);
    Task vanished = sample("globex");  // its key's TTL got there first
    vanished.expires_at_ms = now - 1000;
    create(vanished);
    ASSERT_TRUE(client_->command({"DEL", "facefuse:task:" + vanished.id}).ok());

    auto expired = store_->expire(now, 10);
    ASSERT_TRUE(expired.ok()) << expired.error().message;
    ASSERT_EQ(expired->size(), 3u);
    EXPECT_EQ((*expired)[0].id, older.id);
    EXPECT_EQ((*expired)[0].source_key, older.source_key) << "blob keys for the caller to delete";
    EXPECT_EQ((*expired)[1].id, old.id);
    EXPECT_EQ((*expired)[2].id, vanished.id);
    EXPECT_EQ((*expired)[2].tenant, "globex");
    EXPECT_TRUE((*expired)[2].source_key.empty()) << "only a stub is left of it";
    for (const Task& t : {old, older}) {
        auto got = store_->get("acme", t.id);
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
    }
    auto page = store_->list("acme", 10, "");
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->tasks.size(), 1u);
    EXPECT_EQ(page->tasks[0].id, fresh.id);
    auto card = client_->command({"ZCARD", "facefuse:tenant:acme:tasks"});
    EXPECT_EQ(card->as_int(), 1) << "index entries of deleted tasks are removed";
    EXPECT_TRUE(store_->expire(now, 10)->empty());
}

TEST_F(RedisStoreTest, RedisDownIsUnavailableQuicklyAndRecovers) {
    const Task t = create(sample());
    redis_.stop();
    const auto start = Clock::now();
    auto got = store_->get("acme", t.id);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::kUnavailable);
    auto created = store_->create(sample(), 0);
    ASSERT_FALSE(created.ok());
    EXPECT_EQ(created.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(Clock::now() - start, 2s);
    ASSERT_TRUE(redis_.start());
    const Task after = create(sample());  // the first call after the restart works
    EXPECT_TRUE(store_->get("acme", after.id).ok());
}

// The per-tenant quota counts a tenant's queued tasks only, following every transition, and
// a task that expired while queued stops counting.
TEST_F(RedisStoreTest, CountQueuedFollowsTheStateOfTheTenantsTasks) {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(create(sample("acme")).id);
    create(sample("globex"));
    EXPECT_EQ(*store_->count_queued("acme"), 3);
    EXPECT_EQ(*store_->count_queued("globex"), 1);
    EXPECT_EQ(*store_->count_queued("nobody"), 0);
    ASSERT_TRUE(start(ids[0]));
    ASSERT_TRUE(store_->transition(ids[1], {TaskState::kQueued}, [](Task& t) { t.state = TaskState::kCancelled; }).ok());
    EXPECT_EQ(*store_->count_queued("acme"), 1);
    ASSERT_TRUE(store_->transition(ids[0], {TaskState::kRunning}, [](Task& t) { t.state = TaskState::kQueued; }).ok());
    EXPECT_EQ(*store_->count_queued("acme"), 2);
    EXPECT_GT(pttl("facefuse:queued:acme"), 3'600'000) << "the set expires with its tasks";

    Task stale = sample("initech");
    stale.expires_at_ms = unix_now_ms() - 1;  // already past its expiry
    create(stale);
    EXPECT_EQ(*store_->count_queued("initech"), 0);
}

// Built with its queue, create() enqueues in the same script: a full lane leaves no record and
// no key, so a retry with the same key after the 429 creates the task once there is room.
TEST_F(RedisStoreTest, CreateWithItsQueueEnqueuesOrLeavesNothingWhenTheLaneIsFull) {
    RedisQueueOptions bounded;
    bounded.max_depth = 1;
    auto queue = std::make_shared<RedisTaskQueue>(client_, bounded);
    RedisTaskStore store(client_, {}, queue);

    const Task first = sample();
    auto created = store.create(first, unix_now_ms() + 60'000);
    ASSERT_TRUE(created.ok()) << created.error().message;
    EXPECT_TRUE(created->enqueued);
    ASSERT_EQ(count_of(queue->depth(Priority::kVip)), 1);

    Task refused = sample();
    refused.idempotency_key = "order-9";
    auto full = store.create(refused, unix_now_ms() + 60'000);
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error().code, ErrorCode::kQueueFull);
    EXPECT_EQ(store.get("acme", refused.id).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(count_of(store.count_queued("acme")), 1);

    auto leased = queue->lease("w", 1, 30s, 0ms);
    ASSERT_TRUE(leased.ok()) << leased.error().message;
    ASSERT_EQ(leased->size(), 1u);
    EXPECT_EQ(leased->front().task_id, first.id);
    Task again = sample();
    again.idempotency_key = "order-9";
    auto retried = store.create(again, unix_now_ms() + 60'000);
    ASSERT_TRUE(retried.ok()) << retried.error().message;
    EXPECT_FALSE(retried->replayed);
    EXPECT_TRUE(retried->enqueued);
    auto next = queue->lease("w", 1, 30s, 0ms);
    ASSERT_TRUE(next.ok()) << next.error().message;
    ASSERT_EQ(next->size(), 1u);
    EXPECT_EQ(next->front().task_id, again.id);

    // The store alone (the fixture's) leaves enqueueing to its caller.
    auto plain = store_->create(sample(), unix_now_ms() + 60'000);
    ASSERT_TRUE(plain.ok());
    EXPECT_FALSE(plain->enqueued);
    EXPECT_EQ(count_of(queue->depth(Priority::kVip)), 0);
}

}  // namespace
}  // namespace facefuse::tasks::redis
