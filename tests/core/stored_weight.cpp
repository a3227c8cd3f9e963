// gift::stored_weight: bf16 rounding computed by hand, exact widening, half the bytes, and clear
// errors for values bf16 cannot hold.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/stored_weight.hpp>

#include <cmath>
#include <limits>
#include <string>

// Every case of this file belongs to the CTest test core_stored_weight (tests/core/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(core_stored_weight)

using namespace gift_test;
using gift::weight_storage;

BOOST_AUTO_TEST_CASE(bf16_storage_rounds_to_nearest_even_as_computed_by_hand) {
  // bf16 keeps 7 fraction bits: near 1 the spacing is 2^-7. 1 + 2^-8 is halfway between 1 and
  // 1 + 2^-7 and goes to the even one (1); 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6
  // and goes to 1 + 2^-6; 1 + 2^-8 + 2^-20 is past halfway and goes up; -3 and 0.5 are exact.
  gift::matrix_f w(1, 5);
  w << 1.0f + std::ldexp(1.0f, -8), 1.0f + 3 * std::ldexp(1.0f, -8), 1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20),
      -3.0f, 0.5f;
  const gift::stored_weight<float> stored(w, weight_storage::bf16);
  BOOST_TEST(stored(0, 0) == 1.0f);
  BOOST_TEST(stored(0, 1) == 1.0f + std::ldexp(1.0f, -6));
  BOOST_TEST(stored(0, 2) == 1.0f + std::ldexp(1.0f, -7));
  BOOST_TEST(stored(0, 3) == -3.0f);
  BOOST_TEST(stored(0, 4) == 0.5f);
  BOOST_TEST(stored.bytes() == 10u);
  const gift::stored_weight<float> native(w, weight_storage::f32);
  BOOST_TEST(native.bytes() == 20u);
  BOOST_TEST(bit_identical(native.to_matrix(), w));
  BOOST_TEST((gift::weight_storage_named("bf16") == weight_storage::bf16));
  BOOST_TEST(!gift::weight_storage_named("fp16").has_value());
}

BOOST_AUTO_TEST_CASE(bf16_storage_refuses_values_it_cannot_hold) {
  gift::matrix_f w = gift::matrix_f::Ones(2, 3);
  w(1, 2) = std::numeric_limits<float>::max();  // finite in fp32, infinity in bf16
  const std::string beyond = message_of([&] { gift::stored_weight<float>(w, weight_storage::bf16); });
  BOOST_TEST(beyond.find("entry (1, 2)") != std::string::npos, beyond);
  BOOST_TEST(beyond.find("store this weight as f32") != std::string::npos, beyond);
  BOOST_TEST(message_of([&] { gift::stored_weight<float>(w, weight_storage::f32); }) == "<no exception>");
  w(0, 1) = std::numeric_limits<float>::quiet_NaN();
  const std::string nan = message_of([&] { gift::stored_weight<float>(w, weight_storage::f32); });
  BOOST_TEST(nan.find("argument 'weight' must be finite") != std::string::npos, nan);
}

BOOST_AUTO_TEST_SUITE_END()  // core_stored_weight
