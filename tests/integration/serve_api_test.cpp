// The embedded shape's API, end to end against a real `facefuse serve` process.
#include <gtest/gtest.h>

#include <future>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <thread>

#include "integration/serve_fixture.hpp"
#include "storage/fs/fs_blob_store.hpp"
#include "storage/segments/segment_blob_store.hpp"
#include "storage/sqlite/sqlite_blob_store.hpp"

namespace facefuse::test {
namespace {

class ServeApiTest : public ::testing::Test {
  protected:
    TempDir dir;
};

TEST_F(ServeApiTest, SubmitPollFetch) {
    ServeProcess serve(dir / "data", {"--workers", "2"});
    const HttpResponse submitted =
        http_post_form(serve.url("/v1/swaps"), swap_form(), {"X-Request-Id: req-123"});
    ASSERT_EQ(submitted.status, 202) << submitted.body;
    EXPECT_EQ(submitted.header("x-request-id"), "req-123");
    const auto task = json_of(submitted);
    const std::string id = task["id"];
    EXPECT_EQ(submitted.header("location"), "/v1/tasks/" + id);
    EXPECT_EQ(task["links"]["self"], "/v1/tasks/" + id);

    const auto done = poll_task(serve, id, finished);
    ASSERT_EQ(done["status"], "succeeded") << done.dump();
    EXPECT_EQ(done["attempts"], 1);
    EXPECT_EQ(done["progress"], 1.0);

    const HttpResponse result = http_get(serve.url("/v1/tasks/" + id + "/result"));
    ASSERT_EQ(result.status, 200);
    // No output_format: the result keeps the JPEG target's format.
    EXPECT_EQ(result.header("content-type"), "image/jpeg");
    ASSERT_GE(result.body.size(), 3u);
    EXPECT_EQ(result.body.substr(0, 3), "\xFF\xD8\xFF");
    const cv::Mat image =
        cv::imdecode(std::vector<uchar>(result.body.begin(), result.body.end()), cv::IMREAD_COLOR);
    const cv::Mat target = cv::imread(face("chris_pratt_2018.jpg").string());
    EXPECT_EQ(image.size(), target.size());
}

TEST_F(ServeApiTest, TheResultKeepsTheTargetsFormatUnlessOutputFormatSaysOtherwise) {
    ServeProcess serve(dir / "data", {"--workers", "1"});
    auto png_target = swap_form();
    png_target[1] = {"target", file_bytes(face("woman_smiling_curly_hair.png")), "target.png"};
    struct Case {
        std::string name;
        std::vector<FormPart> form;
        std::string content_type, magic;
    };
    const std::vector<Case> cases = {
        {"png target", png_target, "image/png", "\x89PNG"},
        {"jpeg target, png asked for", swap_form(R"({"output_format": "png"})"), "image/png",
         "\x89PNG"},
        {"jpeg target, null", swap_form(R"({"output_format": null})"), "image/jpeg",
         "\xFF\xD8\xFF"},
        {"jpeg target, webp asked for", swap_form(R"({"output_format": "webp"})"), "image/webp",
         "RIFF"},
    };
    for (const auto& c : cases) {
        const HttpResponse done = http_post_form(serve.url("/v1/swaps?wait=60"), c.form);
        ASSERT_EQ(done.status, 200) << c.name << ": " << done.body;
        const auto task = json_of(done);
        const HttpResponse result =
            http_get(serve.url("/v1/tasks/" + task["id"].get<std::string>() + "/result"));
        ASSERT_EQ(result.status, 200) << c.name;
        EXPECT_EQ(result.header("content-type"), c.content_type) << c.name;
        EXPECT_EQ(result.body.substr(0, c.magic.size()), c.magic) << c.name;
    }
    const HttpResponse bad =
        http_post_form(serve.url("/v1/swaps"), swap_form(R"({"output_format": "gif"})"));
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_NE(
        json_of(bad)["error"]["message"].get<std::string>().find("null (the target's format)"),
        std::string::npos)
        << bad.body;
}

TEST_F(ServeApiTest, WaitReturnsTheFinishedTaskOrItsError) {
    ServeProcess serve(dir / "data", {"--workers", "1"});
    const HttpResponse ok = http_post_form(serve.url("/v1/swaps?wait=60"), noop_form());
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(json_of(ok)["status"], "succeeded");

    auto no_face = swap_form();
    no_face[0].data = file_bytes(face("noface_coffee.png"));
    const HttpResponse failed = http_post_form(serve.url("/v1/swaps?wait=60"), no_face);
    EXPECT_EQ(failed.status, 422) << failed.body;
    EXPECT_EQ(json_of(failed)["error"]["code"], "no_face_in_source");
    EXPECT_FALSE(failed.header("location").empty());
}

TEST_F(ServeApiTest, EventsStreamStatesUntilFinished) {
    ServeProcess serve(dir / "data", {"--workers", "1"});
    const std::string id = json_of(http_post_form(serve.url("/v1/swaps"), swap_form()))["id"];
    const HttpResponse events = http_get(serve.url("/v1/tasks/" + id + "/events"));
    ASSERT_EQ(events.status, 200);
    EXPECT_EQ(events.header("content-type"), "text/event-stream");
    EXPECT_NE(events.body.find("event: state"), std::string::npos);
    // The stream ends with the terminal state.
    const size_t last = events.body.rfind("data: ");
    ASSERT_NE(last, std::string::npos);
    const auto final_state = nlohmann::json::parse(events.body.substr(last + 6));
    EXPECT_EQ(final_state["status"], "succeeded");
}

TEST_F(ServeApiTest, HundredConcurrentSubmitsWithOneKeyMakeOneTask) {
    ServeProcess serve(dir / "data", {"--workers", "0", "--max-connections", "256"});
    const auto form = noop_form();
    std::vector<std::future<HttpResponse>> replies;
    for (int i = 0; i < 100; ++i) {
        replies.push_back(std::async(std::launch::async, [&] {
            return http_post_form(serve.url("/v1/swaps"), form, {"Idempotency-Key: one-key"});
        }));
    }
    std::set<std::string> ids;
    int replayed = 0;
    for (auto& f : replies) {
        const HttpResponse r = f.get();
        ASSERT_EQ(r.status, 202) << r.body;
        ids.insert(json_of(r)["id"].get<std::string>());
        if (r.header("idempotency-replayed") == "true") ++replayed;
    }
    EXPECT_EQ(ids.size(), 1u);
    EXPECT_EQ(replayed, 99);
    const auto list = json_of(http_get(serve.url("/v1/tasks?limit=100")));
    EXPECT_EQ(list["tasks"].size(), 1u);

    // The same key with another body is a conflict.
    const HttpResponse other =
        http_post_form(serve.url("/v1/swaps"), swap_form(), {"Idempotency-Key: one-key"});
    EXPECT_EQ(other.status, 409);
    EXPECT_EQ(json_of(other)["error"]["code"], "idempotency_conflict");
}

TEST_F(ServeApiTest, CancelQueuedTaskAtOnce) {
    ServeProcess serve(dir / "data", {"--workers", "0"});
    const std::string id = json_of(http_post_form(serve.url("/v1/swaps"), noop_form()))["id"];
    const HttpResponse cancelled = http_delete(serve.url("/v1/tasks/" + id));
    ASSERT_EQ(cancelled.status, 200) << cancelled.body;
    EXPECT_EQ(json_of(cancelled)["status"], "cancelled");
    const HttpResponse result = http_get(serve.url("/v1/tasks/" + id + "/result"));
    EXPECT_EQ(result.status, 409);
}

TEST_F(ServeApiTest, ResultWhileQueuedIs409) {
    ServeProcess serve(dir / "data", {"--workers", "0"});
    const std::string id = json_of(http_post_form(serve.url("/v1/swaps"), noop_form()))["id"];
    const HttpResponse r = http_get(serve.url("/v1/tasks/" + id + "/result"));
    EXPECT_EQ(r.status, 409);
    EXPECT_EQ(json_of(r)["error"]["code"], "not_finished");
}

// The blob store `serve --blob-store KIND` keeps in `data`. Only while serve is stopped: a
// running serve holds its SQLite files exclusively.
std::shared_ptr<storage::BlobStore> open_blobs(const std::string& kind,
                                               const std::filesystem::path& data) {
    if (kind == "files") return std::make_shared<storage::FsBlobStore>(data / "blobs");
    if (kind == "segments") {
        auto opened = storage::SegmentBlobStore::open(data / "segments");
        EXPECT_TRUE(opened.ok()) << opened.error().message;
        return opened.ok() ? *opened : nullptr;
    }
    auto opened = storage::SqliteBlobStore::open(data / "blobs.db", 1);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened.ok() ? *opened : nullptr;
}

// Every blob store of `serve`: segment files (the default), the SQLite file, one file per image.
// The three run at once, each with its own serve and directory: the test waits out a TTL.
TEST_F(ServeApiTest, ExpiredTasksAnswer410AndTheirImagesAreDeleted) {
    auto check = [this](const std::string& store) {
        SCOPED_TRACE("--blob-store " + store);
        const auto data = dir / ("data-" + store);
        // A task answers 410 from one TTL after it was created until its record goes one TTL
        // later; the TTL leaves that window open across the restart below even when a sanitizer
        // build takes several seconds to load the model.
        const std::vector<std::string> args = {"--workers",    "1",  "--task-ttl", "12s",
                                               "--blob-store", store};
        auto serve = std::make_unique<ServeProcess>(data, args);
        const HttpResponse r = http_post_form(serve->url("/v1/swaps?wait=60"), noop_form());
        ASSERT_EQ(r.status, 200) << r.body;
        const std::string id = json_of(r)["id"];
        const std::string target_key = storage::blob_key("local", id, "target", "jpeg");
        const std::string result_key = storage::blob_key("local", id, "result", "jpeg");
        // The keys are right: both images are there before the task expires. serve stops for the
        // look (only a running serve deletes anything) and starts again on the same data.
        ASSERT_EQ(serve->terminate(), 0);
        {
            auto blobs = open_blobs(store, data);
            ASSERT_TRUE(blobs);
            for (const std::string& key : {target_key, result_key}) {
                auto there = blobs->exists(key);
                EXPECT_TRUE(there.ok() && *there) << key;
            }
        }
        serve = std::make_unique<ServeProcess>(data, args);
        const auto gone = poll_task(
            *serve, id, [](const nlohmann::json& t) { return t.value("http_status", 0) == 410; },
            std::chrono::seconds(30));
        EXPECT_EQ(gone.value("http_status", 0), 410);
        EXPECT_EQ(http_get(serve->url("/v1/tasks/" + id + "/result")).status, 410);
        // Neither the uploaded target nor the result is left in the store.
        ASSERT_EQ(serve->terminate(), 0);
        auto blobs = open_blobs(store, data);
        ASSERT_TRUE(blobs);
        for (const std::string& key : {target_key, result_key}) {
            auto exists = blobs->exists(key);
            ASSERT_TRUE(exists.ok()) << exists.error().message;
            EXPECT_FALSE(*exists) << key << " of an expired task remains";
        }
    };
    std::vector<std::thread> runs;
    for (const std::string store : {"segments", "sqlite", "files"}) runs.emplace_back(check, store);
    for (auto& run : runs) run.join();
}

TEST_F(ServeApiTest, BadRequestsGetTheRightStatus) {
    ServeProcess serve(dir / "data", {"--workers", "0", "--max-image-bytes", "200000"});
    // 415: not multipart; and text posing as an image.
    EXPECT_EQ(http_post_raw(serve.url("/v1/swaps"), "{}", "application/json").status, 415);
    auto text = noop_form();
    text[0].data = "this is not an image";
    const HttpResponse text_reply = http_post_form(serve.url("/v1/swaps"), text);
    EXPECT_EQ(text_reply.status, 415);
    EXPECT_EQ(json_of(text_reply)["error"]["code"], "unsupported_format");
    // 413: a body over the cap (2 x 200 kB + 1 MiB) is refused from its Content-Length.
    auto huge = noop_form();
    huge[0].data = std::string(3u << 20, 'x');
    EXPECT_EQ(http_post_form(serve.url("/v1/swaps"), huge).status, 413);
    // 413: an image over the per-image cap.
    auto big_image = noop_form();
    big_image[0].data = file_bytes(face("astronaut_eileen_collins_nasa.png"));  // 790 kB
    const HttpResponse big = http_post_form(serve.url("/v1/swaps"), big_image);
    EXPECT_EQ(big.status, 413) << big.body;
    // 400: bad options, naming the key.
    auto bad = noop_form();
    bad[1].data = R"({"fusion_degree": 7})";
    const HttpResponse bad_reply = http_post_form(serve.url("/v1/swaps"), bad);
    EXPECT_EQ(bad_reply.status, 400);
    EXPECT_NE(bad_reply.body.find("fusion_degree"), std::string::npos);
    // 400: empty target.
    auto empty = noop_form();
    empty[0].data.clear();
    EXPECT_EQ(http_post_form(serve.url("/v1/swaps"), empty).status, 400);
    // 404: unknown task and unknown endpoint.
    EXPECT_EQ(http_get(serve.url("/v1/tasks/0123456789abcdef0123456789abcdef")).status, 404);
    EXPECT_EQ(http_get(serve.url("/v2/nothing")).status, 404);
    // The server still serves after all that.
    EXPECT_EQ(http_get(serve.url("/healthz")).status, 200);
}

TEST_F(ServeApiTest, FullQueueAnswers429WithRetryAfter) {
    ServeProcess serve(dir / "data", {"--workers", "0", "--queue-max", "2"});
    EXPECT_EQ(http_post_form(serve.url("/v1/swaps"), noop_form()).status, 202);
    EXPECT_EQ(http_post_form(serve.url("/v1/swaps"), noop_form()).status, 202);
    const HttpResponse full = http_post_form(serve.url("/v1/swaps"), noop_form());
    EXPECT_EQ(full.status, 429) << full.body;
    EXPECT_FALSE(full.header("retry-after").empty());
    EXPECT_EQ(json_of(full)["error"]["code"], "queue_full");
    // Other lanes are bounded separately.
    EXPECT_EQ(http_post_form(serve.url("/v1/swaps?priority=vip"), noop_form()).status, 202);
}

// A client that retries a 429 with its Idempotency-Key, as it should, gets its task once there
// is room. (Refused tasks used to be stored as failed with queue_full under that key, and every
// retry for a day replayed that failure.)
TEST_F(ServeApiTest, ARetryOfA429WithTheSameIdempotencyKeyCreatesTheTask) {
    ServeProcess serve(dir / "data", {"--workers", "0", "--queue-max", "1"});
    const HttpResponse first = http_post_form(serve.url("/v1/swaps"), noop_form());
    ASSERT_EQ(first.status, 202) << first.body;
    const HttpResponse full =
        http_post_form(serve.url("/v1/swaps"), noop_form(), {"Idempotency-Key: k-1"});
    ASSERT_EQ(full.status, 429) << full.body;
    // Nothing of the refused request was kept.
    EXPECT_EQ(json_of(http_get(serve.url("/v1/tasks")))["tasks"].size(), 1u);

    // Room again: the first task is cancelled while queued, which takes it off the queue.
    ASSERT_EQ(http_delete(serve.url("/v1/tasks/" + std::string(json_of(first)["id"]))).status, 200);
    const HttpResponse retried =
        http_post_form(serve.url("/v1/swaps"), noop_form(), {"Idempotency-Key: k-1"});
    ASSERT_EQ(retried.status, 202) << retried.body;
    EXPECT_TRUE(retried.header("idempotency-replayed").empty()) << "a new task, not a replay";
    EXPECT_EQ(json_of(retried)["status"], "queued");
    // And from now on the key replays that task.
    const HttpResponse replay =
        http_post_form(serve.url("/v1/swaps"), noop_form(), {"Idempotency-Key: k-1"});
    ASSERT_EQ(replay.status, 202) << replay.body;
    EXPECT_EQ(replay.header("idempotency-replayed"), "true");
    EXPECT_EQ(json_of(replay)["id"], json_of(retried)["id"]);
}

TEST_F(ServeApiTest, ListsTheCallersTasksNewestFirstInPages) {
    ServeProcess serve(dir / "data", {"--workers", "0"});
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i)
        ids.push_back(json_of(http_post_form(serve.url("/v1/swaps"), noop_form()))["id"]);
    const auto first = json_of(http_get(serve.url("/v1/tasks?limit=3")));
    ASSERT_EQ(first["tasks"].size(), 3u);
    const std::string cursor = first["next_cursor"];
    ASSERT_FALSE(cursor.empty());
    const auto second = json_of(http_get(serve.url("/v1/tasks?limit=3&cursor=" + cursor)));
    ASSERT_EQ(second["tasks"].size(), 2u);
    // Every task exactly once over the two pages, newest first. Tasks created within the same
    // millisecond tie on created_at (ids break the tie), so order is checked by time.
    std::vector<std::string> listed;
    std::string previous_created = "9999";
    for (const auto* page : {&first, &second}) {
        for (const auto& task : (*page)["tasks"]) {
            listed.push_back(task["id"]);
            const std::string created = task["created_at"];
            EXPECT_LE(created, previous_created) << "not newest first";
            previous_created = created;
        }
    }
    EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()),
              std::set<std::string>(ids.begin(), ids.end()));
    EXPECT_EQ(listed.size(), 5u);
}

TEST_F(ServeApiTest, CapabilitiesVersionAndHealth) {
    ServeProcess serve(dir / "data", {"--workers", "0"});
    const auto caps = json_of(http_get(serve.url("/v1/capabilities")));
    EXPECT_NE(caps["processors"].dump().find("face_swapper"), std::string::npos);
    EXPECT_NE(caps["processors"].dump().find("noop"), std::string::npos);
    EXPECT_TRUE(caps["limits"].contains("max_image_pixels"));
    EXPECT_EQ(http_get(serve.url("/version")).status, 200);
    EXPECT_EQ(http_get(serve.url("/healthz")).status, 200);
    EXPECT_EQ(http_get(serve.url("/readyz")).status, 200);
}

}  // namespace
}  // namespace facefuse::test
