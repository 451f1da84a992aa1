// What a worker does with one leased task. Every state change is a compare-and-set in the
// store, and every stage boundary checks for cancel and for a lost lease, so a task that runs
// twice (lost lease) or is cancelled mid-way never ends in two terminal states.
#include <algorithm>
#include <opencv2/core.hpp>
#include <random>

#include "common/clock.hpp"
#include "common/stopwatch.hpp"
#include "fusion/options_json.hpp"
#include "fusion/pipeline.hpp"
#include "fusion/processor.hpp"
#include "image/decode.hpp"
#include "image/encode.hpp"
#include "image/watermark.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "worker/out_of_memory.hpp"
#include "worker/slot.hpp"
#include "worker/worker_pool.hpp"

namespace facefuse::worker {
namespace {

using tasks::Task;
using tasks::TaskState;

// Errors that a second try cannot fix: the input or the request is at fault.
bool is_permanent(ErrorCode code) {
    switch (code) {
        case ErrorCode::kUsage:
        case ErrorCode::kEmptyInput:
        case ErrorCode::kUnsupportedFormat:
        case ErrorCode::kInvalidImage:
        case ErrorCode::kImageTooLarge:
        case ErrorCode::kNoFaceInSource:
        case ErrorCode::kNoFaceInTarget:
        case ErrorCode::kFaceNotFound:
        case ErrorCode::kNotFound:
        case ErrorCode::kContentRejected:
            return true;
        default:
            return false;
    }
}

struct Metrics {
    obs::Family<obs::Counter>& finished = obs::Registry::global().counter(
        "facefuse_tasks_finished_total", "Tasks that reached a terminal state", {"kind", "status"});
    obs::Family<obs::Counter>& retries = obs::Registry::global().counter(
        "facefuse_task_retries_total", "Task runs retried after a transient error", {"reason"});
    obs::Family<obs::Counter>& dead = obs::Registry::global().counter(
        "facefuse_dead_letters_total", "Tasks given up after max attempts");
    obs::Family<obs::Histogram>& queue_wait = obs::Registry::global().histogram(
        "facefuse_task_queue_wait_seconds", "Time from submit to a worker starting the task");
    obs::Family<obs::Histogram>& process = obs::Registry::global().histogram(
        "facefuse_task_process_seconds", "Time per processing stage", {"stage"});
    obs::Family<obs::Counter>& moderation =
        obs::Registry::global().counter("facefuse_moderation_decisions_total",
                                        "Content policy decisions on task inputs", {"verdict"});
    obs::Family<obs::Counter>& source_faces =
        obs::Registry::global().counter("facefuse_source_face_cache_total",
                                        "Source face lookups in the worker's cache", {"result"});
    obs::Family<obs::Gauge>& source_face_bytes = obs::Registry::global().gauge(
        "facefuse_source_face_cache_bytes",
        "Memory the worker's source face cache holds (its --source-face-cache bound)");
};

Metrics& metrics() {
    static Metrics m;
    return m;
}

// Whether any of the processors swaps in a source face (unknown names fail later, in run_swap).
bool uses_source_face(const std::vector<std::string>& processors) {
    return std::any_of(processors.begin(), processors.end(), [](const std::string& name) {
        auto processor = fusion::find_processor(name);
        return processor && (*processor)->needs_source();
    });
}

}  // namespace

void WorkerPool::process(Slot& slot, tasks::Lease& lease) {
    const std::string& id = lease.task_id;
    auto finish_terminal = [&](TaskState to, std::optional<tasks::TaskError> error) {
        auto done = store_->transition(id, {TaskState::kRunning}, [&](Task& t) {
            t.state = to;
            t.error = std::move(error);
            t.finished_at_ms = unix_now_ms();
        });
        if (done) metrics().finished.labels({done->kind, std::string(tasks::state_name(to))}).inc();
        (void)queue_->ack(lease);
    };
    auto abandoned = [&] { return slot.lease_lost.load() || releasing_.load(); };

    // One compare-and-set both reads and claims the task (no separate read first).
    auto running = store_->transition(id, {TaskState::kQueued, TaskState::kRunning}, [&](Task& t) {
        t.state = TaskState::kRunning;
        t.attempts += 1;
        t.started_at_ms = unix_now_ms();
        t.progress = 0;
    });
    if (!running) {
        const ErrorCode code = running.error().code;
        // Finished already (e.g. cancelled while queued) or gone (expired): nothing to do.
        // Store unreachable: try again later.
        if (code == ErrorCode::kConflict || code == ErrorCode::kNotFound)
            (void)queue_->ack(lease);
        else
            (void)queue_->retry(lease, unix_now_ms() + config_.backoff_base.count());
        return;
    }
    Task task = running.value();
    if (task.attempts == 1)
        metrics().queue_wait.get().observe(
            std::max<std::int64_t>(0, task.started_at_ms - task.created_at_ms) / 1000.0);
    obs::log_info("task_started", {{"task_id", id},
                                   {"tenant", task.tenant},
                                   {"attempt", task.attempts},
                                   {"worker_id", config_.worker_id}});

    // Any failure goes through here: permanent -> failed; transient -> retry or dead letter.
    auto fail = [&](const Error& error) {
        if (error.code == ErrorCode::kOutOfMemory) slot.out_of_memory = true;
        const tasks::TaskError recorded{std::string(error.code_name()), error.message};
        if (is_permanent(error.code) || error.code == ErrorCode::kCancelled) {
            const bool cancelled = error.code == ErrorCode::kCancelled;
            finish_terminal(cancelled ? TaskState::kCancelled : TaskState::kFailed,
                            cancelled ? std::optional<tasks::TaskError>()
                                      : std::optional<tasks::TaskError>(recorded));
            obs::log_info("task_failed", {{"task_id", id}, {"code", recorded.code}});
            return;
        }
        if (task.attempts >= task.max_attempts) {
            finish_terminal(TaskState::kFailed, recorded);
            (void)queue_->dead_letter(lease, recorded.code + ": " + recorded.message);
            metrics().dead.get().inc();
            obs::log_error("task_dead_lettered",
                           {{"task_id", id}, {"code", recorded.code}, {"attempts", task.attempts}});
            return;
        }
        // Exponential backoff with full jitter: retries of many tasks failing together (a
        // storage outage) spread out instead of arriving as one wave.
        const auto ceiling =
            std::min(config_.backoff_max.count(), config_.backoff_base.count()
                                                      << std::min(task.attempts - 1, 16));
        static thread_local std::mt19937_64 random{std::random_device{}()};
        const std::int64_t delay =
            std::uniform_int_distribution<std::int64_t>(ceiling / 2, ceiling)(random);
        (void)store_->transition(id, {TaskState::kRunning}, [&](Task& t) {
            t.state = TaskState::kQueued;
            t.error = recorded;
        });
        (void)queue_->retry(lease, unix_now_ms() + delay);
        metrics().retries.labels({recorded.code}).inc();
        obs::log_warn("task_retry",
                      {{"task_id", id}, {"code", recorded.code}, {"delay_ms", delay}});
    };
    // Stage boundary: stop for a lost lease (write nothing) or a cancel request.
    auto should_stop = [&]() -> std::optional<Error> {
        if (abandoned()) return make_error(ErrorCode::kLeaseLost, "lease lost");
        auto now = store_->get("", id);
        if (now && now->cancel_requested) return make_error(ErrorCode::kCancelled, "cancelled");
        return std::nullopt;
    };
    auto stop_or_fail = [&](const Error& e) {
        if (e.code == ErrorCode::kLeaseLost) {
            if (releasing_) (void)queue_->retry(lease, 0);  // shutting down: give it back now
            return;
        }
        fail(e);
    };

    Stopwatch clock;  // per stage (lap_ms)
    Stopwatch total;
    auto options = fusion::parse_job_options(task.options_json);
    if (!options) return fail(options.error());
    std::vector<std::uint8_t> result;
    const bool is_noop = options->processors == std::vector<std::string>{"noop"};
    const bool moderated = config_.policy.classifier &&
                           config_.policy.moderation != fusion::moderation::ModerationMode::kOff;

    auto target_bytes = blobs_->get(task.target_key);
    if (!target_bytes) return fail(target_bytes.error());
    // No output_format asked for: the result keeps the target's format (the gateway accepted
    // only bytes it recognised; PNG is the fallback should a record predate that check).
    // `noop` returns the target's bytes as they are, so its result is always in their format.
    const image::ImageFormat target_format =
        image::sniff_format(*target_bytes).value_or(image::ImageFormat::kPng);
    const image::ImageFormat format =
        is_noop ? target_format : options->output_format.value_or(target_format);
    // Decoded only when something looks at pixels: `noop` without moderation never decodes.
    fusion::SwapJob job;
    std::string source_face_key;  // set once the source is read, if a processor swaps its face in
    std::optional<fusion::SourceFace> cached_source;
    if (!is_noop || moderated) {
        auto target = image::decode_image(*target_bytes, config_.limits, "target");
        if (!target) return fail(target.error());
        job.target = std::move(target.value());
        if (!task.source_key.empty()) {
            auto source_bytes = blobs_->get(task.source_key);
            if (!source_bytes) return fail(source_bytes.error());
            if (!is_noop && uses_source_face(options->processors)) {
                source_face_key = SourceFaceCache::key_for(task.tenant, *source_bytes,
                                                           options->swap.source_face_position,
                                                           slot.model_generation);
                cached_source = source_faces_.find(source_face_key);
            }
            // A hit holds the pixels the swap reads: the source is decoded only for a miss, or
            // for moderation, which looks at the whole photo. These bytes decoded before.
            if (!cached_source || moderated) {
                auto source = image::decode_image(*source_bytes, config_.limits, "source");
                if (!source) return fail(source.error());
                job.source = std::move(source.value());
            }
        }
        metrics().process.labels({"decode"}).observe(clock.lap_ms() / 1000);
    }
    if (moderated) {
        // Before any processing: a rejected input is never swapped, and is not kept.
        auto decision =
            fusion::moderation::moderate(config_.policy.classifier.get(), config_.policy.moderation,
                                         config_.policy.moderation_threshold,
                                         {&job.target, job.source.empty() ? nullptr : &job.source});
        if (!decision) return fail(decision.error());
        metrics().moderation.labels({decision->verdict}).inc();
        (void)store_->transition(id, {TaskState::kRunning},
                                 [&](Task& t) { t.moderation = decision->to_json(); });
        obs::log_info(
            "task_moderated",
            {{"task_id", id}, {"verdict", decision->verdict}, {"score", decision->score}});
        metrics().process.labels({"moderation"}).observe(clock.lap_ms() / 1000);
        if (decision->rejected()) {
            for (const std::string* key : {&task.target_key, &task.source_key})
                if (!key->empty()) (void)blobs_->remove(*key);
            return fail(fusion::moderation::rejection_error(*decision));
        }
    }
    if (is_noop) {
        // `noop` copies the target: its bytes become the result as they are, so it measures
        // the service (queue, store, blobs, HTTP), not image codecs. Not a swap: no marker.
        result = std::move(target_bytes.value());
    } else {
        job.options = options->swap;
        job.processors = options->processors;
        (void)store_->set_progress(id, 0.2);
        if (auto stop = should_stop()) return stop_or_fail(*stop);

        StageTimings timings;
        Result<cv::Mat> output = make_error(ErrorCode::kInternal, "not run");
        try {
            // The source face and the pixels around it from the cache, or analysed here and
            // kept for the next task that brings the same source (run_swap would analyse it
            // every time). A miss swaps from the same crop a hit would: results do not depend
            // on what the cache held.
            if (!source_face_key.empty()) {
                if (cached_source) {
                    metrics().source_faces.labels({"hit"}).inc();
                } else {
                    auto face = fusion::analyse_source(job.source, job.options.source_face_position,
                                                       *slot.analyser);
                    if (!face) return fail(face.error());
                    cached_source = fusion::crop_source_face(job.source, *face);
                    source_faces_.insert(source_face_key, *cached_source);
                    metrics().source_faces.labels({"miss"}).inc();
                    metrics().source_face_bytes.get().set(
                        static_cast<double>(source_faces_.bytes()));
                }
                job.source = cached_source->image;
                job.source_face = cached_source->face;
            }
            output = fusion::run_swap(job, *slot.analyser, &timings);
        } catch (const std::exception& e) {
            // Out of memory (host or accelerator) is transient: retried later in a smaller
            // batch. Anything else thrown is a bug, not the input's fault.
            if (is_out_of_memory(e))
                return fail(make_error(ErrorCode::kOutOfMemory,
                                       std::string("out of memory while processing: ") + e.what()));
            return fail(
                make_error(ErrorCode::kInternal, std::string("processing failed: ") + e.what()));
        }
        if (!output) return fail(output.error());
        metrics().process.labels({"engine"}).observe(clock.lap_ms() / 1000);
        (void)store_->set_progress(id, 0.8);
        if (auto stop = should_stop()) return stop_or_fail(*stop);

        if (!config_.policy.watermark.empty())
            image::draw_visible_watermark(*output, config_.policy.watermark);
        auto encoded = image::encode_image(*output, {format, options->output_quality});
        if (!encoded) return fail(encoded.error());
        result = std::move(encoded.value());
        // Provenance: the result says in its metadata that it is AI-generated.
        if (!config_.policy.provenance_text.empty()) {
            if (Status marked =
                    image::add_provenance_marker(result, format, config_.policy.provenance_text);
                !marked)
                return fail(marked.error());
        }
    }
    // Deterministic key: a second run of this task overwrites the same object.
    const std::string key =
        storage::blob_key(task.tenant, id, "result", image::format_name(format));
    if (Status st = blobs_->put(key, result, image::content_type(format)); !st)
        return fail(st.error());
    metrics().process.labels({"encode_store"}).observe(clock.lap_ms() / 1000);
    if (abandoned()) return stop_or_fail(make_error(ErrorCode::kLeaseLost, "lease lost"));

    auto done = store_->transition(id, {TaskState::kRunning}, [&](Task& t) {
        t.state = TaskState::kSucceeded;
        t.result_key = key;
        t.result_content_type = std::string(image::content_type(format));
        t.progress = 1;
        t.error.reset();
        t.finished_at_ms = unix_now_ms();
    });
    (void)queue_->ack(lease);
    if (done) {
        metrics().finished.labels({task.kind, "succeeded"}).inc();
        obs::log_info("task_succeeded",
                      {{"task_id", id}, {"tenant", task.tenant}, {"ms", total.elapsed_ms()}});
    }
}

}  // namespace facefuse::worker
