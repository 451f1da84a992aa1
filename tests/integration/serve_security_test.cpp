// Authentication, RBAC, tenant isolation, rate limits, audit and hostile clients, against a
// real `facefuse serve` with --auth jwt on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "http/auth/rbac.hpp"
#include "integration/serve_fixture.hpp"
#include "support/jwt_tokens.hpp"

namespace facefuse::test {
namespace {

class ServeSecurityTest : public ::testing::Test {
protected:
    TempDir dir;

    std::filesystem::path secret_file() {
        const auto path = dir / "jwt.secret";
        std::ofstream(path) << kTestJwtSecret << "\n";
        return path;
    }

    std::vector<std::string> auth_args(std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"--auth", "jwt", "--jwt-secret-file", secret_file().string(),
                                         "--jwt-issuer", kTestJwtIssuer, "--jwt-audience", kTestJwtAudience,
                                         "--audit-log", (dir / "audit.jsonl").string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }

    static std::string token(const std::string& role, const std::string& tenant = "acme") {
        TokenClaims c;
        c.role = role;
        c.tenant = tenant;
        c.subject = role + "@" + tenant;
        return make_hs256_token(c);
    }

    std::vector<nlohmann::json> audit_lines() {
        std::vector<nlohmann::json> lines;
        std::ifstream in(dir / "audit.jsonl");
        std::string line;
        while (std::getline(in, line)) {
            auto j = nlohmann::json::parse(line, nullptr, false);
            EXPECT_FALSE(j.is_discarded()) << "audit line is not JSON: " << line;
            if (!j.is_discarded()) lines.push_back(j);
        }
        return lines;
    }
};

TEST_F(ServeSecurityTest, RequestsWithoutAValidTokenGet401ProbesNeedNone) {
    ServeProcess serve(dir / "data", auth_args({"--workers", "0"}));
    EXPECT_EQ(http_get(serve.url("/healthz")).status, 200);
    EXPECT_EQ(http_get(serve.url("/readyz")).status, 200);
    EXPECT_EQ(http_get(serve.url("/version")).status, 200);

    const HttpResponse none = http_get(serve.url("/v1/tasks"));
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(json_of(none)["error"]["code"], "unauthenticated");
    EXPECT_EQ(none.header("www-authenticate"), "Bearer");
    // A submit without a token is refused before its body is read.
    EXPECT_EQ(http_post_form(serve.url("/v1/swaps"), noop_form()).status, 401);

    TokenClaims expired;
    expired.expires_in_s = -3600;
    TokenClaims wrong_audience;
    wrong_audience.audience = "someone-else";
    TokenClaims wrong_issuer;
    wrong_issuer.issuer = "evil";
    std::string forged = token("user");
    forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';  // signature altered
    // {"alg":"none","typ":"JWT"} . {"sub":"x","tenant":"acme","role":"admin","exp":9999999999} . (empty)
    const std::string alg_none =
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4IiwidGVuYW50IjoiYWNtZSIsInJvbGUiOiJhZG1pbiIsImV4cCI6OTk5OTk5OTk5OX0.";
    const std::map<std::string, std::string> bad = {
        {"expired", make_hs256_token(expired)},
        {"wrong audience", make_hs256_token(wrong_audience)},
        {"wrong issuer", make_hs256_token(wrong_issuer)},
        {"wrong key", make_hs256_token(TokenClaims{}, "another-secret-that-is-long-enough-000000")},
        {"forged", forged},
        {"alg none", alg_none},
        {"garbage", "not.a.token"},
    };
    for (const auto& [why, bad_token] : bad) {
        const HttpResponse r = http_get(serve.url("/v1/tasks"), {bearer(bad_token)});
        EXPECT_EQ(r.status, 401) << why << ": " << r.body;
        EXPECT_EQ(r.body.find(bad_token), std::string::npos) << why << ": the token is echoed";
    }
    EXPECT_EQ(http_get(serve.url("/v1/tasks"), {bearer(token("user"))}).status, 200);
}

// Every cell of the RBAC table (http/auth/rbac.cpp) over HTTP: an allowed action is never
// 401/403, a forbidden one is always 403.
TEST_F(ServeSecurityTest, RbacMatrixOverHttp) {
    ServeProcess serve(dir / "data", auth_args({"--workers", "0", "--rate-limit", "off", "--rate-limit-vip", "off",
                                                "--rate-limit-admin", "off"}));
    // A task of tenant acme to read, cancel and fetch.
    const HttpResponse created = http_post_form(serve.url("/v1/swaps"), noop_form(), {bearer(token("user"))});
    ASSERT_EQ(created.status, 202) << created.body;
    const std::string id = json_of(created)["id"];

    using auth = http::auth::Action;
    std::set<auth> walked;
    for (const auto& rule : http::auth::rbac_table()) {
        for (int r = 0; r < http::auth::kRoleCount; ++r) {
            const std::string role(http::auth::role_name(static_cast<http::auth::Role>(r)));
            const std::vector<std::string> h = {bearer(token(role))};
            HttpResponse res;
            switch (rule.action) {
                case auth::kSubmit: res = http_post_form(serve.url("/v1/swaps"), noop_form(), h); break;
                case auth::kSubmitVip: res = http_post_form(serve.url("/v1/swaps?priority=vip"), noop_form(), h); break;
                case auth::kSubmitBatch: res = http_post_form(serve.url("/v1/swaps?priority=batch"), noop_form(), h); break;
                case auth::kReadTask: res = http_get(serve.url("/v1/tasks/" + id), h); break;
                case auth::kCancelTask: res = http_request("DELETE", serve.url("/v1/tasks/" + id), nullptr, nullptr, h); break;
                case auth::kReadResult: res = http_get(serve.url("/v1/tasks/" + id + "/result"), h); break;
                case auth::kListTasks: res = http_get(serve.url("/v1/tasks"), h); break;
                case auth::kListAllTenants: res = http_get(serve.url("/v1/tasks?tenant=other"), h); break;
                case auth::kReadCapabilities: res = http_get(serve.url("/v1/capabilities"), h); break;
                case auth::kReadMetrics: res = http_get(serve.url("/metrics"), h); break;
                case auth::kReloadModels: {
                    const std::string empty;
                    res = http_request("POST", serve.url("/v1/admin/models/reload"), nullptr, &empty, h);
                    break;
                }
            }
            walked.insert(rule.action);
            if (rule.allowed[static_cast<std::size_t>(r)]) {
                EXPECT_NE(res.status, 403) << rule.name << " as " << role << ": " << res.body;
                EXPECT_NE(res.status, 401) << rule.name << " as " << role << ": " << res.body;
                EXPECT_NE(res.status, 0) << rule.name << " as " << role << ": " << res.error;
            } else {
                EXPECT_EQ(res.status, 403) << rule.name << " as " << role << ": " << res.body;
                EXPECT_EQ(json_of(res)["error"]["code"], "forbidden");
            }
        }
    }
    EXPECT_EQ(walked.size(), static_cast<std::size_t>(http::auth::kActionCount)) << "every action has a route";
}

TEST_F(ServeSecurityTest, AnotherTenantsTaskIs404Everywhere) {
    ServeProcess serve(dir / "data", auth_args({"--workers", "1"}));
    const HttpResponse created =
        http_post_form(serve.url("/v1/swaps?wait=30"), noop_form(), {bearer(token("user", "acme"))});
    ASSERT_EQ(created.status, 200) << created.body;
    const std::string id = json_of(created)["id"];
    const std::vector<std::string> mine = {bearer(token("user", "acme"))};
    const std::vector<std::string> theirs = {bearer(token("user", "globex"))};

    EXPECT_EQ(http_get(serve.url("/v1/tasks/" + id), mine).status, 200);
    EXPECT_EQ(http_get(serve.url("/v1/tasks/" + id + "/result"), mine).status, 200);
    // Presigned URLs are an S3 feature: the embedded store says so (the cluster test covers S3).
    const HttpResponse presign = http_get(serve.url("/v1/tasks/" + id + "/result?presign=60"), mine);
    EXPECT_EQ(presign.status, 400);
    EXPECT_NE(presign.body.find("S3"), std::string::npos) << presign.body;
    for (const std::string& path : {"/v1/tasks/" + id, "/v1/tasks/" + id + "/result", "/v1/tasks/" + id + "/events"}) {
        const HttpResponse r = http_get(serve.url(path), theirs);
        EXPECT_EQ(r.status, 404) << path << ": " << r.body;
        EXPECT_EQ(json_of(r)["error"]["code"], "not_found");
    }
    EXPECT_EQ(http_request("DELETE", serve.url("/v1/tasks/" + id), nullptr, nullptr, theirs).status, 404);
    // The other tenant's list does not show it; an admin may list acme's.
    EXPECT_EQ(json_of(http_get(serve.url("/v1/tasks"), theirs))["tasks"].size(), 0u);
    const auto admin_list = json_of(http_get(serve.url("/v1/tasks?tenant=acme"), {bearer(token("admin", "ops"))}));
    ASSERT_EQ(admin_list["tasks"].size(), 1u);
    EXPECT_EQ(admin_list["tasks"][0]["id"], id);
}

TEST_F(ServeSecurityTest, RateLimitPerTenantAnswers429WithRetryAfter) {
    ServeProcess serve(dir / "data", auth_args({"--workers", "0", "--rate-limit", "0.01:3"}));
    const std::vector<std::string> acme = {bearer(token("user", "acme"))};
    for (int i = 0; i < 3; ++i) EXPECT_EQ(http_post_form(serve.url("/v1/swaps"), noop_form(), acme).status, 202) << i;
    const HttpResponse limited = http_post_form(serve.url("/v1/swaps"), noop_form(), acme);
    EXPECT_EQ(limited.status, 429) << limited.body;
    EXPECT_EQ(json_of(limited)["error"]["code"], "rate_limited");
    ASSERT_FALSE(limited.header("retry-after").empty());
    EXPECT_GE(std::stoi(limited.header("retry-after")), 1);
    // Reads are not rate limited, and another tenant has its own bucket.
    EXPECT_EQ(http_get(serve.url("/v1/tasks"), acme).status, 200);
    EXPECT_EQ(http_post_form(serve.url("/v1/swaps"), noop_form(), {bearer(token("user", "globex"))}).status, 202);
}

TEST_F(ServeSecurityTest, QueuedTaskQuotaPerTenantAnswers429) {
    ServeProcess serve(dir / "data", auth_args({"--workers", "0", "--tenant-queue-quota", "2"}));
    const std::vector<std::string> acme = {bearer(token("user", "acme"))};
    for (int i = 0; i < 2; ++i) EXPECT_EQ(http_post_form(serve.url("/v1/swaps"), noop_form(), acme).status, 202) << i;
    const HttpResponse over = http_post_form(serve.url("/v1/swaps"), noop_form(), acme);
    EXPECT_EQ(over.status, 429) << over.body;
    EXPECT_EQ(json_of(over)["error"]["code"], "quota_exceeded");
    EXPECT_FALSE(over.header("retry-after").empty());
    // Another tenant has its own quota; cancelling frees a place.
    EXPECT_EQ(http_post_form(serve.url("/v1/swaps"), noop_form(), {bearer(token("user", "globex"))}).status, 202);
    const auto list = json_of(http_get(serve.url("/v1/tasks"), acme));
    ASSERT_EQ(list["tasks"].size(), 2u);
    const std::string first = list["tasks"][0]["id"];
    EXPECT_EQ(http_request("DELETE", serve.url("/v1/tasks/" + first), nullptr, nullptr, acme).status, 200);
    EXPECT_EQ(http_post_form(serve.url("/v1/swaps"), noop_form(), acme).status, 202);
}

TEST_F(ServeSecurityTest, AuditRecordsEveryActionAndNoSecrets) {
    ServeProcess serve(dir / "data", auth_args({"--workers", "1"}));
    const std::string user = token("user");
    const HttpResponse created = http_post_form(serve.url("/v1/swaps?wait=30"), noop_form(), {bearer(user)});
    ASSERT_EQ(created.status, 200) << created.body;
    const std::string id = json_of(created)["id"];
    EXPECT_EQ(http_get(serve.url("/v1/tasks/" + id), {bearer(user)}).status, 200);
    EXPECT_EQ(http_get(serve.url("/v1/tasks/" + id + "/result"), {bearer(user)}).status, 200);
    EXPECT_EQ(http_request("DELETE", serve.url("/v1/tasks/" + id), nullptr, nullptr, {bearer(user)}).status, 200);
    EXPECT_EQ(http_get(serve.url("/metrics"), {bearer(user)}).status, 403);                     // denial
    EXPECT_EQ(http_get(serve.url("/v1/tasks"), {bearer("bad.token.here")}).status, 401);        // denial
    EXPECT_EQ(http_get(serve.url("/v1/tasks?tenant=acme"), {bearer(token("admin", "ops"))}).status, 200);  // admin

    EXPECT_EQ(serve.terminate(), 0);  // the audit file is complete
    const auto lines = audit_lines();
    std::set<std::string> actions;
    for (const auto& l : lines) {
        for (const char* field : {"ts", "request_id", "client_ip", "tenant", "subject", "role", "action", "object",
                                  "outcome", "reason"})
            EXPECT_TRUE(l.contains(field)) << field << " missing in " << l.dump();
        actions.insert(l.value("action", "") + ":" + l.value("outcome", ""));
    }
    for (const char* expected : {"task.submit:allowed", "task.read:allowed", "task.result:allowed",
                                 "task.cancel:allowed", "read_metrics:denied", "authenticate:denied",
                                 "task.list_tenant:allowed"})
        EXPECT_TRUE(actions.count(expected)) << expected << " not audited";
    const std::string text = file_bytes(dir / "audit.jsonl");
    EXPECT_EQ(text.find(user), std::string::npos) << "a token is in the audit log";
    EXPECT_EQ(text.find(kTestJwtSecret), std::string::npos) << "the secret is in the audit log";
    EXPECT_EQ(text.find("JFIF"), std::string::npos) << "image bytes in the audit log";
    EXPECT_EQ(lines.front().value("client_ip", ""), "127.0.0.1");
}

TEST_F(ServeSecurityTest, MetricsOnTheirOwnPortNeedNoToken) {
    const int metrics_port = free_port();
    ServeProcess serve(dir / "data",
                       auth_args({"--workers", "0", "--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)}));
    EXPECT_EQ(http_get(serve.url("/metrics")).status, 401);
    EXPECT_EQ(http_get(serve.url("/metrics"), {bearer(token("admin"))}).status, 200);
    const HttpResponse open = http_get("http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics");
    EXPECT_EQ(open.status, 200);
    EXPECT_NE(open.body.find("facefuse_http_denied_total"), std::string::npos);
    // The metrics port serves no API.
    EXPECT_EQ(http_get("http://127.0.0.1:" + std::to_string(metrics_port) + "/v1/tasks").status, 404);
}

TEST_F(ServeSecurityTest, InsecureConfigurationsAreRefusedWithAMessage) {
    // No key for --auth jwt.
    auto no_key = run_facefuse({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir / "d1").string()});
    EXPECT_EQ(no_key.exit_code, 2) << no_key.err;
    EXPECT_NE(no_key.err.find("--jwt-secret-file"), std::string::npos) << no_key.err;
    // --auth none on a network address without --insecure.
    auto open = run_facefuse({"serve", "--listen", "0.0.0.0:0", "--auth", "none", "--data-dir", (dir / "d2").string()});
    EXPECT_EQ(open.exit_code, 2) << open.err;
    EXPECT_NE(open.err.find("--insecure"), std::string::npos) << open.err;
    // A secret too short to be safe.
    const auto weak = dir / "weak.secret";
    std::ofstream(weak) << "weak-xyzzy";
    auto short_secret = run_facefuse({"serve", "--listen", "127.0.0.1:0", "--jwt-secret-file", weak.string(),
                                      "--data-dir", (dir / "d3").string()});
    EXPECT_EQ(short_secret.exit_code, 2) << short_secret.err;
    EXPECT_EQ(short_secret.err.find("weak-xyzzy"), std::string::npos) << "the secret is printed: " << short_secret.err;
    // The secret cannot be passed on the command line at all.
    auto on_cli = run_facefuse({"serve", "--jwt-secret", kTestJwtSecret});
    EXPECT_EQ(on_cli.exit_code, 2);
}

// `facefuse token` signs what the server accepts, with the tenant and role asked for.
TEST_F(ServeSecurityTest, TokenCommandMakesTokensTheServerAccepts) {
    ServeProcess serve(dir / "data", auth_args({"--workers", "0"}));
    auto made = run_facefuse({"token", "--jwt-secret-file", secret_file().string(), "--sub", "bob", "--tenant",
                              "initech", "--role", "admin", "--iss", kTestJwtIssuer, "--aud", kTestJwtAudience});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    std::string token = made.out;
    while (!token.empty() && token.back() == '\n') token.pop_back();
    EXPECT_EQ(http_get(serve.url("/metrics"), {bearer(token)}).status, 200);  // admin only
    // Without the issuer the server requires, the token is refused.
    auto no_iss = run_facefuse({"token", "--jwt-secret-file", secret_file().string(), "--sub", "bob", "--tenant",
                                "initech"});
    ASSERT_EQ(no_iss.exit_code, 0) << no_iss.err;
    std::string plain = no_iss.out.substr(0, no_iss.out.find('\n'));
    EXPECT_EQ(http_get(serve.url("/v1/tasks"), {bearer(plain)}).status, 401);
    EXPECT_EQ(run_facefuse({"token", "--jwt-secret-file", secret_file().string(), "--sub", "b", "--tenant", "t",
                            "--role", "root"}).exit_code, 2);
}

// Uploads built to hurt: refused from their headers, cheaply, while others are served.
TEST_F(ServeSecurityTest, HostileUploadsAreRefusedAndOthersKeepBeingServed) {
    ServeProcess serve(dir / "data", {"--workers", "1"});
    std::atomic<bool> done{false};
    std::atomic<int> health_ok{0}, health_bad{0};
    std::thread prober([&] {
        while (!done) (http_get(serve.url("/healthz"), {}, 10).status == 200 ? health_ok : health_bad)++;
    });
    // Decompression bomb: a valid PNG header that claims 60000 x 60000 pixels (3.6 Gpx).
    std::string bomb = file_bytes(face("astronaut_eileen_collins_nasa.png")).substr(0, 33);
    auto be32 = [](std::uint32_t v) {
        return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                           static_cast<char>(v)};
    };
    bomb.replace(16, 8, be32(60000) + be32(60000));
    bomb += std::string(2000, '\0');
    auto form = noop_form();
    form[0].data = bomb;
    const HttpResponse bomb_reply = http_post_form(serve.url("/v1/swaps"), form);
    EXPECT_EQ(bomb_reply.status, 413) << bomb_reply.body;
    EXPECT_EQ(json_of(bomb_reply)["error"]["code"], "image_too_large");

    // Polyglot: a JPEG start followed by an HTML page and a ZIP end -- no image behind it.
    form[0].data = std::string("\xFF\xD8\xFF\xE0", 4) + "<html><script>alert(1)</script></html>PK\x05\x06" +
                   std::string(18, '\0');
    const HttpResponse polyglot = http_post_form(serve.url("/v1/swaps?wait=30"), form);
    EXPECT_TRUE(polyglot.status == 415 || polyglot.status == 422) << polyglot.status << " " << polyglot.body;

    // Truncated: the first 20 % of a real JPEG, to be swapped into (noop would not decode it).
    const std::string jpeg = file_bytes(face("chris_pratt_2018.jpg"));
    auto swap = swap_form();
    swap[1].data = jpeg.substr(0, jpeg.size() / 5);
    const HttpResponse truncated = http_post_form(serve.url("/v1/swaps?wait=30"), swap);
    EXPECT_EQ(truncated.status, 422) << truncated.body;
    EXPECT_EQ(json_of(truncated)["error"]["code"], "invalid_image");

    // And a good one still goes through.
    EXPECT_EQ(http_post_form(serve.url("/v1/swaps?wait=30"), noop_form()).status, 200);
    done = true;
    prober.join();
    EXPECT_GT(health_ok.load(), 0);
    EXPECT_EQ(health_bad.load(), 0);
}

// A client that sends its headers a byte at a time holds one connection for at most the
// header timeout (10 s), and other clients are served meanwhile.
TEST_F(ServeSecurityTest, SlowlorisDoesNotBlockOthersAndIsCutOff) {
    ServeProcess serve(dir / "data", {"--workers", "0"});
    constexpr int kSlow = 20;
    std::vector<int> fds;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(serve.port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < kSlow; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        ASSERT_EQ(::send(fd, "GET /healthz HTTP/1.1\r\nX-A: ", 28, MSG_NOSIGNAL), 28);
        fds.push_back(fd);
    }
    // Others are served at once.
    for (int i = 0; i < 5; ++i) EXPECT_EQ(http_get(serve.url("/healthz"), {}, 5).status, 200);

    // Keep trickling a byte a second on the first connection until the server closes it.
    const auto start = std::chrono::steady_clock::now();
    bool closed = false;
    while (!closed && std::chrono::steady_clock::now() - start < std::chrono::seconds(30)) {
        pollfd p{fds[0], POLLIN, 0};
        if (::poll(&p, 1, 1000) > 0) {
            char buf[512];
            const ssize_t n = ::recv(fds[0], buf, sizeof buf, 0);
            EXPECT_LE(n, 0) << "the server answered an incomplete request";
            closed = true;
            break;
        }
        if (::send(fds[0], "a", 1, MSG_NOSIGNAL) != 1) closed = true;
    }
    const auto held = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(closed) << "a trickling client kept its connection for 30 s";
    EXPECT_LT(held, std::chrono::seconds(25));
    for (int fd : fds) ::close(fd);
}

}  // namespace
}  // namespace facefuse::test
