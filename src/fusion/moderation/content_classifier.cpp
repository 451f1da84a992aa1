// Loading an operator's classifier with OpenCV DNN and turning its output into one score.
//
// OpenCV reports every failure (unknown framework, parse error, shape mismatch) by throwing
// cv::Exception; all of it is caught here and mapped to the error model: a file problem is the
// environment's (kModelUnavailable, 503), a setting that cannot fit the network is the
// operator's (kUsage).
#include "fusion/moderation/content_classifier.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <string_view>
#include <utility>
#include <vector>

namespace facefuse::fusion::moderation {

struct ContentClassifier::State {
    ClassifierConfig config;
    std::mutex mutex;  // guards net: cv::dnn::Net keeps per-run state (see the header)
    cv::dnn::Net net;
};

namespace {

constexpr int kMaxInputSide = 4096;  // far above any classifier's input; stops absurd blobs

// Checks that `path` names a non-empty regular file we can open. OpenCV's own messages for a
// missing file are cryptic ("Failed to parse NetParameter file"), and its Darknet reader
// accepts an empty weights file and runs on uninitialised weights, so both are caught here.
Status check_file(std::string_view flag, const std::string& path) {
    const std::string where = std::string(flag) + " " + path;
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
        return make_error(ErrorCode::kModelUnavailable,
                          "moderation model file not found (" + where + ")");
    }
    if (!std::filesystem::is_regular_file(status)) {
        return make_error(ErrorCode::kModelUnavailable,
                          "moderation model path is not a regular file (" + where + ")");
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || size == 0) {
        return make_error(ErrorCode::kModelUnavailable,
                          "moderation model file is empty or unreadable (" + where + ")");
    }
    if (!std::ifstream(path, std::ios::binary).good()) {
        return make_error(ErrorCode::kModelUnavailable,
                          "moderation model file cannot be opened (" + where + ")");
    }
    return Status::Ok();
}

Status check_config(const ClassifierConfig& c) {
    if (c.model_path.empty()) {
        return make_error(ErrorCode::kUsage,
                          "moderation needs a classifier: set --moderation-model PATH");
    }
    if (c.input_width < 1 || c.input_width > kMaxInputSide || c.input_height < 1 ||
        c.input_height > kMaxInputSide) {
        return make_error(ErrorCode::kUsage, "--moderation-input must be WxH with sides 1.." +
                                                 std::to_string(kMaxInputSide) + ", got " +
                                                 std::to_string(c.input_width) + "x" +
                                                 std::to_string(c.input_height));
    }
    if (!std::isfinite(c.scale) || c.scale <= 0.0) {
        return make_error(ErrorCode::kUsage, "--moderation-scale must be a positive number");
    }
    for (int i = 0; i < 4; ++i) {
        if (!std::isfinite(c.mean[i])) {
            return make_error(ErrorCode::kUsage, "--moderation-mean must be finite numbers");
        }
    }
    if (c.unsafe_index < 0) {
        return make_error(ErrorCode::kUsage, "--moderation-index must be 0 or more");
    }
    return Status::Ok();
}

std::string names_of_outputs(const cv::dnn::Net& net) {
    std::string names;
    for (const auto& name : net.getUnconnectedOutLayersNames()) {
        if (!names.empty()) names += ", ";
        names += name;
    }
    return names;
}

// The network's input: the image as 8-bit BGR, resized and normalised by blobFromImage.
Result<cv::Mat> make_blob(const cv::Mat& image, const ClassifierConfig& c) {
    if (image.empty()) {
        return make_error(ErrorCode::kInvalidImage, "cannot classify an empty image");
    }
    if (image.depth() != CV_8U ||
        (image.channels() != 1 && image.channels() != 3 && image.channels() != 4)) {
        return make_error(ErrorCode::kInvalidImage,
                          "the classifier expects an 8-bit grey, BGR or BGRA image");
    }
    cv::Mat bgr = image;
    if (image.channels() == 1) cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
    if (image.channels() == 4) cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
    return cv::dnn::blobFromImage(bgr, c.scale, cv::Size(c.input_width, c.input_height), c.mean,
                                  c.swap_rb, /*crop=*/false, CV_32F);
}

// The unsafe element of the output, after softmax when asked; unclamped so the caller can tell
// NaN and out-of-range values apart.
Result<float> pick_score(const cv::Mat& output, const ClassifierConfig& c) {
    if (output.empty() || output.depth() != CV_32F) {
        return make_error(ErrorCode::kUsage,
                          "the moderation model's output is empty or not float32; choose "
                          "another with --moderation-output");
    }
    const cv::Mat flat = output.isContinuous() ? output : output.clone();
    const std::size_t n = flat.total() * static_cast<std::size_t>(flat.channels());
    if (static_cast<std::size_t>(c.unsafe_index) >= n) {
        return make_error(ErrorCode::kUsage, "--moderation-index " +
                                                 std::to_string(c.unsafe_index) +
                                                 " is beyond the model's output, which has " +
                                                 std::to_string(n) + " value(s)");
    }
    const float* values = flat.ptr<float>();
    if (!c.apply_softmax) return values[c.unsafe_index];
    // Softmax, shifted by the maximum so exp() cannot overflow on large logits.
    const float top = *std::max_element(values, values + n);
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(values[i] - top));
    return static_cast<float>(std::exp(static_cast<double>(values[c.unsafe_index] - top)) / sum);
}

Result<float> finite_score(Result<float> raw, const ClassifierConfig& c) {
    if (!raw.ok()) return raw;
    if (!std::isfinite(*raw)) {
        return make_error(ErrorCode::kModelUnavailable,
                          "the moderation model (--moderation-model " + c.model_path +
                              ") produced a non-finite score; its weights are probably corrupt");
    }
    return std::clamp(*raw, 0.0f, 1.0f);
}

Result<float> run_net(cv::dnn::Net& net, std::mutex& mutex, const cv::Mat& blob,
                      const ClassifierConfig& c) {
    cv::Mat output;
    {
        const std::lock_guard lock(mutex);
        net.setInput(blob);
        // forward() returns a header on the net's own output blob, which the next forward()
        // overwrites: copy it while the net is still ours (reading it after the unlock gave
        // another thread's score now and then).
        output = (c.output_name.empty() ? net.forward() : net.forward(c.output_name)).clone();
    }
    return finite_score(pick_score(output, c), c);
}

}  // namespace

ContentClassifier::ContentClassifier(std::unique_ptr<State> state) : state_(std::move(state)) {}
ContentClassifier::ContentClassifier(ContentClassifier&&) noexcept = default;
ContentClassifier& ContentClassifier::operator=(ContentClassifier&&) noexcept = default;
ContentClassifier::~ContentClassifier() = default;

const ClassifierConfig& ContentClassifier::config() const {
    return state_->config;
}

Result<ContentClassifier> ContentClassifier::load(const ClassifierConfig& config) {
    if (Status s = check_config(config); !s.ok()) return s.error();
    if (Status s = check_file("--moderation-model", config.model_path); !s.ok()) return s.error();
    if (!config.config_path.empty()) {
        if (Status s = check_file("--moderation-config", config.config_path); !s.ok()) {
            return s.error();
        }
    }
    auto state = std::make_unique<State>();
    state->config = config;
    const std::string files =
        "--moderation-model " + config.model_path +
        (config.config_path.empty() ? std::string()
                                    : ", --moderation-config " + config.config_path);
    try {
        state->net = cv::dnn::readNet(config.model_path, config.config_path);
        if (state->net.empty()) {
            return make_error(ErrorCode::kModelUnavailable,
                              "the moderation model has no layers (" + files + ")");
        }
        if (!config.output_name.empty() && state->net.getLayerId(config.output_name) < 0) {
            return make_error(
                ErrorCode::kUsage,
                "--moderation-output " + config.output_name +
                    " is no layer of the model; its outputs are: " + names_of_outputs(state->net));
        }
    } catch (const cv::Exception& e) {
        return make_error(ErrorCode::kModelUnavailable,
                          "cannot read the moderation model (" + files + "): " + e.err);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::kModelUnavailable,
                          "cannot read the moderation model (" + files + "): " + e.what());
    }
    ContentClassifier classifier(std::move(state));
    // The probe: a mid-grey image through the whole path. It surfaces an index beyond the
    // output, a wrong input size for a fixed-size network, or NaN weights now, at start-up.
    const cv::Mat probe(config.input_height, config.input_width, CV_8UC3, cv::Scalar::all(128));
    Result<float> probed = classifier.unsafe_score(probe);
    if (!probed.ok()) {
        return make_error(probed.error().code, "the moderation model failed its start-up check: " +
                                                   probed.error().message);
    }
    return classifier;
}

Result<float> ContentClassifier::unsafe_score(const cv::Mat& bgr) const {
    if (!state_) return make_error(ErrorCode::kInternal, "a moved-from classifier was used");
    const ClassifierConfig& c = state_->config;
    try {
        Result<cv::Mat> blob = make_blob(bgr, c);
        if (!blob.ok()) return blob.error();
        return run_net(state_->net, state_->mutex, *blob, c);
    } catch (const cv::Exception& e) {
        return make_error(ErrorCode::kModelUnavailable,
                          "cannot run the moderation model (--moderation-model " + c.model_path +
                              ", input " + std::to_string(c.input_width) + "x" +
                              std::to_string(c.input_height) +
                              "; check --moderation-input against the model): " + e.err);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::kInternal,
                          std::string("the moderation classifier failed: ") + e.what());
    }
}

}  // namespace facefuse::fusion::moderation
