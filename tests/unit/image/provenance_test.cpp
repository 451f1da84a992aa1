// Provenance markers on real encoder output: the marker reads back, the XMP declares
// trainedAlgorithmicMedia, the file still decodes to the same pixels, every PNG CRC holds, and
// bad text or bad bytes are refused without touching the buffer.
#include "image/provenance.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "image/decode.hpp"
#include "image/encode.hpp"
#include "test_images.hpp"

namespace facefuse::image {
namespace {

using namespace testing;

constexpr std::string_view kDigitalSourceType =
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

Bytes encoded(ImageFormat format, int quality = 90) {
    Result<Bytes> bytes = encode_image(pattern(64, 48), {format, quality});
    EXPECT_TRUE(bytes.ok());
    return bytes.ok() ? *bytes : Bytes();
}

bool contains(const Bytes& bytes, std::string_view needle) {
    return std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end()) != bytes.end();
}

cv::Mat decoded(const Bytes& bytes) {
    return cv::imdecode(bytes, cv::IMREAD_COLOR);
}

std::string read_ok(const Bytes& bytes, ImageFormat format) {
    Result<std::string> text = read_provenance_marker(bytes, format);
    EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().message);
    return text.ok() ? *text : std::string();
}

// Every chunk of a PNG, each with its CRC checked; fails the test on a bad one.
std::vector<std::string> png_chunks(const Bytes& png) {
    std::vector<std::string> types;
    for (std::size_t pos = 8; pos + 12 <= png.size();) {
        const std::uint32_t length =
            (png[pos] << 24) | (png[pos + 1] << 16) | (png[pos + 2] << 8) | png[pos + 3];
        EXPECT_LE(pos + 12 + length, png.size());
        if (pos + 12 + length > png.size()) break;
        const std::size_t crc_at = pos + 8 + length;
        const std::uint32_t stored = (std::uint32_t{png[crc_at]} << 24) | (png[crc_at + 1] << 16) |
                                     (png[crc_at + 2] << 8) | png[crc_at + 3];
        types.emplace_back(png.begin() + static_cast<std::ptrdiff_t>(pos) + 4,
                           png.begin() + static_cast<std::ptrdiff_t>(pos) + 8);
        EXPECT_EQ(crc32(png.data() + pos + 4, 4 + length), stored) << "chunk " << types.back();
        pos += 12 + length;
    }
    return types;
}

TEST(Provenance, PngKeepsPixelsAndValidCrcs) {
    const Bytes original = encoded(ImageFormat::kPng);
    Bytes marked = original;
    ASSERT_TRUE(add_provenance_marker(marked, ImageFormat::kPng).ok());
    EXPECT_GT(marked.size(), original.size());
    EXPECT_EQ(cv::norm(decoded(marked), pattern(64, 48), cv::NORM_INF), 0);
    EXPECT_EQ(read_ok(marked, ImageFormat::kPng), kDefaultProvenanceText);
    EXPECT_TRUE(contains(marked, kDigitalSourceType));
    EXPECT_TRUE(contains(marked, "XML:com.adobe.xmp"));
    const std::vector<std::string> chunks = png_chunks(marked);
    ASSERT_GE(chunks.size(), 4u);
    EXPECT_EQ(chunks[0], "IHDR");
    EXPECT_EQ(chunks[1], "iTXt");  // XMP, right after IHDR
    EXPECT_EQ(chunks[2], "tEXt");  // the comment: ASCII text goes in the most-read chunk
    EXPECT_EQ(chunks.back(), "IEND");
    // The project's own decoder (with its structure checks) accepts it too.
    EXPECT_TRUE(decode_image(marked, {}, "marked").ok());
}

TEST(Provenance, JpegKeepsJfifFirstAndPixels) {
    const Bytes original = encoded(ImageFormat::kJpeg);
    Bytes marked = original;
    ASSERT_TRUE(add_provenance_marker(marked, ImageFormat::kJpeg).ok());
    ASSERT_GE(marked.size(), 12u);
    EXPECT_EQ(marked[2], 0xFF);
    EXPECT_EQ(marked[3], 0xE0);  // APP0 still first
    EXPECT_TRUE(std::equal(marked.begin() + 6, marked.begin() + 11, "JFIF"));
    EXPECT_EQ(read_ok(marked, ImageFormat::kJpeg), kDefaultProvenanceText);
    EXPECT_TRUE(contains(marked, std::string_view("http://ns.adobe.com/xap/1.0/\0", 29)));
    EXPECT_TRUE(contains(marked, kDigitalSourceType));
    const cv::Mat before = decoded(original), after = decoded(marked);
    ASSERT_EQ(after.size(), before.size());
    EXPECT_EQ(cv::norm(after, before, cv::NORM_INF), 0);
    EXPECT_TRUE(decode_image(marked, {}, "marked").ok());
}

TEST(Provenance, JpegMarkerGoesAfterExif) {
    // JFIF, then an Exif APP1 (a minimal TIFF header), then the rest of the encoder's JPEG.
    const Bytes original = encoded(ImageFormat::kJpeg);
    const std::size_t after_app0 = 4 + ((original[4] << 8) | original[5]);
    Bytes exif = {0xFF, 0xE1, 0x00, 0x10};
    append(exif, std::string_view("Exif\0\0II*\0\x08\0\0\0", 14));
    Bytes jpeg(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(after_app0));
    jpeg.insert(jpeg.end(), exif.begin(), exif.end());
    jpeg.insert(jpeg.end(), original.begin() + static_cast<std::ptrdiff_t>(after_app0),
                original.end());
    ASSERT_TRUE(add_provenance_marker(jpeg, ImageFormat::kJpeg).ok());
    EXPECT_TRUE(std::equal(exif.begin(), exif.end(), jpeg.begin() + after_app0));
    const std::size_t marker = after_app0 + exif.size();
    EXPECT_EQ(jpeg[marker], 0xFF);
    EXPECT_EQ(jpeg[marker + 1], 0xE1);  // our XMP APP1, then the COM
    EXPECT_TRUE(std::equal(jpeg.begin() + marker + 4, jpeg.begin() + marker + 32,
                           "http://ns.adobe.com/xap/1.0/"));
    EXPECT_EQ(read_ok(jpeg, ImageFormat::kJpeg), kDefaultProvenanceText);
    EXPECT_FALSE(decoded(jpeg).empty());
}

TEST(Provenance, WebpLossyIsPromotedToVp8xWithXmp) {
    const Bytes original = encoded(ImageFormat::kWebp);
    ASSERT_TRUE(std::equal(original.begin() + 12, original.begin() + 16, "VP8 "));
    Bytes marked = original;
    ASSERT_TRUE(add_provenance_marker(marked, ImageFormat::kWebp).ok());
    EXPECT_TRUE(std::equal(marked.begin() + 12, marked.begin() + 16, "VP8X"));
    EXPECT_EQ(marked[20] & 0x04, 0x04);  // XMP flag
    EXPECT_EQ(marked[20] & 0x02, 0x00);  // not animated
    EXPECT_EQ(read_le32(marked, 4) + 8, marked.size());
    EXPECT_EQ(marked[24] | (marked[25] << 8) | (marked[26] << 16), 63);  // canvas width - 1
    EXPECT_EQ(marked[27] | (marked[28] << 8) | (marked[29] << 16), 47);
    EXPECT_TRUE(contains(marked, kDigitalSourceType));
    EXPECT_EQ(read_ok(marked, ImageFormat::kWebp), kDefaultProvenanceText);
    const cv::Mat before = decoded(original), after = decoded(marked);
    ASSERT_EQ(after.size(), before.size());
    EXPECT_EQ(cv::norm(after, before, cv::NORM_INF), 0);
    EXPECT_TRUE(decode_image(marked, {}, "marked").ok());
}

TEST(Provenance, WebpLosslessAndExtendedInputs) {
    const cv::Mat image = pattern(40, 30);
    const Bytes lossless = encode(image, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
    ASSERT_TRUE(std::equal(lossless.begin() + 12, lossless.begin() + 16, "VP8L"));
    Bytes marked = lossless;
    ASSERT_TRUE(add_provenance_marker(marked, ImageFormat::kWebp).ok());
    EXPECT_EQ(cv::norm(decoded(marked), image, cv::NORM_INF), 0);
    EXPECT_EQ(read_ok(marked, ImageFormat::kWebp), kDefaultProvenanceText);

    // Already extended: the flag is set in place, no second VP8X.
    Bytes extended = webp_with_vp8x(encode(image, ".webp"), 40, 30, 0);
    const std::size_t size_before = extended.size();
    ASSERT_TRUE(add_provenance_marker(extended, ImageFormat::kWebp).ok());
    EXPECT_EQ(extended[20] & 0x04, 0x04);
    EXPECT_FALSE(std::equal(extended.begin() + 30, extended.begin() + 34, "VP8X"));
    EXPECT_GT(extended.size(), size_before);
    EXPECT_EQ(read_le32(extended, 4) + 8, extended.size());
    EXPECT_EQ(decoded(extended).size(), image.size());

    // A second marker on the same WebP is refused (one XMP chunk per file).
    Bytes twice = marked;
    const Status again = add_provenance_marker(twice, ImageFormat::kWebp);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(twice, marked);
}

TEST(Provenance, BmpIsLeftUnchanged) {
    const Bytes original = encoded(ImageFormat::kBmp);
    Bytes marked = original;
    EXPECT_TRUE(add_provenance_marker(marked, ImageFormat::kBmp).ok());
    EXPECT_EQ(marked, original);
    Result<std::string> text = read_provenance_marker(marked, ImageFormat::kBmp);
    ASSERT_FALSE(text.ok());
    EXPECT_EQ(text.error().code, ErrorCode::kNotFound);
}

TEST(Provenance, UnmarkedFilesHaveNoMarker) {
    for (ImageFormat f : {ImageFormat::kPng, ImageFormat::kJpeg, ImageFormat::kWebp}) {
        Result<std::string> text = read_provenance_marker(encoded(f), f);
        ASSERT_FALSE(text.ok()) << format_name(f);
        EXPECT_EQ(text.error().code, ErrorCode::kNotFound);
    }
}

TEST(Provenance, OddCharactersRoundTrip) {
    const std::string text =
        "G\xC3\xA9n\xC3\xA9r\xC3\xA9 par IA \xE2\x80\x94 \xE9\xA1\x94 \xF0\x9F\x98\x80 "
        "<b>&amp; \"quoted\" 'single'</b>\ttab\r\nnew line";
    for (ImageFormat f : {ImageFormat::kPng, ImageFormat::kJpeg, ImageFormat::kWebp}) {
        Bytes marked = encoded(f);
        ASSERT_TRUE(add_provenance_marker(marked, f, text).ok()) << format_name(f);
        EXPECT_EQ(read_ok(marked, f), text) << format_name(f);
        EXPECT_FALSE(decoded(marked).empty()) << format_name(f);
        // Escaped in the XML: no raw '<b>' inside the XMP packet.
        EXPECT_TRUE(contains(marked, "&lt;b&gt;&amp;amp;")) << format_name(f);
        if (f == ImageFormat::kPng) {  // UTF-8 is not Latin-1: the comment must be iTXt
            EXPECT_TRUE(contains(marked, std::string_view("iTXtComment\0", 12)));
            EXPECT_EQ(cv::norm(decoded(marked), pattern(64, 48), cv::NORM_INF), 0);
        }
    }
}

TEST(Provenance, LengthCapIsEnforced) {
    const std::string longest(kMaxProvenanceTextBytes, 'a');
    for (ImageFormat f : {ImageFormat::kPng, ImageFormat::kJpeg, ImageFormat::kWebp}) {
        Bytes marked = encoded(f);
        ASSERT_TRUE(add_provenance_marker(marked, f, longest).ok()) << format_name(f);
        EXPECT_EQ(read_ok(marked, f), longest);
        EXPECT_FALSE(decoded(marked).empty());

        Bytes unchanged = encoded(f);
        const Bytes copy = unchanged;
        const Status s = add_provenance_marker(unchanged, f, longest + "a");
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.error().code, ErrorCode::kUsage);
        EXPECT_EQ(unchanged, copy);
    }
}

TEST(Provenance, UnwritableTextIsUsage) {
    using namespace std::string_literals;
    const std::vector<std::string> bad = {
        ""s,
        "nul\0inside"s,
        "bell\x07"s,
        "escape \x1B[31m"s,
        "bad utf-8 \xC3\x28"s,
        "overlong \xC0\xAF"s,
        "surrogate \xED\xA0\x80"s,
        "cut short \xE2\x82"s,
        "beyond U+10FFFF \xF4\x90\x80\x80"s,
        "lone continuation \x80"s,
    };
    for (const std::string& text : bad) {
        Bytes png = encoded(ImageFormat::kPng);
        const Bytes copy = png;
        const Status s = add_provenance_marker(png, ImageFormat::kPng, text);
        ASSERT_FALSE(s.ok()) << text;
        EXPECT_EQ(s.error().code, ErrorCode::kUsage) << text;
        EXPECT_EQ(png, copy);
    }
}

TEST(Provenance, TruncatedBuffersAreRefusedUnchanged) {
    for (ImageFormat f : {ImageFormat::kPng, ImageFormat::kJpeg, ImageFormat::kWebp}) {
        const Bytes whole = encoded(f);
        // Every cut up to 200 bytes, then every 7th: all headers and the tail are covered.
        for (std::size_t n = 0; n < whole.size(); n += (n < 200 ? 1 : 7)) {
            Bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
            const Bytes copy = cut;
            const Status s = add_provenance_marker(cut, f);
            ASSERT_FALSE(s.ok()) << format_name(f) << " cut at " << n;
            EXPECT_EQ(s.error().code, ErrorCode::kInvalidImage);
            EXPECT_EQ(cut, copy);
            EXPECT_FALSE(read_provenance_marker(cut, f).ok());
        }
    }
}

TEST(Provenance, GarbageAndMislabelledBuffersAreRefused) {
    std::mt19937 rng(7);
    for (int round = 0; round < 50; ++round) {
        Bytes garbage(static_cast<std::size_t>(rng() % 300));
        for (auto& b : garbage) b = static_cast<std::uint8_t>(rng());
        for (ImageFormat f : {ImageFormat::kPng, ImageFormat::kJpeg, ImageFormat::kWebp}) {
            Bytes copy = garbage;
            EXPECT_FALSE(add_provenance_marker(copy, f).ok());
            EXPECT_EQ(copy, garbage);
        }
    }
    // Valid signatures, broken insides: a PNG whose first chunk is not IHDR, a JPEG whose APP0
    // length runs past the end, a WebP whose chunk runs past the RIFF size.
    Bytes png = encoded(ImageFormat::kPng);
    png[12] = 'X';
    EXPECT_FALSE(add_provenance_marker(png, ImageFormat::kPng).ok());
    Bytes jpeg = encoded(ImageFormat::kJpeg);
    jpeg[4] = 0xFF;
    EXPECT_FALSE(add_provenance_marker(jpeg, ImageFormat::kJpeg).ok());
    Bytes webp = encoded(ImageFormat::kWebp);
    write_le32(webp, 16, 0x7FFFFFF0u);
    EXPECT_FALSE(add_provenance_marker(webp, ImageFormat::kWebp).ok());
    // PNG bytes called a JPEG.
    Bytes mislabelled = encoded(ImageFormat::kPng);
    const Status s = add_provenance_marker(mislabelled, ImageFormat::kJpeg);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidImage);
}

TEST(Provenance, CorruptedCommentFailsItsCrc) {
    Bytes marked = encoded(ImageFormat::kPng);
    ASSERT_TRUE(add_provenance_marker(marked, ImageFormat::kPng, "hello").ok());
    const auto at =
        std::search(marked.begin(), marked.end(), std::begin("hello"), std::end("hello") - 1);
    ASSERT_NE(at, marked.end());
    // The XMP packet holds "hello" first; corrupt the Comment's copy (the last one).
    auto last = at;
    for (auto it = at; it != marked.end();
         it = std::search(it + 1, marked.end(), std::begin("hello"), std::end("hello") - 1)) {
        last = it;
    }
    *last = 'j';
    Result<std::string> text = read_provenance_marker(marked, ImageFormat::kPng);
    ASSERT_FALSE(text.ok());
    EXPECT_EQ(text.error().code, ErrorCode::kInvalidImage);
}

TEST(Provenance, ReadsAPlainTextComment) {
    // Other tools write tEXt Comment; the reader accepts it too.
    const Bytes original = encoded(ImageFormat::kPng);
    Bytes chunk;
    Bytes data = bytes_of(std::string_view("Comment\0made elsewhere", 22));
    append_png_chunk(chunk, "tEXt", data);
    Bytes png(original.begin(), original.begin() + 33);
    png.insert(png.end(), chunk.begin(), chunk.end());
    png.insert(png.end(), original.begin() + 33, original.end());
    EXPECT_EQ(read_ok(png, ImageFormat::kPng), "made elsewhere");
}

}  // namespace
}  // namespace facefuse::image
