// Structured log lines: shape, filtering, hostile input, and whole lines under concurrency.
#include "obs/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace facefuse::obs {
namespace {

using nlohmann::json;

// Points file descriptor 2 at a temp file for its lifetime; take() restores stderr and returns
// what was written. A file rather than a pipe: a pipe would block the writers once it is full.
class StderrCapture {
  public:
    StderrCapture() {
        std::string path =
            (std::filesystem::temp_directory_path() / "facefuse-log-test-XXXXXX").string();
        file_fd_ = ::mkstemp(path.data());
        if (file_fd_ < 0) {
            ADD_FAILURE() << "mkstemp failed";
            return;
        }
        ::unlink(path.c_str());
        std::fflush(stderr);
        saved_fd_ = ::dup(STDERR_FILENO);
        ::dup2(file_fd_, STDERR_FILENO);
    }
    ~StderrCapture() { (void)take(); }
    StderrCapture(const StderrCapture&) = delete;
    StderrCapture& operator=(const StderrCapture&) = delete;

    std::string take() {
        if (saved_fd_ < 0) return {};
        std::fflush(stderr);
        ::dup2(saved_fd_, STDERR_FILENO);
        ::close(saved_fd_);
        saved_fd_ = -1;
        std::string text;
        ::lseek(file_fd_, 0, SEEK_SET);
        char buf[65536];
        for (ssize_t n; (n = ::read(file_fd_, buf, sizeof buf)) > 0;) {
            text.append(buf, static_cast<size_t>(n));
        }
        ::close(file_fd_);
        return text;
    }

  private:
    int file_fd_ = -1;
    int saved_fd_ = -1;
};

// Splits on '\n', requiring the text to end with one (no partial last line).
std::vector<std::string> lines_of(const std::string& text) {
    EXPECT_TRUE(text.empty() || text.back() == '\n') << "output does not end a line: " << text;
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// Logs with fn under capture and returns the one line it wrote, parsed.
template <typename F>
json one_line(F fn, std::string* raw = nullptr) {
    StderrCapture capture;
    fn();
    const auto lines = lines_of(capture.take());
    EXPECT_EQ(lines.size(), 1u);
    if (lines.size() != 1) return json();
    if (raw != nullptr) *raw = lines[0];
    return json::parse(lines[0]);  // throws, failing the test, if it is not valid JSON
}

class Log : public ::testing::Test {
  protected:
    void SetUp() override { set_log_level(LogLevel::kInfo); }
    void TearDown() override { set_log_level(LogLevel::kInfo); }
};

TEST_F(Log, OneJsonObjectWithTsLevelEventAndFields) {
    std::string raw;
    const json j = one_line(
        [] {
            log_info("task_submitted",
                     {{"task_id", "t-1"}, {"attempt", 2}, {"ok", true}, {"meta", {{"k", 1.5}}}});
        },
        &raw);
    EXPECT_EQ(j["level"], "info");
    EXPECT_EQ(j["event"], "task_submitted");
    EXPECT_EQ(j["task_id"], "t-1");
    EXPECT_EQ(j["attempt"], 2);
    EXPECT_EQ(j["ok"], true);
    EXPECT_EQ(j["meta"]["k"], 1.5);
    EXPECT_EQ(j.size(), 7u);
    // ts, level, event lead in that order.
    EXPECT_TRUE(raw.starts_with("{\"ts\":\"")) << raw;
    EXPECT_NE(raw.find("Z\",\"level\":\"info\",\"event\":\"task_submitted\","), std::string::npos)
        << raw;
}

TEST_F(Log, TimestampIsRfc3339UtcWithMillisecondsAndNow) {
    const json j = one_line([] { log_warn("x"); });
    const std::string ts = j["ts"];
    ASSERT_EQ(ts.size(), 24u) << ts;  // 2026-11-25T01:02:03.456Z
    for (size_t i : {4u, 7u}) EXPECT_EQ(ts[i], '-') << ts;
    EXPECT_EQ(ts[10], 'T');
    for (size_t i : {13u, 16u}) EXPECT_EQ(ts[i], ':') << ts;
    EXPECT_EQ(ts[19], '.');
    EXPECT_EQ(ts[23], 'Z');
    std::tm tm{};
    ASSERT_NE(::strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr) << ts;
    const std::time_t logged = ::timegm(&tm);
    const std::time_t now = std::time(nullptr);
    EXPECT_LE(std::abs(static_cast<long>(now - logged)), 5L) << ts;
}

TEST_F(Log, LevelNames) {
    set_log_level(LogLevel::kDebug);
    EXPECT_EQ(one_line([] { log_debug("e"); })["level"], "debug");
    EXPECT_EQ(one_line([] { log_info("e"); })["level"], "info");
    EXPECT_EQ(one_line([] { log_warn("e"); })["level"], "warn");
    EXPECT_EQ(one_line([] { log_error("e"); })["level"], "error");
    EXPECT_EQ(one_line([] { log(LogLevel::kError, "e"); })["level"], "error");
}

TEST_F(Log, LevelFilters) {
    StderrCapture capture;
    log_debug("dropped_by_default");  // default is info
    set_log_level(LogLevel::kWarn);
    EXPECT_FALSE(log_enabled(LogLevel::kInfo));
    EXPECT_TRUE(log_enabled(LogLevel::kWarn));
    log_info("dropped");
    log_warn("kept_warn");
    log_error("kept_error");
    set_log_level(LogLevel::kError);
    log_warn("dropped_too");
    const auto lines = lines_of(capture.take());
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(json::parse(lines[0])["event"], "kept_warn");
    EXPECT_EQ(json::parse(lines[1])["event"], "kept_error");
}

TEST_F(Log, FieldsCannotOverrideTsLevelEvent) {
    const json j = one_line([] {
        log_info("real_event", {{"ts", "fake"},
                                {"level", "error"},
                                {"event", "fake_event"},
                                {"fields.level", "taken"},
                                {"other", 1}});
    });
    EXPECT_EQ(j["level"], "info");
    EXPECT_EQ(j["event"], "real_event");
    EXPECT_NE(j["ts"], "fake");
    EXPECT_EQ(j["fields.ts"], "fake");
    EXPECT_EQ(j["fields.event"], "fake_event");
    EXPECT_EQ(j["fields.level"], "taken");  // the caller's own key is kept as it is
    EXPECT_EQ(j["fields.fields.level"], "error");
    EXPECT_EQ(j["other"], 1);
}

TEST_F(Log, InvalidUtf8IsReplacedNotThrown) {
    std::string raw;
    const json j = one_line(
        [] {
            log_error("bad\xff_event",
                      {{"path", "/tmp/\xc3"}, {"k\xfe", "v"}, {"ok", "caf\xc3\xa9"}});
        },
        &raw);
    EXPECT_EQ(j["event"], "bad\xef\xbf\xbd_event");
    EXPECT_EQ(j["path"], "/tmp/\xef\xbf\xbd");
    EXPECT_EQ(j["k\xef\xbf\xbd"], "v");
    EXPECT_EQ(j["ok"], "caf\xc3\xa9");  // valid UTF-8 is written as is, not \u-escaped
    EXPECT_NE(raw.find("caf\xc3\xa9"), std::string::npos);
}

TEST_F(Log, ControlCharactersAreEscapedSoTheLineStaysOne) {
    const json j = one_line([] { log_info("multi\nline", {{"msg", "a\nb\r\n\"c\"\t\\"}}); });
    EXPECT_EQ(j["event"], "multi\nline");
    EXPECT_EQ(j["msg"], "a\nb\r\n\"c\"\t\\");
}

TEST_F(Log, NonObjectFields) {
    const json s = one_line([] { log_info("e", "just a string"); });
    EXPECT_EQ(s["fields"], "just a string");
    const json a = one_line([] { log_info("e", json::array({1, 2})); });
    EXPECT_EQ(a["fields"], json::array({1, 2}));
    const json n = one_line([] { log_info("e", json()); });
    EXPECT_EQ(n.size(), 3u);
    const json empty = one_line([] { log_info("e"); });
    EXPECT_EQ(empty.size(), 3u);
}

TEST_F(Log, ConcurrentThreadsWriteOnlyWholeLines) {
    constexpr int kThreads = 8;
    constexpr int kPerThread = 200;
    // Longer than PIPE_BUF (4096), past which a pipe no longer keeps one write whole.
    const std::string payload(5000, 'x');
    StderrCapture capture;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([t, &payload] {
            for (int i = 0; i < kPerThread; ++i) {
                log_info("tick", {{"thread", t}, {"seq", i}, {"payload", payload}});
            }
        });
    }
    for (auto& thread : threads) thread.join();
    const auto lines = lines_of(capture.take());
    ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
    std::set<std::pair<int, int>> seen;
    for (const auto& line : lines) {
        json j;
        ASSERT_NO_THROW(j = json::parse(line)) << line.substr(0, 200);
        EXPECT_EQ(j["event"], "tick");
        EXPECT_EQ(j["payload"], payload);
        seen.emplace(j["thread"].get<int>(), j["seq"].get<int>());
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_F(Log, ConcurrentLevelChangesAreSafe) {
    StderrCapture capture;
    std::thread flipper([] {
        for (int i = 0; i < 1000; ++i)
            set_log_level(i % 2 == 0 ? LogLevel::kError : LogLevel::kInfo);
    });
    for (int i = 0; i < 1000; ++i) log_info("maybe", {{"i", i}});
    flipper.join();
    for (const auto& line : lines_of(capture.take()))
        EXPECT_EQ(json::parse(line)["event"], "maybe");
}

}  // namespace
}  // namespace facefuse::obs
