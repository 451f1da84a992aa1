#pragma once
// A classifier small enough to write by hand: a Darknet network the test saves itself, so the
// moderation tests need no downloaded model and its scores are known exactly.
//
//   [net] 4x4x3 -> [avgpool] (global: the mean of each channel, m_c in 0..1 after scale 1/255)
//               -> [connected] output=N, weights W (N x 3), bias b, activation
//
// With the default W = (4,4,4), b = -6 and logistic activation the score is
//   sigmoid(4 (m_b + m_g + m_r) - 6):  black 0.00247, mid-grey (128) 0.50588, white 0.99753.
// Darknet's .weights file: int32 major, minor, revision; uint64 `seen` (version >= 0.2); then
// per layer the biases and then the weights as float32 (OpenCV 4.6's darknet_io.cpp order).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "fusion/moderation/content_classifier.hpp"

namespace facefuse::fusion::moderation::testing {

inline constexpr float kBlackScore = 0.0024726f;  // sigmoid(-6)
inline constexpr float kGreyScore = 0.5058812f;   // sigmoid(12 * 128/255 - 6)
inline constexpr float kWhiteScore = 0.9975274f;  // sigmoid(6)

class TempDir {
  public:
    TempDir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                ("facefuse-moderation-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

struct TinyModel {
    int outputs = 1;
    std::string activation = "logistic";  // or "linear" (logits)
    std::vector<float> biases = {-6.0f};
    std::vector<float> weights = {4.0f, 4.0f, 4.0f};  // outputs x 3 (B, G, R), row-major
};

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
}

inline std::string darknet_cfg(const TinyModel& m) {
    return "[net]\nwidth=4\nheight=4\nchannels=3\n\n[avgpool]\n\n[connected]\noutput=" +
           std::to_string(m.outputs) + "\nactivation=" + m.activation + "\n";
}

inline std::string darknet_weights(const TinyModel& m) {
    std::string bytes;
    const auto put = [&](const void* p, std::size_t n) {
        bytes.append(static_cast<const char*>(p), n);
    };
    const std::int32_t version[3] = {0, 2, 0};  // 0.2: `seen` is 64-bit
    const std::uint64_t seen = 0;
    put(version, sizeof version);
    put(&seen, sizeof seen);
    put(m.biases.data(), m.biases.size() * sizeof(float));
    put(m.weights.data(), m.weights.size() * sizeof(float));
    return bytes;
}

// Writes <name>.cfg and <name>.weights into dir; returns a config that loads them with the
// preprocessing the scores above assume (4x4, scale 1/255, no mean, BGR).
inline ClassifierConfig write_tiny_model(const TempDir& dir, const TinyModel& model = {},
                                         const std::string& name = "tiny") {
    write_file(dir / (name + ".cfg"), darknet_cfg(model));
    write_file(dir / (name + ".weights"), darknet_weights(model));
    ClassifierConfig config;
    config.model_path = (dir / (name + ".weights")).string();
    config.config_path = (dir / (name + ".cfg")).string();
    config.input_width = 4;
    config.input_height = 4;
    config.scale = 1.0 / 255.0;
    return config;
}

inline float sigmoid(double z) {
    return static_cast<float>(1.0 / (1.0 + std::exp(-z)));
}

inline cv::Mat flat(int value, cv::Size size = {32, 24}) {
    return cv::Mat(size, CV_8UC3, cv::Scalar::all(value));
}

}  // namespace facefuse::fusion::moderation::testing
