#include "fusion/pipeline.hpp"

#include <optional>

#include "fusion/processor.hpp"

namespace facefuse::fusion {

Result<face::Face> analyse_source(const cv::Mat& source, int position, face::FaceAnalyser& analyser,
                                  face::AnalysisTimings* timings) {
    const face::SelectorOptions pick_source{face::SelectorMode::kOne, face::SelectorOrder::kLargeSmall, position};
    auto chosen = face::select_faces(analyser.analyse(source, timings), pick_source, ErrorCode::kNoFaceInSource,
                                     "source");
    if (!chosen) return chosen.error();
    return chosen->front();
}

Result<cv::Mat> run_swap(const SwapJob& job, face::FaceAnalyser& analyser, StageTimings* timings) {
    if (Status st = job.options.validate(); !st) return st.error();
    if (job.processors.empty())
        return make_error(ErrorCode::kUsage, "no processor given: use face_swapper (the default)");

    std::vector<std::shared_ptr<const Processor>> processors;
    bool needs_source = false;
    bool needs_faces = false;
    for (const std::string& name : job.processors) {
        auto found = find_processor(name);
        if (!found) return found.error();
        needs_source = needs_source || (*found)->needs_source();
        needs_faces = needs_faces || (*found)->needs_faces();
        processors.push_back(std::move(found.value()));
    }

    face::AnalysisTimings analysis;
    std::optional<SourceFace> source;
    if (needs_source) {
        if (job.source.empty())
            return make_error(ErrorCode::kUsage, "face_swapper needs a source image (--source)");
        if (job.source_face) {
            source = SourceFace{job.source, *job.source_face};
        } else {
            auto chosen = analyse_source(job.source, job.options.source_face_position, analyser, &analysis);
            if (!chosen) return chosen.error();
            source = SourceFace{job.source, *chosen};
        }
    }

    if (!needs_faces) {
        Frame frame{job.target.clone(), {}};
        const ProcessorContext context{nullptr, job.options, timings};
        for (const auto& processor : processors)
            if (Status st = processor->process(frame, context); !st) return st.error();
        return std::move(frame.image);
    }

    auto targets = face::select_faces(analyser.analyse(job.target, &analysis),
                                      job.options.target_selector, ErrorCode::kNoFaceInTarget,
                                      "target");
    if (!targets) return targets.error();
    if (timings) {
        timings->detect_ms += analysis.detect_ms;
        timings->landmarks_ms += analysis.landmarks_ms;
    }

    Frame frame{job.target.clone(), std::move(targets.value())};
    const ProcessorContext context{source ? &*source : nullptr, job.options, timings};
    for (const auto& processor : processors) {
        if (Status st = processor->process(frame, context); !st) return st.error();
    }
    return std::move(frame.image);
}

}  // namespace facefuse::fusion
