#pragma once
// Test images built in the test itself (cv::imencode or bytes by hand), so the image tests
// depend on no files outside the repository and document exactly what each input contains.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace facefuse::image::testing {

using Bytes = std::vector<std::uint8_t>;

// Every pixel differs from its neighbours, so a lossless round trip that shifted, flipped or
// dropped anything would be caught by an exact comparison.
inline cv::Mat pattern(int width, int height) {
    cv::Mat bgr(height, width, CV_8UC3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<std::uint8_t>(x * 7 + y),
                                                static_cast<std::uint8_t>(y * 5 + 3),
                                                static_cast<std::uint8_t>((x ^ y) * 3));
        }
    }
    return bgr;
}

inline cv::Mat grey_pattern(int width, int height) {
    cv::Mat grey;
    cv::extractChannel(pattern(width, height), grey, 0);
    return grey;
}

inline Bytes encode(const cv::Mat& image, const std::string& ext,
                    const std::vector<int>& params = {}) {
    Bytes out;
    EXPECT_TRUE(cv::imencode(ext, image, out, params)) << ext;
    return out;
}

inline Bytes bytes_of(std::string_view text) {
    return Bytes(text.begin(), text.end());
}

inline void append(Bytes& out, std::string_view text) {
    out.insert(out.end(), text.begin(), text.end());
}
inline void append_be32(Bytes& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(v >> shift));
}
inline void append_le16(Bytes& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}
inline void append_le24(Bytes& out, std::uint32_t v) {
    append_le16(out, v);
    out.push_back(static_cast<std::uint8_t>(v >> 16));
}
inline void append_le32(Bytes& out, std::uint32_t v) {
    append_le16(out, v);
    append_le16(out, v >> 16);
}
inline std::uint32_t read_le32(const Bytes& b, std::size_t o) {
    return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (std::uint32_t{b[o + 3]} << 24);
}
inline void write_le32(Bytes& b, std::size_t o, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[o + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// Plain bitwise CRC-32 (the one PNG uses); slow but tiny, and test inputs are small.
inline std::uint32_t crc32(const std::uint8_t* data, std::size_t size) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < size; ++i) {
        crc ^= data[i];
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

inline void append_png_chunk(Bytes& out, std::string_view type, const Bytes& data) {
    append_be32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t crc_from = out.size();
    append(out, type);
    out.insert(out.end(), data.begin(), data.end());
    append_be32(out, crc32(out.data() + crc_from, out.size() - crc_from));
}

// A PNG whose IHDR (with a valid CRC) claims width x height 8-bit RGB, followed by a tiny
// IDAT and IEND: enough for any decoder to believe the header and start allocating.
inline Bytes png_claiming(std::uint32_t width, std::uint32_t height) {
    Bytes out = bytes_of(std::string_view("\x89PNG\r\n\x1A\n", 8));
    Bytes ihdr;
    append_be32(ihdr, width);
    append_be32(ihdr, height);
    ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // depth 8, colour type RGB, no interlace
    append_png_chunk(out, "IHDR", ihdr);
    append_png_chunk(out, "IDAT", {0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
    append_png_chunk(out, "IEND", {});
    return out;
}

// Wraps a simple (VP8 or VP8L) WebP in a VP8X extended header with the given flags.
inline Bytes webp_with_vp8x(const Bytes& simple, int width, int height, std::uint8_t flags) {
    Bytes out = bytes_of("RIFF");
    append_le32(out, 0);  // patched below
    append(out, "WEBPVP8X");
    append_le32(out, 10);
    out.insert(out.end(), {flags, 0, 0, 0});
    append_le24(out, static_cast<std::uint32_t>(width - 1));
    append_le24(out, static_cast<std::uint32_t>(height - 1));
    out.insert(out.end(), simple.begin() + 12, simple.end());
    write_le32(out, 4, static_cast<std::uint32_t>(out.size() - 8));
    return out;
}

// cv::imencode writes 24-bit bottom-up BMPs; this turns one into the top-down form (negative
// height, rows stored first to last) that other writers produce.
inline Bytes bmp_top_down(const Bytes& bottom_up) {
    Bytes out = bottom_up;
    const std::uint32_t offset = read_le32(out, 10);
    const auto width = static_cast<std::int32_t>(read_le32(out, 18));
    const auto height = static_cast<std::int32_t>(read_le32(out, 22));
    const std::size_t stride = (static_cast<std::size_t>(width) * 3 + 3) & ~std::size_t{3};
    write_le32(out, 22, static_cast<std::uint32_t>(-height));
    for (std::int32_t row = 0; row < height; ++row) {
        const auto src = bottom_up.begin() + offset + stride * (height - 1 - row);
        std::copy(src, src + static_cast<std::ptrdiff_t>(stride),
                  out.begin() + offset + stride * row);
    }
    return out;
}

// A 24-bit BMP with the old 12-byte BITMAPCOREHEADER (16-bit width and height).
inline Bytes bmp_core(const cv::Mat& bgr) {
    const std::size_t stride = (static_cast<std::size_t>(bgr.cols) * 3 + 3) & ~std::size_t{3};
    Bytes out = bytes_of("BM");
    append_le32(out, static_cast<std::uint32_t>(26 + stride * bgr.rows));
    append_le32(out, 0);
    append_le32(out, 26);  // pixel data follows the 14 + 12 header bytes
    append_le32(out, 12);
    append_le16(out, static_cast<std::uint32_t>(bgr.cols));
    append_le16(out, static_cast<std::uint32_t>(bgr.rows));
    append_le16(out, 1);   // planes
    append_le16(out, 24);  // bits per pixel
    for (int y = bgr.rows - 1; y >= 0; --y) {
        const auto* row = bgr.ptr<std::uint8_t>(y);
        out.insert(out.end(), row, row + bgr.cols * 3);
        out.resize(out.size() + (stride - static_cast<std::size_t>(bgr.cols) * 3), 0);
    }
    return out;
}

// A fresh directory removed (with its contents) when the test ends.
class TempDir {
  public:
    TempDir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                ("facefuse-image-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

inline void write_bytes(const std::filesystem::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
}

}  // namespace facefuse::image::testing
