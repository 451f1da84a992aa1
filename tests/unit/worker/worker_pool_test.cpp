// The worker pool on the embedded backends (SQLite queue and store, SQLite blobs) with the real
// dlib landmark model behind a wrapper: the wrapper is the model backend's seam, so tests can make
// the model fail the way a GPU backend does (out of memory) or hold a task in flight while a
// reload swaps the model.
#include "worker/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <opencv2/core.hpp>

#include "face/landmarker.hpp"
#include "models/model_spec.hpp"
#include "obs/metrics.hpp"
#include "storage/segments/segment_blob_store.hpp"
#include "support/test_support.hpp"
#include "tasks/service.hpp"
#include "tasks/sqlite/sqlite_backend.hpp"

namespace facefuse::worker {
namespace {

using namespace std::chrono_literals;

std::vector<std::uint8_t> bytes_of(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

std::shared_ptr<const face::LandmarkProvider> dlib_model() {
    static const auto model = [] {
        auto loaded = face::load_dlib_landmarker(models::default_landmark_model());
        return loaded ? *loaded : nullptr;
    }();
    return model;
}

// Delegates to the real model; throws a CUDA-style out-of-memory error on its first `failures`
// calls, as OpenCV's CUDA backend reports one.
class OutOfMemoryModel final : public face::LandmarkProvider {
  public:
    OutOfMemoryModel(std::shared_ptr<const face::LandmarkProvider> real, int failures)
        : real_(std::move(real)), failures_(failures) {}
    face::Landmarks68 locate(const cv::Mat& gray, const cv::Rect2f& box) const override {
        if (failures_.fetch_sub(1) > 0)
            throw cv::Exception(cv::Error::GpuApiCallError,
                                "CUDA_ERROR_OUT_OF_MEMORY: out of memory", "locate", __FILE__,
                                __LINE__);
        return real_->locate(gray, box);
    }
    const models::ModelSpec& spec() const override { return real_->spec(); }

  private:
    std::shared_ptr<const face::LandmarkProvider> real_;
    mutable std::atomic<int> failures_;
};

// Delegates to the real model and counts calls; optionally holds its first call until released,
// so a test can act while a task is in flight.
class GatedModel final : public face::LandmarkProvider {
  public:
    GatedModel(std::shared_ptr<const face::LandmarkProvider> real, bool hold_first)
        : real_(std::move(real)), hold_first_(hold_first) {}
    face::Landmarks68 locate(const cv::Mat& gray, const cv::Rect2f& box) const override {
        if (calls_.fetch_add(1) == 0 && hold_first_) {
            entered_.set_value();
            release_.get_future().wait();
        }
        return real_->locate(gray, box);
    }
    const models::ModelSpec& spec() const override { return real_->spec(); }

    int calls() const { return calls_.load(); }
    std::future<void> entered() { return entered_.get_future(); }
    void release() { release_.set_value(); }

  private:
    std::shared_ptr<const face::LandmarkProvider> real_;
    bool hold_first_;
    mutable std::atomic<int> calls_{0};
    mutable std::promise<void> entered_;
    mutable std::promise<void> release_;
};

class WorkerPoolTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_NE(dlib_model(), nullptr)
            << "the default landmark model did not load: install libdlib-data";
        auto db = tasks::open_sqlite((dir_ / "tasks.db").string());
        ASSERT_TRUE(db) << db.error().message;
        store_ = std::make_shared<tasks::SqliteTaskStore>(*db);
        queue_ = std::make_shared<tasks::SqliteTaskQueue>(*db);
        // The store serve uses by default.
        auto blobs = storage::SegmentBlobStore::open(dir_ / "segments");
        ASSERT_TRUE(blobs) << blobs.error().message;
        blobs_ = *blobs;
        service_ =
            std::make_unique<tasks::TaskService>(store_, queue_, blobs_, tasks::ServiceConfig{});
    }

    std::unique_ptr<WorkerPool> start_pool(std::shared_ptr<const face::LandmarkProvider> model,
                                           int batch_size,
                                           std::size_t source_face_cache_bytes = 64u << 20) {
        WorkerConfig config;
        config.worker_id = "test-worker";
        config.slots = 1;
        config.batch_size = batch_size;
        config.source_face_cache_bytes = source_face_cache_bytes;
        config.poll_wait = 50ms;
        config.backoff_base = 10ms;
        config.backoff_max = 20ms;
        config.policy.provenance_text.clear();
        auto pool = std::make_unique<WorkerPool>(store_, queue_, blobs_, std::move(model), config);
        pool->start();
        return pool;
    }

    std::string submit_swap() {
        const auto source = bytes_of(test::face("man_luciano_codait.png"));
        const auto target = bytes_of(test::face("obama_official_portrait_2012.jpg"));
        tasks::SubmitRequest request;
        request.tenant = "t";
        request.source = source;
        request.target = target;
        auto created = service_->submit(request);
        EXPECT_TRUE(created) << created.error().message;
        return created ? created->task.id : "";
    }

    std::vector<std::uint8_t> result_of(const std::string& id) {
        auto result = service_->result("t", id);
        EXPECT_TRUE(result) << result.error().message;
        return result ? result->bytes : std::vector<std::uint8_t>{};
    }

    tasks::Task wait_finished(const std::string& id) {
        auto task = service_->wait("t", id, 60s);
        EXPECT_TRUE(task) << task.error().message;
        if (!task) return {};
        EXPECT_TRUE(tasks::is_terminal(task->state))
            << "still " << tasks::state_name(task->state) << " after 60 s";
        return *task;
    }

    test::TempDir dir_;
    std::shared_ptr<tasks::TaskStore> store_;
    std::shared_ptr<tasks::TaskQueue> queue_;
    std::shared_ptr<storage::BlobStore> blobs_;
    std::unique_ptr<tasks::TaskService> service_;
};

double source_face_lookups(const std::string& result) {
    return obs::Registry::global()
        .counter("facefuse_source_face_cache_total", "Source face lookups in the worker's cache",
                 {"result"})
        .labels({result})
        .value();
}

double out_of_memory_retries() {
    return obs::Registry::global()
        .counter("facefuse_task_retries_total", "Task runs retried after a transient error",
                 {"reason"})
        .labels({"out_of_memory"})
        .value();
}

TEST_F(WorkerPoolTest, ModelOutOfMemoryRetriesTheTaskInASmallerBatchThenSucceeds) {
    const double retries_before = out_of_memory_retries();
    auto pool = start_pool(std::make_shared<OutOfMemoryModel>(dlib_model(), 1), 4);
    ASSERT_EQ(pool->batch_size(), 4);

    const tasks::Task task = wait_finished(submit_swap());
    EXPECT_EQ(task.state, tasks::TaskState::kSucceeded) << (task.error ? task.error->message : "");
    EXPECT_EQ(task.attempts, 2) << "the first run hit the injected out-of-memory error";
    EXPECT_FALSE(task.error.has_value()) << "a success clears the error of the failed attempt";
    EXPECT_EQ(out_of_memory_retries() - retries_before, 1);
    EXPECT_EQ(pool->batch_size(), 2) << "after out of memory a slot leases half as many tasks";
}

TEST_F(WorkerPoolTest, OutOfMemoryOnEveryAttemptEndsFailedAfterMaxAttempts) {
    auto pool = start_pool(std::make_shared<OutOfMemoryModel>(dlib_model(), 1000), 1);
    const tasks::Task task = wait_finished(submit_swap());
    EXPECT_EQ(task.state, tasks::TaskState::kFailed);
    EXPECT_EQ(task.attempts, 3);
    ASSERT_TRUE(task.error.has_value());
    EXPECT_EQ(task.error->code, "out_of_memory");
    EXPECT_EQ(pool->batch_size(), 1) << "never below one";
}

TEST_F(WorkerPoolTest, ReloadLetsTheTaskInFlightFinishOnTheModelItStartedWith) {
    auto old_model = std::make_shared<GatedModel>(dlib_model(), true);
    auto new_model = std::make_shared<GatedModel>(dlib_model(), false);
    auto pool = start_pool(old_model, 1);
    auto entered = old_model->entered();

    const std::string first = submit_swap();
    ASSERT_EQ(entered.wait_for(60s), std::future_status::ready)
        << "the first task never reached the model";
    pool->use_landmarker(new_model);  // the reload, while the first task is inside the old model
    old_model->release();
    EXPECT_EQ(wait_finished(first).state, tasks::TaskState::kSucceeded);
    const int old_calls = old_model->calls();
    EXPECT_GE(old_calls, 2) << "source and target faces of the first task both on the old model";
    EXPECT_EQ(new_model->calls(), 0) << "the task in flight must not switch models midway";

    EXPECT_EQ(wait_finished(submit_swap()).state, tasks::TaskState::kSucceeded);
    EXPECT_GE(new_model->calls(), 2)
        << "tasks leased after the reload run on the new model, the source face "
           "too (the cache keeps faces per model generation)";
    EXPECT_EQ(old_model->calls(), old_calls);
}

// Both test photos show one face: a task that analyses its source calls the model twice, one
// whose source face comes from the cache once.
TEST_F(WorkerPoolTest, ARepeatedSourceIsAnalysedOnceAndSwapsTheSame) {
    auto model = std::make_shared<GatedModel>(dlib_model(), false);
    auto pool = start_pool(model, 1);
    const double hits_before = source_face_lookups("hit");
    const double misses_before = source_face_lookups("miss");

    const std::string first = submit_swap();
    ASSERT_EQ(wait_finished(first).state, tasks::TaskState::kSucceeded);
    EXPECT_EQ(model->calls(), 2) << "source and target analysed";
    EXPECT_EQ(pool->cached_source_faces(), 1u);

    const std::string second = submit_swap();
    ASSERT_EQ(wait_finished(second).state, tasks::TaskState::kSucceeded);
    EXPECT_EQ(model->calls(), 3) << "only the target analysed: the source face came from the cache";
    EXPECT_EQ(source_face_lookups("miss") - misses_before, 1);
    EXPECT_EQ(source_face_lookups("hit") - hits_before, 1);
    const auto first_result = result_of(first);
    ASSERT_FALSE(first_result.empty());
    EXPECT_EQ(first_result, result_of(second))
        << "a cached source face must swap exactly like a fresh one";

    // Without the cache the source is decoded and analysed every time, and swaps the same.
    pool.reset();
    auto uncached = start_pool(model, 1, 0);
    const std::string third = submit_swap();
    ASSERT_EQ(wait_finished(third).state, tasks::TaskState::kSucceeded);
    EXPECT_EQ(model->calls(), 5);
    EXPECT_EQ(first_result, result_of(third)) << "results must not depend on what the cache holds";
}

TEST_F(WorkerPoolTest, WithTheSourceFaceCacheOffEveryTaskAnalysesItsSource) {
    auto model = std::make_shared<GatedModel>(dlib_model(), false);
    auto pool = start_pool(model, 1, 0);
    ASSERT_EQ(wait_finished(submit_swap()).state, tasks::TaskState::kSucceeded);
    ASSERT_EQ(wait_finished(submit_swap()).state, tasks::TaskState::kSucceeded);
    EXPECT_EQ(model->calls(), 4);
    EXPECT_EQ(pool->cached_source_faces(), 0u);
}

}  // namespace
}  // namespace facefuse::worker
