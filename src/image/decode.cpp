#include "image/decode.hpp"

#include <algorithm>
#include <limits>
#include <new>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "image/detail.hpp"

namespace facefuse::image {
namespace {

std::string display_name(ImageFormat format) {
    switch (format) {
        case ImageFormat::kJpeg:
            return "JPEG";
        case ImageFormat::kPng:
            return "PNG";
        case ImageFormat::kWebp:
            return "WebP";
        case ImageFormat::kBmp:
            return "BMP";
    }
    return "image";
}

std::string to_string(cv::Size size) {
    return std::to_string(size.width) + "x" + std::to_string(size.height);
}

Error corrupt(const std::string& name, const std::string& why) {
    return make_error(ErrorCode::kInvalidImage,
                      name + " is corrupt or truncated (" + why + "); re-export it");
}

// The limits are checked on the header's numbers, before OpenCV allocates anything.
std::optional<Error> check_limits(const std::string& name, cv::Size size,
                                  const DecodeLimits& limits) {
    if (size.width <= 0 || size.height <= 0) {  // peek_dimensions never returns these
        return corrupt(name, "the header gives a size of " + to_string(size));
    }
    const std::string prefix = name + " is " + to_string(size) + " pixels; the limit is ";
    const std::string advice = "; downscale it and try again";
    if (size.width > limits.max_side || size.height > limits.max_side) {
        return make_error(ErrorCode::kImageTooLarge,
                          prefix + std::to_string(limits.max_side) + " pixels per side" + advice);
    }
    const std::int64_t pixels = std::int64_t{size.width} * size.height;  // cannot overflow
    if (pixels > limits.max_pixels) {
        return make_error(ErrorCode::kImageTooLarge,
                          prefix + std::to_string(limits.max_pixels) + " pixels in total" + advice);
    }
    return std::nullopt;
}

// cv::imdecode does not take a format: it asks each registered decoder in turn whether it
// claims the bytes, and Debian's OpenCV 4.6 registers many (BMP, HDR, JPEG, WebP, Sun raster,
// PxM, PFM, TIFF, PNG, DICOM, JPEG 2000, OpenEXR, GDAL). For JPEG, PNG and BMP the right
// decoder always claims our sniffed bytes before any other could. WebP is the exception:
// OpenCV's WebP decoder claims only what libwebp's header check accepts, and bytes it rejects
// fall through to the rest. Of those, only two look past offset 0, so only they can claim
// bytes starting "RIFF....WEBP": DICOM ("DICM" at 128) and GDAL ("DTED" at 140). Both read
// from a temporary file and allocate whatever their header says, ignoring our limits; the
// fuzzer found a 2.4 GB allocation this way. A real WebP with either string at exactly that
// offset is vanishingly unlikely, so such bytes are refused.
bool opencv_could_misroute(std::span<const std::uint8_t> bytes, ImageFormat format) {
    auto at = [&](std::size_t offset, std::string_view magic) {
        return bytes.size() >= offset + magic.size() &&
               std::equal(magic.begin(), magic.end(), bytes.begin() + offset);
    };
    return format == ImageFormat::kWebp && (at(128, "DICM") || at(140, "DTED"));
}

}  // namespace

Result<cv::Mat> decode_image(std::span<const std::uint8_t> bytes, const DecodeLimits& limits,
                             const std::string& name) {
    if (bytes.empty()) {
        return make_error(ErrorCode::kEmptyInput, name + " is empty (0 bytes); send an image file");
    }
    // cv::Mat sizes are int, so the int limit applies whatever the caller's max_bytes says.
    if (bytes.size() > limits.max_bytes ||
        bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        return make_error(ErrorCode::kImageTooLarge,
                          name + " is " + std::to_string(bytes.size()) + " bytes; the limit is " +
                              std::to_string(limits.max_bytes) + " bytes; send a smaller file");
    }

    const std::optional<ImageFormat> format = sniff_format(bytes);
    if (!format) {
        const std::string hint = detail::describe_unrecognised(bytes);
        return make_error(ErrorCode::kUnsupportedFormat,
                          name + " is not an image format facefuse accepts" +
                              (hint.empty() ? "" : " (" + hint + ")") +
                              "; send a JPEG, PNG, WebP or BMP file");
    }
    Result<cv::Size> header = peek_dimensions(bytes, *format);
    if (!header.ok()) {
        if (header.error().code == ErrorCode::kInvalidImage) {
            return corrupt(name, header.error().message);
        }
        return make_error(header.error().code, name + ": " + header.error().message);
    }
    const cv::Size size = *header;
    if (std::optional<Error> refused = check_limits(name, size, limits)) return *refused;
    if (std::optional<std::string> variant = detail::unsupported_variant(bytes, *format)) {
        return make_error(ErrorCode::kUnsupportedFormat,
                          name + " is " + *variant + "; send a still JPEG, PNG, WebP or BMP image");
    }
    if (std::optional<std::string> cut = detail::truncation_reason(bytes, *format)) {
        return corrupt(name, *cut);
    }

    if (opencv_could_misroute(bytes, *format)) {
        return corrupt(name, "the WebP data carries another format's signature");
    }

    // Bytes we did not sniff as one of our formats never reach OpenCV, and the check above
    // keeps those we did from reaching its other decoders (TIFF, EXR, DICOM, GDAL, ...).
    cv::Mat decoded;
    try {
        const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1,
                             const_cast<std::uint8_t*>(bytes.data()));  // read-only use
        // IMREAD_COLOR converts grey/alpha/16-bit to 8-bit BGR and, in OpenCV 4.6, applies the
        // EXIF orientation (checked by a test, as it is easy to lose with a flag change).
        decoded = cv::imdecode(buffer, cv::IMREAD_COLOR);
    } catch (const cv::Exception& e) {
        return corrupt(name, "the " + display_name(*format) + " decoder failed: " + e.err);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kInternal, "ran out of memory decoding " + name);
    } catch (...) {
        return corrupt(name, "the " + display_name(*format) + " decoder failed");
    }
    if (decoded.empty()) {
        return corrupt(name, "the " + display_name(*format) + " decoder could not read it");
    }
    // EXIF orientation may swap the sides; any other difference means the header we checked
    // the limits against is not the image that was decoded.
    const cv::Size got = decoded.size();
    if (got != size && got != cv::Size(size.height, size.width)) {
        return corrupt(
            name, "it decodes to " + to_string(got) + " but its header says " + to_string(size));
    }
    if (decoded.type() != CV_8UC3) {
        return make_error(ErrorCode::kInternal,
                          "decoding " + name + " gave an unexpected pixel type");
    }
    return decoded;
}

Result<cv::Mat> load_image(const std::filesystem::path& path, const DecodeLimits& limits) {
    Result<std::vector<std::uint8_t>> bytes = read_file(path, limits.max_bytes);
    if (!bytes.ok()) return bytes.error();
    return decode_image(*bytes, limits, path.string());
}

}  // namespace facefuse::image
