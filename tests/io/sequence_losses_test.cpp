// gift's per-sequence loss file: written and read back bit for bit (17 significant digits), read
// independently by Python's csv module (the format is plain CSV), and every malformed file refused
// naming the file, the line and the field.
#include <boost/test/unit_test.hpp>

#include <gift/error.hpp>
#include <gift/io/sequence_losses.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

// Every case of this file belongs to the CTest test io_sequence_losses (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_sequence_losses)

namespace fs = std::filesystem;
namespace io = gift::io;

namespace {

fs::path scratch(const std::string& name) {
  const fs::path folder = fs::temp_directory_path() / ("gift_sequence_losses_" + std::to_string(::getpid()));
  fs::create_directories(folder);
  return folder / name;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

auto says(const std::string& words) {
  return [words](const gift::error& e) { return std::string(e.what()).find(words) != std::string::npos; };
}

}  // namespace

BOOST_AUTO_TEST_CASE(rows_read_back_bit_for_bit) {
  const std::vector<io::sequence_loss> rows{{"admin-guide/mm.rst.gz", 512, 255, 612.3456789012345678},
                                            {"-", 0, 1, 1e-300},
                                            {"bindings/cirrus,clps711x \"timer\".txt.gz", 77, 31,
                                             std::nextafter(2.0, 3.0)}};
  const fs::path path = scratch("round_trip.csv");
  io::write_sequence_losses(path, rows);
  const auto back = io::read_sequence_losses(path);
  BOOST_REQUIRE_EQUAL(back.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    BOOST_TEST(back[i].file == rows[i].file);
    BOOST_TEST(back[i].offset == rows[i].offset);
    BOOST_TEST(back[i].tokens == rows[i].tokens);
    BOOST_TEST(back[i].nll == rows[i].nll);  // exactly
  }
  // An independent reader: Python's csv module sees the header and three rows of five fields.
  const std::string command = "python3 -c \"import csv,sys; r=list(csv.reader(open(sys.argv[1]))); "
                              "sys.exit(0 if r[0]==['sequence','file','offset','tokens','nll'] and len(r)==4 and "
                              "all(len(x)==5 for x in r) and float(r[1][4])==612.3456789012345678 and "
                              "r[3][1].endswith('clps711x \\\"timer\\\".txt.gz') and ',' in r[3][1] else 1)\" " +
                              path.string();
  BOOST_TEST(std::system(command.c_str()) == 0);
}

BOOST_AUTO_TEST_CASE(unwritable_rows_are_refused_before_the_file_changes) {
  const fs::path path = scratch("refused.csv");
  write_text(path, "keep me");
  BOOST_CHECK_EXCEPTION(io::write_sequence_losses(path, std::vector<io::sequence_loss>{{"a\nb", 0, 1, 1.0}}),
                        gift::error, says("holds a line break"));
  BOOST_CHECK_EXCEPTION(io::write_sequence_losses(path, std::vector<io::sequence_loss>{{"a", 0, 1, NAN}}), gift::error,
                        says("a finite nll"));
  std::ifstream in(path);
  std::string kept;
  std::getline(in, kept);
  BOOST_TEST(kept == "keep me");
}

BOOST_AUTO_TEST_CASE(malformed_files_are_refused_naming_the_line) {
  const fs::path path = scratch("bad.csv");
  const std::string header = std::string(io::sequence_losses_header) + "\n";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"sequence,file\n0,a\n", "does not start with the header"},
      {header, "holds no sequence"},
      {header + "0,a,1,2\n", "line 2: expected 5 comma-separated fields, got 4"},
      {header + "1,a,1,2,3.0\n", "line 2: rows must be numbered 0, 1, ... in order; expected 0"},
      {header + "0,a,-1,2,3.0\n", "line 2: offset '-1' is not a non-negative integer"},
      {header + "0,a,1,2x,3.0\n", "line 2: tokens '2x' is not a non-negative integer"},
      {header + "0,a,1,2,3.0\n1,b,1,2,nan\n", "line 3: nll 'nan' is not a finite non-negative number"},
      {header + "0,,1,2,3.0\n", "line 2: the file field is empty"},
      {header + "0,\"a,b,1,2,3.0\n", "line 2: a quoted field is not closed"},
      {header + "0,\"a\"x,1,2,3.0\n", "line 2: a quoted field is not closed, or text follows its closing quote"},
  };
  for (const auto& [text, words] : cases) {
    write_text(path, text);
    BOOST_CHECK_EXCEPTION((void)io::read_sequence_losses(path), gift::error, says(words));
  }
  BOOST_CHECK_EXCEPTION((void)io::read_sequence_losses(scratch("missing.csv")), gift::error,
                        says("cannot open"));
}

BOOST_AUTO_TEST_SUITE_END()
