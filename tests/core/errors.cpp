// Bad input gives gift::error with a message that names the argument and the problem.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/column_norms.hpp>
#include <gift/error.hpp>

#include <limits>
#include <ostream>
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

// The public checks research code uses for its own arguments (gift::require, gift::concat,
// gift::require_all_finite): the same messages the library gives.
namespace errors_test {
/// Counts how often it is streamed: a check that passes must not build its message.
struct counting_printer {
  int* count;
  friend std::ostream& operator<<(std::ostream& out, const counting_printer& p) { return out << ++*p.count; }
};
}  // namespace errors_test

BOOST_AUTO_TEST_SUITE(core_column_norms)

BOOST_AUTO_TEST_CASE(public_checks_build_the_message_only_on_failure) {
  using errors_test::counting_printer;
  BOOST_TEST(gift::concat("step ", 3, " of ", 10, ", lr ", 0.5) == "step 3 of 10, lr 0.5");
  int streamed = 0;
  gift::require(true, "never streamed: ", counting_printer{&streamed});
  BOOST_TEST(streamed == 0);
  const std::string message = message_of([&] {
    gift::require(false, "my_adapter: argument 'rank' must be at least 1, but it is ", 0, " (call ", counting_printer{&streamed}, ")");
  });
  BOOST_TEST(message == "my_adapter: argument 'rank' must be at least 1, but it is 0 (call 1)");
}

BOOST_AUTO_TEST_CASE(public_finiteness_check_names_the_first_bad_element) {
  gift::matrix_f m = gift::matrix_f::Zero(4, 3);
  gift::require_all_finite(m, "my_layer", "weight");  // finite: nothing happens
  m(2, 1) = std::numeric_limits<float>::quiet_NaN();
  m(3, 2) = std::numeric_limits<float>::infinity();
  const std::string message = message_of([&] { gift::require_all_finite(m, "my_layer", "weight"); });
  BOOST_TEST(message.find("my_layer: argument 'weight' must be finite, but element (2, 1) is nan") != std::string::npos,
             message);
}

BOOST_AUTO_TEST_SUITE_END()  // core_column_norms
