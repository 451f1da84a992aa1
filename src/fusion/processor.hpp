#pragma once
// Processor: FaceFusion's flat processor contract. Each processor works on a frame in place,
// knows its name, and is looked up by that name, so `processors = ["face_swapper",
// "face_debugger"]` runs them in the order given. A new processor is one file and one line in
// processor.cpp's table.
//
// Processors know nothing of tasks, tenants, storage or HTTP.
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "common/result.hpp"
#include "common/stage_timings.hpp"
#include "face/face.hpp"
#include "fusion/face_swapper.hpp"
#include "fusion/swap_options.hpp"

namespace facefuse::fusion {

struct Frame {
    cv::Mat image;                   // CV_8UC3, changed in place
    std::vector<face::Face> faces;   // the selected target faces, in selection order
};

struct ProcessorContext {
    const SourceFace* source = nullptr;  // null when no processor of the run needs one
    const SwapOptions& options;
    StageTimings* timings = nullptr;     // may be null
};

class Processor {
public:
    virtual ~Processor() = default;
    virtual std::string_view name() const = 0;
    virtual bool needs_source() const = 0;
    // Whether the target must be analysed (and hold a face) first. Only `noop` says no.
    virtual bool needs_faces() const { return true; }
    // Processes every face of the frame. Processors are stateless: safe to share across threads.
    virtual Status process(Frame& frame, const ProcessorContext& context) const = 0;
};

// Names of the registered processors, in registration order.
std::span<const std::string_view> processor_names();

// The processor registered under `name`; kUsage listing the known names otherwise.
Result<std::shared_ptr<const Processor>> find_processor(std::string_view name);

}  // namespace facefuse::fusion
