#include "cli/swap_flags.hpp"

#include <algorithm>

#include "face/selector.hpp"
#include "fusion/processor.hpp"

namespace facefuse::cli {
namespace {

std::vector<std::string> strings(std::span<const std::string_view> names) {
    return {names.begin(), names.end()};
}

}  // namespace

void SwapFlags::add_to(CLI::App& c) {
    c.add_option("--processors", processors, "processors to run, in order")
        ->delimiter(',')
        ->check(CLI::IsMember(strings(fusion::processor_names())))
        ->capture_default_str();
    c.add_option("--face-selector-mode", selector_mode,
                 "many: every target face gets the source face; one: only the face at "
                 "--face-position")
        ->check(CLI::IsMember(strings(face::selector_mode_names())))
        ->capture_default_str();
    c.add_option("--face-selector-order", selector_order, "order of target faces for selection")
        ->check(CLI::IsMember(strings(face::selector_order_names())))
        ->capture_default_str();
    c.add_option("--face-position", face_position,
                 "with --face-selector-mode one: which target face, 0 = first in the order")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    c.add_option("--source-face-position", source_face_position,
                 "which source face (largest first) when the source shows several")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    c.add_option("--face-mask-types", mask_types,
                 "box: the whole face mesh (brows, forehead, cheeks); area: only "
                 "--face-mask-areas; several are intersected")
        ->delimiter(',')
        ->check(CLI::IsMember(strings(fusion::mask_type_names())))
        ->capture_default_str();
    c.add_option("--face-mask-blur", mask_blur, "feathering of the mask edge, 0..1")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    c.add_option("--face-mask-padding", mask_padding,
                 "move the box mask's edges inward, percent: TOP [RIGHT [BOTTOM [LEFT]]] "
                 "(CSS-style: 1, 2 or 4 values)")
        ->expected(1, 4)
        ->check(CLI::Range(0, 100));
    c.add_option("--face-mask-areas", mask_areas, "areas of the area mask")
        ->delimiter(',')
        ->check(CLI::IsMember(strings(fusion::mask_area_names())))
        ->capture_default_str();
    c.add_option("--fusion-degree", fusion_degree,
                 "how much of the source texture replaces the target's, 0..1")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    c.add_option("--shape-degree", shape_degree,
                 "how far eyes, brows, nose and mouth take the source's proportions, 0..1 "
                 "(0 keeps the target's; the face outline is always the target's)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    c.add_flag("--debug-overlay", debug_overlay,
               "draw boxes, landmarks and the mask outline on the output (adds the "
               "face_debugger processor)");
}

Result<fusion::SwapOptions> SwapFlags::to_options() const {
    fusion::SwapOptions o;
    o.target_selector.mode = *face::parse_selector_mode(selector_mode);
    o.target_selector.order = *face::parse_selector_order(selector_order);
    o.target_selector.position = face_position;
    o.source_face_position = source_face_position;
    o.mask_types.clear();
    for (const auto& t : mask_types) o.mask_types.push_back(*fusion::parse_mask_type(t));
    o.mask_areas.clear();
    for (const auto& a : mask_areas) o.mask_areas.push_back(*fusion::parse_mask_area(a));
    o.mask_blur = mask_blur;
    // CSS shorthand: T; T R(=L) with B=T; T R B L.
    const auto& p = mask_padding;
    switch (p.size()) {
        case 1: o.mask_padding = {p[0], p[0], p[0], p[0]}; break;
        case 2: o.mask_padding = {p[0], p[1], p[0], p[1]}; break;
        case 4: o.mask_padding = {p[0], p[1], p[2], p[3]}; break;
        default:
            return make_error(ErrorCode::kUsage,
                              "--face-mask-padding takes 1, 2 or 4 values (TOP RIGHT BOTTOM LEFT)");
    }
    o.fusion_degree = fusion_degree;
    o.shape_degree = shape_degree;
    o.debug_overlay = debug_overlay;
    if (Status st = o.validate(); !st) return st.error();
    return o;
}

std::vector<std::string> SwapFlags::processor_list() const {
    std::vector<std::string> list = processors;
    if (debug_overlay && std::find(list.begin(), list.end(), "face_debugger") == list.end())
        list.push_back("face_debugger");
    return list;
}

}  // namespace facefuse::cli
