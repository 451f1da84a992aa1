#pragma once
// The moderation stage: before any processing, the inputs of a task are scored by the
// operator's classifier and the content policy decides whether the task may go on.
//
// The decision is a value, not a side effect: the caller (CLI or worker) fails the task with
// kContentRejected when the verdict is "rejected" (rejection_error() builds that error) and
// records the decision on the task (to_json()), so "flagged" tasks can be reviewed later.
// Nothing of a rejected input is kept beyond that record (see docs/content-policy.md).
#include <opencv2/core.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "fusion/moderation/content_classifier.hpp"

namespace facefuse::fusion::moderation {

enum class ModerationMode {
    kOff,     // no classifier runs (the default: no model ships)
    kReject,  // score >= threshold fails the task with 422 content_rejected
    kFlag,    // score >= threshold is recorded as "flagged"; processing continues
};

std::string_view mode_name(ModerationMode mode);  // "off", "reject", "flag"
// kUsage naming the accepted values for anything else (case-sensitive, like every flag).
Result<ModerationMode> parse_moderation_mode(std::string_view name);

inline constexpr float kDefaultThreshold = 0.8f;

struct ModerationDecision {
    std::string verdict;  // "skipped" | "allowed" | "flagged" | "rejected"
    float score = 0.0f;   // the highest score over the inputs; 0 when skipped
    float threshold = kDefaultThreshold;

    bool rejected() const { return verdict == "rejected"; }
    // {"verdict":"flagged","score":0.9312,"threshold":0.8}: short, for the task record.
    std::string to_json() const;
};

// Scores every non-null input and decides on the highest score:
//   mode kOff or classifier null      -> "skipped" (nothing runs)
//   score >= threshold, mode kReject  -> "rejected"
//   score >= threshold, mode kFlag    -> "flagged"
//   otherwise                         -> "allowed"
// Errors: kUsage (threshold outside 0..1), the classifier's (kInvalidImage for an empty input,
// kModelUnavailable when the model fails). An error is not a verdict: the caller fails the task
// with it rather than letting unscored content through.
Result<ModerationDecision> moderate(const ContentClassifier* classifier, ModerationMode mode,
                                    float threshold, const std::vector<const cv::Mat*>& inputs);

// The error a rejected task fails with (kContentRejected, HTTP 422), stating score and
// threshold but nothing about the content itself.
Error rejection_error(const ModerationDecision& decision);

}  // namespace facefuse::fusion::moderation
