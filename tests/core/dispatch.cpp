// Dispatch along the fallback chain, proven with fake backends that record what ran (the way
// Thrust tests its dispatch with a fake system).
#include <boost/test/unit_test.hpp>

#include <gift/backend/dispatch.hpp>
#include <gift/backend/traits.hpp>
#include <gift/column_norms.hpp>

#include <string>
#include <type_traits>

namespace fake {
struct op {};
struct other_op {};
struct base_backend {
  using fallback = gift::backend::none;
  static std::string name() { return "base"; }
};
struct derived_backend {
  using fallback = base_backend;
  static std::string name() { return "derived"; }
};
inline std::string last_ran;
}  // namespace fake

namespace gift::backend {
template <>
struct implementation<fake::op, fake::base_backend> {
  static constexpr bool available = true;
  static int run(fake::base_backend, int x) {
    fake::last_ran = "base";
    return x + 1;
  }
};
template <>
struct implementation<fake::other_op, fake::derived_backend> {
  static constexpr bool available = true;
  static int run(fake::derived_backend, int x) {
    fake::last_ran = "derived";
    return x * 2;
  }
};
}  // namespace gift::backend

// Every case of this file belongs to the CTest test core_column_norms (tests/CMakeLists.txt: gift_add_test).
// (The fake backends above specialise gift::backend::implementation: at namespace scope, outside the suite.)
BOOST_AUTO_TEST_SUITE(core_column_norms)

BOOST_AUTO_TEST_CASE(falls_back_along_the_chain) {
  using gift::backend::dispatch;
  BOOST_TEST(dispatch<fake::op>(fake::derived_backend{}, 4) == 5);
  BOOST_TEST(fake::last_ran == "base");
  BOOST_TEST(dispatch<fake::other_op>(fake::derived_backend{}, 4) == 8);
  BOOST_TEST(fake::last_ran == "derived");
  static_assert(std::is_same_v<gift::backend::resolved_t<fake::op, fake::derived_backend>, fake::base_backend>);
}

BOOST_AUTO_TEST_CASE(chains_of_the_real_backends) {
  using namespace gift::backend;
  static_assert(std::is_same_v<thrust_omp::fallback, thrust_cpp>);
  static_assert(std::is_same_v<thrust_cpp::fallback, none>);
  static_assert(std::is_same_v<cuda::fallback, thrust_cuda>);
  static_assert(std::is_same_v<eigen::fallback, none>);
  BOOST_TEST(thrust_omp::name() == "thrust<omp>");
}

BOOST_AUTO_TEST_CASE(backend_deduced_from_container) {
  static_assert(std::is_same_v<gift::backend_for_t<gift::matrix_f>, gift::backend::eigen>);
  static_assert(std::is_same_v<gift::backend_for_t<const Eigen::MatrixXd&>, gift::backend::eigen>);
  static_assert(std::is_same_v<gift::backend_for_t<decltype(gift::matrix_f().block(0, 0, 1, 1))>, gift::backend::eigen>);
  static_assert(!gift::has_backend<int>);
  BOOST_TEST(true);
}

BOOST_AUTO_TEST_CASE(explicit_tag_matches_deduced) {
  gift::matrix_f m = gift::matrix_f::Random(300, 8);
  const gift::vector_f deduced = gift::column_norms<gift::l2>(m);
  const gift::vector_f tagged = gift::column_norms<gift::l2>(gift::backend::eigen{}, m);
  BOOST_TEST((deduced.array() == tagged.array()).all());
}

BOOST_AUTO_TEST_SUITE_END()  // core_column_norms
