// gift's calibration folder: a run that commits its manifest reads back with the files' sizes and
// FNV-1a hashes (computed here independently, byte by byte); a folder without a manifest, a file
// changed after the run, a file the manifest does not list, and every malformed manifest line are
// refused naming what is wrong and how to fix it.
#include <boost/test/unit_test.hpp>

#include <gift/error.hpp>
#include <gift/io/calibration_set.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

// Every case of this file belongs to the CTest test io_calibration_set (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_calibration_set)

namespace fs = std::filesystem;
namespace io = gift::io;

namespace {
auto says(const std::string& words) {
  return [words](const gift::error& e) { return std::string(e.what()).find(words) != std::string::npos; };
}
fs::path fresh_folder(const std::string& name) {
  const fs::path folder = fs::temp_directory_path() / ("gift_calibration_set_" + std::to_string(::getpid())) / name;
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}
void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
}  // namespace

BOOST_AUTO_TEST_CASE(a_committed_run_reads_back_with_size_and_hash) {
  const fs::path folder = fresh_folder("good");
  write_text(folder / "a.stats", "abc");
  write_text(folder / "gram.safetensors", "");
  auto run = io::calibration_set::begin(folder, 4096);
  run.add("a.stats");
  run.add("gram.safetensors");
  BOOST_TEST(!fs::exists(folder / io::calibration_set::manifest_name));  // not complete before commit
  run.commit();
  const auto back = io::calibration_set::open(folder);
  BOOST_TEST(back.tokens() == 4096u);
  BOOST_REQUIRE_EQUAL(back.files().size(), 2u);
  // FNV-1a by hand: basis, then per byte xor and multiply by the 64-bit prime.
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const unsigned char c : std::string("abc")) hash = (hash ^ c) * 0x100000001b3ull;
  BOOST_TEST(back.files().at("a.stats").bytes == 3u);
  BOOST_TEST(back.files().at("a.stats").hash == hash);
  BOOST_TEST(back.files().at("gram.safetensors").hash == 0xcbf29ce484222325ull);
  BOOST_TEST(back.verified("a.stats") == folder / "a.stats");
  // A new run removes the old manifest first: until it commits, the folder is incomplete.
  (void)io::calibration_set::begin(folder, 10);
  BOOST_CHECK_EXCEPTION((void)io::calibration_set::open(folder), gift::error, says("has no manifest.txt"));
}

BOOST_AUTO_TEST_CASE(changed_missing_or_unlisted_files_are_refused) {
  const fs::path folder = fresh_folder("changed");
  write_text(folder / "a.stats", "abc");
  auto run = io::calibration_set::begin(folder, 1);
  run.add("a.stats");
  run.commit();
  const auto back = io::calibration_set::open(folder);
  write_text(folder / "a.stats", "abd");  // same size, other bytes: another run's file
  BOOST_CHECK_EXCEPTION((void)back.verified("a.stats"), gift::error, says("the folder mixes two runs"));
  BOOST_CHECK_EXCEPTION((void)back.verified("gram.safetensors"), gift::error, says("with --gram"));
  fs::remove(folder / "a.stats");
  BOOST_CHECK_EXCEPTION((void)back.verified("a.stats"), gift::error, says("is listed in the manifest but missing"));
}

BOOST_AUTO_TEST_CASE(malformed_manifests_are_refused_naming_the_line) {
  const fs::path folder = "/nowhere";
  const std::string head = "# gift calibration v1\n";
  const std::string file = "file a.stats 3 e71fa2190541574b\n";
  BOOST_TEST(io::calibration_set::parse(head + "tokens 7\n" + file, folder, "m").tokens() == 7u);
  BOOST_CHECK_EXCEPTION((void)io::calibration_set::parse(head + file, folder, "m"), gift::error,
                        says("'m' has no 'tokens' line"));
  BOOST_CHECK_EXCEPTION((void)io::calibration_set::parse(head + "tokens x\n", folder, "m"), gift::error,
                        says("'m' line 2: expected 'tokens <count>'"));
  BOOST_CHECK_EXCEPTION((void)io::calibration_set::parse(head + "tokens 1\nfile a.stats 3 e71f\n", folder, "m"),
                        gift::error, says("line 3: expected 'file <name> <bytes> <16 hex digits>'"));
  BOOST_CHECK_EXCEPTION((void)io::calibration_set::parse(head + "tokens 1\nfile a.stats 3 e71fa2190541574z\n", folder, "m"),
                        gift::error, says("is not a hexadecimal hash"));
  BOOST_CHECK_EXCEPTION((void)io::calibration_set::parse(head + "tokens 1\n" + file + file, folder, "m"), gift::error,
                        says("line 4: file 'a.stats' is listed twice"));
  BOOST_CHECK_EXCEPTION((void)io::calibration_set::parse(head + "tokens 1\nstats a 1 2\n", folder, "m"), gift::error,
                        says("line 3: expected 'file"));
  fs::remove_all(fs::temp_directory_path() / ("gift_calibration_set_" + std::to_string(::getpid())));
}

BOOST_AUTO_TEST_SUITE_END()
