#pragma once
// Which faces to process: FaceFusion's face selector modes and orders.
//
//   many  every face (after ordering)
//   one   the face at `position` after ordering (0 = first)
// `reference` (pick the face most like a reference face) needs a face-recognition model; it is
// not offered until one ships.
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "face/face.hpp"

namespace facefuse::face {

enum class SelectorMode { kMany, kOne };
enum class SelectorOrder {
    kLeftRight, kRightLeft, kTopBottom, kBottomTop,
    kSmallLarge, kLargeSmall, kBestWorst, kWorstBest,
};

std::span<const std::string_view> selector_mode_names();   // "many", "one"
std::span<const std::string_view> selector_order_names();  // "left-right", ...
std::optional<SelectorMode> parse_selector_mode(std::string_view name);
std::optional<SelectorOrder> parse_selector_order(std::string_view name);

struct SelectorOptions {
    SelectorMode mode = SelectorMode::kMany;
    SelectorOrder order = SelectorOrder::kLargeSmall;  // FaceFusion's default
    int position = 0;                                  // for kOne
};

// Stable sort by the order (ties keep detector order).
void sort_faces(std::vector<Face>& faces, SelectorOrder order);

// The faces to process, in order. Errors: `none_found` (kNoFaceInSource/kNoFaceInTarget as the
// caller says) when `faces` is empty; kFaceNotFound when position is out of range, naming how
// many faces there are. `which` ("source", "target") goes into the messages.
Result<std::vector<Face>> select_faces(std::vector<Face> faces, const SelectorOptions& options,
                                       ErrorCode none_found, std::string_view which);

}  // namespace facefuse::face
