// gift::pipeline::sample_windows: every window is an exact slice of its file at the recorded
// offset, windows of one file never overlap and each lies in its own segment, short files are
// skipped, the requested number of files contribute, the sample is a function of names, contents
// and seed, and impossible requests are refused.
#include <boost/test/unit_test.hpp>

#include <gift/error.hpp>
#include <gift/pipeline/eval_set.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test pipeline_eval_set (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(pipeline_eval_set)

namespace gp = gift::pipeline;

namespace {

// 100 files "doc<i>" of 10·(i mod 13) tokens each; token t of file i is 1000·i + t.
std::map<std::string, std::vector<std::int32_t>> corpus() {
  std::map<std::string, std::vector<std::int32_t>> files;
  for (int i = 0; i < 100; ++i) {
    std::vector<std::int32_t> ids(static_cast<std::size_t>(10 * (i % 13)));
    for (std::size_t t = 0; t < ids.size(); ++t) ids[t] = 1000 * i + static_cast<std::int32_t>(t);
    files["doc" + std::to_string(i)] = ids;
  }
  return files;
}

std::vector<std::string> names_of(const std::map<std::string, std::vector<std::int32_t>>& files) {
  std::vector<std::string> names;
  for (const auto& entry : files) names.push_back(entry.first);
  return names;
}

}  // namespace

BOOST_AUTO_TEST_CASE(windows_are_exact_non_overlapping_slices_in_their_segments) {
  const auto files = corpus();
  const auto names = names_of(files);
  int reads = 0;
  const auto tokens_of = [&](const std::string& name) {
    ++reads;
    return files.at(name);
  };
  const gp::window_options options{.length = 16, .files = 20, .windows_per_file = 3, .seed = 5};
  const auto set = gp::sample_windows(names, tokens_of, options);
  BOOST_TEST(set.files_used() == 20);
  BOOST_TEST(set.files_read == reads);
  BOOST_TEST(set.tokens.cols() == 16);
  BOOST_REQUIRE_EQUAL(static_cast<std::size_t>(set.tokens.rows()), set.files.size());
  std::map<std::string, std::vector<std::int64_t>> starts;
  for (Eigen::Index r = 0; r < set.tokens.rows(); ++r) {
    const auto& ids = files.at(set.files[static_cast<std::size_t>(r)]);
    const std::int64_t offset = set.offsets[static_cast<std::size_t>(r)];
    BOOST_REQUIRE(offset >= 0 && offset + 16 <= static_cast<std::int64_t>(ids.size()));
    for (Eigen::Index t = 0; t < 16; ++t) BOOST_TEST(set.tokens(r, t) == ids[static_cast<std::size_t>(offset + t)]);
    starts[set.files[static_cast<std::size_t>(r)]].push_back(offset);
  }
  for (const auto& [name, offsets] : starts) {
    const auto n = static_cast<std::int64_t>(files.at(name).size());
    const std::int64_t k = std::min<std::int64_t>(3, n / 16);
    BOOST_TEST(static_cast<std::int64_t>(offsets.size()) == k, name);
    for (std::size_t j = 0; j < offsets.size(); ++j) {
      const std::int64_t segment = n / k;
      BOOST_TEST(offsets[j] >= static_cast<std::int64_t>(j) * segment, name << " window " << j);
      BOOST_TEST(offsets[j] + 16 <= static_cast<std::int64_t>(j + 1) * segment, name << " window " << j);
    }
  }
  // Files shorter than one window (fewer than 16 tokens: i mod 13 ≤ 1) never contribute.
  for (const auto& name : set.files) BOOST_TEST(files.at(name).size() >= 16u, name);
}

BOOST_AUTO_TEST_CASE(the_sample_depends_on_the_seed_only) {
  const auto files = corpus();
  auto names = names_of(files);
  const auto tokens_of = [&](const std::string& name) { return files.at(name); };
  const gp::window_options options{.length = 8, .files = 10, .windows_per_file = 1, .seed = 11};
  const auto first = gp::sample_windows(names, tokens_of, options);
  std::reverse(names.begin(), names.end());  // the order files are listed in does not matter
  const auto again = gp::sample_windows(names, tokens_of, options);
  BOOST_TEST(first.files == again.files, boost::test_tools::per_element());
  BOOST_TEST(first.offsets == again.offsets, boost::test_tools::per_element());
  BOOST_TEST((first.tokens.array() == again.tokens.array()).all());
  auto reseeded = options;
  reseeded.seed = 12;
  const auto other = gp::sample_windows(names, tokens_of, reseeded);
  BOOST_TEST(std::set<std::string>(first.files.begin(), first.files.end()) !=
             std::set<std::string>(other.files.begin(), other.files.end()));
}

BOOST_AUTO_TEST_CASE(fewer_files_than_asked_give_what_exists) {
  const auto files = corpus();
  const auto names = names_of(files);
  const auto tokens_of = [&](const std::string& name) { return files.at(name); };
  // Windows of 110 tokens: only files with i mod 13 = 11 or 12 (110 or 120 tokens) hold one — 14 files.
  const auto set = gp::sample_windows(names, tokens_of, {.length = 110, .files = 64, .windows_per_file = 1, .seed = 0});
  BOOST_TEST(set.files_used() == 14);
  BOOST_TEST(set.files_read == 100);
}

BOOST_AUTO_TEST_CASE(impossible_requests_are_refused_by_name) {
  const auto files = corpus();
  const auto names = names_of(files);
  const auto tokens_of = [&](const std::string& name) { return files.at(name); };
  const auto says = [](const std::string& words) {
    return [words](const gift::error& e) { return std::string(e.what()).find(words) != std::string::npos; };
  };
  BOOST_CHECK_EXCEPTION((void)gp::sample_windows(names, tokens_of, {.length = 121, .files = 4, .windows_per_file = 1, .seed = 0}),
                        gift::error, says("none of the 100 file(s) holds 121 tokens"));
  BOOST_CHECK_EXCEPTION((void)gp::sample_windows(names, tokens_of, {.length = 1, .files = 4, .windows_per_file = 1, .seed = 0}),
                        gift::error, says("length must be at least 2"));
  BOOST_CHECK_EXCEPTION((void)gp::sample_windows(names, tokens_of, {.length = 8, .files = 0, .windows_per_file = 1, .seed = 0}),
                        gift::error, says("must be at least 1, but are 0 and 1"));
  BOOST_CHECK_EXCEPTION((void)gp::sample_windows(names, gp::file_tokens{}, {}), gift::error,
                        says("tokenizing function is empty"));
}

BOOST_AUTO_TEST_SUITE_END()
