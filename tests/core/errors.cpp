// Bad input gives gift::error with a message that names the argument and the problem.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/column_norms.hpp>
#include <gift/error.hpp>

#include <limits>
#include <string>

// Every case of this file belongs to the CTest test core_column_norms (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(core_column_norms)

using gift_test::message_of;

BOOST_AUTO_TEST_CASE(empty_matrix_is_rejected) {
  const gift::matrix_f empty(0, 5);
  const std::string message = message_of([&] { (void)gift::column_norms<gift::l2>(empty); });
  BOOST_TEST(message.find("'matrix' must be non-empty") != std::string::npos, message);
  BOOST_TEST(message.find("0 x 5") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(nan_is_detected_for_every_norm) {
  gift::matrix_f m = gift::matrix_f::Ones(300, 4);
  m(260, 2) = std::numeric_limits<float>::quiet_NaN();
  for (const std::string& message : {message_of([&] { (void)gift::column_norms<gift::l1>(m); }),
                                     message_of([&] { (void)gift::column_norms<gift::l2>(m); }),
                                     message_of([&] { (void)gift::column_norms<gift::linf>(m); })}) {
    BOOST_TEST(message.find("must be finite") != std::string::npos, message);
    BOOST_TEST(message.find("(260, 2)") != std::string::npos, message);
  }
}

BOOST_AUTO_TEST_CASE(infinity_is_detected) {
  gift::matrix_f m = gift::matrix_f::Ones(3, 3);
  m(0, 1) = -std::numeric_limits<float>::infinity();
  const std::string message = message_of([&] { (void)gift::column_norms<gift::linf>(m); });
  BOOST_TEST(message.find("(0, 1) is -inf") != std::string::npos, message);
}

BOOST_AUTO_TEST_SUITE_END()  // core_column_norms
