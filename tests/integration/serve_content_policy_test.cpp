// Content policy through `facefuse serve`: moderation with a classifier the test writes itself
// (a tiny Darknet network whose score is known: white scores 0.998, black 0.002), and the
// provenance marker on results.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "image/provenance.hpp"
#include "integration/serve_fixture.hpp"
#include "storage/segments/segment_blob_store.hpp"
#include "unit/fusion/tiny_classifier.hpp"

namespace facefuse::test {
namespace {

namespace tiny = fusion::moderation::testing;

std::string flat_png(int value) {
    std::vector<std::uint8_t> bytes;
    cv::imencode(".png", cv::Mat(96, 96, CV_8UC3, cv::Scalar::all(value)), bytes);
    return {bytes.begin(), bytes.end()};
}

class ServeContentPolicyTest : public ::testing::Test {
protected:
    TempDir dir;
    tiny::TempDir model_dir;

    std::vector<std::string> moderation_args(const std::string& mode) {
        const auto model = tiny::write_tiny_model(model_dir);
        return {"--workers", "1", "--moderation", mode, "--moderation-model", model.model_path,
                "--moderation-config", model.config_path, "--moderation-input", "4x4",
                "--moderation-scale", "0.00392156862745098", "--moderation-threshold", "0.9"};
    }

    static std::vector<FormPart> noop_of(const std::string& image) {
        return {{"target", image, "t.png"}, {"options", R"({"processors": ["noop"]})", ""}};
    }
};

TEST_F(ServeContentPolicyTest, RejectModeFails422AndKeepsNothingOfTheInput) {
    ServeProcess serve(dir / "data", moderation_args("reject"));
    const HttpResponse rejected = http_post_form(serve.url("/v1/swaps?wait=30"), noop_of(flat_png(255)));
    ASSERT_EQ(rejected.status, 422) << rejected.body;
    EXPECT_EQ(json_of(rejected)["error"]["code"], "content_rejected");
    const std::string id = rejected.header("location").substr(std::string("/v1/tasks/").size());
    const auto task = json_of(http_get(serve.url("/v1/tasks/" + id)));
    EXPECT_EQ(task["status"], "failed");
    EXPECT_EQ(task["moderation"]["verdict"], "rejected");
    EXPECT_GT(task["moderation"]["score"].get<double>(), 0.99);

    // A dark image passes, with its decision recorded.
    const HttpResponse allowed = http_post_form(serve.url("/v1/swaps?wait=30"), noop_of(flat_png(0)));
    ASSERT_EQ(allowed.status, 200) << allowed.body;
    EXPECT_EQ(json_of(allowed)["moderation"]["verdict"], "allowed");
    EXPECT_LT(json_of(allowed)["moderation"]["score"].get<double>(), 0.01);
    const std::string allowed_id = json_of(allowed)["id"];

    // The rejected upload is gone from the store; the allowed one is there. (serve holds its
    // files exclusively while it runs: look once it has stopped.)
    ASSERT_EQ(serve.terminate(), 0);
    auto blobs = storage::SegmentBlobStore::open(dir / "data" / "segments");
    ASSERT_TRUE(blobs.ok()) << blobs.error().message;
    auto rejected_there = (*blobs)->exists(storage::blob_key("local", id, "target", "png"));
    ASSERT_TRUE(rejected_there.ok());
    EXPECT_FALSE(*rejected_there);
    auto allowed_there = (*blobs)->exists(storage::blob_key("local", allowed_id, "target", "png"));
    ASSERT_TRUE(allowed_there.ok());
    EXPECT_TRUE(*allowed_there) << "the check looks at the right keys";
}

TEST_F(ServeContentPolicyTest, FlagModeLetsTheTaskRunAndRecordsTheFlag) {
    ServeProcess serve(dir / "data", moderation_args("flag"));
    const HttpResponse flagged = http_post_form(serve.url("/v1/swaps?wait=30"), noop_of(flat_png(255)));
    ASSERT_EQ(flagged.status, 200) << flagged.body;
    EXPECT_EQ(json_of(flagged)["status"], "succeeded");
    EXPECT_EQ(json_of(flagged)["moderation"]["verdict"], "flagged");
}

TEST_F(ServeContentPolicyTest, BadModerationSetupStopsStartUpWithAMessage) {
    auto no_model = run_facefuse({"serve", "--auth", "none", "--listen", "127.0.0.1:0", "--moderation", "reject",
                                  "--data-dir", (dir / "d").string()});
    EXPECT_EQ(no_model.exit_code, 2) << no_model.err;
    EXPECT_NE(no_model.err.find("--moderation-model"), std::string::npos) << no_model.err;
    auto missing = run_facefuse({"serve", "--auth", "none", "--listen", "127.0.0.1:0", "--moderation", "reject",
                                 "--moderation-model", (dir / "nope.onnx").string(), "--data-dir", (dir / "d").string()});
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_NE(missing.err.find("nope.onnx"), std::string::npos) << missing.err;
}

TEST_F(ServeContentPolicyTest, SwapResultsCarryTheAiGeneratedMarker) {
    ServeProcess serve(dir / "data", {"--workers", "1", "--watermark", "AI"});
    const HttpResponse done = http_post_form(serve.url("/v1/swaps?wait=60"), swap_form(R"({"output_format": "png"})"));
    ASSERT_EQ(done.status, 200) << done.body;
    const HttpResponse result = http_get(serve.url("/v1/tasks/" + json_of(done)["id"].get<std::string>() + "/result"));
    ASSERT_EQ(result.status, 200);
    const std::vector<std::uint8_t> bytes(result.body.begin(), result.body.end());
    auto marker = image::read_provenance_marker(bytes, image::ImageFormat::kPng);
    ASSERT_TRUE(marker.ok()) << marker.error().message;
    EXPECT_EQ(*marker, image::kDefaultProvenanceText);
    EXPECT_FALSE(cv::imdecode(bytes, cv::IMREAD_COLOR).empty());

    // --no-provenance turns it off.
    ServeProcess plain(dir / "plain", {"--workers", "1", "--no-provenance"});
    const HttpResponse plain_done = http_post_form(plain.url("/v1/swaps?wait=60"), swap_form(R"({"output_format": "png"})"));
    ASSERT_EQ(plain_done.status, 200) << plain_done.body;
    const HttpResponse plain_result =
        http_get(plain.url("/v1/tasks/" + json_of(plain_done)["id"].get<std::string>() + "/result"));
    const std::vector<std::uint8_t> plain_bytes(plain_result.body.begin(), plain_result.body.end());
    EXPECT_EQ(image::read_provenance_marker(plain_bytes, image::ImageFormat::kPng).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace facefuse::test
