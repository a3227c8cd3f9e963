// gift's salient-column file: a hand-written file parses to the columns it names, a selection
// written and read back is the same selection, every malformed line is refused naming the source
// and the line, and the fingerprint changes exactly when the selection does.
#include <boost/test/unit_test.hpp>

#include <gift/error.hpp>
#include <gift/io/salient_file.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

// Every case of this file belongs to the CTest test io_salient_file (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_salient_file)

namespace io = gift::io;

namespace {
auto says(const std::string& words) {
  return [words](const gift::error& e) { return std::string(e.what()).find(words) != std::string::npos; };
}
std::vector<std::int64_t> indices_of(const gift::salient_columns& s) { return {s.indices().begin(), s.indices().end()}; }
}  // namespace

BOOST_AUTO_TEST_CASE(a_hand_written_file_gives_its_columns) {
  const auto selection = io::parse_salient_file(
      "# gift salient columns v1: layer in k indices...\n\nblk.0.attn_q 8 3 5 1 6\nblk.1.ffn_down 4 0\n", "hand");
  BOOST_REQUIRE_EQUAL(selection.size(), 2u);
  const auto& q = io::salient_of(selection, "blk.0.attn_q");
  BOOST_TEST(q.columns() == 8u);
  BOOST_TEST(indices_of(q) == (std::vector<std::int64_t>{1, 5, 6}), boost::test_tools::per_element());
  BOOST_TEST(io::salient_of(selection, "blk.1.ffn_down").size() == 0u);
  BOOST_CHECK_EXCEPTION((void)io::salient_of(selection, "blk.2.attn_k"), gift::error, says("no entry for layer blk.2.attn_k"));
}

BOOST_AUTO_TEST_CASE(written_and_read_back_is_the_same_selection) {
  io::salient_selection selection;
  selection.emplace("blk.0.attn_q", gift::salient_columns::from_indices(std::vector<std::int64_t>{7, 0, 3}, 9, "test"));
  selection.emplace("blk.0.ffn_up", gift::salient_columns::none(5));
  const auto folder = std::filesystem::temp_directory_path() / ("gift_salient_file_" + std::to_string(::getpid()));
  const auto path = folder / "sub" / "salient.txt";
  io::write_salient_file(selection, path);
  const auto back = io::read_salient_file(path);
  std::filesystem::remove_all(folder);
  BOOST_REQUIRE_EQUAL(back.size(), selection.size());
  for (const auto& [name, s] : selection) {
    const auto& b = io::salient_of(back, name);
    BOOST_TEST(b.columns() == s.columns());
    BOOST_TEST(indices_of(b) == indices_of(s), boost::test_tools::per_element());
  }
  BOOST_TEST(io::salient_fingerprint(back) == io::salient_fingerprint(selection));
  BOOST_TEST(io::format_salient_file(back) == io::format_salient_file(selection));
}

BOOST_AUTO_TEST_CASE(malformed_lines_are_refused_naming_source_and_line) {
  const std::string head = "# header\n";
  BOOST_CHECK_EXCEPTION((void)io::parse_salient_file(head + "blk.0.attn_q\n", "f"), gift::error,
                        says("'f' line 2: expected '<layer> <in> <k> <k indices>'"));
  BOOST_CHECK_EXCEPTION((void)io::parse_salient_file(head + "blk.0.attn_q 4 5 0 1 2 3 4\n", "f"), gift::error,
                        says("0 <= k <= in"));
  BOOST_CHECK_EXCEPTION((void)io::parse_salient_file(head + "blk.0.attn_q 4 3 0 1\n", "f"), gift::error,
                        says("ends after 2"));
  BOOST_CHECK_EXCEPTION((void)io::parse_salient_file(head + "blk.0.attn_q 4 1 0 9\n", "f"), gift::error,
                        says("unexpected '9'"));
  BOOST_CHECK_THROW((void)io::parse_salient_file(head + "blk.0.attn_q 4 1 4\n", "f"), gift::error);     // out of range
  BOOST_CHECK_THROW((void)io::parse_salient_file(head + "blk.0.attn_q 4 2 1 1\n", "f"), gift::error);   // twice
  BOOST_CHECK_EXCEPTION((void)io::parse_salient_file(head + "a 4 0\na 4 0\n", "f"), gift::error,
                        says("line 3: layer 'a' appears a second time"));
  // A width beyond the bound is refused before anything is sized by it; a huge k with few
  // indices fails at the first missing one.
  BOOST_CHECK_EXCEPTION((void)io::parse_salient_file(head + "a 99999999999 0\n", "f"), gift::error, says("exceeds"));
  BOOST_CHECK_EXCEPTION((void)io::parse_salient_file(head + "a 16777216 16777216 1\n", "f"), gift::error,
                        says("ends after 1"));
  BOOST_CHECK_EXCEPTION((void)io::read_salient_file("/nonexistent/salient.txt"), gift::error,
                        says("cannot open the salient-column file '/nonexistent/salient.txt'"));
}

BOOST_AUTO_TEST_CASE(the_fingerprint_changes_with_any_column_width_or_name) {
  const auto base = io::parse_salient_file("a 8 2 1 5\nb 4 1 0\n", "x");
  const auto same = io::parse_salient_file("b 4 1 0\na 8 2 5 1\n", "y");  // order of lines and indices aside
  BOOST_TEST(io::salient_fingerprint(base) == io::salient_fingerprint(same));
  for (const char* other : {"a 8 2 1 6\nb 4 1 0\n", "a 9 2 1 5\nb 4 1 0\n", "a 8 2 1 5\nc 4 1 0\n", "a 8 1 1\nb 4 1 0\n"})
    BOOST_TEST(io::salient_fingerprint(io::parse_salient_file(other, "z")) != io::salient_fingerprint(base), other);
}

BOOST_AUTO_TEST_SUITE_END()
