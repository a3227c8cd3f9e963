// Text corpora: gzip reading, sorted listing, the deterministic split, packing; on a fixture
// written by the test and (suite linux_doc, its own ctest test) on the Debian linux-doc package.
#include <boost/test/unit_test.hpp>

#include <gift/io/text_data.hpp>

#include "reference_files.hpp"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test io_text_data (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_text_data)

namespace fs = std::filesystem;
using gift::io::list_text_files;
using gift::io::split_by_file;

namespace {

void write_gzip(const fs::path& path, const std::string& text, const char* mode = "wb") {
  gzFile out = gzopen(path.string().c_str(), mode);
  BOOST_REQUIRE(out != nullptr);
  BOOST_REQUIRE(gzwrite(out, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
  BOOST_REQUIRE(gzclose(out) == Z_OK);
}

std::vector<std::byte> file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

}  // namespace

// A small documentation tree: nested folders, gzip files (one of two members), a plain file. Not in
// the anonymous namespace: the test cases derive from it, and this file is compiled as part of a
// unity translation unit, where g++ warns about bases of internal linkage (-Wsubobject-linkage).
struct fixture_tree {
  fs::path root = fs::temp_directory_path() / "gift_io_text_data_fixture";
  fixture_tree() {
    fs::remove_all(root);
    fs::create_directories(root / "b" / "deep");
    fs::create_directories(root / "a");
    write_gzip(root / "b" / "deep" / "z.rst.gz", "Zebra crossings.\n");
    write_gzip(root / "a" / "index.rst.gz", "Index\n=====\n\nSee :doc:`b/intro`.\n");
    write_gzip(root / "b" / "intro.rst.gz", "Intro, part one. ");
    write_gzip(root / "b" / "intro.rst.gz", "Part two.\n", "ab");  // a second gzip member
    std::ofstream(root / "b" / "notes.txt") << "plain notes";
    std::ofstream(root / "README") << "not listed";
  }
  ~fixture_tree() { fs::remove_all(root); }
};

BOOST_AUTO_TEST_SUITE(text_data_fixture)

BOOST_FIXTURE_TEST_CASE(listing_is_sorted_relative_and_filtered, fixture_tree) {
  const auto files = list_text_files(root, {".rst.gz"});
  BOOST_TEST(files == (std::vector<std::string>{"a/index.rst.gz", "b/deep/z.rst.gz", "b/intro.rst.gz"}),
             boost::test_tools::per_element());
  const auto both = list_text_files(root, {".rst.gz", ".txt"});
  BOOST_TEST(both.size() == 4u);
  BOOST_TEST(list_text_files(root).size() == 5u);
  BOOST_CHECK_THROW((void)list_text_files(root / "missing"), gift::error);
}

BOOST_FIXTURE_TEST_CASE(reading_gzip_and_plain_files, fixture_tree) {
  BOOST_TEST(gift::io::read_text_file(root / "b" / "intro.rst.gz") == "Intro, part one. Part two.\n");
  BOOST_TEST(gift::io::read_text_file(root / "b" / "notes.txt") == "plain notes");
  // A larger text, to cross zlib's buffer boundaries.
  std::string big;
  for (int i = 0; i < 200000; ++i) big += "line " + std::to_string(i * 7919 % 100003) + "\n";
  write_gzip(root / "big.gz", big);
  BOOST_TEST(gift::io::read_text_file(root / "big.gz") == big);
  // Every truncation of a gzip file is an error, never a crash or a silent short read.
  const auto bytes = file_bytes(root / "a" / "index.rst.gz");
  for (std::size_t length = 1; length < bytes.size(); ++length) {
    BOOST_CHECK_THROW((void)gift::io::gunzip(std::span(bytes).first(length)), gift::error);
  }
  auto corrupt = bytes;
  corrupt[12] ^= std::byte{0xFF};
  BOOST_CHECK_THROW((void)gift::io::gunzip(corrupt), gift::error);
  BOOST_TEST(gift::io::gunzip({}).empty());
}

BOOST_AUTO_TEST_CASE(split_is_deterministic_proportional_and_stable) {
  std::vector<std::string> files;
  for (int i = 0; i < 2000; ++i) files.push_back("folder" + std::to_string(i % 13) + "/file" + std::to_string(i) + ".rst.gz");
  const auto split = split_by_file(files, 0.2);
  BOOST_TEST(split.train.size() + split.validation.size() == files.size());
  // A hash split is binomial: 400 expected, standard deviation ~18.
  BOOST_TEST(split.validation.size() > 330u);
  BOOST_TEST(split.validation.size() < 470u);
  std::set<std::string> seen(split.train.begin(), split.train.end());
  for (const auto& f : split.validation) BOOST_TEST(seen.insert(f).second);  // disjoint
  // Same inputs, same split; a file's side does not depend on the other files.
  const auto again = split_by_file(files, 0.2);
  BOOST_TEST(again.validation == split.validation, boost::test_tools::per_element());
  const std::vector<std::string> half(files.begin(), files.begin() + 1000);
  const auto partial = split_by_file(half, 0.2);
  for (const auto& f : partial.validation) {
    BOOST_TEST((std::find(split.validation.begin(), split.validation.end(), f) != split.validation.end()));
  }
  // A larger fraction only adds files to validation.
  const auto larger = split_by_file(files, 0.3);
  for (const auto& f : split.validation) {
    BOOST_TEST((std::find(larger.validation.begin(), larger.validation.end(), f) != larger.validation.end()));
  }
  // Another seed, another split.
  BOOST_TEST(split_by_file(files, 0.2, 1).validation != split.validation);
  BOOST_TEST(split_by_file(files, 0.0).validation.empty());
  BOOST_TEST(split_by_file(files, 1.0).train.empty());
  BOOST_CHECK_THROW((void)split_by_file(files, 1.5), gift::error);
  // Two files and a tiny fraction: each side still gets one.
  const std::vector<std::string> two = {"x", "y"};
  const auto tiny = split_by_file(two, 1e-9);
  BOOST_TEST(tiny.validation.size() == 1u);
  BOOST_TEST(tiny.train.size() == 1u);
}

BOOST_AUTO_TEST_CASE(dev_split_is_disjoint_and_leaves_validation_unchanged) {
  std::vector<std::string> files;
  for (int i = 0; i < 3000; ++i) files.push_back("doc" + std::to_string(i) + ".rst.gz");
  const auto two_way = split_by_file(files, 0.1);
  const auto three_way = split_by_file(files, 0.1, 0, 0.1);
  BOOST_TEST(two_way.dev.empty());
  // Asking for a dev part takes files from training only: validation stays as it was.
  BOOST_TEST(three_way.validation == two_way.validation, boost::test_tools::per_element());
  BOOST_TEST(three_way.train.size() + three_way.dev.size() == two_way.train.size());
  // Binomial(3000, 0.1): 300 expected, standard deviation ~16.
  BOOST_TEST(three_way.dev.size() > 230u);
  BOOST_TEST(three_way.dev.size() < 370u);
  std::set<std::string> seen;
  for (const auto* part : {&three_way.train, &three_way.dev, &three_way.validation})
    for (const auto& f : *part) BOOST_TEST(seen.insert(f).second);  // each file in exactly one part
  BOOST_TEST(seen.size() == files.size());
  for (const auto& f : three_way.dev) {
    const double at = gift::io::hash_position(f, 0);
    BOOST_TEST((at >= 0.1 && at < 0.2));
  }
  BOOST_CHECK_THROW((void)split_by_file(files, 0.5, 0, 0.6), gift::error);
  BOOST_CHECK_THROW((void)split_by_file(files, 0.1, 0, -0.1), gift::error);
}

BOOST_AUTO_TEST_CASE(fnv1a_reference_values) {
  // Published FNV-1a 64 test vectors.
  BOOST_TEST(gift::io::fnv1a64("") == 0xcbf29ce484222325ull);
  BOOST_TEST(gift::io::fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  BOOST_TEST(gift::io::fnv1a64("foobar") == 0x85944171f73967e8ull);
}

BOOST_AUTO_TEST_CASE(packing) {
  std::vector<std::int32_t> ids(23);
  std::iota(ids.begin(), ids.end(), 100);
  const auto packed = gift::io::pack_sequences(ids, 5);
  BOOST_TEST(packed.rows() == 4);  // 20 ids used, 3 dropped
  BOOST_TEST(packed.cols() == 5);
  BOOST_TEST(packed(0, 0) == 100);
  BOOST_TEST(packed(3, 4) == 119);
  const auto overlapping = gift::io::pack_sequences(ids, 5, 4);  // context 4 + 1 target
  BOOST_TEST(overlapping.rows() == 5);  // starts 0, 4, 8, 12, 16 (16 + 5 <= 23)
  BOOST_TEST(overlapping(1, 0) == 104);
  BOOST_TEST(overlapping(0, 4) == overlapping(1, 0));  // the last target is the next row's first input
  BOOST_TEST(gift::io::pack_sequences(std::span(ids).first(4), 5).rows() == 0);
  BOOST_CHECK_THROW((void)gift::io::pack_sequences(ids, 0), gift::error);
}

BOOST_FIXTURE_TEST_CASE(tokenize_files_with_separator, fixture_tree) {
  // Byte-level vocabulary without merges: one id per byte, so the stream is the bytes.
  std::vector<std::string> tokens;
  for (unsigned b = 0; b < 256; ++b) {
    std::string s;
    gift::io::append_utf8(s, gift::io::byte_to_unicode(static_cast<std::uint8_t>(b)));
    tokens.push_back(s);
  }
  tokens.push_back("<eos>");
  const gift::io::tokenizer bytes(tokens, std::vector<std::string>{}, {}, gift::io::pre_tokenizer_kind::gpt2);
  const std::vector<std::string> files = {"b/deep/z.rst.gz", "b/notes.txt"};
  const auto ids = gift::io::tokenize_files(root, files, bytes, 256);
  const std::string expected = "Zebra crossings.\n";
  BOOST_REQUIRE(ids.size() == expected.size() + 1 + 11 + 1);
  BOOST_TEST(ids[0] == 'Z');
  BOOST_TEST(ids[expected.size()] == 256);
  BOOST_TEST(ids.back() == 256);
}

BOOST_AUTO_TEST_SUITE_END()

// Run separately (ctest io_text_data_linux_doc): the real Debian package.
BOOST_AUTO_TEST_SUITE(linux_doc)

BOOST_AUTO_TEST_CASE(real_kernel_documentation) {
  const fs::path root = "/usr/share/doc/linux-doc-6.1/Documentation";
  gift_test::require_files_or_skip({root}, "Install it: apt-get install linux-doc-6.1");
  const auto files = list_text_files(root, {".rst.gz"});
  BOOST_TEST(files.size() > 1000u);
  BOOST_TEST(std::is_sorted(files.begin(), files.end()));
  const auto split = split_by_file(files, 0.1);
  const double fraction = static_cast<double>(split.validation.size()) / static_cast<double>(files.size());
  BOOST_TEST(fraction > 0.07);
  BOOST_TEST(fraction < 0.13);
  std::size_t bytes = 0;
  for (const auto& file : split.validation) {
    const std::string text = gift::io::read_text_file(root / file);
    BOOST_TEST(!text.empty(), file);
    bytes += text.size();
  }
  BOOST_TEST_MESSAGE(files.size() << " files; validation: " << split.validation.size() << " files, " << bytes << " bytes");
  BOOST_TEST(bytes > 500'000u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // io_text_data
