#pragma once
// An optional visible watermark ("AI-generated", or the operator's text) in the bottom-right
// corner of a result. The invisible provenance marker (provenance.hpp) is the default; this is
// for deployments that want the label to survive screenshots and metadata stripping.
#include <opencv2/core.hpp>
#include <string_view>

namespace facefuse::image {

// Blends `text` (semi-transparent white with a dark outline, so it reads on any background)
// into the bottom-right corner of an 8-bit BGR image, sized to about 1/30 of the shorter side
// and shrunk to at most half the width. Pixels outside that corner are never changed.
// No-op for an image under 64 px on either side, a non-CV_8UC3 image, or empty text.
// Hershey fonts draw ASCII only: other characters appear as '?'. Never throws.
void draw_visible_watermark(cv::Mat& bgr, std::string_view text);

}  // namespace facefuse::image
