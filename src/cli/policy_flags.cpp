#include "cli/policy_flags.hpp"

#include <cstdio>

#include "obs/log.hpp"

namespace facefuse::cli {

void PolicyFlags::add_to(CLI::App& c) {
    c.add_option("--moderation", moderation,
                 "content policy before processing: off, reject (422 content_rejected) or flag (recorded)")
        ->check(CLI::IsMember({"off", "reject", "flag"}))
        ->envname("FACEFUSE_MODERATION")
        ->capture_default_str();
    c.add_option("--moderation-model", model, "classifier file OpenCV DNN reads (.onnx, .caffemodel, .weights, .pb)")
        ->envname("FACEFUSE_MODERATION_MODEL");
    c.add_option("--moderation-config", config, "its .prototxt / .cfg / .pbtxt when the framework needs one")
        ->envname("FACEFUSE_MODERATION_CONFIG");
    c.add_option("--moderation-input", input, "network input size WxH")
        ->envname("FACEFUSE_MODERATION_INPUT")
        ->capture_default_str();
    c.add_option("--moderation-mean", mean, "per-channel mean subtracted, \"B,G,R\"")
        ->envname("FACEFUSE_MODERATION_MEAN")
        ->capture_default_str();
    c.add_option("--moderation-scale", scale, "factor applied after the mean")
        ->envname("FACEFUSE_MODERATION_SCALE")
        ->capture_default_str();
    c.add_flag("--moderation-swap-rb", swap_rb, "the network expects RGB")->envname("FACEFUSE_MODERATION_SWAP_RB");
    c.add_option("--moderation-output", output, "output layer name (default: the last)")
        ->envname("FACEFUSE_MODERATION_OUTPUT");
    c.add_option("--moderation-index", index, "which element of the output is the unsafe score")
        ->check(CLI::NonNegativeNumber)
        ->envname("FACEFUSE_MODERATION_INDEX")
        ->capture_default_str();
    c.add_flag("--moderation-softmax", softmax, "the output is logits: apply softmax first")
        ->envname("FACEFUSE_MODERATION_SOFTMAX");
    c.add_option("--moderation-threshold", threshold, "unsafe score (0..1) at which the policy acts")
        ->check(CLI::Range(0.0, 1.0))
        ->envname("FACEFUSE_MODERATION_THRESHOLD")
        ->capture_default_str();
    c.add_flag("--no-provenance", no_provenance, "do not mark results as AI-generated in their metadata")
        ->envname("FACEFUSE_NO_PROVENANCE");
    c.add_option("--provenance-text", provenance_text, "text of the AI-generated marker")
        ->envname("FACEFUSE_PROVENANCE_TEXT")
        ->capture_default_str();
    c.add_option("--watermark", watermark, "visible text drawn in the corner of every result (default: none)")
        ->envname("FACEFUSE_WATERMARK");
}

Result<worker::ContentPolicy> PolicyFlags::build() const {
    worker::ContentPolicy policy;
    policy.provenance_text = no_provenance ? std::string() : provenance_text;
    policy.watermark = watermark;
    auto mode = fusion::moderation::parse_moderation_mode(moderation);
    if (!mode) return mode.error();
    policy.moderation = *mode;
    policy.moderation_threshold = static_cast<float>(threshold);
    if (*mode == fusion::moderation::ModerationMode::kOff) return policy;
    if (model.empty())
        return make_error(ErrorCode::kUsage, "--moderation " + moderation +
                                                 " needs --moderation-model FILE (no classifier ships with facefuse; "
                                                 "see docs/content-policy.md)");
    fusion::moderation::ClassifierConfig cc;
    cc.model_path = model;
    cc.config_path = config;
    char x = 0;
    if (std::sscanf(input.c_str(), "%d%c%d", &cc.input_width, &x, &cc.input_height) != 3 || (x != 'x' && x != 'X'))
        return make_error(ErrorCode::kUsage, "--moderation-input '" + input + "': use WxH, e.g. 224x224");
    double b = 0, g = 0, r = 0;
    if (std::sscanf(mean.c_str(), "%lf,%lf,%lf", &b, &g, &r) != 3)
        return make_error(ErrorCode::kUsage, "--moderation-mean '" + mean + "': use three numbers, e.g. 104,117,123");
    cc.mean = cv::Scalar(b, g, r);
    cc.scale = scale;
    cc.swap_rb = swap_rb;
    cc.output_name = output;
    cc.unsafe_index = index;
    cc.apply_softmax = softmax;
    auto classifier = fusion::moderation::ContentClassifier::load(cc);
    if (!classifier) return classifier.error();
    policy.classifier = std::make_shared<const fusion::moderation::ContentClassifier>(std::move(classifier.value()));
    obs::log_info("moderation_enabled", {{"mode", moderation}, {"model", model}, {"threshold", threshold}});
    return policy;
}

}  // namespace facefuse::cli
