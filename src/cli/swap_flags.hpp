#pragma once
// The swap options as CLI flags (FaceFusion's names), shared by `swap`, `bench` and
// `contact-sheet` so all three mean the same thing by the same flag.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/result.hpp"
#include "fusion/swap_options.hpp"

namespace facefuse::cli {

struct SwapFlags {
    std::string selector_mode = "many";
    std::string selector_order = "large-small";
    int face_position = 0;
    int source_face_position = 0;
    std::vector<std::string> mask_types = {"box"};
    double mask_blur = 0.3;
    std::vector<int> mask_padding = {0, 0, 0, 0};
    std::vector<std::string> mask_areas = {"upper-face", "lower-face", "mouth"};
    double fusion_degree = 1.0;
    double shape_degree = 0.0;
    std::vector<std::string> processors = {"face_swapper"};
    bool debug_overlay = false;

    void add_to(CLI::App& command);
    // Errors: kUsage naming the flag.
    Result<fusion::SwapOptions> to_options() const;
    // processors, plus face_debugger when --debug-overlay is given.
    std::vector<std::string> processor_list() const;
};

}  // namespace facefuse::cli
