// Registry::expose(): exact text for known registries, number and label formatting, and
// promtool's verdict on everything the exporter can produce.
#include <gtest/gtest.h>

#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "obs/metrics.hpp"
#include "support/test_support.hpp"

namespace facefuse::obs {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// gtest's HasSubstr would pass on a prefix of a longer line; this wants the whole line.
::testing::AssertionResult has_line(const std::string& text, const std::string& line) {
    for (const auto& l : lines_of(text)) {
        if (l == line) return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "no line\n  " << line << "\nin\n" << text;
}

TEST(Exposition, GoldenRegistry) {
    Registry r;
    auto& requests = r.counter("facefuse_http_requests_total",
                               "HTTP requests by route, method and status", {"route", "code"});
    requests.labels({"/v1/swaps", "202"}).inc(3);
    requests.labels({"/v1/health", "200"}).inc();
    r.gauge("facefuse_queue_depth", "Tasks waiting").get().set(4);
    auto& stage =
        r.histogram("facefuse_stage_seconds", "Stage latency", {"stage"}, {0.005, 0.1, 1});
    for (double v : {0.00390625, 0.0625, 2.0}) stage.labels({"detect"}).observe(v);

    EXPECT_EQ(r.expose(),
              "# HELP facefuse_http_requests_total HTTP requests by route, method and status\n"
              "# TYPE facefuse_http_requests_total counter\n"
              "facefuse_http_requests_total{route=\"/v1/health\",code=\"200\"} 1\n"
              "facefuse_http_requests_total{route=\"/v1/swaps\",code=\"202\"} 3\n"
              "# HELP facefuse_queue_depth Tasks waiting\n"
              "# TYPE facefuse_queue_depth gauge\n"
              "facefuse_queue_depth 4\n"
              "# HELP facefuse_stage_seconds Stage latency\n"
              "# TYPE facefuse_stage_seconds histogram\n"
              "facefuse_stage_seconds_bucket{stage=\"detect\",le=\"0.005\"} 1\n"
              "facefuse_stage_seconds_bucket{stage=\"detect\",le=\"0.1\"} 2\n"
              "facefuse_stage_seconds_bucket{stage=\"detect\",le=\"1\"} 2\n"
              "facefuse_stage_seconds_bucket{stage=\"detect\",le=\"+Inf\"} 3\n"
              "facefuse_stage_seconds_sum{stage=\"detect\"} 2.06640625\n"
              "facefuse_stage_seconds_count{stage=\"detect\"} 3\n");
}

TEST(Exposition, UnlabelledHistogramWithDefaultBuckets) {
    Registry r;
    r.histogram("facefuse_swap_seconds", "Swap latency").get().observe(0.3);
    const std::string text = r.expose();
    const std::vector<std::string> les = {"0.001", "0.0025", "0.005", "0.01", "0.025",
                                          "0.05",  "0.1",    "0.25",  "0.5",  "1",
                                          "2.5",   "5",      "10",    "30",   "+Inf"};
    for (size_t i = 0; i < les.size(); ++i) {
        const int count = i >= 8 ? 1 : 0;  // 0.3 first fits le=0.5
        EXPECT_TRUE(has_line(
            text, "facefuse_swap_seconds_bucket{le=\"" + les[i] + "\"} " + std::to_string(count)));
    }
    EXPECT_TRUE(has_line(text, "facefuse_swap_seconds_sum 0.3"));
    EXPECT_TRUE(has_line(text, "facefuse_swap_seconds_count 1"));
    EXPECT_EQ(lines_of(text).size(), 2u + les.size() + 2u);
}

TEST(Exposition, UnlabelledFamiliesShowZeroBeforeFirstUse) {
    Registry r;
    r.counter("a_total", "a");
    r.gauge("b", "b");
    const std::string text = r.expose();
    EXPECT_TRUE(has_line(text, "a_total 0"));
    EXPECT_TRUE(has_line(text, "b 0"));
}

TEST(Exposition, FamilyWithoutChildrenIsHelpAndTypeOnly) {
    Registry r;
    r.counter("facefuse_errors_total", "Errors by code", {"code"});
    r.histogram("facefuse_lat_seconds", "Latency", {"stage"});
    EXPECT_EQ(r.expose(),
              "# HELP facefuse_errors_total Errors by code\n"
              "# TYPE facefuse_errors_total counter\n"
              "# HELP facefuse_lat_seconds Latency\n"
              "# TYPE facefuse_lat_seconds histogram\n");
}

TEST(Exposition, FamiliesSortedByNameChildrenByLabelValues) {
    Registry r;
    r.gauge("zeta", "z").get().set(1);
    auto& m = r.gauge("mid", "m", {"a", "b"});
    m.labels({"b", "a"}).set(3);
    m.labels({"a", "z"}).set(2);
    m.labels({"a", "b"}).set(1);
    r.gauge("alpha", "a").get().set(0);
    const std::vector<std::string> samples = [&] {
        std::vector<std::string> out;
        for (const auto& line : lines_of(r.expose())) {
            if (!line.starts_with("#")) out.push_back(line);
        }
        return out;
    }();
    EXPECT_EQ(samples, (std::vector<std::string>{"alpha 0", "mid{a=\"a\",b=\"b\"} 1",
                                                 "mid{a=\"a\",b=\"z\"} 2", "mid{a=\"b\",b=\"a\"} 3",
                                                 "zeta 1"}));
}

TEST(Exposition, LabelValuesAndHelpEscaped) {
    Registry r;
    auto& f = r.counter("esc_total", "Help with \\ backslash,\nnewline and \"quotes\"", {"v"});
    f.labels({"a\\b\"c\nd"}).inc();
    f.labels({"{x=\"y\"},"}).inc();
    const std::string text = r.expose();
    // In HELP only backslash and newline are escaped; quotes stay as they are.
    EXPECT_TRUE(
        has_line(text, R"(# HELP esc_total Help with \\ backslash,\nnewline and "quotes")"));
    EXPECT_TRUE(has_line(text, R"(esc_total{v="a\\b\"c\nd"} 1)"));
    EXPECT_TRUE(has_line(text, R"(esc_total{v="{x=\"y\"},"} 1)"));
    EXPECT_EQ(lines_of(text).size(), 4u);  // the newline in the value did not split a line
}

TEST(Exposition, InvalidUtf8LabelValuesBecomeReplacementCharacter) {
    Registry r;
    auto& f = r.counter("u_total", "u", {"v"});
    f.labels({"caf\xc3\xa9"}).inc();  // valid: kept
    f.labels({"a\xff"}).inc();
    f.labels({"a\xfe"}).inc();         // exposes the same as the previous one: same child
    f.labels({"\xed\xa0\x80"}).inc();  // an encoded surrogate is invalid too
    f.labels({"\xc0\xaf"}).inc();      // overlong "/"
    const std::string text = r.expose();
    EXPECT_TRUE(has_line(text, "u_total{v=\"caf\xc3\xa9\"} 1"));
    EXPECT_TRUE(has_line(text, "u_total{v=\"a\xef\xbf\xbd\"} 2"));
    EXPECT_TRUE(has_line(text, "u_total{v=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"} 1"));
    EXPECT_TRUE(has_line(text, "u_total{v=\"\xef\xbf\xbd\xef\xbf\xbd\"} 1"));
}

TEST(Exposition, NumberFormatting) {
    const std::vector<std::pair<double, std::string>> cases = {
        {0, "0"},
        {-0.0, "0"},
        {1, "1"},
        {-2.5, "-2.5"},
        {0.1, "0.1"},
        {1.0 / 3, "0.3333333333333333"},
        {1e6, "1000000"},
        {1234567.5, "1234567.5"},
        {9007199254740992.0, "9007199254740992"},
        {1e20, "100000000000000000000"},
        {1e21, "1e+21"},
        {1e300, "1e+300"},
        {0.0001, "0.0001"},
        {0.00001, "1e-05"},
        {1.5e-7, "1.5e-07"},
        {5e-324, "5e-324"},
        {std::numeric_limits<double>::max(), "1.7976931348623157e+308"},
        {kNaN, "NaN"},
        {kInf, "+Inf"},
        {-kInf, "-Inf"},
    };
    Registry r;
    auto& f = r.gauge("num", "numbers", {"i"});
    for (size_t i = 0; i < cases.size(); ++i) f.labels({std::to_string(i)}).set(cases[i].first);
    const std::string text = r.expose();
    for (size_t i = 0; i < cases.size(); ++i) {
        EXPECT_TRUE(has_line(text, "num{i=\"" + std::to_string(i) + "\"} " + cases[i].second));
    }
}

TEST(Exposition, BucketBoundsFormattedAsPrometheusDoes) {
    Registry r;
    r.histogram("le_bytes", "b", {}, {0.0001, 0.25, 1, 1024, 100000, kInf});
    const std::string text = r.expose();
    for (const char* le : {"0.0001", "0.25", "1", "1024", "100000", "+Inf"}) {
        EXPECT_TRUE(has_line(text, std::string("le_bytes_bucket{le=\"") + le + "\"} 0"));
    }
    EXPECT_EQ(text.find("le=\"+Inf\"} 0\nle_bytes_bucket{le=\"+Inf\""), std::string::npos)
        << "a trailing +Inf bound must not give a second +Inf bucket";
}

// --- promtool ---------------------------------------------------------------------------------
// promtool (Debian package `prometheus`) is a test dependency like GoogleTest: without it these
// tests fail rather than skip, so a CI image missing it cannot pass unnoticed.

test::CommandResult promtool_check(const std::string& exposition) {
    // `promtool check metrics` reads the exposition from stdin (it takes no file argument).
    return test::run_command({"promtool", "check", "metrics"}, exposition, 60);
}

void expect_promtool_ran(const test::CommandResult& r) {
    ASSERT_NE(r.exit_code, 127)
        << "promtool not found in PATH. Install it (Debian: apt-get install prometheus).\n"
        << test::describe(r);
    ASSERT_FALSE(r.timed_out) << test::describe(r);
}

// Everything the exporter emits, in one registry: every type, with and without labels, label
// values with every escaped character and non-ASCII, special numbers, an empty family.
Registry& everything(Registry& r) {
    auto& requests = r.counter("facefuse_http_requests_total",
                               "HTTP requests with \"odd\" help: back\\slash\nand newline",
                               {"route", "method", "code"});
    requests.labels({"/v1/swaps", "POST", "202"}).inc(12);
    requests.labels({"quote\"back\\slash\nnewline", "GET", "404"}).inc();
    requests.labels({"caf\xc3\xa9 \xe2\x9c\x93 \xff", "", "500"}).inc(0.5);
    requests.labels({"{x=\"1\",y=\"2\"}", "PUT", "200"}).inc(1e6);
    r.counter("facefuse_swaps_total", "Swaps done").get().inc(1e21);
    r.counter("facefuse_unused_total", "Never incremented", {"reason"});

    auto& depth = r.gauge("facefuse_queue_depth", "Tasks waiting by priority", {"priority"});
    depth.labels({"high"}).set(3);
    depth.labels({"nan"}).set(kNaN);
    depth.labels({"inf"}).set(kInf);
    depth.labels({"neg_inf"}).set(-kInf);
    depth.labels({"tiny"}).set(5e-324);
    depth.labels({"neg"}).set(-1.5e-7);
    r.gauge("facefuse_build_info", "Build facts", {"version"}).labels({"0.1.0"}).set(1);

    auto& latency = r.histogram("facefuse_stage_duration_seconds", "Stage latency", {"stage"});
    for (double v : {0.0005, 0.003, 0.2, 0.2, 7.0, 99.0}) latency.labels({"detect"}).observe(v);
    latency.labels({"blend\n\"x\"\\"}).observe(0.01);
    latency.labels({"empty"});
    r.histogram("facefuse_upload_bytes", "Upload sizes", {}, {1024, 1e6, 1e7, kInf})
        .get()
        .observe(5e5);
    r.histogram("facefuse_unused_seconds", "No children yet", {"stage"});
    return r;
}

TEST(Promtool, AcceptsEverythingTheExporterWrites) {
    Registry r;
    const std::string text = everything(r).expose();
    const test::CommandResult result = promtool_check(text);
    expect_promtool_ran(result);
    EXPECT_EQ(result.exit_code, 0) << test::describe(result) << "\n--- exposition ---\n" << text;
    // Lint problems are printed one a line; a clean check prints nothing at all.
    EXPECT_EQ(result.out, "") << "--- exposition ---\n" << text;
    EXPECT_EQ(result.err, "") << "--- exposition ---\n" << text;
}

TEST(Promtool, AcceptsTheGlobalRegistry) {
    Registry::global().counter("facefuse_obs_test_promtool_total", "test", {"a"}).labels({"x"});
    const test::CommandResult result = promtool_check(Registry::global().expose());
    expect_promtool_ran(result);
    EXPECT_EQ(result.exit_code, 0) << test::describe(result);
    EXPECT_EQ(result.out + result.err, "");
}

// The check above is only worth something if promtool does complain about bad input, and if
// this test sees the complaint.
TEST(Promtool, ReportsProblemsThatTheTestWouldSee) {
    Registry r;
    r.counter("facefuse_requests", "Counter without the _total suffix").get().inc();
    const test::CommandResult lint = promtool_check(r.expose());
    expect_promtool_ran(lint);
    EXPECT_NE(lint.exit_code, 0) << test::describe(lint);
    EXPECT_NE((lint.out + lint.err).find("_total"), std::string::npos) << test::describe(lint);

    const test::CommandResult syntax = promtool_check("bad{label=\"unterminated} 1\n");
    expect_promtool_ran(syntax);
    EXPECT_NE(syntax.exit_code, 0) << test::describe(syntax);
}

}  // namespace
}  // namespace facefuse::obs
