#include <gtest/gtest.h>

#include <new>
#include <stdexcept>

#include <opencv2/core.hpp>

#include "worker/out_of_memory.hpp"

namespace facefuse::worker {
namespace {

cv::Exception cv_error(int code, const std::string& text) { return cv::Exception(code, text, "locate", "model.cpp", 1); }

TEST(IsOutOfMemory, HostAllocationFailures) {
    EXPECT_TRUE(is_out_of_memory(std::bad_alloc()));
    EXPECT_TRUE(is_out_of_memory(cv_error(cv::Error::StsNoMem, "Failed to allocate 1 bytes")));
}

TEST(IsOutOfMemory, AcceleratorErrorsThatNameMemory) {
    EXPECT_TRUE(is_out_of_memory(cv_error(cv::Error::GpuApiCallError, "CUDA_ERROR_OUT_OF_MEMORY [Code = 2]")));
    EXPECT_TRUE(is_out_of_memory(cv_error(cv::Error::OpenCLApiCallError, "CL_MEM_OBJECT_ALLOCATION_FAILURE")));
    EXPECT_TRUE(is_out_of_memory(std::runtime_error("CUDA error: cudaErrorMemoryAllocation")));
    EXPECT_TRUE(is_out_of_memory(std::runtime_error("[ONNXRuntimeError] : 6 : Failed to allocate memory for requested buffer")));
}

TEST(IsOutOfMemory, OtherAcceleratorAndProgramErrorsAreNot) {
    // A failed CUDA call for any other reason would fail again: retrying it only delays the error.
    EXPECT_FALSE(is_out_of_memory(cv_error(cv::Error::GpuApiCallError, "invalid device function")));
    EXPECT_FALSE(is_out_of_memory(cv_error(cv::Error::StsBadArg, "bad argument")));
    EXPECT_FALSE(is_out_of_memory(std::runtime_error("vector::_M_range_check")));
}

}  // namespace
}  // namespace facefuse::worker
