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
    int quality = 90;  // 0..100: JPEG/WebP quality; for PNG mapped to a compression level
};

// Encodes 8-bit BGR. Errors: kInternal if the codec fails.
Result<std::vector<std::uint8_t>> encode_image(const cv::Mat& bgr, const EncodeOptions& options);

// Writes atomically (temporary file in the same directory, then rename), so a reader never sees
// a half-written output and a failed run leaves no partial file. Errors: kOutputError with the
// path and the OS reason.
Status write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes);

// format_from_extension + encode_image + write_file.
Status save_image(const cv::Mat& bgr, const std::filesystem::path& path, int quality);

}  // namespace facefuse::image
