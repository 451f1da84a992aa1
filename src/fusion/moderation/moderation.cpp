// The content policy: from per-input scores to one verdict. Kept apart from the classifier so
// the policy can be tested and reasoned about without a network.
#include "fusion/moderation/moderation.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

namespace facefuse::fusion::moderation {
namespace {

// Four decimals: enough to audit a decision against its threshold, short in a task record.
// std::to_chars, unlike printf, ignores the locale, so the decimal point is always '.'.
std::string number(float value) {
    char buffer[32];
    const double v = std::isfinite(value) ? static_cast<double>(value) : 0.0;
    const auto [end, ec] =
        std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::fixed, 4);
    return ec == std::errc() ? std::string(buffer, end) : std::string("0");
}

}  // namespace

std::string_view mode_name(ModerationMode mode) {
    switch (mode) {
        case ModerationMode::kOff:
            return "off";
        case ModerationMode::kReject:
            return "reject";
        case ModerationMode::kFlag:
            return "flag";
    }
    return "off";
}

Result<ModerationMode> parse_moderation_mode(std::string_view name) {
    for (ModerationMode m :
         {ModerationMode::kOff, ModerationMode::kReject, ModerationMode::kFlag}) {
        if (name == mode_name(m)) return m;
    }
    return make_error(ErrorCode::kUsage,
                      "--moderation must be off, reject or flag, got '" + std::string(name) + "'");
}

std::string ModerationDecision::to_json() const {
    // verdict is one of four fixed words, so it needs no escaping.
    return "{\"verdict\":\"" + verdict + "\",\"score\":" + number(score) +
           ",\"threshold\":" + number(threshold) + "}";
}

Result<ModerationDecision> moderate(const ContentClassifier* classifier, ModerationMode mode,
                                    float threshold, const std::vector<const cv::Mat*>& inputs) {
    if (!(threshold >= 0.0f && threshold <= 1.0f)) {  // also false for NaN
        return make_error(ErrorCode::kUsage,
                          "--moderation-threshold must be within 0..1, got " + number(threshold));
    }
    ModerationDecision decision{"skipped", 0.0f, threshold};
    if (mode == ModerationMode::kOff || classifier == nullptr) return decision;

    float highest = 0.0f;
    for (const cv::Mat* input : inputs) {
        if (input == nullptr) continue;  // e.g. a job without a source image
        Result<float> score = classifier->unsafe_score(*input);
        if (!score.ok()) return score.error();
        highest = std::max(highest, *score);
    }
    decision.score = highest;
    if (highest < threshold) {
        decision.verdict = "allowed";
    } else {
        decision.verdict = mode == ModerationMode::kReject ? "rejected" : "flagged";
    }
    return decision;
}

Error rejection_error(const ModerationDecision& decision) {
    return make_error(ErrorCode::kContentRejected,
                      "an input was rejected by the content policy (score " +
                          number(decision.score) + " >= threshold " + number(decision.threshold) +
                          "); the images were not processed or kept");
}

}  // namespace facefuse::fusion::moderation
