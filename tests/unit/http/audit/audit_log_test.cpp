// AuditLog: every line is one valid JSON object with every field in a fixed order, nothing
// dangerous survives sanitizing (control characters, tokens, overlong fields), and concurrent
// writers, two logs on one file included, never interleave.
#include "http/audit/audit_log.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace facefuse::http::audit {
namespace {

using nlohmann::json;

const std::vector<std::string> kKeys = {"ts",   "request_id", "client_ip", "tenant",  "subject",
                                        "role", "action",     "object",    "outcome", "reason"};

AuditRecord sample() {
    return AuditRecord{"req-1",       "203.0.113.7", "acme",    "alice", "user",
                       "task.submit", "task/abc",    "allowed", ""};
}

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

TEST(AuditLine, HasEveryFieldInOrder) {
    const std::string line = format_audit_line(sample(), 1'764'032'523'456);  // 2025-11-25
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
    const json doc = json::parse(line);
    ASSERT_TRUE(doc.is_object());
    EXPECT_EQ(doc.size(), kKeys.size());
    std::size_t last = 0;
    for (const auto& key : kKeys) {
        ASSERT_TRUE(doc.contains(key)) << key;
        EXPECT_TRUE(doc[key].is_string()) << key;
        const std::size_t at = line.find("\"" + key + "\":");
        EXPECT_GE(at, last) << key << " out of order";
        last = at;
    }
    EXPECT_EQ(doc["ts"], "2025-11-25T01:02:03.456Z");
    EXPECT_EQ(doc["tenant"], "acme");
    EXPECT_EQ(doc["action"], "task.submit");
    EXPECT_EQ(doc["reason"], "");
}

TEST(AuditLine, ControlCharactersNeverReachTheLine) {
    AuditRecord r = sample();
    r.reason = std::string("line1\nline2\r\x1b[31mred\x7f\tend") + '\0' + "nul";
    r.subject = "bob\xC2\x85next";  // U+0085 NEXT LINE, a C1 control
    const std::string line = format_audit_line(r, 0);
    for (std::size_t i = 0; i + 1 < line.size(); ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        EXPECT_FALSE(c < 0x20 || c == 0x7f) << "control byte " << int(c) << " at " << i;
    }
    const json doc = json::parse(line);
    EXPECT_EQ(doc["reason"], "line1line2[31mredendnul");
    EXPECT_EQ(doc["subject"], "bobnext");
}

TEST(AuditLine, QuotesAndBackslashesAreEscaped) {
    AuditRecord r = sample();
    r.object = R"(task/"x\"},"outcome":"forged)";
    const json doc = json::parse(format_audit_line(r, 0));
    EXPECT_EQ(doc["object"], r.object);
    EXPECT_EQ(doc["outcome"], "allowed");
}

TEST(AuditLine, InvalidUtf8IsReplaced) {
    AuditRecord r = sample();
    r.tenant = "ac\xff\xfeme\xe2\x82";
    const json doc = json::parse(format_audit_line(r, 0));
    EXPECT_EQ(doc["tenant"], "ac\xEF\xBF\xBD\xEF\xBF\xBDme\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(AuditLine, TokensAreRedacted) {
    const std::string jwt =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNlY3JldA";
    AuditRecord r = sample();
    r.reason = "header was Authorization: Bearer s3cr3t-t0ken.xyz and " + jwt + " end";
    r.object = "token=" + jwt;
    const std::string line = format_audit_line(r, 0);
    EXPECT_EQ(line.find("s3cr3t"), std::string::npos) << line;
    EXPECT_EQ(line.find("c2lnbmF0dXJl"), std::string::npos) << line;
    EXPECT_EQ(line.find("eyJzdWIi"), std::string::npos) << line;
    const json doc = json::parse(line);
    EXPECT_EQ(doc["reason"], "header was Authorization: Bearer [redacted] and [redacted] end");
    EXPECT_EQ(doc["object"], "token=[redacted]");
    // Short words that merely start like a JWT stay.
    EXPECT_EQ(sanitize_audit_field("eyJump", 64), "eyJump");
}

TEST(AuditLine, LongFieldsAreCutAtACharacterBoundary) {
    AuditRecord r = sample();
    r.reason.clear();
    for (int i = 0; i < 10'000; ++i) r.reason += "\xC3\xA9";  // é, two bytes
    r.object = std::string(100'000, '"');
    const std::string line = format_audit_line(r, 0);
    EXPECT_LT(line.size(), 4096u);  // PIPE_BUF
    const json doc = json::parse(line);
    const std::string reason = doc["reason"];
    EXPECT_LE(reason.size(), 512u);
    EXPECT_EQ(reason.substr(reason.size() - 3), "\xE2\x80\xA6");  // marked as cut
}

TEST(AuditLine, WorstCaseRecordStaysUnderPipeBuf) {
    const std::string quotes(1 << 16, '\\');
    const AuditRecord r{quotes, quotes, quotes, quotes, quotes, quotes, quotes, quotes, quotes};
    const std::string line = format_audit_line(r, 253'402'300'799'999);  // year 9999
    EXPECT_LT(line.size(), 4096u);
    json doc;
    EXPECT_NO_THROW(doc = json::parse(line));
}

TEST(AuditLog, DisabledWritesNothing) {
    auto log = AuditLog::open("");
    ASSERT_TRUE(log.ok()) << log.error().message;
    EXPECT_FALSE((*log)->enabled());
    (*log)->write(sample());
    EXPECT_EQ((*log)->failed_writes(), 0u);
    EXPECT_FALSE(AuditLog::disabled()->enabled());
}

TEST(AuditLog, UnopenablePathIsAnError) {
    auto log = AuditLog::open("/nonexistent-dir/audit.jsonl");
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.error().code, ErrorCode::kOutputError);
    EXPECT_NE(log.error().message.find("/nonexistent-dir/audit.jsonl"), std::string::npos);
}

TEST(AuditLog, AppendsToAnExistingFile) {
    test::TempDir dir;
    const std::string path = (dir / "audit.jsonl").string();
    std::ofstream(path) << "{\"earlier\":true}\n";
    {
        auto log = AuditLog::open(path);
        ASSERT_TRUE(log.ok()) << log.error().message;
        (*log)->write(sample());
    }
    const auto lines = read_lines(path);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(json::parse(lines[0])["earlier"], true);
    EXPECT_EQ(json::parse(lines[1])["request_id"], "req-1");
}

TEST(AuditLog, ConcurrentWritersNeverInterleave) {
    test::TempDir dir;
    const std::string path = (dir / "audit.jsonl").string();
    // Two logs on one file stand for two processes: only O_APPEND keeps their lines apart.
    auto first = AuditLog::open(path);
    auto second = AuditLog::open(path);
    ASSERT_TRUE(first.ok() && second.ok());
    constexpr int kThreads = 8, kRecords = 500;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        AuditLog& log = t % 2 == 0 ? **first : **second;
        threads.emplace_back([&log, t] {
            AuditRecord r = sample();
            r.reason = std::string(300 + t * 20, static_cast<char>('a' + t));  // long lines
            for (int i = 0; i < kRecords; ++i) {
                r.request_id = std::to_string(t) + "-" + std::to_string(i);
                log.write(r);
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ((*first)->failed_writes() + (*second)->failed_writes(), 0u);

    const auto lines = read_lines(path);
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kRecords));
    std::set<std::string> ids;
    for (const auto& line : lines) {
        json doc;
        ASSERT_NO_THROW(doc = json::parse(line)) << line;
        const std::string id = doc["request_id"];
        const int t = std::stoi(id.substr(0, id.find('-')));
        EXPECT_EQ(doc["reason"], std::string(300 + t * 20, static_cast<char>('a' + t)));
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), lines.size());  // every record exactly once
}

TEST(AuditLog, TimestampIsRfc3339UtcWithMilliseconds) {
    test::TempDir dir;
    const std::string path = (dir / "audit.jsonl").string();
    auto log = AuditLog::open(path);
    ASSERT_TRUE(log.ok());
    (*log)->write(sample());
    const auto lines = read_lines(path);
    ASSERT_EQ(lines.size(), 1u);
    const std::string ts = json::parse(lines[0])["ts"];
    // YYYY-MM-DDTHH:MM:SS.mmmZ
    const std::string shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    ASSERT_EQ(ts.size(), shape.size()) << ts;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == 'd') {
            EXPECT_TRUE(ts[i] >= '0' && ts[i] <= '9') << ts;
        } else {
            EXPECT_EQ(ts[i], shape[i]) << ts;
        }
    }
}

}  // namespace
}  // namespace facefuse::http::audit
