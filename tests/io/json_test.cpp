// gift's public JSON reader (io/json.hpp): a hand-written document parses to the values it holds
// (64-bit integers exact), malformed input is refused naming the source and the byte offset, and
// a quoted string is valid JSON that reads back to the same text (invalid UTF-8 as U+FFFD).
#include <boost/test/unit_test.hpp>

#include <gift/error.hpp>
#include <gift/io/json.hpp>

#include <cstdint>
#include <string>

// Every case of this file belongs to the CTest test io_json (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_json)

namespace io = gift::io;

namespace {
auto says(const std::string& words) {
  return [words](const gift::error& e) { return std::string(e.what()).find(words) != std::string::npos; };
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_document_gives_its_values) {
  const auto root = io::parse_json(R"( {"bits": [3, 4], "seed": 18446744073709551615, "lr": 1e-4,
                                        "name": "caf\u00e9", "ok": true, "none": null} )",
                                   "config.json");
  BOOST_REQUIRE(root.type == io::json_value::kind::object);
  BOOST_TEST(root.object.size() == 6u);
  const auto* bits = root.find("bits");
  BOOST_REQUIRE(bits != nullptr);
  BOOST_REQUIRE_EQUAL(bits->array.size(), 2u);
  BOOST_TEST(bits->array[1].number == 4.0);
  BOOST_TEST(root.find("seed")->is_unsigned_integer);
  BOOST_TEST(root.find("seed")->unsigned_integer == UINT64_MAX);  // exact: a double could not hold it
  BOOST_TEST(root.find("lr")->number == 1e-4);
  BOOST_TEST(root.find("name")->string == "caf\xc3\xa9");
  BOOST_TEST(root.find("ok")->boolean);
  BOOST_TEST(std::string(io::json_kind_name(root.find("none")->type)) == "null");
  BOOST_TEST(root.find("absent") == nullptr);
}

BOOST_AUTO_TEST_CASE(malformed_input_names_source_and_offset) {
  BOOST_CHECK_EXCEPTION((void)io::parse_json(R"({"a": [1, 2,]})", "x.json"), gift::error, says("x.json"));
  BOOST_CHECK_EXCEPTION((void)io::parse_json(R"({"a": 1} trailing)", "x.json"), gift::error, says("byte offset"));
  BOOST_CHECK_THROW((void)io::parse_json(std::string(100000, '['), "deep.json"), gift::error);  // nesting bounded
  BOOST_CHECK_THROW((void)io::parse_json("", "empty.json"), gift::error);
}

BOOST_AUTO_TEST_CASE(quoted_text_reads_back) {
  const std::string text = "tab\there \"quoted\" back\\slash\nnew line \x01 caf\xc3\xa9";
  const std::string quoted = io::json_quote(text);
  BOOST_TEST(quoted.front() == '"');
  BOOST_TEST(io::parse_json(quoted, "quoted").string == text);
  // A byte that is not UTF-8 becomes U+FFFD: the literal stays valid.
  BOOST_TEST(io::parse_json(io::json_quote("a\xff" "b"), "quoted").string == "a\xef\xbf\xbd" "b");
}

BOOST_AUTO_TEST_SUITE_END()
