// gift::salient_columns: the one validated form of a layer's salient set.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/salient_columns.hpp>

#include <cstdint>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test core_saliency (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(core_saliency)

BOOST_AUTO_TEST_SUITE(salient_columns)

BOOST_AUTO_TEST_CASE(factory_sorts_and_builds_the_mask) {
  const std::vector<std::int64_t> given{5, 0, 3};
  const auto s = gift::salient_columns::from_indices(given, 7);
  BOOST_TEST(s.indices() == (std::vector<std::int64_t>{0, 3, 5}));
  BOOST_TEST(s.mask() == (std::vector<bool>{true, false, false, true, false, true, false}));
  BOOST_TEST(s.size() == 3u);
  BOOST_TEST(s.columns() == 7u);
  BOOST_TEST(s.frozen() == (std::vector<std::int64_t>{1, 2, 4, 6}));
  BOOST_TEST(s.contains(3));
  BOOST_TEST(!s.contains(4));
  BOOST_TEST(!s.contains(-1));
  BOOST_TEST(!s.contains(7));
  BOOST_TEST(s.keep_weights() == (std::vector<float>{0, 1, 1, 0, 1, 0, 1}));
}

BOOST_AUTO_TEST_CASE(none_and_default_differ_in_width) {
  const auto none = gift::salient_columns::none(4);
  BOOST_TEST(none.empty());
  BOOST_TEST(none.columns() == 4u);
  BOOST_TEST(none.frozen().size() == 4u);
  BOOST_TEST(none.keep_weights().empty());
  BOOST_TEST(gift::salient_columns{}.columns() == 0u);
  BOOST_TEST(!(none == gift::salient_columns{}));
}

BOOST_AUTO_TEST_CASE(bad_indices_are_rejected_with_the_reason) {
  const std::vector<std::int64_t> out_of_range{1, 9}, negative{-2}, repeated{2, 4, 2};
  const std::string range = gift_test::message_of([&] { (void)gift::salient_columns::from_indices(out_of_range, 9, "caller"); });
  BOOST_TEST(range.find("caller") != std::string::npos);
  BOOST_TEST(range.find("[0, 9)") != std::string::npos);
  BOOST_TEST(range.find("entry 1 is 9") != std::string::npos);
  BOOST_TEST(gift_test::message_of([&] { (void)gift::salient_columns::from_indices(negative, 9); }).find("is -2") !=
             std::string::npos);
  BOOST_TEST(gift_test::message_of([&] { (void)gift::salient_columns::from_indices(repeated, 9); }).find("column 2") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(width_check_names_both_widths) {
  const auto s = gift::salient_columns::from_indices(std::vector<std::int64_t>{1}, 8);
  s.require_columns(8, "here");
  const std::string message = gift_test::message_of([&] { s.require_columns(6, "here"); });
  BOOST_TEST(message.find("here") != std::string::npos);
  BOOST_TEST(message.find("8") != std::string::npos);
  BOOST_TEST(message.find("6") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // core_saliency
