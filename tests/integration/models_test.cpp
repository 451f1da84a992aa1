// Models at run time, end to end with real processes: `facefuse models pull` from a real
// S3-protocol server (s3rver) and over plain HTTP, `models list|verify`, and hot reload of a
// running `facefuse serve` by SIGHUP and by the admin API, including the reloads that must fail
// and leave the old model serving.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/sha256.hpp"
#include "models/model_spec.hpp"
#include "serve_fixture.hpp"
#include "storage/s3/s3_blob_store.hpp"
#include "support/s3_server.hpp"
#include "support/test_support.hpp"

namespace facefuse::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kDebianModel = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";

std::string manifest_json(const std::string& version, const std::string& path, const std::string& sha256,
                          const std::string& source = "") {
    nlohmann::json entry = {{"name", "dlib_68_landmarks"}, {"version", version}, {"kind", "face_landmarker"},
                            {"path", path},  {"sha256", sha256},   {"license", "test copy"}};
    if (!source.empty()) entry["source"] = source;
    return nlohmann::json{{"models", {entry}}}.dump();
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// The value of one sample on a /metrics page, or -1 when the series is absent.
double metric(const std::string& page, const std::string& series) {
    std::istringstream lines(page);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return -1;
}

std::string model_info(const std::string& version) {
    return R"(facefuse_model_info{name="dlib_68_landmarks",version=")" + version + R"("})";
}

// Polls /metrics until `series` has `value` (a reload runs on the signal thread, in the
// background of the request that asked for it).
bool wait_metric(ServeProcess& serve, const std::string& series, double value, std::chrono::seconds deadline = 60s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
        if (metric(http_get(serve.url("/metrics")).body, series) == value) return true;
        std::this_thread::sleep_for(20ms);  // polling interval
    }
    return false;
}

bool swap_succeeds(ServeProcess& serve) {
    const HttpResponse r = http_post_form(serve.url("/v1/swaps?wait=60"), swap_form());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 && json_of(r)["status"] == "succeeded";
}

// The test server's bucket, for objects up to 1 GiB (a model is 100 MB).
Result<std::unique_ptr<storage::BlobStore>> test_bucket(const S3Server& s3) {
    storage::S3Options options;
    options.endpoint = s3.endpoint();
    options.bucket = S3Server::kBucket;
    options.access_key = S3Server::kAccessKey;
    options.secret_key = S3Server::kSecretKey;
    options.max_object_bytes = 1ull << 30;
    return storage::make_s3_blob_store(options);
}

class ModelsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(fs::is_regular_file(kDebianModel)) << "install libdlib-data (scripts/install-deps.sh does)";
        sha_ = models::default_landmark_model().sha256;
        fs::create_directories(dir / "models");
        fs::copy_file(kDebianModel, dir / "models" / "v1.dat");
    }
    TempDir dir;
    std::string sha_;
};

TEST_F(ModelsTest, ServeReloadsOnSighupAndKeepsServingThroughFailedReloads) {
    const fs::path manifest = dir / "models" / "manifest.json";
    write_text(manifest, manifest_json("v1", "v1.dat", sha_));
    ServeProcess serve(dir / "data", {"--workers", "1", "--models-manifest", manifest.string()});
    std::string page = http_get(serve.url("/metrics")).body;
    EXPECT_EQ(metric(page, model_info("v1")), 1) << page;
    EXPECT_EQ(metric(page, "facefuse_model_reload_failures_total"), 0) << "exported from the start";

    // A new version: a copy under another name, same bytes. SIGHUP swaps it in.
    fs::copy_file(dir / "models" / "v1.dat", dir / "models" / "v2.dat");
    write_text(manifest, manifest_json("v2", "v2.dat", sha_));
    serve.process().signal(SIGHUP);
    ASSERT_TRUE(wait_metric(serve, model_info("v2"), 1)) << serve.log();
    page = http_get(serve.url("/metrics")).body;
    EXPECT_EQ(metric(page, model_info("v1")), 0) << "the old version no longer serves";
    EXPECT_EQ(metric(page, "facefuse_model_reloads_total"), 1);
    EXPECT_TRUE(swap_succeeds(serve));

    // A corrupt file: the admin call answers why, and v2 keeps serving.
    fs::copy_file(dir / "models" / "v1.dat", dir / "models" / "v3.dat");
    std::ofstream(dir / "models" / "v3.dat", std::ios::app) << "corruption";
    write_text(manifest, manifest_json("v3", "v3.dat", sha_));
    const std::string no_body;
    const HttpResponse refused = http_request("POST", serve.url("/v1/admin/models/reload"), nullptr, &no_body);
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_EQ(json_of(refused)["error"]["code"], "model_unavailable");
    EXPECT_NE(refused.body.find("keeps serving"), std::string::npos) << refused.body;
    page = http_get(serve.url("/metrics")).body;
    EXPECT_EQ(metric(page, "facefuse_model_reload_failures_total"), 1);
    EXPECT_EQ(metric(page, model_info("v2")), 1);
    EXPECT_EQ(metric(page, model_info("v3")), -1) << "a version that never served is never reported";
    EXPECT_TRUE(swap_succeeds(serve));

    // A missing file, by SIGHUP this time: counted, logged, still v2.
    write_text(manifest, manifest_json("v4", "v4-missing.dat", sha_));
    serve.process().signal(SIGHUP);
    ASSERT_TRUE(wait_metric(serve, "facefuse_model_reload_failures_total", 2)) << serve.log();
    EXPECT_EQ(metric(http_get(serve.url("/metrics")).body, model_info("v2")), 1);
    EXPECT_TRUE(swap_succeeds(serve));

    // The admin call that works answers with what serves now.
    write_text(manifest, manifest_json("v5", "v1.dat", sha_));
    const HttpResponse reloaded = http_request("POST", serve.url("/v1/admin/models/reload"), nullptr, &no_body);
    ASSERT_EQ(reloaded.status, 200) << reloaded.body;
    EXPECT_EQ(json_of(reloaded)["models"][0]["version"], "v5");
    EXPECT_EQ(http_get(serve.url("/v1/admin/models/reload")).status, 400) << "reload is a POST (wrong methods are usage errors here)";
    EXPECT_EQ(serve.terminate(), 0);
    const std::string log = serve.log();
    EXPECT_NE(log.find(R"("event":"model_reload_failed")"), std::string::npos);
    EXPECT_NE(log.find(R"("event":"model_reloaded")"), std::string::npos);
}

TEST_F(ModelsTest, ServeRefusesToStartOnAModelThatDoesNotMatchItsManifest) {
    std::ofstream(dir / "models" / "v1.dat", std::ios::app) << "x";
    write_text(dir / "models" / "manifest.json", manifest_json("v1", "v1.dat", sha_));
    const CommandResult r = run_facefuse({"serve", "--auth", "none", "--listen", "127.0.0.1:0", "--data-dir",
                                          (dir / "data").string(), "--models-manifest",
                                          (dir / "models" / "manifest.json").string()});
    EXPECT_EQ(r.exit_code, 5) << describe(r);
    EXPECT_NE(r.err.find("model_unavailable"), std::string::npos) << describe(r);
    EXPECT_NE(r.err.find("models pull"), std::string::npos) << "says what to do: " << describe(r);

    write_text(dir / "models" / "manifest.json", R"({"models": [{"name": "x"}]})");
    const CommandResult bad = run_facefuse({"serve", "--auth", "none", "--listen", "127.0.0.1:0", "--data-dir",
                                            (dir / "data").string(), "--models-manifest",
                                            (dir / "models" / "manifest.json").string()});
    EXPECT_EQ(bad.exit_code, 2) << describe(bad);
    EXPECT_NE(bad.err.find("field 'version' is missing"), std::string::npos) << describe(bad);
}

// The init-container flow: the model set in a bucket, pulled into an empty folder, served from there.
TEST_F(ModelsTest, PullFromS3ThenServeFromThePulledFolder) {
    S3Server s3;
    ASSERT_TRUE(s3.ok());
    auto bucket = test_bucket(s3);
    ASSERT_TRUE(bucket) << bucket.error().message;
    const std::string model_bytes = file_bytes(kDebianModel);
    ASSERT_TRUE((*bucket)->put("models/v1/dlib/landmarks.dat",
                               std::span(reinterpret_cast<const std::uint8_t*>(model_bytes.data()), model_bytes.size()),
                               "application/octet-stream"));
    write_text(dir / "wanted.json", manifest_json("v1", "landmarks.dat", sha_, "dlib/landmarks.dat"));
    ::setenv("AWS_ACCESS_KEY_ID", S3Server::kAccessKey, 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", S3Server::kSecretKey, 1);
    const std::vector<std::string> pull = {"models", "pull", "--models-manifest", (dir / "wanted.json").string(),
                                           "--model-dir", (dir / "pulled").string(), "--from",
                                           std::string("s3://") + S3Server::kBucket + "/models/v1", "--s3-endpoint",
                                           s3.endpoint()};
    const CommandResult first = run_facefuse(pull);
    ASSERT_EQ(first.exit_code, 0) << describe(first);
    EXPECT_NE(first.out.find("pulled"), std::string::npos) << describe(first);
    EXPECT_EQ(file_bytes(dir / "pulled" / "landmarks.dat"), model_bytes);
    const CommandResult again = run_facefuse(pull);
    ASSERT_EQ(again.exit_code, 0) << describe(again);
    EXPECT_NE(again.out.find("up to date"), std::string::npos) << "a second pull fetches nothing: " << describe(again);

    const fs::path installed = dir / "pulled" / "manifest.json";
    const CommandResult verify = run_facefuse({"models", "verify", "--models-manifest", installed.string()});
    EXPECT_EQ(verify.exit_code, 0) << describe(verify);
    const CommandResult list = run_facefuse({"models", "list", "--json", "--models-manifest", installed.string()});
    ASSERT_EQ(list.exit_code, 0) << describe(list);
    const auto listed = nlohmann::json::parse(list.out, nullptr, false);
    ASSERT_TRUE(listed.is_array()) << list.out;
    EXPECT_EQ(listed[0]["present"], true);
    EXPECT_EQ(listed[0]["bytes"], model_bytes.size());
    EXPECT_EQ(listed[0]["path"], (dir / "pulled" / "landmarks.dat").string());

    ServeProcess serve(dir / "data", {"--workers", "1", "--models-manifest", installed.string()});
    EXPECT_EQ(metric(http_get(serve.url("/metrics")).body, model_info("v1")), 1);
    EXPECT_TRUE(swap_succeeds(serve));

    // Damaged on disk: verify says so with exit 5, and a pull repairs it.
    std::ofstream(dir / "pulled" / "landmarks.dat", std::ios::app) << "x";
    const CommandResult damaged = run_facefuse({"models", "verify", "--models-manifest", installed.string()});
    EXPECT_EQ(damaged.exit_code, 5) << describe(damaged);
    EXPECT_NE(damaged.out.find("FAIL"), std::string::npos) << describe(damaged);
    const CommandResult repaired = run_facefuse(pull);
    EXPECT_EQ(repaired.exit_code, 0) << describe(repaired);
    EXPECT_EQ(run_facefuse({"models", "verify", "--models-manifest", installed.string()}).exit_code, 0);
}

TEST_F(ModelsTest, PullOverHttpRefusesBytesThatDoNotMatchAndMissingObjects) {
    S3Server s3;  // any HTTP server will do: s3rver answers anonymous GETs of its objects
    ASSERT_TRUE(s3.ok());
    auto bucket = test_bucket(s3);
    ASSERT_TRUE(bucket) << bucket.error().message;
    const std::string small = "a small model";
    const std::string tampered = "a tampered model";
    for (const auto& [key, text] : {std::pair{"set/good.bin", small}, {"set/bad.bin", tampered}})
        ASSERT_TRUE((*bucket)->put(key, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                                   "application/octet-stream"));
    const std::string from = s3.endpoint() + "/" + S3Server::kBucket + "/set";
    auto pull = [&](const std::string& source) {
        write_text(dir / "m.json", manifest_json("1", "model.bin", sha256_hex(std::string_view(small)), source));
        return run_facefuse({"models", "pull", "--models-manifest", (dir / "m.json").string(), "--model-dir",
                             (dir / "http").string(), "--from", from});
    };

    const CommandResult bad = pull("bad.bin");
    EXPECT_EQ(bad.exit_code, 5) << describe(bad);
    EXPECT_NE(bad.err.find("nothing was written"), std::string::npos) << describe(bad);
    EXPECT_FALSE(fs::exists(dir / "http" / "model.bin"));
    EXPECT_FALSE(fs::exists(dir / "http" / "manifest.json"));

    const CommandResult missing = pull("absent.bin");
    EXPECT_EQ(missing.exit_code, 3) << describe(missing);
    EXPECT_NE(missing.err.find("404"), std::string::npos) << describe(missing);

    const CommandResult good = pull("good.bin");
    ASSERT_EQ(good.exit_code, 0) << describe(good);
    EXPECT_EQ(file_bytes(dir / "http" / "model.bin"), small);

    const CommandResult nowhere = run_facefuse({"models", "pull", "--models-manifest", (dir / "m.json").string(),
                                                "--model-dir", (dir / "x").string(), "--from",
                                                "http://127.0.0.1:" + std::to_string(free_port()) + "/set"});
    EXPECT_EQ(nowhere.exit_code, 6) << "an unreachable source is worth retrying: " << describe(nowhere);
}

TEST(ModelsCli, ListAndVerifyTheBuiltInSetAndExplainMistakes) {
    const CommandResult list = run_facefuse({"models", "list"});
    ASSERT_EQ(list.exit_code, 0) << describe(list);
    EXPECT_NE(list.out.find(kDebianModel.string()), std::string::npos);
    EXPECT_NE(list.out.find("non-commercial"), std::string::npos) << "the licence is shown";
    EXPECT_EQ(run_facefuse({"models", "verify"}).exit_code, 0);
    const CommandResult no_from = run_facefuse({"models", "pull", "--models-manifest", "m.json", "--model-dir", "d"});
    EXPECT_EQ(no_from.exit_code, 2) << describe(no_from);
    EXPECT_NE(no_from.err.find("--from"), std::string::npos) << describe(no_from);
    const CommandResult bare = run_facefuse({"models"});
    EXPECT_EQ(bare.exit_code, 2) << describe(bare);
}

}  // namespace
}  // namespace facefuse::test
