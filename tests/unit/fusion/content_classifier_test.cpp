// ContentClassifier on a Darknet model the test writes itself (tiny_classifier.hpp): known
// scores, every preprocessing knob, and each way a model or config can be wrong.
#include "fusion/moderation/content_classifier.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tiny_classifier.hpp"

namespace facefuse::fusion::moderation {
namespace {

using namespace testing;

constexpr float kTolerance = 1e-4f;

ContentClassifier load_ok(const ClassifierConfig& config) {
    Result<ContentClassifier> c = ContentClassifier::load(config);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    if (!c.ok()) throw std::runtime_error("load failed");  // test helper only: ends the test
    return std::move(c).value();
}

float score(const ContentClassifier& c, const cv::Mat& image) {
    Result<float> s = c.unsafe_score(image);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? *s : -1.0f;
}

TEST(ContentClassifier, ScoresKnownInputs) {
    TempDir dir;
    const ContentClassifier c = load_ok(write_tiny_model(dir));
    EXPECT_NEAR(score(c, flat(0)), kBlackScore, kTolerance);
    EXPECT_NEAR(score(c, flat(128)), kGreyScore, kTolerance);
    EXPECT_NEAR(score(c, flat(255)), kWhiteScore, kTolerance);
    EXPECT_GT(score(c, flat(255)), 0.9f);
    EXPECT_LT(score(c, flat(0)), 0.1f);
}

TEST(ContentClassifier, ResizesAnyImageToTheInputSize) {
    TempDir dir;
    const ContentClassifier c = load_ok(write_tiny_model(dir));
    EXPECT_NEAR(score(c, flat(255, {640, 480})), kWhiteScore, kTolerance);
    EXPECT_NEAR(score(c, flat(255, {1, 1})), kWhiteScore, kTolerance);
    // Half black, half white: the mean is 127.5, a score just under mid-grey's.
    cv::Mat half = flat(0, {64, 64});
    half(cv::Rect(0, 0, 32, 64)).setTo(cv::Scalar::all(255));
    EXPECT_NEAR(score(c, half), sigmoid(12.0 * 0.5 - 6.0), 1e-3f);
}

TEST(ContentClassifier, AcceptsGreyAndBgra) {
    TempDir dir;
    const ContentClassifier c = load_ok(write_tiny_model(dir));
    EXPECT_NEAR(score(c, cv::Mat(8, 8, CV_8UC1, cv::Scalar(255))), kWhiteScore, kTolerance);
    EXPECT_NEAR(score(c, cv::Mat(8, 8, CV_8UC4, cv::Scalar::all(255))), kWhiteScore, kTolerance);
}

TEST(ContentClassifier, MeanAndScaleAreApplied) {
    TempDir dir;
    ClassifierConfig config = write_tiny_model(dir);
    config.mean = cv::Scalar::all(255);  // white becomes 0: scores like black
    EXPECT_NEAR(score(load_ok(config), flat(255)), kBlackScore, kTolerance);
    config.mean = cv::Scalar();
    config.scale = 0.5 / 255.0;  // white becomes 0.5: scores like mid-grey 127.5
    EXPECT_NEAR(score(load_ok(config), flat(255)), sigmoid(0.0), kTolerance);
}

TEST(ContentClassifier, SwapRbReordersChannels) {
    TempDir dir;
    TinyModel model;
    model.weights = {12.0f, 0.0f, 0.0f};  // only the first channel counts
    ClassifierConfig config = write_tiny_model(dir, model);
    const cv::Mat blue(8, 8, CV_8UC3, cv::Scalar(255, 0, 0));
    EXPECT_NEAR(score(load_ok(config), blue), kWhiteScore, kTolerance);
    config.swap_rb = true;  // the first channel is now red, which is 0
    EXPECT_NEAR(score(load_ok(config), blue), kBlackScore, kTolerance);
}

TEST(ContentClassifier, SoftmaxOverLogits) {
    // Logits (12m - 6, 0): softmax's first element is sigmoid(12m - 6), the logistic model's.
    TempDir dir;
    TinyModel model;
    model.outputs = 2;
    model.activation = "linear";
    model.biases = {-6.0f, 0.0f};
    model.weights = {4.0f, 4.0f, 4.0f, 0.0f, 0.0f, 0.0f};
    ClassifierConfig config = write_tiny_model(dir, model);
    config.apply_softmax = true;
    config.unsafe_index = 0;
    const ContentClassifier c = load_ok(config);
    EXPECT_NEAR(score(c, flat(255)), kWhiteScore, kTolerance);
    EXPECT_NEAR(score(c, flat(0)), kBlackScore, kTolerance);
    config.unsafe_index = 1;  // the other class: 1 - p
    EXPECT_NEAR(score(load_ok(config), flat(255)), 1.0f - kWhiteScore, kTolerance);
}

TEST(ContentClassifier, RawLogitsAreClampedToZeroOne) {
    TempDir dir;
    ClassifierConfig config = write_tiny_model(dir);
    config.output_name = "fullyConnected_1";  // before the logistic: the logit, -6..6
    const ContentClassifier c = load_ok(config);
    EXPECT_EQ(score(c, flat(255)), 1.0f);
    EXPECT_EQ(score(c, flat(0)), 0.0f);
}

TEST(ContentClassifier, UnknownOutputNameIsUsage) {
    TempDir dir;
    ClassifierConfig config = write_tiny_model(dir);
    config.output_name = "prob";
    Result<ContentClassifier> c = ContentClassifier::load(config);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::kUsage);
    EXPECT_NE(c.error().message.find("logistic_2"), std::string::npos) << c.error().message;
}

TEST(ContentClassifier, IndexBeyondOutputIsUsage) {
    TempDir dir;
    ClassifierConfig config = write_tiny_model(dir);
    config.unsafe_index = 1;  // the model has one output value
    Result<ContentClassifier> c = ContentClassifier::load(config);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::kUsage);
    EXPECT_NE(c.error().message.find("--moderation-index"), std::string::npos);
}

TEST(ContentClassifier, UnusableSettingsAreUsage) {
    TempDir dir;
    const ClassifierConfig good = write_tiny_model(dir);
    std::vector<ClassifierConfig> bad(6, good);
    bad[0].model_path.clear();
    bad[1].input_width = 0;
    bad[2].input_height = 100000;
    bad[3].scale = 0.0;
    bad[4].scale = std::numeric_limits<double>::quiet_NaN();
    bad[5].unsafe_index = -1;
    for (std::size_t i = 0; i < bad.size(); ++i) {
        Result<ContentClassifier> c = ContentClassifier::load(bad[i]);
        ASSERT_FALSE(c.ok()) << i;
        EXPECT_EQ(c.error().code, ErrorCode::kUsage) << i << ": " << c.error().message;
    }
}

TEST(ContentClassifier, MissingModelIsModelUnavailable) {
    TempDir dir;
    ClassifierConfig config = write_tiny_model(dir);
    config.model_path = (dir / "absent.weights").string();
    Result<ContentClassifier> c = ContentClassifier::load(config);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::kModelUnavailable);
    EXPECT_NE(c.error().message.find("--moderation-model"), std::string::npos);
    EXPECT_NE(c.error().message.find(config.model_path), std::string::npos);
}

TEST(ContentClassifier, MissingConfigIsModelUnavailable) {
    TempDir dir;
    ClassifierConfig config = write_tiny_model(dir);
    config.config_path = (dir / "absent.cfg").string();
    Result<ContentClassifier> c = ContentClassifier::load(config);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::kModelUnavailable);
    EXPECT_NE(c.error().message.find("--moderation-config"), std::string::npos);
}

TEST(ContentClassifier, DirectoryAsModelIsModelUnavailable) {
    TempDir dir;
    ClassifierConfig config = write_tiny_model(dir);
    config.model_path = (dir / "").string();
    Result<ContentClassifier> c = ContentClassifier::load(config);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::kModelUnavailable);
}

TEST(ContentClassifier, CorruptFilesAreErrorsNotCrashes) {
    TempDir dir;
    const ClassifierConfig config = write_tiny_model(dir);
    struct Case {
        const char* what;
        std::string cfg, weights;
    };
    const std::string good_cfg = darknet_cfg({});
    const std::vector<Case> cases = {
        {"text as weights", good_cfg, "this is not a weights file, only some text"},
        {"empty weights", good_cfg, ""},
        {"garbage cfg", "hello world\n", darknet_weights({})},
        {"unknown layer", "[net]\nwidth=4\nheight=4\nchannels=3\n[bogus]\n", darknet_weights({})},
        {"empty cfg", "", darknet_weights({})},
    };
    for (const Case& k : cases) {
        write_file(dir / "tiny.cfg", k.cfg);
        write_file(dir / "tiny.weights", k.weights);
        Result<ContentClassifier> c = ContentClassifier::load(config);
        ASSERT_FALSE(c.ok()) << k.what;
        EXPECT_EQ(c.error().code, ErrorCode::kModelUnavailable)
            << k.what << ": " << c.error().message;
    }
}

TEST(ContentClassifier, UnknownFrameworkIsModelUnavailable) {
    TempDir dir;
    ClassifierConfig config = write_tiny_model(dir);
    write_file(dir / "model.bin2", darknet_weights({}));
    config.model_path = (dir / "model.bin2").string();
    config.config_path.clear();
    Result<ContentClassifier> c = ContentClassifier::load(config);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::kModelUnavailable);
}

TEST(ContentClassifier, NanWeightsAreRefusedAtLoad) {
    TempDir dir;
    TinyModel model;
    model.biases = {std::numeric_limits<float>::quiet_NaN()};
    Result<ContentClassifier> c = ContentClassifier::load(write_tiny_model(dir, model));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::kModelUnavailable);
    EXPECT_NE(c.error().message.find("non-finite"), std::string::npos) << c.error().message;
}

TEST(ContentClassifier, EmptyOrOddImagesAreInvalidImage) {
    TempDir dir;
    const ContentClassifier c = load_ok(write_tiny_model(dir));
    for (const cv::Mat& image : {cv::Mat(), cv::Mat(8, 8, CV_32FC3, cv::Scalar::all(1)),
                                 cv::Mat(8, 8, CV_8UC2, cv::Scalar::all(1))}) {
        Result<float> s = c.unsafe_score(image);
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.error().code, ErrorCode::kInvalidImage);
    }
}

TEST(ContentClassifier, MovedClassifierStillScores) {
    TempDir dir;
    ContentClassifier a = load_ok(write_tiny_model(dir));
    ContentClassifier b = std::move(a);
    EXPECT_NEAR(score(b, flat(255)), kWhiteScore, kTolerance);
    EXPECT_EQ(b.config().input_width, 4);
}

TEST(ContentClassifier, SharedAcrossThreadsGivesTheSameScores) {
    // The net is guarded by a mutex: concurrent callers must neither crash nor see each
    // other's inputs.
    TempDir dir;
    const ContentClassifier c = load_ok(write_tiny_model(dir));
    std::vector<std::thread> threads;
    std::vector<int> wrong(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            const int value = t % 2 == 0 ? 0 : 255;
            const float expected = t % 2 == 0 ? kBlackScore : kWhiteScore;
            const cv::Mat image = flat(value);
            for (int i = 0; i < 100; ++i) {
                Result<float> s = c.unsafe_score(image);
                if (!s.ok() || std::abs(*s - expected) > kTolerance) ++wrong[t];
            }
        });
    }
    for (std::thread& t : threads) t.join();
    for (int t = 0; t < 4; ++t) EXPECT_EQ(wrong[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace facefuse::fusion::moderation
