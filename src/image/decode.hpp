#pragma once
// Decoding untrusted image bytes with limits.
//
// The order matters for safety: sniff the format from magic bytes, read the dimensions from the
// header alone, refuse anything over the pixel limit, and only then let OpenCV allocate and
// decode. A PNG whose header claims 30000x30000 is therefore refused in microseconds without
// allocating its pixels (a decompression bomb costs us nothing). Before decoding we also
// refuse files that are visibly cut short (libjpeg would otherwise pad a truncated JPEG with
// grey and call it a success) and bytes OpenCV would hand to a decoder other than the one we
// sniffed (see decode.cpp); after decoding, the size must match the header's.
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

// Width and height as the header states them (before EXIF rotation); always positive. Fails
// with kUnsupportedFormat if the bytes are not `format`, kInvalidImage if the header is
// truncated or malformed (including a zero width or height). Applies no limits. Reads only the
// header; allocates nothing. Error messages are short phrases ("the PNG header is truncated")
// meant to be embedded in a sentence that names the input, as decode_image does.
// Parsed by hand because OpenCV 4.6 has no header-only size query.
Result<cv::Size> peek_dimensions(std::span<const std::uint8_t> bytes, ImageFormat format);

// Decodes to 8-bit BGR (grey and alpha inputs converted), EXIF orientation applied.
// `name` appears in error messages ("source", a file path, ...) so the user knows which input
// is at fault. Errors: kEmptyInput, kUnsupportedFormat (also animated WebP and BMP compressions
// OpenCV cannot read), kImageTooLarge (over max_bytes, max_side or max_pixels; the message
// names the dimensions and the limit), kInvalidImage (corrupt/truncated), kInternal (out of
// memory). Never throws; safe to call concurrently. Corrupt data can still make libjpeg or
// libpng print a warning on stderr; OpenCV 4.6 offers no way to silence them per call.
Result<cv::Mat> decode_image(std::span<const std::uint8_t> bytes, const DecodeLimits& limits,
                             const std::string& name);

// Reads a whole file, refusing files larger than max_bytes before reading them (files with no
// meaningful size, such as pipes and /proc files, are cut off after max_bytes + 1 bytes).
// Errors: kFileNotFound (missing, unreadable or a directory; the message names the path and the
// reason), kImageTooLarge.
Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path,
                                            std::size_t max_bytes);

// read_file + decode_image, with the path as the name in messages.
Result<cv::Mat> load_image(const std::filesystem::path& path, const DecodeLimits& limits);

}  // namespace facefuse::image
