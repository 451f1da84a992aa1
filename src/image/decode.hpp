#pragma once
// Decoding untrusted image bytes with limits.
//
// The order matters for safety: sniff the format from magic bytes, read the dimensions from the
// header alone, refuse anything over the pixel limit, and only then let OpenCV allocate and
// decode. A PNG whose header claims 30000x30000 is therefore refused in microseconds without
// allocating its pixels (a decompression bomb costs us nothing).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "image/format.hpp"

namespace facefuse::image {

struct DecodeLimits {
    std::size_t max_bytes = 64u << 20;     // encoded size
    std::int64_t max_pixels = 40'000'000;  // width * height (e.g. 8000x5000)
    int max_side = 16384;                  // either dimension
};

// Width and height as the header states them (before EXIF rotation). Fails with
// kUnsupportedFormat if the bytes are not `format`, kInvalidImage if the header is truncated or
// malformed. Reads only the header; allocates nothing proportional to the image.
Result<cv::Size> peek_dimensions(std::span<const std::uint8_t> bytes, ImageFormat format);

// Decodes to 8-bit BGR (grey and alpha inputs converted), EXIF orientation applied.
// `name` appears in error messages ("source", a file path, ...) so the user knows which input
// is at fault. Errors: kEmptyInput, kUnsupportedFormat, kImageTooLarge (message names the
// limit), kInvalidImage (corrupt/truncated). Never throws; safe to call concurrently.
Result<cv::Mat> decode_image(std::span<const std::uint8_t> bytes, const DecodeLimits& limits,
                             const std::string& name);

// Reads a whole file, refusing files larger than max_bytes before reading them.
// Errors: kFileNotFound (missing, unreadable or a directory), kImageTooLarge.
Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path,
                                            std::size_t max_bytes);

// read_file + decode_image, with the path as the name in messages.
Result<cv::Mat> load_image(const std::filesystem::path& path, const DecodeLimits& limits);

}  // namespace facefuse::image
