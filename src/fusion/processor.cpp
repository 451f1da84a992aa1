#include "fusion/processor.hpp"

#include <array>
#include <string>

#include "fusion/face_debugger.hpp"

namespace facefuse::fusion {
namespace {

class FaceSwapperProcessor final : public Processor {
public:
    std::string_view name() const override { return "face_swapper"; }
    bool needs_source() const override { return true; }
    Status process(Frame& frame, const ProcessorContext& context) const override {
        if (!context.source) {
            return make_error(ErrorCode::kUsage, "face_swapper needs a source image (--source)");
        }
        for (const face::Face& target : frame.faces)
            swap_face(frame.image, *context.source, target, context.options, context.timings);
        return Status::Ok();
    }
};

class FaceDebuggerProcessor final : public Processor {
public:
    std::string_view name() const override { return "face_debugger"; }
    bool needs_source() const override { return false; }
    Status process(Frame& frame, const ProcessorContext& context) const override {
        draw_face_debug(frame.image, frame.faces, context.options);
        return Status::Ok();
    }
};

// Copies the target unchanged: the service's overhead, measured without the engine's cost.
class NoopProcessor final : public Processor {
public:
    std::string_view name() const override { return "noop"; }
    bool needs_source() const override { return false; }
    bool needs_faces() const override { return false; }
    Status process(Frame&, const ProcessorContext&) const override { return Status::Ok(); }
};

constexpr std::array<std::string_view, 3> kNames = {"face_swapper", "face_debugger", "noop"};

}  // namespace

std::span<const std::string_view> processor_names() { return kNames; }

Result<std::shared_ptr<const Processor>> find_processor(std::string_view name) {
    if (name == "face_swapper") return std::shared_ptr<const Processor>(std::make_shared<FaceSwapperProcessor>());
    if (name == "face_debugger") return std::shared_ptr<const Processor>(std::make_shared<FaceDebuggerProcessor>());
    if (name == "noop") return std::shared_ptr<const Processor>(std::make_shared<NoopProcessor>());
    std::string known;
    for (std::string_view n : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
    return make_error(ErrorCode::kUsage,
                      "unknown processor '" + std::string(name) + "': use one of " + known);
}

}  // namespace facefuse::fusion
