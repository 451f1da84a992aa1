// Tests of the shared test helpers (tests/support/test_support.hpp) that every other test uses.
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace facefuse::test {
namespace {

TEST(RunCommand, CapturesStdoutStderrAndExitCode) {
  const CommandResult r = run_command({"/bin/sh", "-c", "echo hi; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << describe(r);
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.term_signal, 0);
}

TEST(RunCommand, LooksUpPathAndPassesArgumentsWithoutShell) {
  const CommandResult r = run_command({"printf", "%s|", "a b", "$HOME", "*"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "a b|$HOME|*|");
}

TEST(RunCommand, FeedsLargeStdinWhileDrainingOutputWithoutDeadlock) {
  // Far more than a pipe buffer in both directions at once.
  std::string data;
  for (int i = 0; data.size() < 4 * 1024 * 1024; ++i) data += "line " + std::to_string(i) + "\n";
  const CommandResult r = run_command({"/bin/sh", "-c", "cat; cat /dev/null >&2"}, data, 60);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.out.size(), data.size());
  EXPECT_TRUE(r.out == data);
}

TEST(RunCommand, ChildThatIgnoresStdinDoesNotBreakTheCaller) {
  const std::string data(1024 * 1024, 'x');
  const CommandResult r = run_command({"/bin/sh", "-c", "exec 0<&-; echo done"}, data);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "done\n");
}

TEST(RunCommand, KillsTheProcessGroupOnTimeout) {
  const auto start = std::chrono::steady_clock::now();
  // The background sleep holds stdout open: only killing the whole group ends the wait.
  const CommandResult r = run_command({"/bin/sh", "-c", "echo started; sleep 30 & sleep 30"}, {}, 1);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.timed_out) << describe(r);
  EXPECT_EQ(r.term_signal, SIGKILL);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_EQ(r.out, "started\n");
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

TEST(RunCommand, ReportsDeathBySignal) {
  const CommandResult r = run_command({"/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.term_signal, SIGTERM) << describe(r);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
}

TEST(RunCommand, MissingProgramGives127) {
  const CommandResult r = run_command({"/nonexistent/facefuse-no-such-program"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("exec failed"), std::string::npos) << r.err;
}

TEST(TempDir, IsCreatedAndRemovedWithItsContents) {
  std::filesystem::path kept;
  {
    const TempDir dir = temp_dir();
    kept = dir.path();
    ASSERT_TRUE(std::filesystem::is_directory(kept));
    std::filesystem::create_directories(dir / "a" / "b");
    std::ofstream(dir / "a" / "b" / "f.txt") << "x";
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}

TEST(SharedData, FacePhotosArePresent) {
  const auto dir = require_faces_dir();
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "expected_faces.tsv"));
}

TEST(Build, FacefuseBinaryIsBuilt) {
  EXPECT_TRUE(std::filesystem::is_regular_file(facefuse_binary())) << facefuse_binary();
}

}  // namespace
}  // namespace facefuse::test
