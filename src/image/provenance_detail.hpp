#pragma once
// Internal to the provenance files: one writer and one reader per container format, and the
// XMP packet they share. The text reaching them has been validated (provenance.cpp), and the
// bytes have passed sniff_format and truncation_reason.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace facefuse::image::provenance {

using Bytes = std::vector<std::uint8_t>;
using View = std::span<const std::uint8_t>;

// The XMP packet (UTF-8 XML) declaring trainedAlgorithmicMedia, with `text` as description.
std::string xmp_packet(std::string_view text);
// The dc:description of a packet written by xmp_packet, unescaped; nullopt if absent.
std::optional<std::string> xmp_description(std::string_view xmp);

Status add_png(Bytes& png, std::string_view text);
Result<std::string> read_png(View png);

Status add_jpeg(Bytes& jpeg, std::string_view text);
Result<std::string> read_jpeg(View jpeg);

Status add_webp(Bytes& webp, std::string_view text);
Result<std::string> read_webp(View webp);

inline Error not_found(std::string_view format) {
    return make_error(ErrorCode::kNotFound,
                      "the " + std::string(format) + " carries no provenance marker");
}
inline Error broken(std::string_view format, std::string_view why) {
    return make_error(ErrorCode::kInvalidImage, "cannot add or read a provenance marker: the " +
                                                    std::string(format) + " " + std::string(why));
}

}  // namespace facefuse::image::provenance
