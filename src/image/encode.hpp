#pragma once
// Encoding results and writing them to disk.
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <vector>

#include "common/result.hpp"
#include "image/format.hpp"

namespace facefuse::image {

struct EncodeOptions {
    ImageFormat format = ImageFormat::kPng;
    // 0..100 (values outside are clamped). JPEG/WebP: the codec's quality, 0 treated as 1.
    // PNG and BMP: ignored; PNG always uses OpenCV's speed-tuned settings (see encode.cpp).
    int quality = 90;
};

// Encodes 8-bit BGR (CV_8UC3). Errors: kInternal for an empty or non-CV_8UC3 image, or if the
// codec fails.
Result<std::vector<std::uint8_t>> encode_image(const cv::Mat& bgr, const EncodeOptions& options);

// format_from_extension + encode_image (+ add_provenance_marker when `provenance` is not empty)
// + write_file_atomically (common/atomic_file.hpp). Errors: theirs (kUsage for an unknown
// extension, before anything is written).
Status save_image(const cv::Mat& bgr, const std::filesystem::path& path, int quality,
                  std::string_view provenance = {});

}  // namespace facefuse::image
