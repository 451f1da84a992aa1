#include <gtest/gtest.h>

#include "image/decode.hpp"
#include "test_images.hpp"

namespace facefuse::image {
namespace {

using namespace testing;
using namespace std::string_view_literals;

struct Case {
    std::string label;
    Bytes bytes;
    ImageFormat format;
};

// Odd sizes, so a swapped width/height or an off-by-one in "w-1" encodings shows up.
constexpr int kW = 37;
constexpr int kH = 23;

std::vector<Case> every_kind_of_file() {
    const cv::Mat image = pattern(kW, kH);
    const Bytes lossy = encode(image, ".webp", {cv::IMWRITE_WEBP_QUALITY, 80});
    const Bytes lossless = encode(image, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
    return {
        {"jpeg baseline", encode(image, ".jpg"), ImageFormat::kJpeg},
        {"jpeg progressive", encode(image, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}),
         ImageFormat::kJpeg},
        {"png", encode(image, ".png"), ImageFormat::kPng},
        {"png grey", encode(grey_pattern(kW, kH), ".png"), ImageFormat::kPng},
        {"webp lossy (VP8)", lossy, ImageFormat::kWebp},
        {"webp lossless (VP8L)", lossless, ImageFormat::kWebp},
        {"webp extended (VP8X)", webp_with_vp8x(lossy, kW, kH, 0), ImageFormat::kWebp},
        {"bmp bottom-up", encode(image, ".bmp"), ImageFormat::kBmp},
        {"bmp top-down", bmp_top_down(encode(image, ".bmp")), ImageFormat::kBmp},
        {"bmp core header", bmp_core(image), ImageFormat::kBmp},
    };
}

TEST(PeekDimensions, MatchesWhatTheDecoderProducesForEveryKindOfFile) {
    for (const Case& c : every_kind_of_file()) {
        SCOPED_TRACE(c.label);
        const Result<cv::Size> peeked = peek_dimensions(c.bytes, c.format);
        ASSERT_TRUE(peeked.ok()) << peeked.error().message;
        EXPECT_EQ(*peeked, cv::Size(kW, kH));
        EXPECT_EQ(cv::imdecode(c.bytes, cv::IMREAD_COLOR).size(), cv::Size(kW, kH));
    }
}

TEST(PeekDimensions, WebpCasesReallyUseTheChunkTheyAreNamedFor) {
    // Guards the test above: if OpenCV changed its WebP output, we would silently stop
    // covering one of the three header layouts.
    const std::vector<Case> cases = every_kind_of_file();
    auto chunk = [&](std::size_t i) {
        return std::string(cases[i].bytes.begin() + 12, cases[i].bytes.begin() + 16);
    };
    EXPECT_EQ(chunk(4), "VP8 ");
    EXPECT_EQ(chunk(5), "VP8L");
    EXPECT_EQ(chunk(6), "VP8X");
    EXPECT_LT(static_cast<std::int32_t>(read_le32(cases[8].bytes, 22)), 0);  // top-down
}

TEST(PeekDimensions, WrongFormatIsUnsupported) {
    const Bytes png = encode(pattern(4, 4), ".png");
    for (ImageFormat f : {ImageFormat::kJpeg, ImageFormat::kWebp, ImageFormat::kBmp}) {
        const Result<cv::Size> r = peek_dimensions(png, f);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, ErrorCode::kUnsupportedFormat);
    }
}

TEST(PeekDimensions, EveryTruncatedHeaderIsRefusedWithoutReadingPastTheEnd) {
    for (const Case& c : every_kind_of_file()) {
        SCOPED_TRACE(c.label);
        // Each prefix is copied into its own allocation so ASan catches any over-read.
        bool reached_ok = false;
        for (std::size_t n = 0; n <= c.bytes.size() && !reached_ok; ++n) {
            const Bytes prefix(c.bytes.begin(), c.bytes.begin() + static_cast<std::ptrdiff_t>(n));
            const Result<cv::Size> r = peek_dimensions(prefix, c.format);
            if (r.ok()) {
                EXPECT_EQ(*r, cv::Size(kW, kH)) << "prefix " << n;
                reached_ok = true;
            } else {
                EXPECT_TRUE(r.error().code == ErrorCode::kInvalidImage ||
                            r.error().code == ErrorCode::kUnsupportedFormat)
                    << "prefix " << n << ": " << r.error().message;
            }
        }
        EXPECT_TRUE(reached_ok);
    }
}

// --- JPEG marker walking, on hand-built headers ------------------------------------------

Bytes sof(std::uint8_t marker, int width, int height) {
    Bytes s = {0xFF, marker, 0x00, 0x11, 0x08};
    s.push_back(static_cast<std::uint8_t>(height >> 8));
    s.push_back(static_cast<std::uint8_t>(height));
    s.push_back(static_cast<std::uint8_t>(width >> 8));
    s.push_back(static_cast<std::uint8_t>(width));
    s.insert(s.end(), {0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01});
    return s;
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

Result<cv::Size> peek_jpeg(const Bytes& b) {
    return peek_dimensions(b, ImageFormat::kJpeg);
}

TEST(PeekJpeg, SkipsTablesStandaloneMarkersAndFillBytes) {
    const Bytes header = concat({
        {0xFF, 0xD8},                                      // SOI
        {0xFF, 0x01},                                      // TEM: no length
        {0xFF, 0xFF, 0xFF, 0xE0, 0x00, 0x04, 0xC0, 0xC0},  // fill bytes, APP0 holding C0 C0
        {0xFF, 0xC4, 0x00, 0x04, 0x00, 0x00},  // DHT is in the SOF range but is not a frame
        {0xFF, 0xCC, 0x00, 0x04, 0x00, 0x00},  // DAC likewise
        {0xFF, 0xC8, 0x00, 0x02},              // JPG likewise
        {0xFF, 0xD3},                          // RST3: no length
        {0x12, 0x34},                          // junk between segments, as libjpeg tolerates
        sof(0xC2, 640, 480),                   // progressive frame
    });
    const Result<cv::Size> r = peek_jpeg(header);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, cv::Size(640, 480));
}

TEST(PeekJpeg, AcceptsEverySofVariant) {
    for (int m = 0xC0; m <= 0xCF; ++m) {
        if (m == 0xC4 || m == 0xC8 || m == 0xCC) continue;
        const Result<cv::Size> r =
            peek_jpeg(concat({{0xFF, 0xD8}, sof(static_cast<std::uint8_t>(m), 300, 200)}));
        ASSERT_TRUE(r.ok()) << std::hex << m;
        EXPECT_EQ(*r, cv::Size(300, 200));
    }
}

TEST(PeekJpeg, RefusesMalformedHeaders) {
    const std::vector<std::pair<std::string, Bytes>> bad = {
        {"only SOI", {0xFF, 0xD8, 0xFF}},
        {"EOI before frame", {0xFF, 0xD8, 0xFF, 0xD9}},
        {"scan before frame", concat({{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02}, sof(0xC0, 8, 8)})},
        {"segment length below 2", concat({{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01}, sof(0xC0, 8, 8)})},
        {"segment longer than file", {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xF0, 0x00}},
        {"frame header cut short", {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x20, 0x00}},
        {"frame length too small",
         {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x05, 0x08, 0x00, 0x20, 0x00, 0x40}},
        {"zero height (DNL)", concat({{0xFF, 0xD8}, sof(0xC0, 64, 0)})},
        {"zero width", concat({{0xFF, 0xD8}, sof(0xC0, 0, 64)})},
    };
    for (const auto& [label, bytes] : bad) {
        const Result<cv::Size> r = peek_jpeg(bytes);
        ASSERT_FALSE(r.ok()) << label;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidImage) << label;
    }
}

// --- PNG ------------------------------------------------------------------------------------

TEST(PeekPng, ReportsHugeClaimsWithoutAllocating) {
    const Result<cv::Size> r = peek_dimensions(png_claiming(30000, 30000), ImageFormat::kPng);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, cv::Size(30000, 30000));
}

TEST(PeekPng, RefusesMalformedHeaders) {
    Bytes not_first = bytes_of("\x89PNG\r\n\x1A\n"sv);
    append_png_chunk(not_first, "tEXt", bytes_of("a\0b"sv));
    const Bytes good = png_claiming(10, 10);
    not_first.insert(not_first.end(), good.begin() + 8, good.end());

    Bytes wrong_length = good;
    wrong_length[11] = 12;

    for (const auto& [label, bytes] : std::vector<std::pair<std::string, Bytes>>{
             {"IHDR not first", not_first},
             {"IHDR length", wrong_length},
             {"zero width", png_claiming(0, 10)},
             {"zero height", png_claiming(10, 0)},
             {"width over 2^31-1", png_claiming(0x80000000u, 10)},
         }) {
        const Result<cv::Size> r = peek_dimensions(bytes, ImageFormat::kPng);
        ASSERT_FALSE(r.ok()) << label;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidImage) << label;
    }
}

// --- WebP -----------------------------------------------------------------------------------

TEST(PeekWebp, RefusesMalformedHeaders) {
    const Bytes lossy = encode(pattern(kW, kH), ".webp", {cv::IMWRITE_WEBP_QUALITY, 80});
    const Bytes lossless = encode(pattern(kW, kH), ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
    Bytes inter_frame = lossy;
    inter_frame[20] |= 1;
    Bytes no_start_code = lossy;
    no_start_code[23] = 0;
    Bytes bad_signature = lossless;
    bad_signature[20] = 0x2E;
    Bytes bad_version = lossless;
    bad_version[24] |= 0x20;
    Bytes unknown_chunk = lossy;
    std::copy_n("ALPH", 4, unknown_chunk.begin() + 12);
    for (const auto& [label, bytes] : std::vector<std::pair<std::string, Bytes>>{
             {"VP8 inter frame", inter_frame},
             {"VP8 start code", no_start_code},
             {"VP8L signature", bad_signature},
             {"VP8L version", bad_version},
             {"unknown first chunk", unknown_chunk},
         }) {
        const Result<cv::Size> r = peek_dimensions(bytes, ImageFormat::kWebp);
        ASSERT_FALSE(r.ok()) << label;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidImage) << label;
    }
}

TEST(PeekWebp, ExtendedCanvasUsesAll24Bits) {
    const Bytes lossy = encode(pattern(kW, kH), ".webp");
    const Result<cv::Size> r =
        peek_dimensions(webp_with_vp8x(lossy, 1 << 24, 70000, 0), ImageFormat::kWebp);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, cv::Size(1 << 24, 70000));
}

// --- BMP ------------------------------------------------------------------------------------

TEST(PeekBmp, RefusesImpossibleHeaders) {
    const Bytes good = encode(pattern(kW, kH), ".bmp");
    Bytes min_height = good;
    write_le32(min_height, 22, 0x80000000u);
    Bytes negative_width = good;
    write_le32(negative_width, 18, static_cast<std::uint32_t>(-5));
    Bytes zero_height = good;
    write_le32(zero_height, 22, 0);
    Bytes odd_header = good;
    write_le32(odd_header, 14, 20);
    for (const auto& [label, bytes] : std::vector<std::pair<std::string, Bytes>>{
             {"INT32_MIN height", min_height},
             {"negative width", negative_width},
             {"zero height", zero_height},
             {"unknown header size", odd_header},
         }) {
        const Result<cv::Size> r = peek_dimensions(bytes, ImageFormat::kBmp);
        ASSERT_FALSE(r.ok()) << label;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidImage) << label;
    }
}

}  // namespace
}  // namespace facefuse::image
