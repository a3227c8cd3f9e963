// gift's training checkpoint: a checkpoint written with the format's metadata and moments opens
// with the step, block count and shards it was written with; the moments read back bit for bit;
// a resume that differs in a setting, an input, the shards or the step is refused naming what
// differs; a damaged file (no state keys, a count that is not one, a missing or resized moment)
// is refused before anything is sized by it.
#include <boost/test/unit_test.hpp>

#include <gift/error.hpp>
#include <gift/io/safetensors.hpp>
#include <gift/io/training_checkpoint.hpp>

#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

// Every case of this file belongs to the CTest test io_training_checkpoint (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_training_checkpoint)

namespace fs = std::filesystem;
namespace io = gift::io;

namespace {
auto says(const std::string& words) {
  return [words](const gift::error& e) { return std::string(e.what()).find(words) != std::string::npos; };
}

io::training_run a_run() {
  io::training_run run;
  run.settings = {{"gift.lr", "0.001"}, {"gift.seed", "3"}, {"gift.method", "gift_sw"}};
  run.inputs = {{"gift.base_fingerprint", {"00000000000000ff", "another model"}}};
  return run;
}

// Moments with values a float round trip would not keep through a decimal text (NaN included:
// the optimizer's state is stored, not judged).
const std::vector<std::vector<float>> first_moments{{0.1f, -3.5e-20f, 7.0f}, {std::nanf("")}};
const std::vector<std::vector<float>> second_moments{{1e-30f, 2.0f, 0.25f}, {1.0f}};

fs::path write_checkpoint(const std::string& name, const std::map<std::string, std::string>& metadata,
                          std::size_t blocks = 2, bool resize_second = false) {
  io::safetensors_writer writer;
  for (const auto& [key, value] : metadata) writer.set_metadata(key, value);
  gift::matrix<float> weight(2, 2);
  weight << 1, 2, 3, 4;
  writer.add("blk.0.attn_q.weight", weight);
  for (std::size_t b = 0; b < blocks; ++b) {
    const auto& m = first_moments[b];
    auto v = second_moments[b];
    if (resize_second && b == 0) v.push_back(9.0f);
    writer.add_values(io::training_moment_name(b, false), {m.size()}, m);
    writer.add_values(io::training_moment_name(b, true), {v.size()}, v);
  }
  const fs::path folder = fs::temp_directory_path() / ("gift_training_checkpoint_" + std::to_string(::getpid()));
  fs::create_directories(folder);
  writer.write(folder / name);
  return folder / name;
}
}  // namespace

BOOST_AUTO_TEST_CASE(metadata_and_moments_read_back) {
  const auto metadata = io::training_checkpoint_metadata(a_run(), 5, 2, 2);
  BOOST_TEST(metadata.at("gift.step") == "5");
  BOOST_TEST(metadata.at("gift.state.count") == "2");
  BOOST_TEST(metadata.at("gift.shards") == "2");
  BOOST_TEST(metadata.at("gift.base_fingerprint") == "00000000000000ff");
  BOOST_TEST(metadata.at("gift.lr") == "0.001");
  const auto checkpoint = io::training_checkpoint::open(write_checkpoint("good.st", metadata), "resume");
  BOOST_TEST(checkpoint.step() == 5);
  BOOST_TEST(checkpoint.blocks() == 2);
  BOOST_TEST(checkpoint.shards() == 2);
  checkpoint.require_same_run(a_run(), 2, 5);  // the same run resumes
  checkpoint.require_blocks(2);
  for (std::size_t b = 0; b < 2; ++b) {
    const auto moments = checkpoint.read_moments(b, first_moments[b].size());
    BOOST_REQUIRE_EQUAL(moments.first.size(), first_moments[b].size());
    BOOST_TEST(std::memcmp(moments.first.data(), first_moments[b].data(), 4 * moments.first.size()) == 0);
    BOOST_TEST(std::memcmp(moments.second.data(), second_moments[b].data(), 4 * moments.second.size()) == 0);
  }
}

BOOST_AUTO_TEST_CASE(a_different_run_is_refused_naming_what_differs) {
  const auto checkpoint =
      io::training_checkpoint::open(write_checkpoint("run.st", io::training_checkpoint_metadata(a_run(), 5, 2, 2)), "resume");
  auto other = a_run();
  other.settings["gift.lr"] = "0.002";
  BOOST_CHECK_EXCEPTION(checkpoint.require_same_run(other, 2, 5), gift::error,
                        says("was written with lr = 0.001, but this run has 0.002"));
  other = a_run();
  other.settings["gift.clip"] = "1";  // a setting the checkpoint does not record is a difference too
  BOOST_CHECK_EXCEPTION(checkpoint.require_same_run(other, 2, 5), gift::error, says("clip = (none)"));
  other = a_run();
  other.inputs["gift.base_fingerprint"].fingerprint = "00000000000000fe";
  BOOST_CHECK_EXCEPTION(checkpoint.require_same_run(other, 2, 5), gift::error, says("was written from another model"));
  other = a_run();
  other.inputs["gift.salient_fingerprint"] = {"1234", "another salient set"};  // not recorded: nothing to compare
  checkpoint.require_same_run(other, 2, 5);
  BOOST_CHECK_EXCEPTION(checkpoint.require_same_run(a_run(), 1, 5), gift::error,
                        says("written with 2 shard(s), but this run has 1"));
  BOOST_CHECK_EXCEPTION(checkpoint.require_same_run(a_run(), 2, 4), gift::error, says("is at step 5, outside [0, 4]"));
  BOOST_CHECK_EXCEPTION(checkpoint.require_blocks(3), gift::error, says("gift.state.count = 2, but this run trains 3"));
  BOOST_CHECK_EXCEPTION((void)checkpoint.read_moments(0, 4), gift::error, says("holds 3 and 3 values, but the block has 4"));
}

BOOST_AUTO_TEST_CASE(damaged_checkpoints_are_refused) {
  auto metadata = io::training_checkpoint_metadata(a_run(), 5, 2, 1);
  metadata.erase("gift.state.count");
  BOOST_CHECK_EXCEPTION((void)io::training_checkpoint::open(write_checkpoint("no_count.st", metadata), "resume"),
                        gift::error, says("is not a training checkpoint with optimizer state"));
  for (const char* bad : {"", "-1", "12x", "1e3", "99999999999999999999999"}) {
    metadata = io::training_checkpoint_metadata(a_run(), 5, 2, 1);
    metadata["gift.state.count"] = bad;
    BOOST_CHECK_EXCEPTION((void)io::training_checkpoint::open(write_checkpoint("bad_count.st", metadata), "resume"),
                          gift::error, says("gift.state.count = '" + std::string(bad) + "' is not a count"));
  }
  metadata = io::training_checkpoint_metadata(a_run(), 5, 2, 1);
  metadata.erase("gift.shards");  // an unsharded run of an earlier version
  BOOST_TEST(io::training_checkpoint::open(write_checkpoint("old.st", metadata), "resume").shards() == 1);
  // A count of 10^9 blocks is only a number until the caller compares it.
  metadata["gift.state.count"] = "1000000000";
  const auto huge = io::training_checkpoint::open(write_checkpoint("huge.st", metadata), "resume");
  BOOST_CHECK_EXCEPTION(huge.require_blocks(2), gift::error, says("gift.state.count = 1000000000"));
  const auto one_block =
      io::training_checkpoint::open(write_checkpoint("one.st", io::training_checkpoint_metadata(a_run(), 5, 2, 1), 1), "resume");
  BOOST_CHECK_EXCEPTION((void)one_block.read_moments(1), gift::error, says("lacks the optimizer state of block 1"));
  const auto uneven = io::training_checkpoint::open(
      write_checkpoint("uneven.st", io::training_checkpoint_metadata(a_run(), 5, 2, 1), 2, true), "resume");
  BOOST_CHECK_EXCEPTION((void)uneven.read_moments(0), gift::error, says("holds 3 and 4 values"));
  fs::remove_all(fs::temp_directory_path() / ("gift_training_checkpoint_" + std::to_string(::getpid())));
}

BOOST_AUTO_TEST_SUITE_END()
