#include "image/format.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <string>

#include "image/detail.hpp"

namespace facefuse::image {
namespace {

bool starts_with(std::span<const std::uint8_t> bytes, std::size_t offset, std::string_view magic) {
    return bytes.size() >= offset + magic.size() &&
           std::memcmp(bytes.data() + offset, magic.data(), magic.size()) == 0;
}

}  // namespace

std::string_view format_name(ImageFormat format) {
    switch (format) {
        case ImageFormat::kJpeg:
            return "jpeg";
        case ImageFormat::kPng:
            return "png";
        case ImageFormat::kWebp:
            return "webp";
        case ImageFormat::kBmp:
            return "bmp";
    }
    return "unknown";
}

std::optional<ImageFormat> sniff_format(std::span<const std::uint8_t> bytes) {
    using namespace std::string_view_literals;
    if (starts_with(bytes, 0, "\xFF\xD8\xFF"sv)) return ImageFormat::kJpeg;
    if (starts_with(bytes, 0, "\x89PNG\r\n\x1A\n"sv)) return ImageFormat::kPng;
    if (starts_with(bytes, 0, "RIFF"sv) && starts_with(bytes, 8, "WEBP"sv)) {
        return ImageFormat::kWebp;
    }
    if (starts_with(bytes, 0, "BM"sv)) return ImageFormat::kBmp;
    return std::nullopt;
}

Result<ImageFormat> format_from_extension(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".png") return ImageFormat::kPng;
    if (ext == ".jpg" || ext == ".jpeg") return ImageFormat::kJpeg;
    if (ext == ".webp") return ImageFormat::kWebp;
    if (ext == ".bmp") return ImageFormat::kBmp;
    return make_error(ErrorCode::kUsage, "cannot tell the output format from '" + path.string() +
                                             "': use .png, .jpg, .jpeg, .webp or .bmp");
}

namespace detail {

std::string describe_unrecognised(std::span<const std::uint8_t> bytes) {
    using namespace std::string_view_literals;
    // Formats people commonly upload by mistake get named, so the fix is obvious.
    if (starts_with(bytes, 0, "GIF87a"sv) || starts_with(bytes, 0, "GIF89a"sv)) {
        return "it is a GIF";
    }
    if (starts_with(bytes, 0, "II*\0"sv) || starts_with(bytes, 0, "MM\0*"sv)) {
        return "it is a TIFF";
    }
    if (starts_with(bytes, 4, "ftyp"sv)) {
        constexpr std::array kHeifBrands = {"heic"sv, "heix"sv, "heim"sv, "heis"sv,
                                            "hevc"sv, "mif1"sv, "msf1"sv, "avif"sv};
        for (std::string_view brand : kHeifBrands) {
            if (starts_with(bytes, 8, brand)) return "it is a HEIC/AVIF photo";
        }
    }
    if (starts_with(bytes, 0, "%PDF"sv)) return "it is a PDF";
    if (starts_with(bytes, 0, "data:image/"sv)) {
        return "it is a data: URL; decode the base64 payload first";
    }

    // A prefix is enough to tell text from binary; image headers are full of control bytes.
    const std::size_t n = std::min<std::size_t>(bytes.size(), 1024);
    if (n == 0) return {};
    std::size_t printable = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t c = bytes[i];
        if ((c >= 0x20 && c < 0x7F) || c == '\t' || c == '\n' || c == '\r') ++printable;
    }
    if (printable * 100 >= n * 95) return "the bytes look like text, not an image";
    return {};
}

}  // namespace detail
std::string_view content_type(ImageFormat format) {
    switch (format) {
        case ImageFormat::kJpeg: return "image/jpeg";
        case ImageFormat::kPng: return "image/png";
        case ImageFormat::kWebp: return "image/webp";
        case ImageFormat::kBmp: return "image/bmp";
    }
    return "application/octet-stream";
}

}  // namespace facefuse::image
