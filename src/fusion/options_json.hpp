#pragma once
// Swap options as JSON: the API's `options` part and what a task record stores. Keys are the CLI
// flags without the leading dashes, in snake_case (FaceFusion's names):
//
//   {"processors": ["face_swapper"], "face_selector_mode": "one", "face_selector_order":
//    "left-right", "face_position": 1, "source_face_position": 0, "face_mask_types": ["box"],
//    "face_mask_blur": 0.3, "face_mask_padding": [0, 0, 0, 0], "face_mask_areas": ["mouth"],
//    "fusion_degree": 1, "shape_degree": 0, "output_format": "png", "output_quality": 90}
//
// Every key is optional; unknown keys are an error (a typo must not silently do nothing).
// `output_format` absent or null keeps the target's format, as FaceFusion does: a JPEG photo
// comes back as a JPEG (about a seventh of the bytes of a PNG, and no deflate on the worker).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "fusion/swap_options.hpp"
#include "image/format.hpp"

namespace facefuse::fusion {

struct JobOptions {
    SwapOptions swap;
    std::vector<std::string> processors = {"face_swapper"};
    std::optional<image::ImageFormat> output_format;  // nullopt: the target's own format
    int output_quality = 90;
};

// Parses and validates. Errors: kUsage naming the key and what it accepts. Never throws.
Result<JobOptions> parse_job_options(std::string_view json);

// The canonical JSON of `options` (every key in a fixed order, except an unset output_format,
// which is left out so that the previous version's workers read it as their default): stored
// with the task, and hashed for idempotency, so two requests that mean the same thing compare
// equal.
std::string to_json(const JobOptions& options);

}  // namespace facefuse::fusion
