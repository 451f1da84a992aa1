// The embedded shape never loses a task: restarts, kill -9, SIGTERM; and what it tells
// operators (metrics that promtool accepts, JSON logs that follow a task).
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "integration/serve_fixture.hpp"

namespace facefuse::test {
namespace {

class ServeLifecycleTest : public ::testing::Test {
protected:
    TempDir dir;
};

TEST_F(ServeLifecycleTest, QueuedTasksRunAfterARestart) {
    std::vector<std::string> ids;
    {
        ServeProcess api_only(dir / "data", {"--workers", "0"});
        for (int i = 0; i < 5; ++i)
            ids.push_back(json_of(http_post_form(api_only.url("/v1/swaps"), noop_form()))["id"]);
        EXPECT_EQ(api_only.terminate(), 0) << api_only.log();
    }
    ServeProcess serve(dir / "data", {"--workers", "2"});
    for (const auto& id : ids) EXPECT_EQ(poll_task(serve, id, finished)["status"], "succeeded");
}

TEST_F(ServeLifecycleTest, TasksRunningWhenKilledRunAgainAfterRestart) {
    std::vector<std::string> ids;
    {
        ServeProcess serve(dir / "data", {"--workers", "1"});
        for (int i = 0; i < 3; ++i) ids.push_back(json_of(http_post_form(serve.url("/v1/swaps"), swap_form()))["id"]);
        // Kill it (no chance to clean up) once a task is running.
        poll_task(serve, ids[0], [](const nlohmann::json& t) { return t.value("status", "") != "queued"; });
        serve.kill9();
    }
    ServeProcess serve(dir / "data", {"--workers", "2"});
    for (const auto& id : ids) {
        const auto t = poll_task(serve, id, finished);
        EXPECT_EQ(t["status"], "succeeded") << t.dump();
    }
}

TEST_F(ServeLifecycleTest, SigtermDrainsAndExitsZero) {
    ServeProcess serve(dir / "data", {"--workers", "1", "--drain-timeout", "60s"});
    const std::string id = json_of(http_post_form(serve.url("/v1/swaps"), swap_form()))["id"];
    poll_task(serve, id, [](const nlohmann::json& t) { return t.value("status", "") != "queued"; });
    EXPECT_EQ(serve.terminate(), 0) << serve.log();
    // The task that was running when SIGTERM came finished before exit.
    ServeProcess again(dir / "data", {"--workers", "0"});
    EXPECT_EQ(poll_task(again, id, finished)["status"], "succeeded");
}

TEST_F(ServeLifecycleTest, MetricsPassPromtoolAndNameWhatDesignPromises) {
    ServeProcess serve(dir / "data", {"--workers", "1"});
    ASSERT_EQ(http_post_form(serve.url("/v1/swaps?wait=60"), noop_form()).status, 200);
    const HttpResponse metrics = http_get(serve.url("/metrics"));
    ASSERT_EQ(metrics.status, 200);
    for (const char* name : {"facefuse_http_requests_total", "facefuse_http_request_duration_seconds_bucket",
                             "facefuse_tasks_submitted_total", "facefuse_tasks_finished_total",
                             "facefuse_task_queue_wait_seconds_bucket", "facefuse_task_process_seconds_bucket",
                             "facefuse_queue_depth", "facefuse_workers_busy", "facefuse_model_info",
                             "facefuse_build_info"}) {
        EXPECT_NE(metrics.body.find(name), std::string::npos) << name;
    }
    const auto file = dir / "metrics.txt";
    std::ofstream(file) << metrics.body;
    const CommandResult check = run_command({"/bin/sh", "-c", "promtool check metrics < '" + file.string() + "'"});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    EXPECT_EQ(check.out + check.err, "") << "promtool found problems";
}

TEST_F(ServeLifecycleTest, LogsAreJsonLinesThatFollowATask) {
    ServeProcess serve(dir / "data", {"--workers", "1"});
    const HttpResponse r = http_post_form(serve.url("/v1/swaps?wait=60"), noop_form(), {"X-Request-Id: trace-me"});
    ASSERT_EQ(r.status, 200);
    const std::string id = json_of(r)["id"];
    ASSERT_EQ(serve.terminate(), 0);
    std::istringstream log(serve.log());
    std::string line;
    std::set<std::string> events;
    while (std::getline(log, line)) {
        if (line.empty() || line[0] != '{') continue;  // the human start-up line
        const auto j = nlohmann::json::parse(line, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << line;
        EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("event")) << line;
        if (j.value("task_id", "") == id) events.insert(j["event"].get<std::string>());
        if (j.value("event", "") == "task_submitted" && j.value("task_id", "") == id) {
            EXPECT_EQ(j.value("request_id", ""), "trace-me");
        }
    }
    EXPECT_TRUE(events.count("task_submitted"));
    EXPECT_TRUE(events.count("task_started"));
    EXPECT_TRUE(events.count("task_succeeded"));
}

}  // namespace
}  // namespace facefuse::test

namespace facefuse::test {
namespace {

// A serve hands every leased task back when it starts, so two on one data directory would steal
// each other's running tasks: the second one must refuse, saying why, and the first go on.
TEST(ServeDataDir, ASecondServeOnTheSameDataDirRefusesAndTheFirstKeepsServing) {
    TempDir dir;
    ServeProcess first(dir / "data", {"--workers", "1"});
    const CommandResult second = run_facefuse(
        {"serve", "--auth", "none", "--listen", "127.0.0.1:0", "--data-dir", (dir / "data").string()}, "", 60);
    EXPECT_EQ(second.exit_code, 6) << describe(second);
    EXPECT_NE(second.err.find("same --data-dir"), std::string::npos) << describe(second);
    const HttpResponse done = http_post_form(first.url("/v1/swaps?wait=30"), noop_form());
    EXPECT_EQ(done.status, 200) << done.body;
    EXPECT_EQ(first.terminate(), 0);
}

}  // namespace
}  // namespace facefuse::test
