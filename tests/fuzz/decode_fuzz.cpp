// libFuzzer target for the image layer's handling of untrusted bytes: sniff_format,
// peek_dimensions (asked about every format, not just the sniffed one) and decode_image.
// Beyond "no crash, no sanitizer report", it checks the promises callers rely on.
//
// Run: decode_fuzz -max_total_time=60 corpus_dir/   (seed the corpus with small images of
// each format; an empty corpus works but takes longer to reach the decoders).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "image/decode.hpp"
#include "image/format.hpp"

namespace {

using facefuse::ErrorCode;
using namespace facefuse::image;

// Small limits keep each input fast and its memory bounded; they are the ones checked below.
constexpr DecodeLimits kLimits{.max_bytes = 1u << 20, .max_pixels = 4'000'000, .max_side = 4096};

void require(bool condition, const char* invariant) {
    if (!condition) {
        std::fprintf(stderr, "invariant violated: %s\n", invariant);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    const std::optional<ImageFormat> sniffed = sniff_format(bytes);

    for (ImageFormat format :
         {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kWebp, ImageFormat::kBmp}) {
        const facefuse::Result<cv::Size> peeked = peek_dimensions(bytes, format);
        if (peeked.ok()) {
            require(sniffed == format, "peek succeeds only for the sniffed format");
            require(peeked->width > 0 && peeked->height > 0, "peeked sizes are positive");
        } else if (sniffed != format) {
            require(peeked.error().code == ErrorCode::kUnsupportedFormat,
                    "peek of another format is kUnsupportedFormat");
        } else {
            require(peeked.error().code == ErrorCode::kInvalidImage,
                    "peek of a bad header of the sniffed format is kInvalidImage");
        }
    }

    const facefuse::Result<cv::Mat> decoded = decode_image(bytes, kLimits, "fuzz input");
    if (decoded.ok()) {
        const cv::Mat& image = *decoded;
        require(sniffed.has_value(), "only sniffed formats decode");
        require(!image.empty() && image.type() == CV_8UC3, "decoded images are 8-bit BGR");
        require(image.cols <= kLimits.max_side && image.rows <= kLimits.max_side,
                "decoded sides are within the limit");
        require(std::int64_t{image.cols} * image.rows <= kLimits.max_pixels,
                "decoded pixel count is within the limit");
        const cv::Size header = *peek_dimensions(bytes, *sniffed);
        require(image.size() == header || image.size() == cv::Size(header.height, header.width),
                "decoded size is the header's, possibly rotated");
    } else {
        const facefuse::Error& error = decoded.error();
        require(!error.message.empty(), "errors have a message");
        require(error.code == ErrorCode::kEmptyInput || error.code == ErrorCode::kImageTooLarge ||
                    error.code == ErrorCode::kUnsupportedFormat ||
                    error.code == ErrorCode::kInvalidImage,
                "decode fails only with input error codes");
        require((size == 0) == (error.code == ErrorCode::kEmptyInput),
                "kEmptyInput exactly for empty input");
        require(size == 0 || size > kLimits.max_bytes || sniffed ||
                    error.code == ErrorCode::kUnsupportedFormat,
                "unrecognised bytes are kUnsupportedFormat");
    }
    return 0;
}
