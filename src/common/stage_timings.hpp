#pragma once
// Milliseconds spent in each stage of one swap: what `facefuse bench` prints and, later, what
// the task_process_seconds{stage} metric records. Stages that did not run stay 0.
namespace facefuse {

struct StageTimings {
    double decode_ms = 0;
    double detect_ms = 0;
    double landmarks_ms = 0;
    double warp_ms = 0;
    double colour_ms = 0;
    double mask_ms = 0;
    double blend_ms = 0;
    double encode_ms = 0;

    double engine_ms() const {  // what the engine itself costs: everything but codec work
        return detect_ms + landmarks_ms + warp_ms + colour_ms + mask_ms + blend_ms;
    }
    double total_ms() const { return decode_ms + engine_ms() + encode_ms; }
};

}  // namespace facefuse
