// The cluster shape with every part real and separate: redis-server, s3rver, one gateway and
// two workers as processes on loopback. Tasks survive a worker's kill -9, Redis and S3 outages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <future>
#include <map>
#include <sstream>

#include "integration/serve_fixture.hpp"
#include "support/jwt_tokens.hpp"
#include "support/redis_server.hpp"
#include "support/s3_server.hpp"

namespace facefuse::test {
namespace {

// A gateway or worker process, ready when its /readyz answers 200.
class Role {
  public:
    Role(const std::string& role, const RedisServer& redis, const S3Server& s3,
         const std::filesystem::path& logs, std::vector<std::string> extra = {}) {
        port_ = free_port();
        std::vector<std::string> argv = {facefuse_binary().string(),
                                         role,
                                         "--listen",
                                         "127.0.0.1:" + std::to_string(port_),
                                         "--redis",
                                         redis.url(),
                                         "--s3-endpoint",
                                         s3.endpoint(),
                                         "--s3-bucket",
                                         S3Server::kBucket};
        if (role == "gateway" && std::find(extra.begin(), extra.end(), "--auth") == extra.end())
            argv.insert(argv.end(), {"--auth", "none"});
        argv.insert(argv.end(), extra.begin(), extra.end());
        process_ =
            BackgroundProcess(argv, logs / (role + "-" + std::to_string(port_) + ".log"),
                              {std::string("AWS_ACCESS_KEY_ID=") + S3Server::kAccessKey,
                               std::string("AWS_SECRET_ACCESS_KEY=") + S3Server::kSecretKey});
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (std::chrono::steady_clock::now() < until && process_.running()) {
            if (http_get(url("/readyz"), {}, 5).status == 200) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ADD_FAILURE() << role << " did not become ready:\n" << process_.log();
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    BackgroundProcess& process() { return process_; }
    std::string log() const { return process_.log(); }

  private:
    int port_ = 0;
    BackgroundProcess process_;
};

class ClusterTest : public ::testing::Test {
  protected:
    TempDir dir;
    RedisServer redis;
    S3Server s3;

    // Polls until every id is finished; returns id -> final task JSON.
    std::map<std::string, nlohmann::json> wait_all(
        Role& gateway, const std::vector<std::string>& ids,
        std::chrono::seconds deadline = std::chrono::seconds(240)) {
        std::map<std::string, nlohmann::json> done;
        const auto until = std::chrono::steady_clock::now() + deadline;
        while (done.size() < ids.size() && std::chrono::steady_clock::now() < until) {
            for (const auto& id : ids) {
                if (done.count(id)) continue;
                const HttpResponse r = http_get(gateway.url("/v1/tasks/" + id));
                if (r.status == 200 && finished(json_of(r))) done[id] = json_of(r);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling interval
        }
        EXPECT_EQ(done.size(), ids.size()) << "not every task finished in time";
        return done;
    }

    std::vector<std::string> submit(Role& gateway, int n, const std::vector<FormPart>& form) {
        std::vector<std::string> ids;
        for (int i = 0; i < n; ++i) {
            const HttpResponse r = http_post_form(gateway.url("/v1/swaps"), form);
            EXPECT_EQ(r.status, 202) << r.body;
            if (r.status == 202) ids.push_back(json_of(r)["id"]);
        }
        return ids;
    }
};

// Counts "task_succeeded" log events per task id across the given logs.
std::map<std::string, int> successes(const std::vector<std::string>& logs) {
    std::map<std::string, int> count;
    for (const auto& log : logs) {
        std::istringstream in(log);
        std::string line;
        while (std::getline(in, line)) {
            const auto j = nlohmann::json::parse(line, nullptr, false);
            if (!j.is_discarded() && j.is_object() && j.value("event", "") == "task_succeeded")
                ++count[j.value("task_id", "")];
        }
    }
    return count;
}

TEST_F(ClusterTest, TwoHundredTasksAllSucceed) {
    ASSERT_TRUE(redis.ready() && s3.ok());
    Role gateway("gateway", redis, s3, dir.path());
    Role w1("worker", redis, s3, dir.path(), {"--concurrency", "2"});
    Role w2("worker", redis, s3, dir.path(), {"--concurrency", "2"});
    auto ids = submit(gateway, 190, noop_form());
    const auto swaps = submit(gateway, 10, swap_form());
    ids.insert(ids.end(), swaps.begin(), swaps.end());
    ASSERT_EQ(ids.size(), 200u);
    const auto done = wait_all(gateway, ids);
    for (const auto& [id, task] : done) EXPECT_EQ(task["status"], "succeeded") << task.dump();
    // Both workers took part, and the results are in S3.
    const auto counts = successes({w1.log(), w2.log()});
    EXPECT_EQ(counts.size(), 200u);
    EXPECT_NE(w1.log().find("task_succeeded"), std::string::npos);
    EXPECT_NE(w2.log().find("task_succeeded"), std::string::npos);
    const HttpResponse result = http_get(gateway.url("/v1/tasks/" + swaps.front() + "/result"));
    EXPECT_EQ(result.status, 200);
    EXPECT_EQ(result.header("content-type"), "image/jpeg");  // the target's format
}

TEST_F(ClusterTest, KillingAWorkerLosesNothingAndFinishesNothingTwice) {
    ASSERT_TRUE(redis.ready() && s3.ok());
    Role gateway("gateway", redis, s3, dir.path());
    // Short leases so the dead worker's task comes back quickly.
    Role victim("worker", redis, s3, dir.path(), {"--concurrency", "1", "--lease", "3s"});
    Role survivor("worker", redis, s3, dir.path(), {"--concurrency", "1", "--lease", "3s"});
    const auto ids = submit(gateway, 12, swap_form());
    // Kill the victim while it holds a task.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (victim.log().find("task_started") == std::string::npos &&
           std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_NE(victim.log().find("task_started"), std::string::npos);
    victim.process().kill();
    const auto done = wait_all(gateway, ids);
    for (const auto& [id, task] : done) EXPECT_EQ(task["status"], "succeeded") << task.dump();
    for (const auto& [id, n] : successes({victim.log(), survivor.log()}))
        EXPECT_EQ(n, 1) << "task " << id << " finished " << n << " times";
}

TEST_F(ClusterTest, RedisDownGives503QuicklyAndWorkResumes) {
    ASSERT_TRUE(redis.ready() && s3.ok());
    Role gateway("gateway", redis, s3, dir.path());
    Role worker("worker", redis, s3, dir.path(), {"--concurrency", "1"});
    redis.stop();
    const auto start = std::chrono::steady_clock::now();
    const HttpResponse down = http_post_form(gateway.url("/v1/swaps"), noop_form());
    EXPECT_EQ(down.status, 503) << down.body;
    EXPECT_FALSE(down.header("retry-after").empty());
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30)) << "not a hang";
    ASSERT_TRUE(redis.start()) << redis.log();
    const auto ids = submit(gateway, 3, noop_form());
    for (const auto& [id, task] : wait_all(gateway, ids)) EXPECT_EQ(task["status"], "succeeded");
}

// The gateway creates and queues a task in one Redis script: a submit refused for a full lane
// keeps nothing, so its retry with the same Idempotency-Key makes the task once there is room.
TEST_F(ClusterTest, ARetryOfA429WithTheSameIdempotencyKeyCreatesTheTask) {
    ASSERT_TRUE(redis.ready() && s3.ok());
    Role gateway("gateway", redis, s3, dir.path(), {"--queue-max", "1"});  // no workers
    const HttpResponse first = http_post_form(gateway.url("/v1/swaps"), noop_form());
    ASSERT_EQ(first.status, 202) << first.body;
    const HttpResponse full =
        http_post_form(gateway.url("/v1/swaps"), noop_form(), {"Idempotency-Key: k-1"});
    ASSERT_EQ(full.status, 429) << full.body;
    EXPECT_EQ(json_of(full)["error"]["code"], "queue_full");
    EXPECT_EQ(json_of(http_get(gateway.url("/v1/tasks")))["tasks"].size(), 1u);

    const std::string first_id = json_of(first)["id"];
    ASSERT_EQ(http_delete(gateway.url("/v1/tasks/" + first_id)).status, 200);
    const HttpResponse retried =
        http_post_form(gateway.url("/v1/swaps"), noop_form(), {"Idempotency-Key: k-1"});
    ASSERT_EQ(retried.status, 202) << retried.body;
    EXPECT_TRUE(retried.header("idempotency-replayed").empty()) << "a new task, not a replay";
    EXPECT_EQ(json_of(retried)["status"], "queued");
}

TEST_F(ClusterTest, S3DownMeansRetriesThenSuccess) {
    ASSERT_TRUE(redis.ready() && s3.ok());
    // Attempts are fixed per task when it is submitted, hence on the gateway.
    Role gateway("gateway", redis, s3, dir.path(), {"--max-attempts", "20"});
    const auto ids = submit(gateway, 3, noop_form());  // inputs stored while S3 is up
    s3.stop();
    Role worker("worker", redis, s3, dir.path(), {"--concurrency", "1"});
    // The worker fails to read inputs and retries with backoff until S3 is back.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (worker.log().find("task_retry") == std::string::npos &&
           std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_NE(worker.log().find("task_retry"), std::string::npos);
    ASSERT_TRUE(s3.restart()) << s3.log();
    for (const auto& [id, task] : wait_all(gateway, ids)) {
        EXPECT_EQ(task["status"], "succeeded") << task.dump();
        EXPECT_GE(task["attempts"].get<int>(), 1);
    }
}

// The cluster shape with auth on: two gateways sharing Redis wall tenants off from each other
// and hold one tenant's rate limit in total, whichever gateway a request reaches.
TEST_F(ClusterTest, TenantsAreWalledOffAndRateLimitsHoldAcrossGateways) {
    ASSERT_TRUE(redis.ready() && s3.ok());
    const auto secret = dir / "jwt.secret";
    std::ofstream(secret) << kTestJwtSecret;
    const std::vector<std::string> auth = {
        "--auth",       "jwt",          "--jwt-secret-file", secret.string(),
        "--jwt-issuer", kTestJwtIssuer, "--jwt-audience",    kTestJwtAudience,
        "--rate-limit", "1:10"};
    Role g1("gateway", redis, s3, dir.path(), auth);
    Role g2("gateway", redis, s3, dir.path(), auth);
    Role worker("worker", redis, s3, dir.path(), {"--concurrency", "1"});
    auto as = [](const std::string& tenant) {
        TokenClaims c;
        c.tenant = tenant;
        return std::vector<std::string>{bearer(make_hs256_token(c))};
    };

    const HttpResponse created =
        http_post_form(g1.url("/v1/swaps?wait=60"), noop_form(), as("acme"));
    ASSERT_EQ(created.status, 200) << created.body;
    const std::string id = json_of(created)["id"];
    EXPECT_EQ(http_get(g2.url("/v1/tasks/" + id), as("acme")).status, 200);
    EXPECT_EQ(http_get(g2.url("/v1/tasks/" + id + "/result"), as("acme")).status, 200);
    EXPECT_EQ(http_get(g2.url("/v1/tasks/" + id), as("globex")).status, 404);
    EXPECT_EQ(http_get(g1.url("/v1/tasks/" + id + "/result"), as("globex")).status, 404);
    EXPECT_EQ(
        http_request("DELETE", g2.url("/v1/tasks/" + id), nullptr, nullptr, as("globex")).status,
        404);

    // A presigned URL of the result: at most 15 minutes, only for the owner, and it fetches the
    // same bytes from the store without credentials.
    const HttpResponse presigned =
        http_get(g2.url("/v1/tasks/" + id + "/result?presign=300"), as("acme"));
    ASSERT_EQ(presigned.status, 200) << presigned.body;
    const std::string url = json_of(presigned)["url"];
    EXPECT_NE(url.find("X-Amz-Expires=300"), std::string::npos) << url;
    EXPECT_NE(url.find("/tenants/acme/tasks/" + id + "/result."), std::string::npos) << url;
    EXPECT_FALSE(json_of(presigned)["expires_at"].is_null());
    const HttpResponse direct = http_get(url);
    EXPECT_EQ(direct.status, 200);
    EXPECT_EQ(direct.body, http_get(g1.url("/v1/tasks/" + id + "/result"), as("acme")).body);
    EXPECT_EQ(http_get(g2.url("/v1/tasks/" + id + "/result?presign=300"), as("globex")).status,
              404);
    const HttpResponse too_long =
        http_get(g2.url("/v1/tasks/" + id + "/result?presign=3600"), as("acme"));
    EXPECT_EQ(too_long.status, 400) << too_long.body;

    // Tenant "burst": 30 submits alternating between the gateways, as fast as they go.
    int accepted = 0, limited = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 30; ++i) {
        const HttpResponse r =
            http_post_form((i % 2 ? g2 : g1).url("/v1/swaps"), noop_form(), as("burst"));
        if (r.status == 202) ++accepted;
        if (r.status == 429) {
            ++limited;
            EXPECT_FALSE(r.header("retry-after").empty());
        }
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Burst 10, then 1 per second: per gateway alone it would have been up to 20.
    EXPECT_GE(accepted, 10);
    EXPECT_LE(accepted, 10 + static_cast<int>(std::ceil(elapsed)) + 1) << "in " << elapsed << " s";
    EXPECT_EQ(accepted + limited, 30);
}

}  // namespace
}  // namespace facefuse::test
