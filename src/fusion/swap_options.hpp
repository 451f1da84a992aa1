#pragma once
// Options of the face_swapper processor, named after FaceFusion's (face_mask_types,
// face_mask_blur, face_mask_padding, face_mask_areas, ...). Plain struct with documented
// defaults; validate() checks ranges once, with messages that name the CLI flag.
#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "face/selector.hpp"

namespace facefuse::fusion {

enum class MaskType { kBox, kArea };
enum class MaskArea { kUpperFace, kLowerFace, kMouth };

std::span<const std::string_view> mask_type_names();  // "box", "area"
std::span<const std::string_view> mask_area_names();  // "upper-face", "lower-face", "mouth"
std::optional<MaskType> parse_mask_type(std::string_view name);
std::optional<MaskArea> parse_mask_area(std::string_view name);

struct SwapOptions {
    face::SelectorOptions target_selector;  // which target faces receive the source face
    int source_face_position = 0;           // which source face (large-small order) is used

    // Masks are intersected (FaceFusion takes the minimum of all masks).
    std::vector<MaskType> mask_types = {MaskType::kBox};
    double mask_blur = 0.3;                          // 0..1, feather width relative to face size
    std::array<int, 4> mask_padding = {0, 0, 0, 0};  // top right bottom left, 0..100 % inward
    std::vector<MaskArea> mask_areas = {MaskArea::kUpperFace, MaskArea::kLowerFace,
                                        MaskArea::kMouth};

    double fusion_degree = 1.0;  // 0..1: how much of the source texture replaces the target's
    double shape_degree = 0.0;   // 0..1: how far eyes, brows, nose and mouth move to the
                                 // source's proportions (0 keeps the target's; the outline
                                 // always stays the target's so no second jaw line appears)
    bool debug_overlay = false;  // draw boxes, landmarks and mask outline on the output

    // Errors: kUsage, naming the CLI flag and the accepted range.
    Status validate() const;
};

}  // namespace facefuse::fusion
