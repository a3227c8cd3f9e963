// Bad input to the training core gives gift::error with a message that names the problem.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/nn/gift_linear.hpp>
#include <gift/noise.hpp>
#include <gift/optim/optim.hpp>

#include <limits>

// Every case of this file belongs to the CTest test nn_eigen (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(nn_eigen)

using namespace gift_test;

namespace {
bool mentions(const std::string& message, const std::string& part) {
  const bool found = message.find(part) != std::string::npos;
  if (!found) BOOST_TEST_MESSAGE("message: " << message);
  return found;
}
const gift::noise_key key{1, 2, 0};
}  // namespace

BOOST_AUTO_TEST_CASE(bad_salient_indices) {
  const gift::matrix_f w = normal_matrix(4, 6, 1);
  const gift::vector_f delta = row_scales(4);
  using layer = gift::nn::gift_linear<float>;
  BOOST_TEST(mentions(message_of([&] { layer(w, std::vector<std::int64_t>{1, 6}, delta, key); }), "entry 1 is 6"));
  BOOST_TEST(mentions(message_of([&] { layer(w, std::vector<std::int64_t>{-1}, delta, key); }), "[0, 6)"));
  BOOST_TEST(mentions(message_of([&] { layer(w, std::vector<std::int64_t>{2, 0, 2}, delta, key); }),
                      "column 2 is given more than once"));
  gift::matrix_f copy = w;
  BOOST_TEST(mentions(message_of([&] { gift::add_quantization_noise(copy, delta, std::vector<std::int64_t>{7}, key); }),
                      "gift::add_quantization_noise"));
  // Any order and the empty set are fine.
  BOOST_TEST(mentions(message_of([&] { layer(w, std::vector<std::int64_t>{5, 0}, delta, key); }), "<no exception>"));
  BOOST_TEST(mentions(message_of([&] { layer(w, std::vector<std::int64_t>{}, delta, key); }), "<no exception>"));
}

BOOST_AUTO_TEST_CASE(bad_delta) {
  const gift::matrix_f w = normal_matrix(4, 6, 1);
  const std::vector<std::int64_t> salient{0};
  using layer = gift::nn::gift_linear<float>;
  gift::vector_f delta = row_scales(4);
  delta(2) = 0.0f;
  BOOST_TEST(mentions(message_of([&] { layer(w, salient, delta, key); }), "row 2 is 0"));
  delta(2) = -1.0f;
  BOOST_TEST(mentions(message_of([&] { layer(w, salient, delta, key); }), "row 2 is -1"));
  delta(2) = std::numeric_limits<float>::quiet_NaN();
  BOOST_TEST(mentions(message_of([&] { layer(w, salient, delta, key); }), "finite and > 0"));
  delta(2) = std::numeric_limits<float>::infinity();
  BOOST_TEST(mentions(message_of([&] { layer(w, salient, delta, key); }), "row 2 is inf"));
  BOOST_TEST(mentions(message_of([&] { layer(w, salient, row_scales(3), key); }), "one scale per output row (4)"));
  gift::matrix_f copy = w;
  BOOST_TEST(mentions(message_of([&] { gift::add_quantization_noise(copy, row_scales(5), salient, key); }),
                      "but it has 5 entries"));
}

BOOST_AUTO_TEST_CASE(bad_shapes_and_values) {
  const gift::matrix_f w = normal_matrix(4, 6, 1);
  gift::nn::gift_linear<float> layer(w, std::vector<std::int64_t>{1}, row_scales(4), key);
  BOOST_TEST(mentions(message_of([&] { (void)layer.backward(gift::matrix_f::Zero(3, 4)); }), "call forward"));
  BOOST_TEST(mentions(message_of([&] { (void)layer.forward(gift::matrix_f::Zero(3, 5), 0); }), "is 3 x 5"));
  (void)layer.forward(gift::matrix_f::Zero(3, 6), 0);
  BOOST_TEST(mentions(message_of([&] { (void)layer.backward(gift::matrix_f::Zero(3, 5)); }), "3 x 4"));
  gift::matrix_f x = gift::matrix_f::Zero(3, 6);
  x(1, 4) = std::numeric_limits<float>::quiet_NaN();
  BOOST_TEST(mentions(message_of([&] { (void)layer.forward(x, 0); }), "element (1, 4) is nan"));
  gift::matrix_f dy = gift::matrix_f::Zero(3, 4);
  dy(2, 0) = std::numeric_limits<float>::infinity();
  BOOST_TEST(mentions(message_of([&] { (void)layer.backward(dy); }), "'dy' must be finite"));
  gift::matrix_f bad_w = w;
  bad_w(0, 0) = std::numeric_limits<float>::quiet_NaN();
  BOOST_TEST(mentions(message_of([&] { gift::nn::gift_linear<float>(bad_w, std::vector<std::int64_t>{}, row_scales(4), key); }),
                      "'weight' must be finite"));
  BOOST_TEST(mentions(message_of([&] { gift::nn::gift_linear<float>(w, gift::vector_f::Zero(3), std::vector<std::int64_t>{}, row_scales(4), key); }),
                      "'bias' must have out = 4"));
}

BOOST_AUTO_TEST_CASE(step_counter_that_would_wrap) {
  gift::nn::gift_linear<float> layer(normal_matrix(4, 6, 1), std::vector<std::int64_t>{1}, row_scales(4), key);
  const gift::matrix_f x = gift::matrix_f::Zero(2, 6);
  BOOST_TEST(mentions(message_of([&] { (void)layer.forward(x, 0xffffffffull); }), "<no exception>"));
  BOOST_TEST(mentions(message_of([&] { (void)layer.forward(x, 0x100000000ull); }), "would wrap"));
}

BOOST_AUTO_TEST_CASE(bad_optimizer_settings) {
  std::vector<float> value{1}, gradient{1, 2};
  std::vector<gift::optim::parameter<float>> mismatched{{std::span<float>(value), std::span<float>(gradient), true, "w"}};
  BOOST_TEST(mentions(message_of([&] { gift::optim::adam<float> a(mismatched); }), "parameter 'w' has 1 values"));
  BOOST_TEST(mentions(message_of([&] { gift::optim::adam<float> a({}, {1.0, 0.999, 1e-8, 0.0, false}); }), "'beta1'"));
  BOOST_TEST(mentions(message_of([&] { gift::optim::sgd<float> s({}, {1.5, 0.0, false}); }), "'momentum'"));
  BOOST_TEST(mentions(message_of([&] { gift::optim::cosine_schedule c(1.0, 10, 1.5); }), "'warmup_ratio'"));
  BOOST_TEST(mentions(message_of([&] { gift::optim::constant_schedule c(std::nan("")); }), "learning rate"));
  gift::optim::adam<float> a({});
  BOOST_TEST(mentions(message_of([&] { a.step(-1.0); }), "'learning_rate'"));
}

BOOST_AUTO_TEST_SUITE_END()  // nn_eigen
