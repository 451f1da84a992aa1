#include "fusion/face_swapper.hpp"

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "common/stopwatch.hpp"
#include "fusion/blend.hpp"
#include "fusion/colour.hpp"
#include "fusion/face_geometry.hpp"
#include "fusion/mask.hpp"
#include "fusion/warp.hpp"

namespace facefuse::fusion {

cv::Rect swap_region(const face::Landmarks68& target_landmarks, cv::Size frame_size) {
    const std::vector<cv::Point2f> points = warp_points(target_landmarks);
    const cv::Rect bounds = cv::boundingRect(points);
    const int margin = 4;
    const cv::Rect padded(bounds.x - margin, bounds.y - margin, bounds.width + 2 * margin,
                          bounds.height + 2 * margin);
    return padded & cv::Rect(cv::Point(0, 0), frame_size);
}

SourceFace crop_source_face(const cv::Mat& source, const face::Face& face) {
    const cv::Rect mesh = cv::boundingRect(warp_points(face.landmarks));
    const int margin = std::max(mesh.width, mesh.height) / 4 + 4;
    const cv::Rect region = cv::Rect(mesh.x - margin, mesh.y - margin, mesh.width + 2 * margin,
                                     mesh.height + 2 * margin) &
                            cv::Rect(cv::Point(0, 0), source.size());
    if (region.empty())
        return SourceFace{source, face};  // no mesh inside the image: nothing to save
    SourceFace cropped{source(region).clone(), face};
    const cv::Point2f offset(static_cast<float>(region.x), static_cast<float>(region.y));
    cropped.face.box.x -= offset.x;
    cropped.face.box.y -= offset.y;
    for (cv::Point2f& point : cropped.face.landmarks) point -= offset;
    return cropped;
}

void swap_face(cv::Mat& frame, const SourceFace& source, const face::Face& target,
               const SwapOptions& options, StageTimings* timings) {
    StageTimings unused;
    StageTimings& t = timings ? *timings : unused;
    Stopwatch clock;

    const cv::Rect roi = swap_region(target.landmarks, frame.size());
    if (roi.width < 8 || roi.height < 8) return;  // face (almost) entirely outside the frame

    const face::Landmarks68 geometry =
        blend_inner_shape(target.landmarks, source.face.landmarks, options.shape_degree);
    const std::vector<cv::Point2f> dst_points = warp_points(geometry);
    const std::vector<cv::Point2f> src_points = warp_points(source.face.landmarks);
    const std::vector<cv::Vec3i> triangles = triangulate_between(src_points, dst_points);
    WarpedFace warped = warp_piecewise_affine(source.image, src_points, dst_points, triangles, roi);
    t.warp_ms += clock.lap_ms();

    cv::Mat frame_roi = frame(roi);
    const MaskGeometry mask_geometry{roi, dst_points, target.landmarks};
    // Colour is measured on a copy where the face is ~100 px tall: statistics and a blur of
    // 16 % of the face do not need more, and the cost stays flat for large faces.
    const float height = face_height(target.landmarks);
    const double analysis_scale = std::min(1.0, 100.0 / height);
    cv::Mat skin = skin_mask(mask_geometry, analysis_scale);
    cv::Mat valid_small;
    cv::resize(warped.valid, valid_small, skin.size(), 0, 0, cv::INTER_NEAREST);
    skin &= valid_small;
    cv::Mat coloured = match_colour(warped.image, frame_roi, skin, std::max(0.16f * height, 2.0f));
    t.colour_ms += clock.lap_ms();

    cv::Mat alpha = face_mask(mask_geometry, options);
    cv::Mat valid;
    warped.valid.convertTo(valid, CV_32F, 1.0 / 255);
    alpha = alpha.mul(valid) * options.fusion_degree;
    t.mask_ms += clock.lap_ms();

    alpha_blend(frame_roi, coloured, alpha);
    t.blend_ms += clock.lap_ms();
}

}  // namespace facefuse::fusion
