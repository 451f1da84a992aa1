#include "image/encode.hpp"

#include <algorithm>
#include <new>
#include <opencv2/imgcodecs.hpp>
#include <string>

namespace facefuse::image {
namespace {

// PNG is lossless, so "quality" cannot trade pixels; it trades encode time for file size.
// Our outputs are photos that are written once and usually re-encoded downstream, so speed
// matters more than the last 10-20% of size: quality 90 (the default) and above give zlib
// level 1, and lower qualities ask for progressively smaller files, down to level 9 at 0.
// Level 0 (stored, ~3x larger) is never chosen.
int png_compression_level(int quality) {
    const int q = std::clamp(quality, 0, 100);
    return std::clamp(1 + (100 - q) * 8 / 100, 1, 9);
}

std::vector<int> codec_params(const EncodeOptions& options) {
    // libjpeg treats quality 0 as 1; OpenCV's WebP encoder treats anything over 100 as
    // "lossless", so both are clamped into 1..100 to keep the meaning of the number.
    const int quality = std::clamp(options.quality, 1, 100);
    switch (options.format) {
        case ImageFormat::kJpeg:
            return {cv::IMWRITE_JPEG_QUALITY, quality};
        case ImageFormat::kWebp:
            return {cv::IMWRITE_WEBP_QUALITY, quality};
        case ImageFormat::kPng:
            return {cv::IMWRITE_PNG_COMPRESSION, png_compression_level(options.quality)};
        case ImageFormat::kBmp:
            return {};
    }
    return {};
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_image(const cv::Mat& bgr, const EncodeOptions& options) {
    if (bgr.empty()) return make_error(ErrorCode::kInternal, "cannot encode an empty image");
    if (bgr.type() != CV_8UC3) {
        return make_error(ErrorCode::kInternal, "encode_image expects 8-bit BGR pixels, got type " +
                                                    std::to_string(bgr.type()));
    }
    const std::string ext = "." + std::string(format_name(options.format));
    std::vector<std::uint8_t> out;
    try {
        if (!cv::imencode(ext, bgr, out, codec_params(options)) || out.empty()) {
            return make_error(
                ErrorCode::kInternal,
                "the " + std::string(format_name(options.format)) + " encoder failed");
        }
    } catch (const cv::Exception& e) {
        return make_error(ErrorCode::kInternal, "the " + std::string(format_name(options.format)) +
                                                    " encoder failed: " + e.err);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::kInternal, std::string("encoding failed: ") + e.what());
    }
    return out;
}

Status save_image(const cv::Mat& bgr, const std::filesystem::path& path, int quality) {
    Result<ImageFormat> format = format_from_extension(path);
    if (!format.ok()) return format.error();
    Result<std::vector<std::uint8_t>> bytes = encode_image(bgr, {*format, quality});
    if (!bytes.ok()) return bytes.error();
    return write_file(path, *bytes);
}

}  // namespace facefuse::image
